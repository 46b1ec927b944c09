"""Shared helpers: write input files, run the CLI in-process, read a TinyDB store."""
from __future__ import annotations

import csv
import datetime
import json
import os
import random
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

from etl.cli import main

# Property-based tests explore the same examples on every run (deterministic CI), with no deadline
# (a loaded machine must not fail a test by being slow).
settings.register_profile("deterministic", derandomize=True, deadline=None)
settings.load_profile("deterministic")

SLOW_SAMPLE = os.environ.get("ETL_SLOW_SAMPLE", "6")
"""How many tests marked ``slow`` a run keeps ("all" for every one): CI runs a bounded sample of them."""
SLOW_SEED = os.environ.get("ETL_SLOW_SEED", datetime.date.today().isoformat())
"""Which sample: a new one every day, the same all day (give the seed a run printed to replay it)."""


def pytest_report_header(config: pytest.Config) -> str:
    return f"slow tests: a sample of {SLOW_SAMPLE} (ETL_SLOW_SAMPLE), seed {SLOW_SEED} (ETL_SLOW_SEED)"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep ETL_SLOW_SAMPLE of the slow tests, chosen by ETL_SLOW_SEED; deselect the others."""
    slow = [item for item in items if item.get_closest_marker("slow")]
    if SLOW_SAMPLE == "all" or len(slow) <= int(SLOW_SAMPLE):
        return
    kept = set(random.Random(SLOW_SEED).sample(range(len(slow)), int(SLOW_SAMPLE)))
    dropped = [item for n, item in enumerate(slow) if n not in kept]
    config.hook.pytest_deselected(items=dropped)
    gone = set(map(id, dropped))
    items[:] = [item for item in items if id(item) not in gone]

HEADER = [
    "Customer ID", "Customer name", "Customer accounting code", "VAT number", "Address", "Postal code", "Town",
    "State / Region", "Country", "Email of the Account Manager", "Workflow's name", "Default payment period",
    "Group name", "Group ID", "Contact email", "Contact first name", "Contact Name", "Contact phone",
    "Contact reference", "Contact Position", "Main contact",
]
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "customers.csv"


def write_csv(path: Path, rows: list[list[str]] | list[dict[str, str]], header: list[str] | None = None,
              delimiter: str = ";", encoding: str = "utf-8") -> Path:
    """Write a CSV file; dict rows are laid out on ``header`` (the full import header by default)."""
    header = header or HEADER
    with open(path, "w", newline="", encoding=encoding) as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        for row in rows:
            writer.writerow([row.get(h, "") for h in header] if isinstance(row, dict) else row)
    return path


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep every request of every test on 127.0.0.1, whatever proxy the environment names."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def etl(capsys, monkeypatch, tmp_path):
    """Run ``etl ARGS`` in-process, in tmp_path; returns exit code, stdout and stderr."""
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> Result:
        monkeypatch.setattr(sys, "argv", ["etl", *map(str, args)])
        capsys.readouterr()
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def etl_process(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 60) -> Result:
    """Run ``python -m etl ARGS`` in a new process."""
    proc = subprocess.run([sys.executable, "-m", "etl", *map(str, args)], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def read_store(path: Path) -> dict[str, list[dict]]:
    """The tables of a TinyDB file, read with TinyDB itself."""
    from tinydb import TinyDB

    with TinyDB(path) as db:
        return {name: db.table(name).all() for name in db.tables()}


def read_sqlite_store(path: Path) -> dict[str, list[dict]]:
    """The documents of a SQLite store by kind, in the order they were stored, read with sqlite3 itself."""
    import sqlite3
    from contextlib import closing

    store: dict[str, list[dict]] = {}
    with closing(sqlite3.connect(path)) as db:
        for kind, data in db.execute("SELECT kind, data FROM documents ORDER BY id"):
            store.setdefault(kind, []).append(json.loads(data))
    return store


STORES = {"tinydb": ("etl-db.json", read_store), "sqlite": ("etl-db.sqlite", read_sqlite_store)}
"""The sinks that keep a store, with their default target and how to read it back."""


def read_report(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def interrupt(proc: subprocess.Popen, signum: int, to_group: bool) -> str:
    """Send ``signum`` to a run (or to its whole process group) and give its stderr once it ended."""
    if to_group:
        os.killpg(proc.pid, signum)
    else:
        proc.send_signal(signum)
    return proc.communicate(timeout=60)[1]
