"""`--dry-run --diff`: each record created, or each field changed as old -> new, on the terminal and in the
report; unchanged records counted; nothing written."""
from __future__ import annotations

import pytest

from conftest import read_report, read_sqlite_store, read_store, write_csv

HEADER = ["Customer ID", "Customer name", "City", "VAT number", "Payment period", "Contact email",
          "Contact first name"]
FIRST = [["C1", "Acme", "Paris", "", "30", "ann@acme.example", "Ann"],
         ["C2", "Beta", "Lyon", "FR40303265045", "60", "", ""]]
AGAIN = [["C1", "Acme", "Lille", "FR40303265045", "45", "ann@acme.example", "Ann"],
         ["C2", "Beta", "Lyon", "", "60", "", ""],
         ["C3", "Gamma", "Nice", "", "", "bob@gamma.example", "Bob"]]


@pytest.mark.parametrize("sink", ["tinydb", "sqlite"])
def test_a_dry_run_diff_shows_each_field_changed_and_writes_nothing(etl, tmp_path, sink):
    write_csv(tmp_path / "first.csv", FIRST, HEADER)
    write_csv(tmp_path / "again.csv", AGAIN, HEADER)
    assert etl("run", "first.csv", "--sink", sink, "--target", "store").code == 0
    before = (tmp_path / "store").read_bytes()
    result = etl("run", "again.csv", "--sink", sink, "--target", "store", "--dry-run", "--diff",
                 "--report", "report.json")
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "customers 'C1' (line 2): vat_number None -> 'FR40303265045'; city 'Paris' -> 'Lille'; "
        "payment_period_days 30 -> 45",
        "customers 'C3' (line 4): created",
        "contacts 'bob@gamma.example' (line 4): created",
    ]
    assert "customers: 1 would be created, 1 updated, 1 unchanged, 0 rejected." in result.err
    assert (tmp_path / "store").read_bytes() == before
    report = read_report(tmp_path / "report.json")
    assert report["changes"][0] == {"kind": "customers", "key": "C1", "lines": [2], "outcome": "updated",
                                    "fields": {"vat_number": [None, "FR40303265045"], "city": ["Paris", "Lille"],
                                               "payment_period_days": [30, 45]}}
    assert [c["key"] for c in report["changes"]] == ["C1", "C3", "bob@gamma.example"]

    assert etl("run", "again.csv", "--sink", sink, "--target", "store", "--diff").code == 0
    stored = (read_sqlite_store if sink == "sqlite" else read_store)(tmp_path / "store")
    assert {c["external_id"]: c["city"] for c in stored["customers"]} == \
        {"C1": "Lille", "C2": "Lyon", "C3": "Nice"}
    unchanged = etl("run", "again.csv", "--sink", sink, "--target", "store", "--dry-run", "--diff")
    assert unchanged.out == "" and "0 would be created, 0 updated, 3 unchanged" in unchanged.err


def test_without_diff_the_report_has_no_changes(etl, tmp_path):
    write_csv(tmp_path / "first.csv", FIRST, HEADER)
    assert etl("run", "first.csv", "--dry-run", "--report", "report.json").code == 0
    assert "changes" not in read_report(tmp_path / "report.json")


def test_a_long_diff_goes_through_the_pager_on_a_terminal(monkeypatch, capsys):
    from etl import cli

    paged = []
    monkeypatch.setattr(cli.sys.stdout, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(cli.click, "echo_via_pager", paged.append)
    changes = [{"kind": "customers", "key": f"C{n}", "lines": [n + 2], "outcome": "created"} for n in range(500)]
    cli.show_changes(changes)
    assert len(paged) == 1 and paged[0].count("\n") == 500 and capsys.readouterr().out == ""
    cli.show_changes(changes[:3])
    assert capsys.readouterr().out.count("created") == 3


def test_fields_are_taken_before_the_write_and_listed_for_updates_only():
    from etl.changes import after_writing, field_changes
    from etl.components import CREATED, UPDATED, Document

    stored = {"name": "Old", "town": "Lyon"}
    known = Document("customers", "C1", {"name": "New", "town": None}, (2,), ref=1, before=stored)
    new = Document("customers", "C2", {"name": "Beta", "town": "Nice"}, (3,))
    found_by_the_sink = Document("customers", "C3", {"name": "Gamma", "town": None}, (4,))  # no stored data given
    before = field_changes([known, new, found_by_the_sink])
    stored["name"] = "New"  # a sink may update the stored data in place
    fields = after_writing(before, [known, new, found_by_the_sink], [UPDATED, CREATED, UPDATED])
    assert fields == [{"name": ["Old", "New"]}, {}, {"name": [None, "Gamma"]}]
