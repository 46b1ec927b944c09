"""`etl history undo ID [--force]`: delete what an import created, restore field by field what it updated, refuse
records changed since unless forced; recorded in the history, all or nothing. Through the CLI, on real TinyDB and
sqlite stores."""
from __future__ import annotations

import json
import sqlite3
from contextlib import closing

import pytest

from etl.history import created_documents
from conftest import STORES, write_csv

BOTH_STORES = pytest.mark.parametrize("sink", list(STORES))
HEADER = ["Customer ID", "Customer name", "Town", "Country", "Contact email", "Contact first name", "Main contact"]


def documents(tmp_path, sink):
    """The store's customers and contacts (not its history), and for sqlite its lookup keys too."""
    target, read = STORES[sink]
    store = {kind: docs for kind, docs in read(tmp_path / target).items() if kind != "imports"}
    if sink == "sqlite":
        with closing(sqlite3.connect(tmp_path / target)) as db:
            store["lookup_keys"] = sorted(db.execute("SELECT * FROM lookup_keys WHERE kind != 'imports'"))
    return store


def import_ids(etl, sink):
    """The store's history entries, oldest first."""
    listing = etl("history", "--sink", sink)
    assert listing.code == 0, listing.err
    return [line.split()[0] for line in reversed(listing.out.splitlines())]


def run(etl, tmp_path, sink, rows, name):
    write_csv(tmp_path / name, rows, HEADER)
    result = etl("run", name, "--sink", sink)
    assert result.code == 0, result.err


@BOTH_STORES
def test_undoing_the_second_import_gives_back_the_store_after_the_first(etl, tmp_path, sink):
    run(etl, tmp_path, sink, [["C1", "Acme", "Paris", "FR", "ann@acme.example", "Ann", "1"],
                              ["C2", "Beta", "Lyon", "", "", "", ""]], "first.csv")
    after_first = documents(tmp_path, sink)
    run(etl, tmp_path, sink, [["C1", "Acme SA", "#CLEAR", "BE", "bob@acme.example", "Bob", "1"],
                              ["C3", "Gamma", "Nice", "", "cy@gamma.example", "Cy", ""]], "second.csv")
    assert documents(tmp_path, sink) != after_first
    first, second = import_ids(etl, sink)
    result = etl("history", "undo", second, "--sink", sink)
    assert result.code == 0, result.err
    assert result.err.splitlines() == [f"import {second} undone: customers: 1 deleted, 1 restored; "
                                       "contacts: 2 deleted, 1 restored"]
    assert documents(tmp_path, sink) == after_first  # the lookup keys of sqlite too: Ann is main again, 'acme'
    undo_line = etl("history", "--sink", sink).out.splitlines()[0]
    assert "UNDO" in undo_line and undo_line.endswith(f"undo of import {second}")
    again = etl("history", "undo", second, "--sink", sink)
    assert again.code == 2 and f"import {second} was already undone" in again.err
    assert documents(tmp_path, sink) == after_first
    undo_id = import_ids(etl, sink)[-1]
    assert "is itself an undo" in etl("history", "undo", undo_id, "--sink", sink).err


@BOTH_STORES
def test_undoing_the_first_import_after_a_second_that_changed_other_records(etl, tmp_path, sink):
    run(etl, tmp_path, sink, [["C0", "Zero", "Paris", "FR", "", "", ""]], "base.csv")
    run(etl, tmp_path, sink, [["C0", "", "Lille", "", "", "", ""],
                              ["C1", "Acme", "Nice", "", "ann@acme.example", "Ann", ""]], "first.csv")
    run(etl, tmp_path, sink, [["C0", "", "", "BE", "", "", ""], ["C3", "Gamma", "Nice", "", "", "", ""]], "second.csv")
    _, first, _ = import_ids(etl, sink)
    result = etl("history", "undo", first, "--sink", sink)
    assert result.code == 0, result.err
    store = documents(tmp_path, sink)
    assert [(c["external_id"], c["city"], c["country"]) for c in store["customers"]] == \
        [("C0", "Paris", "BE"), ("C3", "Nice", None)]
    assert store.get("contacts", []) == []


@BOTH_STORES
def test_an_undo_is_refused_for_records_changed_since_unless_forced(etl, tmp_path, sink):
    target = tmp_path / STORES[sink][0]
    run(etl, tmp_path, sink, [["C1", "Acme", "Paris", "", "", "", ""], ["C2", "Beta", "Lyon", "", "", "", ""]],
        "first.csv")
    run(etl, tmp_path, sink, [["C1", "", "Lille", "", "", "", ""]], "second.csv")
    first, _ = import_ids(etl, sink)
    before = target.read_bytes()
    refused = etl("history", "undo", first, "--sink", sink)
    assert refused.code == 2 and refused.err.count("\n") == 1 and "Traceback" not in refused.err
    assert f"import {first} cannot be undone: 1 record changed since: customers 'C1'" in refused.err
    assert "--force" in refused.err and target.read_bytes() == before
    forced = etl("history", "undo", first, "--sink", sink, "--force")
    assert forced.code == 0 and "1 changed since, undone with --force" in forced.err
    assert documents(tmp_path, sink).get("customers", []) == []
    entry = STORES[sink][1](target)["imports"][-1]
    assert entry["undoes"] == first and entry["forced"] == [
        f"customers 'C1' (created by import {first}) was changed since"]


def test_a_record_a_person_changed_since_is_refused_naming_the_field(etl, tmp_path):
    run(etl, tmp_path, "tinydb", [["C1", "Acme", "Paris", "", "", "", ""]], "first.csv")
    run(etl, tmp_path, "tinydb", [["C1", "", "Lille", "FR", "", "", ""]], "second.csv")
    path = tmp_path / "etl-db.json"
    store = json.loads(path.read_text())
    store["customers"]["1"]["city"] = "Roubaix"  # by hand, since
    path.write_text(json.dumps(store))
    _, second = import_ids(etl, "tinydb")
    refused = etl("history", "undo", second)
    assert refused.code == 2
    assert f"customers 'C1' (updated by import {second}) was changed since: city" in refused.err
    assert json.loads(path.read_text()) == store


@pytest.mark.parametrize("sink, target", [("json", "out.json"), ("http", "http://127.0.0.1:9/api")])
def test_a_sink_without_history_cannot_undo(etl, tmp_path, sink, target):
    result = etl("history", "undo", "1", "--sink", sink, "--target", target)
    assert result.code == 2 and result.err.count("\n") == 1
    assert f"the {sink} sink keeps no history of imports" in result.err and "undo" in result.err


def test_an_unknown_import_or_store_cannot_be_undone(etl, tmp_path):
    assert "no such store" in etl("history", "undo", "1").err
    run(etl, tmp_path, "tinydb", [["C1", "Acme", "Paris", "", "", "", ""]], "first.csv")
    result = etl("history", "undo", "7")
    assert result.code == 2 and "no import '7'" in result.err


def test_an_edited_record_of_what_an_import_wrote_is_refused_and_the_store_left_alone(etl, tmp_path):
    run(etl, tmp_path, "tinydb", [["C1", "Acme", "Paris", "", "", "", ""]], "first.csv")
    path = tmp_path / "etl-db.json"
    store = json.loads(path.read_text())
    store["imports"]["1"]["written"]["created"]["customers"]["refs"] = [["1", 10**12]]
    path.write_text(json.dumps(store))
    before = path.read_bytes()
    result = etl("history", "undo", "1")
    assert result.code != 0 and result.err.count("\n") == 1 and "Traceback" not in result.err
    assert ("not an etl store: import 1: its 'written.created.customers' names 1000000000000 refs, 1 keys and "
            "1 fingerprints") in result.err
    assert path.read_bytes() == before


def test_an_import_recorded_as_an_older_etl_did_is_undone_too(etl, tmp_path):
    """Before runs were kept small, each created document was a [ref, key, fingerprint] of its own."""
    run(etl, tmp_path, "tinydb", [["C0", "Zero", "Paris", "", "", "", ""]], "base.csv")
    run(etl, tmp_path, "tinydb", [["C1", "Acme", "Paris", "", "", "", ""], ["C2", "Beta", "Lyon", "", "", "", ""]],
        "first.csv")
    path = tmp_path / "etl-db.json"
    store = json.loads(path.read_text())
    record = store["imports"]["2"]["written"]["created"]
    record["customers"] = [[ref, key, digest] for ref, key, digest in created_documents(record["customers"], "")]
    path.write_text(json.dumps(store))
    store["customers"]["3"]["city"] = "Nice"  # and a person changed Beta since
    path.write_text(json.dumps(store))
    refused = etl("history", "undo", "2")
    assert refused.code == 2 and "customers 'C2' (created by import 2) was changed since" in refused.err
    assert etl("history", "undo", "2", "--force").code == 0
    assert [c["external_id"] for c in json.loads(path.read_text())["customers"].values()] == ["C0"]
