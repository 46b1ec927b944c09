"""The clear marker: a cell holding ``#CLEAR`` (the setting ``clear_marker``) erases the stored field on purpose;
a blank cell still keeps it. Through the CLI, on real TinyDB and sqlite stores."""
from __future__ import annotations

import pytest

from conftest import STORES, read_report, write_csv

BOTH_STORES = pytest.mark.parametrize("sink", list(STORES))
HEADER = ["Customer ID", "Customer name", "Town", "Country", "VAT number", "Payment period", "Contact email",
          "Contact first name", "Contact phone"]
FIRST = [["C1", "Acme", "Paris", "FR", "FR1", "30", "ann@acme.example", "Ann", "0102"],
         ["C2", "Beta", "Lyon", "FR", "", "60", "", "", ""]]


def stored(tmp_path, sink):
    target, read = STORES[sink]
    return read(tmp_path / target)


def by_key(documents, key, value):
    return next(doc for doc in documents if doc[key] == value)


@BOTH_STORES
def test_a_re_import_diff_shows_three_fields_changed_and_one_cleared(etl, tmp_path, sink):
    write_csv(tmp_path / "first.csv", FIRST, HEADER)
    write_csv(tmp_path / "again.csv", [["C1", "Acme SA", "#CLEAR", "", "FR2", "45", "", "", ""]], HEADER)
    assert etl("run", "first.csv", "--sink", sink).code == 0
    preview = etl("run", "again.csv", "--sink", sink, "--dry-run", "--diff", "--report", "preview.json")
    line = ("customers 'C1' (line 2): name 'Acme' -> 'Acme SA'; vat_number 'FR1' -> 'FR2'; "
            "city 'Paris' -> (cleared); payment_period_days 30 -> 45")
    assert preview.code == 0 and preview.out.splitlines() == [line]
    assert read_report(tmp_path / "preview.json")["changes"] == [
        {"kind": "customers", "key": "C1", "lines": [2], "outcome": "updated",
         "fields": {"name": ["Acme", "Acme SA"], "vat_number": ["FR1", "FR2"], "city": ["Paris", None],
                    "payment_period_days": [30, 45]}}]
    result = etl("run", "again.csv", "--sink", sink, "--diff")
    assert result.code == 0 and result.out.splitlines() == [line]
    acme = by_key(stored(tmp_path, sink)["customers"], "external_id", "C1")
    assert (acme["name"], acme["city"], acme["country"], acme["vat_number"]) == ("Acme SA", None, "FR", "FR2")
    entry = stored(tmp_path, sink)["imports"][-1]
    [[_, key, fields]] = entry["written"]["updated"]["customers"]
    assert key == "C1" and fields["city"] == ["Paris", None]
    again = etl("run", "again.csv", "--sink", sink, "--dry-run", "--diff")
    assert again.out == "" and "1 unchanged" in again.err  # a field already empty stays cleared: no change


@BOTH_STORES
def test_the_marker_clears_contact_fields_and_a_group_while_a_blank_keeps(etl, tmp_path, sink):
    header = [*HEADER, "Group ID"]
    write_csv(tmp_path / "first.csv", [[*FIRST[0], ""], [*FIRST[1], "C1"]], header)
    write_csv(tmp_path / "again.csv", [["C1", "", "", "", "", "", "ann@acme.example", "#CLEAR", "", ""],
                                       ["C2", "", " #CLEAR ", "", "", "", "", "", "", "#CLEAR"]], header)
    assert etl("run", "first.csv", "--sink", sink).code == 0
    assert by_key(stored(tmp_path, sink)["customers"], "external_id", "C2")["group_external_id"] == "C1"
    assert etl("run", "again.csv", "--sink", sink).code == 0
    store = stored(tmp_path, sink)
    ann = by_key(store["contacts"], "email", "ann@acme.example")
    assert (ann["first_name"], ann["phone"]) == (None, "0102")
    beta = by_key(store["customers"], "external_id", "C2")
    assert (beta["city"], beta["country"], beta["group_external_id"], beta["group_name"]) == (None, "FR", None, None)
    assert by_key(store["customers"], "external_id", "C1")["city"] == "Paris"


@BOTH_STORES
def test_the_marker_on_a_required_field_is_an_error_on_its_line(etl, tmp_path, sink):
    write_csv(tmp_path / "first.csv", FIRST, HEADER)
    write_csv(tmp_path / "bad.csv", [["#CLEAR", "Gamma", "Nice", "", "", "", "", "", ""],
                                     ["C1", "", "", "", "", "", "#CLEAR", "", ""],
                                     ["C9", "#CLEAR", "Nice", "", "", "", "", "", ""],
                                     ["C2", "", "#CLEAR", "", "", "", "", "", ""]], HEADER)
    assert etl("run", "first.csv", "--sink", sink).code == 0
    result = etl("run", "bad.csv", "--sink", sink, "--report", "report.json")
    assert result.code == 1
    errors = [(e["line"], e["column"], e["message"]) for e in read_report(tmp_path / "report.json")["errors"]]
    assert errors == [
        (2, "Customer ID", "'#CLEAR' cannot clear this field: the Customer ID identifies the customer"),
        (3, "Contact email", "'#CLEAR' cannot clear this field: the contact email identifies the contact"),
        (4, "Customer name", "Customer name is required for a new customer"),
    ]
    store = stored(tmp_path, sink)
    assert sorted(c["external_id"] for c in store["customers"]) == ["C1", "C2"]
    assert by_key(store["customers"], "external_id", "C2")["city"] is None


def test_the_clear_marker_is_a_setting(etl, tmp_path):
    write_csv(tmp_path / "first.csv", FIRST, HEADER)
    write_csv(tmp_path / "again.csv", [["C1", "", "~", "#CLEAR", "", "", "", "", ""]], HEADER)
    assert etl("run", "first.csv").code == 0
    assert etl("run", "again.csv", "--rule-option", "clear_marker=~").code == 0
    acme = by_key(stored(tmp_path, "tinydb")["customers"], "external_id", "C1")
    assert (acme["city"], acme["country"]) == (None, "#CLEAR")  # the default marker is then a value like any
    result = etl("run", "again.csv", "--rule-option", "clear_marker=")
    assert result.code == 2 and "clear_marker" in result.err and "Traceback" not in result.err


@BOTH_STORES
def test_a_new_record_with_the_marker_stores_the_field_empty_and_its_import_undoes_cleanly(etl, tmp_path, sink):
    write_csv(tmp_path / "first.csv", [["C1", "Acme", "#CLEAR", "FR", "", "", "ann@acme.example", "#CLEAR", ""]],
              HEADER)
    assert etl("run", "first.csv", "--sink", sink).code == 0
    store = stored(tmp_path, sink)
    assert by_key(store["customers"], "external_id", "C1")["city"] is None
    assert by_key(store["contacts"], "email", "ann@acme.example")["first_name"] is None
    [import_id] = [line.split()[0] for line in etl("history", "--sink", sink).out.splitlines()]
    undone = etl("history", "undo", import_id, "--sink", sink)
    assert undone.code == 0, undone.err  # what it wrote is what the history fingerprinted: nothing changed since
    assert not stored(tmp_path, sink).get("customers")
