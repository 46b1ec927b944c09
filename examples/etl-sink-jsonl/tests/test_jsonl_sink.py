"""The jsonl sink: etl's conformance kit for sinks, and a re-import through the real `etl` CLI.

Needs the distribution installed next to etl: ``pip install -e examples/etl-sink-jsonl``.
Runs from any directory: every file lives in pytest's tmp_path.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("etl_sink_jsonl", reason="install it first: pip install -e examples/etl-sink-jsonl")

from etl.testing import SinkConformance  # noqa: E402
from etl_sink_jsonl import register_sinks  # noqa: E402

HEADER = "Customer ID;Customer name;Town;Contact email"


class TestJsonLinesSink(SinkConformance):
    spec = register_sinks()[0]

    def target(self, tmp_path: Path) -> str:
        return str(tmp_path / "crm.jsonl")


def run_etl(folder: Path, lines: list[str], *args: str) -> subprocess.CompletedProcess:
    (folder / "in.csv").write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "etl", "run", "in.csv", "--sink", "jsonl", "--target", "crm.jsonl",
                           "--report", "report.json", *args], cwd=folder, capture_output=True, text=True, timeout=120)


def stored(folder: Path) -> dict[str, dict]:
    """key -> data of every document of the store."""
    lines = (folder / "crm.jsonl").read_text(encoding="utf-8").splitlines()
    return {record["key"]: record["data"] for record in map(json.loads, lines)}


def test_a_second_import_updates_and_keeps_what_it_leaves_blank(tmp_path):
    assert run_etl(tmp_path, ["C1;Acme;Paris;ann@acme.example", "C2;Beta;Lyon;"]).returncode == 0
    result = run_etl(tmp_path, ["C1;;Marseille;ann@acme.example", "C3;Gamma;;"])
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["customers"] == {"created": 1, "updated": 1, "unchanged": 0, "rejected": 0}
    assert report["contacts"] == {"created": 0, "updated": 0, "unchanged": 1, "rejected": 0}
    documents = stored(tmp_path)
    assert (documents["C1"]["name"], documents["C1"]["city"]) == ("Acme", "Marseille")
    assert documents["C2"]["city"] == "Lyon" and documents["ann@acme.example"]["customer_external_id"] == "C1"


def test_a_dry_run_and_a_bad_store_leave_the_file_alone(tmp_path):
    assert run_etl(tmp_path, ["C1;Acme;Paris;"]).returncode == 0
    before = (tmp_path / "crm.jsonl").read_bytes()
    assert run_etl(tmp_path, ["C1;Acme;Nice;"], "--dry-run").returncode == 0
    assert (tmp_path / "crm.jsonl").read_bytes() == before
    (tmp_path / "crm.jsonl").write_text("not json\n")
    result = run_etl(tmp_path, ["C1;Acme;Nice;"])
    assert result.returncode == 2 and "crm.jsonl: line 1: not a document of a jsonl store" in result.stderr
    assert result.stderr.count("\n") == 1 and (tmp_path / "crm.jsonl").read_text() == "not json\n"
