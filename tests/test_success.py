"""`--success FILE`: each imported line as read, with the outcome, kind and key of its records; the
twin of `--rejects`, so that every line of a file is in one of the two, never both, never neither."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

import etl as etl_api
from conftest import read_store, write_csv

HEADER = ["Customer ID", "Customer name", "Town", "Contact email"]
LINES = [
    ["C1", "Acme", "Paris", "ann@acme.example"],
    ["C1", "", "", "bob@acme.example"],
    ["C2", "Globex", "Lyon", "not-an-email"],          # the contact is rejected: the line is
    ["C3", "=Initech", "Nice", ""],                      # a formula-like name, no contact
    ["C4", "Umbrella", "Rome", "ann@acme.example"],     # an email another customer has: rejected
    ["C5", "Hooli", "Oslo", "hal@hooli.example"],
]
SUCCESS_COLUMNS = ["Outcome", "Kind", "Key"]


def read_csv(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle, delimiter=";"))


def lines_of(rows: list[list[str]]) -> set[tuple[str, ...]]:
    """The input lines (all different) that the rows of an output file hold, formulas restored."""
    return {tuple(cell.removeprefix("'") for cell in row[:len(HEADER)]) for row in rows}


def test_every_line_is_in_the_success_file_or_the_rejects_file_never_both_never_neither(etl, tmp_path):
    write_csv(tmp_path / "in.csv", LINES, HEADER)
    for run in range(2):  # into a new store, then again into the same one
        result = etl("run", "in.csv", "--target", "store.json", "--success", "ok.csv", "--rejects", "bad.csv")
        assert result.code == 1, result.err
        success, rejects = read_csv(tmp_path / "ok.csv"), read_csv(tmp_path / "bad.csv")
        assert success[0] == [*HEADER, *SUCCESS_COLUMNS] and rejects[0] == [*HEADER, "Error"]
        assert lines_of(success[1:]) | lines_of(rejects[1:]) == lines_of(LINES)
        assert not lines_of(success[1:]) & lines_of(rejects[1:])
    outcome = "created" if run == 0 else "unchanged"
    assert success[1:] == [
        [*LINES[0], outcome, "customers", "C1"], [*LINES[0], outcome, "contacts", "ann@acme.example"],
        [*LINES[1], outcome, "customers", "C1"], [*LINES[1], outcome, "contacts", "bob@acme.example"],
        [*LINES[3][:1], "'=Initech", *LINES[3][2:], outcome, "customers", "C3"],
        [*LINES[5], outcome, "customers", "C5"], [*LINES[5], outcome, "contacts", "hal@hooli.example"],
    ]
    assert [row[:-1] for row in rejects[1:]] == [LINES[2], LINES[4]]


def test_the_success_file_says_what_was_updated(etl, tmp_path):
    write_csv(tmp_path / "in.csv", LINES, HEADER)
    assert etl("run", "in.csv", "--target", "store.json").code == 1
    changed = [["C5", "Hooli", "Bergen", "hal@hooli.example"], ["C6", "Pied Piper", "Palo Alto", ""]]
    write_csv(tmp_path / "again.csv", changed, HEADER)
    result = etl("run", "again.csv", "--target", "store.json", "--success", "ok.csv")
    assert result.code == 0, result.err
    assert read_csv(tmp_path / "ok.csv")[1:] == [
        [*changed[0], "updated", "customers", "C5"], [*changed[0], "unchanged", "contacts", "hal@hooli.example"],
        [*changed[1], "created", "customers", "C6"]]
    assert {c["external_id"]: c["city"] for c in read_store(tmp_path / "store.json")["customers"]}["C5"] == "Bergen"


def test_a_success_file_in_xlsx_from_a_csv_input(etl, tmp_path):
    from openpyxl import load_workbook

    write_csv(tmp_path / "in.csv", LINES, HEADER)
    assert etl("run", "in.csv", "--target", "store.json", "--success", "ok.xlsx", "--raw-rejects").code == 1
    sheet = load_workbook(tmp_path / "ok.xlsx").active
    rows = [[cell or "" for cell in row] for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == [*HEADER, *SUCCESS_COLUMNS]
    assert [*LINES[3], "created", "customers", "C3"] in rows  # --raw-rejects: the cell as read
    assert len(rows) == 1 + 7


def test_a_success_file_that_would_overwrite_the_rejects_file_stops_the_run(etl, tmp_path):
    write_csv(tmp_path / "in.csv", LINES, HEADER)
    result = etl("run", "in.csv", "--target", "store.json", "--success", "out.csv", "--rejects", "out.csv")
    assert result.code == 2 and "the success file would overwrite the rejects file" in result.err
    assert not (tmp_path / "store.json").exists()


def test_a_dry_run_writes_what_would_be_imported(etl, tmp_path):
    write_csv(tmp_path / "in.csv", LINES[:1], HEADER)
    assert etl("run", "in.csv", "--target", "store.json", "--success", "ok.csv", "--dry-run").code == 0
    assert read_csv(tmp_path / "ok.csv")[1:] == [[*LINES[0], "created", "customers", "C1"],
                                                 [*LINES[0], "created", "contacts", "ann@acme.example"]]
    assert not (tmp_path / "store.json").exists()


def test_the_python_api_and_batch_jobs_write_success_files(etl, tmp_path):
    write_csv(tmp_path / "in.csv", LINES[:2], HEADER)
    report = etl_api.run(tmp_path / "in.csv", target=tmp_path / "api.json", success=tmp_path / "api-ok.csv")
    assert report.status == "success" and len(read_csv(tmp_path / "api-ok.csv")) == 1 + 4
    (tmp_path / "out").mkdir()
    (tmp_path / "jobs.toml").write_text('[[jobs]]\nname = "eu"\ninput = "in.csv"\ntarget = "batch.json"\n'
                                        'success = "out/{job}-{stem}-ok.csv"\n', encoding="utf-8")
    assert etl("batch", "jobs.toml").code == 0
    assert read_csv(tmp_path / "out" / "eu-in-ok.csv") == read_csv(tmp_path / "api-ok.csv")


@pytest.mark.parametrize("where", ["missing/ok.csv", "."])
def test_a_success_file_that_cannot_be_written_stops_the_run_before_anything(etl, tmp_path, where):
    write_csv(tmp_path / "in.csv", LINES, HEADER)
    result = etl("run", "in.csv", "--target", "store.json", "--success", where)
    assert result.code == 2 and "cannot write the success file" in result.err
    assert not (tmp_path / "store.json").exists()
    assert json.dumps(result.err).count("\\n") <= 1
