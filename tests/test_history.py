"""Import history in the TinyDB store: `etl history`, `etl history show ID [--rejects FILE]`."""
from __future__ import annotations

import csv

from conftest import read_store, write_csv


def test_history_after_two_imports(etl, tmp_path):
    write_csv(tmp_path / "a.csv", [{"Customer ID": "C1", "Customer name": "Acme", "Contact email": "a@acme.example"}])
    write_csv(tmp_path / "b.csv", [{"Customer ID": "C2", "Customer name": "Beta", "Contact email": "nope"},
                                   {"Customer ID": "C3", "Customer name": "Gamma"}], delimiter="|")
    assert etl("run", "a.csv").code == 0
    assert etl("run", "b.csv", "--sink-option", "lock_timeout=5").code == 1
    listing = etl("history")
    assert listing.code == 0
    second, first = listing.out.splitlines()
    assert second.split()[:2] == ["2", "PARTIAL"] and second.endswith("b.csv")
    assert "2 read, 1 imported, 1 rejected" in second
    assert first.split()[:2] == ["1", "OK"]
    entry = read_store(tmp_path / "etl-db.json")["imports"][1]
    assert entry["checksum"].startswith("sha256:") and entry["reader"] == "csv" and entry["sink"] == "tinydb"
    assert entry["options"]["sink_options"] == {"lock_timeout": "5"}
    assert entry["counts"]["customers"]["created"] == 2
    shown = etl("history", "show", "2", "--rejects", "again.csv")
    assert "line 2 column 'Contact email': not a valid email address" in shown.out
    with open(tmp_path / "again.csv", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="|"))
    assert rows[0][-1] == "Error" and rows[1][14] == "nope" and len(rows) == 2


def test_history_of_an_unknown_store_or_entry(etl, tmp_path):
    assert etl("history", "--target", "none.json").code == 2
    write_csv(tmp_path / "a.csv", [{"Customer ID": "C1", "Customer name": "Acme"}])
    etl("run", "a.csv")
    result = etl("history", "show", "9")
    assert result.code == 2 and "no import '9'" in result.err


def test_a_dry_run_records_nothing(etl, tmp_path):
    write_csv(tmp_path / "a.csv", [{"Customer ID": "C1", "Customer name": "Acme"}])
    etl("run", "a.csv", "--dry-run")
    assert not (tmp_path / "etl-db.json").exists()
