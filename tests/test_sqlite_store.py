"""The sqlite store: the same semantics and history as tinydb, reading and writing only what an
import touches, one transaction per run."""
from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest

import etl
from conftest import etl_process, read_report, read_sqlite_store, read_store, write_csv
from etl.components import Document
from etl.connectors.sqlite_store import SqliteSink
from etl.errors import EtlError
from test_accounting import generated_rows

SERIES = [
    generated_rows(60, seed=1),
    [*generated_rows(80, seed=2),  # the same IDs again, other values and contacts; and what follows
     {"Customer name": "Nameless", "Town": "Brest"}, {"Customer name": "Holding", "Contact email": "h@hold.example"},
     {"Customer ID": "S1", "Customer name": "Sub", "Group name": "holding"},
     {"Customer ID": "C1", "Contact email": "main@c1.example", "Main contact": "1"}],
    [{"Customer ID": "N1", "Customer name": "NAMELESS", "Contact email": "n@n.example", "Main contact": "1"},
     {"Customer ID": "S2", "Customer name": "Sub Two", "Group ID": "S1"},
     {"Customer name": "holding", "Group ID": "S2"},  # a cycle through the store
     {"Customer ID": "C2", "Contact email": "main@c1.example"},  # a contact of another stored customer
     {"Customer ID": "C1", "Contact email": "p1.0@example.com", "Main contact": "1", "Town": ""},
     {"Customer name": "Société 3", "Town": "Rennes"}],
]
"""Imports one after the other: matching stored records by ID and name, blanks, adopting a stored
customer without ID, groups and cycles in the store, main contacts dethroned, contacts of others."""


def test_sqlite_and_tinydb_agree_import_after_import(tmp_path):
    stores = {"tinydb": (tmp_path / "db.json", read_store), "sqlite": (tmp_path / "db.sqlite", read_sqlite_store)}
    for n, rows in enumerate(SERIES):
        write_csv(tmp_path / f"in{n}.csv", rows)
        reports = {sink: etl.run(tmp_path / f"in{n}.csv", sink=sink, target=target).as_dict()
                   for sink, (target, _) in stores.items()}
        assert reports["tinydb"] == reports["sqlite"], n
        contents = {sink: {kind: docs for kind, docs in read(target).items() if kind != "imports"}
                    for sink, (target, read) in stores.items()}
        assert contents["tinydb"] == contents["sqlite"], n
    messages = " ".join(error["message"] for error in reports["sqlite"]["errors"])
    assert "group cycle" in messages and "is a contact of customer 'Société 1' in the store" in messages
    assert reports["sqlite"]["customers"]["updated"] == 2 and reports["sqlite"]["contacts"]["updated"] == 2


def test_an_import_reads_only_the_documents_it_touches(tmp_path, monkeypatch):
    target = tmp_path / "crm.sqlite"
    write_csv(tmp_path / "big.csv", generated_rows(2000, seed=3, bad_share=0))
    etl.run(tmp_path / "big.csv", sink="sqlite", target=target)
    read = []
    find = SqliteSink.find

    def counted_find(self, kind, key_name, keys):
        for stored in find(self, kind, key_name, keys):
            read.append(stored[0])
            yield stored

    def no_whole_table(self, kind):
        assert kind == "imports", f"the whole {kind} table was read"
        return []

    monkeypatch.setattr(SqliteSink, "find", counted_find)
    monkeypatch.setattr(SqliteSink, "existing", no_whole_table)
    write_csv(tmp_path / "few.csv", [{"Customer ID": "C5", "Town": "Metz", "Contact email": "p5.0@example.com"},
                                     {"Customer ID": "NEW", "Customer name": "New", "Contact email": "n@new.example",
                                      "Main contact": "1"}])
    report = etl.run(tmp_path / "few.csv", sink="sqlite", target=target)
    assert report.as_dict()["customers"] == {"created": 1, "updated": 1, "unchanged": 0, "rejected": 0}
    assert 2 <= len(read) <= 4, read  # C5, its contact, and any main contact of C5's


def test_history_of_a_sqlite_store(etl, tmp_path):
    write_csv(tmp_path / "a.csv", [{"Customer ID": "C1", "Customer name": "Acme"}])
    write_csv(tmp_path / "b.csv", [{"Customer ID": "C2", "Customer name": "Beta", "Contact email": "nope"},
                                   {"Customer ID": "C3", "Customer name": "Gamma"}], delimiter="|")
    assert etl("run", "a.csv", "--sink", "sqlite").code == 0
    assert etl("run", "b.csv", "--sink", "sqlite", "--sink-option", "lock_timeout=5").code == 1
    assert etl("run", "b.csv", "--sink", "sqlite", "--limit", "rows=1").code == 2  # recorded, FAILED
    listing = etl("history", "--sink", "sqlite").out.splitlines()
    assert [line.split()[1] for line in listing] == ["FAILED", "PARTIAL", "OK"]
    assert "2 read, 1 imported, 1 rejected" in listing[1] and listing[1].endswith("b.csv")
    shown = etl("history", "show", listing[1].split()[0], "--sink", "sqlite", "--rejects", "again.csv")
    assert "line 2 column 'Contact email': not a valid email address" in shown.out, shown.err
    assert (tmp_path / "again.csv").read_text().splitlines()[1].split("|")[14] == "nope"
    assert etl("history", "--sink", "tinydb").code == 2  # another store: there is none
    store = read_sqlite_store(tmp_path / "etl-db.sqlite")
    assert [c["external_id"] for c in store["customers"]] == ["C1", "C2", "C3"]
    assert store["imports"][1]["options"]["sink_options"] == {"lock_timeout": "5"}


def test_column_choices_are_remembered_and_forgotten_in_a_sqlite_store(etl, tmp_path):
    write_csv(tmp_path / "first.csv", [["C1", "Acme"]], header=["Code", "Raison"])
    assert etl("run", "first.csv", "--sink", "sqlite", "--mapping", write_mapping(tmp_path)).code == 0
    write_csv(tmp_path / "next.csv", [["C2", "Beta"]], header=["Code", "Raison"])
    result = etl("run", "next.csv", "--sink", "sqlite")
    assert result.code == 0 and "column choices remembered from import" in result.err, result.err
    assert "column choices of 2 imports forgotten" in etl("history", "forget", "--sink", "sqlite").err
    assert etl("run", "next.csv", "--sink", "sqlite").code == 2


def write_mapping(folder):
    (folder / "m.toml").write_text('Code = "customer_id"\nRaison = "customer_name"\n')
    return folder / "m.toml"


def dump(path):
    with closing(sqlite3.connect(path)) as db:
        return list(db.iterdump())


def test_a_dry_run_writes_nothing_and_a_failed_run_only_its_history(tmp_path):
    target = tmp_path / "crm.sqlite"
    write_csv(tmp_path / "a.csv", generated_rows(20, seed=4))
    etl.run(tmp_path / "a.csv", sink="sqlite", target=target, dry_run=True)
    assert sorted(os.listdir(tmp_path)) == ["a.csv"]
    with pytest.raises(EtlError):  # recorded as FAILED, and nothing else
        etl.run(tmp_path / "a.csv", sink="sqlite", target=target, limits={"rows": 5})
    assert [entry["status"] for entry in read_sqlite_store(target)["imports"]] == ["failed"]
    assert set(read_sqlite_store(target)) == {"imports"} and sorted(os.listdir(tmp_path)) == ["a.csv", "crm.sqlite"]
    etl.run(tmp_path / "a.csv", sink="sqlite", target=target)
    before = dump(target)
    write_csv(tmp_path / "b.csv", generated_rows(30, seed=5))
    report = etl.run(tmp_path / "b.csv", sink="sqlite", target=target, dry_run=True)
    assert report.as_dict()["customers"]["created"] == 10 and report.as_dict()["customers"]["updated"] > 10
    assert dump(target) == before and sorted(os.listdir(tmp_path)) == ["a.csv", "b.csv", "crm.sqlite"]


def test_a_run_killed_at_any_moment_leaves_the_sqlite_store_before_or_after(tmp_path):
    store = tmp_path / "crm.sqlite"
    write_csv(tmp_path / "first.csv", generated_rows(1500, seed=6))
    write_csv(tmp_path / "second.csv", generated_rows(4000, seed=7))
    command = ["run", "--sink", "sqlite", "--target", str(store)]
    assert etl_process(command[0], "first.csv", *command[1:], cwd=tmp_path).code == 1
    backup, before = store.read_bytes(), canonical(store)
    started = time.monotonic()
    assert etl_process(command[0], "second.csv", *command[1:], cwd=tmp_path).code == 1
    duration, after = time.monotonic() - started, canonical(store)
    rng = random.Random(8)
    for _ in range(12):
        for suffix in ("-wal", "-shm", "-journal"):
            (tmp_path / f"crm.sqlite{suffix}").unlink(missing_ok=True)
        store.write_bytes(backup)
        proc = subprocess.Popen([sys.executable, "-m", "etl", command[0], "second.csv", *command[1:]], cwd=tmp_path,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.1, duration * 1.1))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert canonical(store) in (before, after)


def canonical(path) -> str:
    """The store's documents, but for the time each import was recorded."""
    store = read_sqlite_store(path)
    for entry in store.get("imports", []):
        entry.pop("time")
    return repr(store)


def test_a_busy_store_times_out_with_a_clear_message(tmp_path):
    target = tmp_path / "crm.sqlite"
    write_csv(tmp_path / "a.csv", generated_rows(3, seed=1))
    assert etl_process("run", "a.csv", "--sink", "sqlite", "--target", target, cwd=tmp_path).code in (0, 1)
    holder = sqlite3.connect(target, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        result = etl_process("run", "a.csv", "--sink", "sqlite", "--target", target, "--sink-option",
                             "lock_timeout=0.3", cwd=tmp_path)
    finally:
        holder.close()
    assert result.code == 2 and "another run is still using this store after 0.3 s" in result.err
    assert "Traceback" not in result.err


@pytest.mark.parametrize("content, message", [
    (b"not a database at all, but long enough to look like a header of one" * 10, "not a SQLite database"),
    (None, "not an etl store: a SQLite database of other tables ('mine')"),
])
def test_a_file_that_is_no_sqlite_store_is_refused_untouched(etl, tmp_path, content, message):
    target = tmp_path / "crm.sqlite"
    if content is None:
        with sqlite3.connect(target) as db:
            db.execute("CREATE TABLE mine (x)")
    else:
        target.write_bytes(content)
    before = target.read_bytes()
    write_csv(tmp_path / "a.csv", generated_rows(3, seed=1))
    for args in (["run", "a.csv"], ["run", "a.csv", "--dry-run"], ["history"]):
        result = etl(*args, "--sink", "sqlite", "--target", "crm.sqlite")
        assert result.code == 2 and message in result.err and result.err.count("\n") == 1, result.err
    assert target.read_bytes() == before and sorted(os.listdir(tmp_path)) == ["a.csv", "crm.sqlite"]


def test_a_store_that_is_not_a_regular_file_is_refused(etl, tmp_path):
    os.mkfifo(tmp_path / "crm.sqlite")
    write_csv(tmp_path / "a.csv", generated_rows(3, seed=1))
    result = etl("run", "a.csv", "--sink", "sqlite", "--target", "crm.sqlite")
    assert result.code == 2 and "not a regular file (a named pipe)" in result.err


def test_the_report_of_a_sqlite_run(etl, tmp_path):
    write_csv(tmp_path / "a.csv", [{"Customer ID": "C1", "Customer name": "Acme", "Contact email": "a@acme.example"}])
    assert etl("run", "a.csv", "--sink", "sqlite", "--report", "r.json").code == 0
    assert read_report(tmp_path / "r.json")["contacts"]["created"] == 1


def test_a_run_that_waited_for_the_first_one_never_removes_its_store(tmp_path, monkeypatch):
    """Two first runs on a new store: the second, which found no store and waited while the first
    made and committed it, then fails: it leaves the first one's store alone."""
    target = str(tmp_path / "crm.sqlite")
    first = SqliteSink(target, 5.0, dry_run=False)
    waited: list[int] = []
    exists = Path.exists
    monkeypatch.setattr(Path, "exists", lambda path: False if str(path) == target else exists(path))

    def second_run() -> None:  # it fails once it has the store: closed without a commit
        sink = SqliteSink(target, 5.0, dry_run=False)
        waited.append(len(list(sink.existing("customers"))))
        monkeypatch.undo()
        sink.close()

    waiting = threading.Thread(target=second_run)
    waiting.start()
    time.sleep(0.3)  # the second run waits for the first one's transaction
    first.write_batch([Document("customers", "C1", {"external_id": "C1"}, (2,))])
    first.commit()
    first.close()
    waiting.join(10)
    assert waited == [1]
    assert [c["external_id"] for c in read_sqlite_store(tmp_path / "crm.sqlite")["customers"]] == ["C1"]
