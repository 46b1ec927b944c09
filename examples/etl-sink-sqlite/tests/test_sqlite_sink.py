"""The sqlite sink, through the real `etl` CLI in subprocesses and directly.

Needs the distribution installed next to etl: ``pip install -e examples/etl-sink-sqlite``.
Runs from any directory: every file lives in pytest's tmp_path.
"""
from __future__ import annotations

import json
import random
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from importlib.metadata import entry_points
from pathlib import Path

import pytest

pytest.importorskip("etl_sink_sqlite", reason="install it first: pip install -e examples/etl-sink-sqlite")

from etl.components import CREATED, UNCHANGED, UPDATED, Document, Rejected  # noqa: E402
from etl.errors import SinkError, UsageError  # noqa: E402
from etl_sink_sqlite import open_sqlite_sink  # noqa: E402

HEADER = "Customer ID;Customer name;Town;Contact email;Contact first name;Main contact"

FIRST = [
    "C1;Acme;Paris;alice@acme.example;Alice;1",
    "C1;;;bob@acme.example;Bob;",
    "C2;Beta;Lyon;carol@beta.example;Carol;1",
    "C3;Gamma;Nice;dan@gamma.example;Dan;1",
]
SECOND = [
    "C1;Acme;Marseille;alice@acme.example;;1",      # customer: town changed; contact: blank name
    "C2;Beta;;carol@beta.example;Caroline;1",       # customer: blank town; contact: name changed
    "C3;Gamma;Nice;dan@gamma.example;Dan;1",        # all the same
    "C4;Delta;Metz;eve@delta.example;Eve;1",        # new
]


# -- helpers (kept here: no conftest, so nothing clashes with the main repo's tests) -----------

def write_csv(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def etl_command(*args: object) -> list[str]:
    return [sys.executable, "-m", "etl", *map(str, args)]


def run_etl(*args: object, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(etl_command(*args), cwd=cwd, capture_output=True, text=True, timeout=120)


def dump(path: Path) -> list[str]:
    """The whole database as SQL (schema and rows); [] when there is no file.

    Opened read-write so that SQLite rolls back a hot journal left by a killed run.
    """
    if not path.exists():
        return []
    db = sqlite3.connect(f"{path.as_uri()}?mode=rw", uri=True)
    try:
        return list(db.iterdump())
    finally:
        db.close()


def rows(path: Path, table: str) -> dict[str, dict]:
    """key -> row of a table."""
    db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        return {row["key"]: dict(row) for row in db.execute(f'SELECT * FROM "{table}"')}
    finally:
        db.close()


def report(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


# -- through the CLI ------------------------------------------------------------------------------

def test_plugins_lists_the_sqlite_sink_of_the_distribution(tmp_path):
    (ep,) = [ep for ep in entry_points(group="etl") if ep.name == "sqlite"]
    assert ep.dist is not None and ep.dist.name == "etl-sink-sqlite"
    listing = run_etl("plugins", "--json", cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    plugins = {p["name"]: p for p in json.loads(listing.stdout)["plugins"]}
    assert plugins["sqlite"]["sink"] == ["sqlite"]
    assert plugins["sqlite"]["version"] == ep.dist.version
    assert "sqlite" in run_etl("plugins", cwd=tmp_path).stdout


def test_import_then_reimport_updates_and_keeps_stored_values_for_blanks(tmp_path):
    first = run_etl("run", write_csv(tmp_path / "first.csv", FIRST), "--sink", "sqlite", "--target", "crm.db",
                    "--report", "r1.json", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    db = tmp_path / "crm.db"
    customers, contacts = rows(db, "customers"), rows(db, "contacts")
    assert set(customers) == {"C1", "C2", "C3"}
    assert customers["C1"]["name"] == "Acme" and customers["C1"]["city"] == "Paris"
    assert set(contacts) == {"alice@acme.example", "bob@acme.example", "carol@beta.example", "dan@gamma.example"}
    assert contacts["alice@acme.example"]["is_main"] == 1 and contacts["bob@acme.example"]["is_main"] == 0
    assert contacts["bob@acme.example"]["customer_external_id"] == "C1"
    assert report(tmp_path / "r1.json")["customers"]["created"] == 3
    ids = {key: row["id"] for key, row in customers.items()}

    second = run_etl("run", write_csv(tmp_path / "second.csv", SECOND), "--sink", "sqlite", "--target", "crm.db",
                     "--report", "r2.json", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    counts = report(tmp_path / "r2.json")
    assert counts["customers"] == {"created": 1, "updated": 1, "unchanged": 2, "rejected": 0}
    assert counts["contacts"] == {"created": 1, "updated": 1, "unchanged": 2, "rejected": 0}
    customers, contacts = rows(db, "customers"), rows(db, "contacts")
    assert {key: customers[key]["id"] for key in ids} == ids          # updated in place
    assert customers["C1"]["city"] == "Marseille"
    assert customers["C2"]["city"] == "Lyon"                          # blank kept the stored value
    assert customers["C4"]["name"] == "Delta"
    assert contacts["alice@acme.example"]["first_name"] == "Alice"    # blank kept the stored value
    assert contacts["carol@beta.example"]["first_name"] == "Caroline"
    assert len(contacts) == 5

    again = run_etl("run", tmp_path / "second.csv", "--sink", "sqlite", "--target", "crm.db",
                    "--report", "r3.json", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert report(tmp_path / "r3.json")["customers"] == {"created": 0, "updated": 0, "unchanged": 4, "rejected": 0}


def test_default_target_and_dry_run_change_nothing(tmp_path):
    csv = write_csv(tmp_path / "first.csv", FIRST)
    dry = run_etl("run", csv, "--sink", "sqlite", "--dry-run", "--report", "d.json", cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert report(tmp_path / "d.json")["customers"]["created"] == 3
    assert not (tmp_path / "etl.db").exists()                         # not even created

    assert run_etl("run", csv, "--sink", "sqlite", cwd=tmp_path).returncode == 0
    db = tmp_path / "etl.db"
    before, mtime = dump(db), db.stat().st_mtime_ns
    assert any("Acme" in line for line in before)
    dry = run_etl("run", write_csv(tmp_path / "second.csv", SECOND), "--sink", "sqlite", "--dry-run",
                  "--report", "d2.json", cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert report(tmp_path / "d2.json")["customers"] == {"created": 1, "updated": 1, "unchanged": 2, "rejected": 0}
    assert dump(db) == before
    assert db.stat().st_mtime_ns == mtime
    assert not (tmp_path / "etl.db-journal").exists()


def test_bad_options_targets_and_a_busy_database_fail_with_one_line(tmp_path):
    csv = write_csv(tmp_path / "first.csv", FIRST)
    unknown = run_etl("run", csv, "--sink", "sqlite", "--sink-option", "colour=red", cwd=tmp_path)
    assert unknown.returncode == 2 and "unknown sqlite sink option 'colour' (valid: timeout)" in unknown.stderr

    not_db = run_etl("run", csv, "--sink", "sqlite", "--target", csv, cwd=tmp_path)
    assert not_db.returncode == 2
    assert not_db.stderr.strip().count("\n") == 0 and "not a SQLite database" in not_db.stderr
    assert csv.read_text(encoding="utf-8").startswith(HEADER)

    db = tmp_path / "busy.db"
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        busy = run_etl("run", csv, "--sink", "sqlite", "--target", db, "--sink-option", "timeout=0.3", cwd=tmp_path)
        assert busy.returncode == 2
        assert "busy" in busy.stderr and busy.stderr.strip().count("\n") == 0
        assert time.monotonic() - started >= 0.3
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert run_etl("run", csv, "--sink", "sqlite", "--target", db, cwd=tmp_path).returncode == 0


def big_csv(path: Path, customers: int, town: str) -> Path:
    """Two contacts per customer; the first is the main one."""
    lines = []
    for c in range(customers):
        lines.append(f"K{c:05d};Customer {c};{town} {c % 50};first{c}@k{c}.example;First{c};1")
        lines.append(f"K{c:05d};;;second{c}@k{c}.example;Second{c};")
    return write_csv(path, lines)


def wait_for(condition, proc: subprocess.Popen, limit: float = 60) -> None:
    """Poll every millisecond until ``condition()`` holds or the process ends."""
    deadline = time.monotonic() + limit
    while not condition() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)


def test_a_killed_run_leaves_the_database_as_before_or_as_after(tmp_path):
    base = tmp_path / "base.db"
    small = run_etl("run", big_csv(tmp_path / "small.csv", 1000, "Old"), "--sink", "sqlite", "--target", base,
                    cwd=tmp_path)
    assert small.returncode == 0, small.stderr
    big = big_csv(tmp_path / "big.csv", 10_000, "New")               # 20,000 lines: updates and creations

    reference = tmp_path / "after.db"
    shutil.copy(base, reference)
    started = time.monotonic()
    full = run_etl("run", big, "--sink", "sqlite", "--target", reference, cwd=tmp_path)
    duration = time.monotonic() - started
    assert full.returncode == 0, full.stderr
    before, after = dump(base), dump(reference)
    assert before != after
    base_bytes = base.read_bytes()

    # Kill moments: when the transaction's first write happens (the journal appears); when
    # the database file itself is being written (pages spilled or committed, the journal
    # still there: SQLite must roll the file back); right after the commit (the journal is
    # gone); and at random moments spread over the whole run (seeded).
    rng = random.Random(20240607)
    spread = [duration * 1.1 * rng.uniform(i, i + 1) / 47 for i in range(47)]  # 50 kills in all
    moments = ["first write", "file written", "committed", *spread]
    outcomes = []
    for attempt, moment in enumerate(moments):
        db = tmp_path / f"killed{attempt}.db"
        shutil.copy(base, db)
        journal = Path(f"{db}-journal")
        proc = subprocess.Popen(etl_command("run", big, "--sink", "sqlite", "--target", db), cwd=tmp_path,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            if moment == "first write":
                wait_for(journal.exists, proc)
            elif moment == "file written":
                wait_for(lambda: journal.exists() and db.stat().st_size != len(base_bytes), proc)
            elif moment == "committed":
                wait_for(journal.exists, proc)
                wait_for(lambda: not journal.exists(), proc)
            else:
                time.sleep(moment)
            alive = proc.poll() is None
        finally:
            proc.kill()                                               # SIGKILL
            proc.wait()
        rolled_back = journal.exists() and db.read_bytes() != base_bytes
        state = dump(db)
        assert state in (before, after), f"kill at {moment!r}: the database is neither as before nor as after"
        outcomes.append((moment, alive, "before" if state == before else "after", rolled_back))
    assert outcomes[2][2] == "after", outcomes                       # a committed run stays committed
    # At least one kill left a half-written database file and its journal, which SQLite undid.
    assert any(alive and rolled_back and state == "before" for _, alive, state, rolled_back in outcomes), outcomes


# -- the sink itself ------------------------------------------------------------------------------

def doc(key: str, data: dict, ref=None, kind: str = "parts") -> Document:
    return Document(kind, key, data, (2,), ref)


def test_the_sink_directly_types_upserts_and_rolls_back(tmp_path):
    path = tmp_path / "unit.db"
    sink = open_sqlite_sink(str(path), {"timeout": "1"}, False)
    try:
        assert list(sink.existing("parts")) == []
        results = sink.write_batch([
            doc("p1", {"name": "bolt", "count": 3, "weight": 1.5, "ok": True, "tags": ["a", "b"], "note": None}),
            doc("p2", {"name": "nut", "count": None, "ok": False}),
            doc("p1", {"name": "dup"}),                                   # same key, no ref
            doc("p3", {"name": 7}),                                       # number in a TEXT column
            doc("p4", {"ID": "x"}),                                       # the sink's own column
            doc("p5", {"colour": "red"}, kind="sqlite_parts"),
        ])
        assert results[:2] == [CREATED, CREATED]
        assert all(isinstance(r, Rejected) for r in results[2:]), results
        assert "already has the key 'p1'" in results[2].message
        sink.commit()
    finally:
        sink.close()

    columns = {row[1]: row[2] for row in sqlite3.connect(path).execute('PRAGMA table_info("parts")')}
    assert columns == {"id": "INTEGER", "key": "TEXT", "name": "TEXT", "count": "INTEGER", "weight": "REAL",
                       "ok": "BOOLEAN", "tags": "JSON"}

    sink = open_sqlite_sink(str(path), {}, False)
    try:
        stored = {data["name"]: (ref, data) for ref, data in sink.existing("parts")}
        ref1, data1 = stored["bolt"]
        assert isinstance(ref1, int)
        assert data1 == {"name": "bolt", "count": 3, "weight": 1.5, "ok": True, "tags": ["a", "b"]}
        assert stored["nut"][1]["ok"] is False and stored["nut"][1]["count"] is None
        results = sink.write_batch([
            doc("p1", {"name": "bolt", "count": None, "ok": True}, ref=ref1),       # nothing new
            doc("p2b", {"name": "nut", "count": 5, "size": "M6"}, ref=stored["nut"][0]),  # new key, new column
            doc("p6", {"name": "washer"}, ref=999),                                # unknown ref: a new row
        ])
        assert results == [UNCHANGED, UPDATED, CREATED]
    finally:
        sink.close()                                                  # no commit: rolled back
    dry = open_sqlite_sink(str(path), {}, True)
    try:
        assert {data["name"] for _, data in dry.existing("parts")} == {"bolt", "nut"}
    finally:
        dry.close()

    sink = open_sqlite_sink(str(path), {}, False)
    try:
        (nut_ref,) = [ref for ref, data in sink.existing("parts") if data["name"] == "nut"]
        assert sink.write_batch([doc("p2b", {"count": 5, "size": "M6"}, ref=nut_ref)]) == [UPDATED]
        sink.commit()
    finally:
        sink.close()
    assert rows(path, "parts")["p2b"] == {"id": nut_ref, "key": "p2b", "name": "nut", "count": 5, "weight": None,
                                          "ok": 0, "tags": None, "size": "M6"}

    missing = tmp_path / "missing.db"
    dry = open_sqlite_sink(str(missing), {}, True)
    assert dry.write_batch([doc("p1", {"name": "x"})]) == [CREATED]
    dry.close()
    assert not missing.exists()
    with pytest.raises(UsageError, match="valid: timeout"):
        open_sqlite_sink(str(path), {"retries": "3"}, False)
    with pytest.raises(UsageError, match="timeout"):
        open_sqlite_sink(str(path), {"timeout": "soon"}, False)
    (tmp_path / "text.db").write_text("hello, not a database\n" * 20)
    with pytest.raises(SinkError, match="not a SQLite database"):
        open_sqlite_sink(str(tmp_path / "text.db"), {}, False)


def test_a_new_database_not_committed_is_removed_and_a_waiting_run_starts_anew(tmp_path):
    path = tmp_path / "new.db"
    open_sqlite_sink(str(path), {}, False).close()
    assert not path.exists()
    first = open_sqlite_sink(str(path), {}, False)
    outcome = []

    def second_run():
        sink = open_sqlite_sink(str(path), {"timeout": "30"}, False)   # waits for the first one
        try:
            outcome.append(sink.write_batch([doc("p1", {"name": "bolt"})]))
            sink.commit()
        finally:
            sink.close()

    waiting = threading.Thread(target=second_run)
    waiting.start()
    time.sleep(0.3)
    assert outcome == [] and path.stat().st_size == 0
    first.close()                                                     # no commit: the file it made goes
    waiting.join(30)
    assert outcome == [[CREATED]]
    assert list(rows(path, "parts")) == ["p1"]
    second = open_sqlite_sink(str(path), {}, False)
    second.close()
    assert path.exists()                                              # not made by this run: kept
