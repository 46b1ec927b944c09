"""Excel files through the whole import: values as typed, sheet row numbers, xlsx and csv rejects."""
from __future__ import annotations

import csv
import datetime as dt

import pytest
from openpyxl import Workbook, load_workbook

from conftest import read_report, read_store

HEADER = ["Customer ID", "Customer name", "Postal code", "Default payment period", "Contact email",
          "Contact phone", "Main contact", "Contact Position"]


def workbook(path, rows, title=None):
    book = Workbook()
    sheet = book.active
    if title:
        sheet.append([title])
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text typed by the user, not a formula
    book.save(path)
    return path


def test_excel_values_keep_what_the_user_typed(etl, tmp_path):
    workbook(tmp_path / "c.xlsx", [
        [1001, "Acme", "06000", 45.0, "a@acme.example", 33123456789, 1, "buyer"],
        [1001, None, None, None, "b@acme.example", "+33 1 23", True, "SALES"],
        [],
        [1002, "Beta", 75001, 30, "c@beta.example", None, 0, "PAYER"],
    ])
    result = etl("run", "c.xlsx", "--reader", "excel", "--sink", "tinydb")
    assert result.code == 0, result.err
    store = read_store(tmp_path / "etl-db.json")
    acme = next(c for c in store["customers"] if c["external_id"] == "1001")
    assert (acme["postal_code"], acme["payment_period_days"]) == ("06000", 45)
    contacts = {c["email"]: c for c in store["contacts"]}
    assert contacts["a@acme.example"]["phone"] == "33123456789"
    assert contacts["b@acme.example"]["is_main"] is True and contacts["a@acme.example"]["is_main"] is False
    assert contacts["a@acme.example"]["position"] == "PURCHASER"
    assert next(c for c in store["customers"] if c["external_id"] == "1002")["postal_code"] == "75001"


def test_rejects_as_xlsx_with_sheet_rows_and_formulas_as_text(etl, tmp_path):
    workbook(tmp_path / "c.xlsx", [
        ["C1", "Acme", None, "soon", "a@acme.example"],
        [],
        ["C2", "=cmd|' /C calc'!A0", None, None, "@bad", "-1+2"],
    ])
    result = etl("run", "c.xlsx", "--rejects", "rejects.xlsx", "--report", "r.json")
    assert result.code == 2
    assert [e["line"] for e in read_report(tmp_path / "r.json")["errors"]] == [2, 4]
    sheet = load_workbook(tmp_path / "rejects.xlsx").active
    rows = [[cell for cell in row] for row in sheet.iter_rows()]
    assert [c.value for c in rows[0]] == HEADER + ["Error"]
    assert rows[2][1].data_type == "s" and rows[2][1].value == "'=cmd|' /C calc'!A0"
    assert rows[2][4].value == "'@bad" and rows[2][5].value == "'-1+2"
    assert "Default payment period" in rows[1][-1].value


@pytest.mark.parametrize("source, rejects", [("xlsx", "csv"), ("csv", "xlsx")])
def test_rejects_format_follows_the_extension(etl, tmp_path, source, rejects):
    rows = [["C1", "Acme", None, "soon", "a@acme.example"], ["C2", "Beta", None, None, "b@beta.example"]]
    if source == "xlsx":
        workbook(tmp_path / "in.xlsx", rows)
    else:
        with open(tmp_path / "in.csv", "w", newline="") as handle:
            csv.writer(handle, delimiter=";").writerows([HEADER, *[[v if v is not None else "" for v in r] +
                                                                   [""] * (len(HEADER) - len(r)) for r in rows]])
    assert etl("run", f"in.{source}", "--rejects", f"rej.{rejects}").code == 1
    if rejects == "csv":
        with open(tmp_path / "rej.csv", newline="") as handle:
            found = list(csv.reader(handle))
    else:
        found = [[c.value or "" for c in row] for row in load_workbook(tmp_path / "rej.xlsx").active.iter_rows()]
    assert found[0] == HEADER + ["Error"] and found[1][:2] == ["C1", "Acme"] and len(found) == 2


def test_a_title_row_is_never_imported(etl, tmp_path):
    workbook(tmp_path / "t.xlsx", [["C1", "Acme"]], title="Customer list 2026")
    result = etl("run", "t.xlsx", "--report", "report.json")
    assert result.code == 0, result.err
    assert [c["name"] for c in read_store(tmp_path / "etl-db.json")["customers"]] == ["Acme"]
    assert read_report(tmp_path / "report.json")["warnings"] == [
        {"line": 1, "column": None, "value": None, "message": "1 title row above the header (line 1) was skipped"}]


def test_sheet_option_and_dates(etl, tmp_path):
    book = Workbook()
    book.active.title = "Notes"
    book.active.append(["nothing here"])
    sheet = book.create_sheet("Customers")
    sheet.append(["Customer ID", "Customer name", "VAT number"])
    sheet.append(["C1", "Acme", dt.date(2026, 1, 31)])
    book.save(tmp_path / "s.xlsx")
    assert etl("run", "s.xlsx", "--reader-option", "sheet=Customers").code == 0
    assert read_store(tmp_path / "etl-db.json")["customers"][0]["vat_number"] == "2026-01-31"
    assert "Notes" in etl("run", "s.xlsx", "--reader-option", "sheet=Nope").err


def test_a_zip_with_a_name_that_is_not_utf8_is_a_clear_error(etl, tmp_path):
    """Found by tests/fuzz: zipfile raises UnicodeDecodeError on such a name."""
    import zipfile

    with zipfile.ZipFile(tmp_path / "z.xlsx", "w") as archive:
        archive.writestr("xl/abc.xml", "<x/>")
    data = bytearray((tmp_path / "z.xlsx").read_bytes())
    central = data.index(b"PK\x01\x02")
    data[central + 9] |= 0x08  # general purpose flags, bit 11 (in the high byte): names are UTF-8
    name = data.index(b"abc.xml", central)
    data[name] = 0xAF  # not UTF-8
    (tmp_path / "z.xlsx").write_bytes(bytes(data))
    result = etl("run", "z.xlsx")
    assert result.code == 2 and "not a valid Excel file" in result.err and "Traceback" not in result.err


def test_a_corrupt_xls_that_makes_calamine_panic_prints_one_line(tmp_path):
    """calamine panics (in Rust) on this mutation of a corpus .xls; its panic message must not show."""
    import random
    from pathlib import Path

    from conftest import etl_process

    data = bytearray((Path(__file__).parent / "data/excel/frictionless-py/data/table-with-ints-floats-dates.xls")
                     .read_bytes())
    rng = random.Random(71)
    for _ in range(4):
        data[rng.randrange(len(data))] = rng.randrange(256)
    (tmp_path / "p.xls").write_bytes(bytes(data))
    result = etl_process("run", "p.xls", "--sink", "json", cwd=tmp_path)
    assert result.code == 2 and result.err.count("\n") == 1 and "not a valid Excel file" in result.err


def test_an_xls_that_makes_calamine_abort_is_refused_in_one_line(tmp_path):
    """This mutation of a corpus .xls makes calamine abort the process (SIGABRT, asking for memory
    it cannot get, found with tests/fuzz): the reader tries it in a child process first."""
    import random
    from pathlib import Path

    from conftest import etl_process

    data = bytearray((Path(__file__).parent / "data/excel/frictionless-py/data/table-with-ints-floats-dates.xls")
                     .read_bytes())
    rng = random.Random(1192)
    for _ in range(rng.randint(1, 6)):
        data[rng.randrange(len(data))] = rng.randrange(256)
    (tmp_path / "m.xls").write_bytes(bytes(data))
    result = etl_process("run", "m.xls", "--sink", "json", cwd=tmp_path)
    assert result.code == 2 and result.err.count("\n") == 1, result.err
    assert "needs more than 400.0 MB of memory, or crashes the reader" in result.err
