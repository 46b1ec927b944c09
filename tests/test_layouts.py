"""Exports laid out as reports: title rows above the header and footer rows below the data, in
CSV files and in workbooks the tests write (etl.connectors.layout, and both readers)."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest
from openpyxl import Workbook

from conftest import HEADER, read_report, read_store
from etl.registry import get_registry
from etl.connectors.layout import footer_count, header_index

Cells = list[str | int | float | None]

QUICKBOOKS = [  # the "Customer Contact List" report: an empty first column, titles, TOTAL and a timestamp
    ["Acme Corp"],
    ["Customer Contact List"],
    ["January 1 - December 31, 2025"],
    [],
    ["", "Customer", "Phone Numbers", "Email", "Full Name"],
    ["", "Alice Ltd", "555-1234", "alice@alice.example", "Alice Martin"],
    ["", "Total Energies SA", "555-9876", "contact@total.example", "Bob Durand"],
    ["", "Zed", "", "zed@zed.example", "Zed Zorro"],
    ["TOTAL"],
    [],
    ["Tuesday, Nov 30, 2026 09:41 AM GMTZ"],
]
QUICKBOOKS_WARNINGS = [
    (1, "3 title rows above the header (lines 1-3) were skipped"),
    (9, "footer line 9 ('TOTAL') was skipped"),
    (11, "footer line 11 ('Tuesday, Nov 30, 2026 09:41 AM GMTZ') was skipped"),
]


def write_csv_rows(path: Path, rows: list[Cells], delimiter: str = ";", width: int = 0) -> Path:
    """Rows written by csv (quoting as needed), each padded with empty fields to ``width``."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        for row in rows:
            writer.writerow(["" if cell is None else cell for cell in row] + [""] * (width - len(row)))
    return path


def write_xlsx_rows(path: Path, rows: list[Cells]) -> Path:
    book = Workbook()
    for row in rows:
        book.active.append([None if cell == "" else cell for cell in row])
    book.save(path)
    return path


def read(path: Path) -> tuple[list[str], list[tuple[int, list[str]]], list[tuple[int, str]]]:
    """Header, rows and warnings (line, message) of a CSV file or a workbook."""
    spec = get_registry().reader_for(path.suffix)
    table = spec.open(path, spec.load_options({}))
    try:
        return table.header, list(table.rows()), [(w.line, w.message) for w in table.warnings]
    finally:
        table.close()


def write(path: Path, rows: list[Cells], padded: bool = False) -> Path:
    """``rows`` as an .xlsx workbook or a ';' CSV file (every line as wide as the widest if ``padded``)."""
    if path.suffix == ".xlsx":
        return write_xlsx_rows(path, rows)
    return write_csv_rows(path, rows, width=max(map(len, rows)) if padded else 0)


FILES = ["layout.csv", "layout.xlsx"]


@pytest.mark.parametrize("name", FILES)
def test_a_plain_table_reads_as_before(tmp_path: Path, name: str) -> None:
    rows: list[Cells] = [["Name", "City", "Zip"], ["Ann", "Nice", "06000"], ["Bob", "", ""], ["Total", "Lyon", "69000"]]
    header, data, warnings = read(write(tmp_path / name, rows))
    assert header == ["Name", "City", "Zip"]
    assert data == [(2, ["Ann", "Nice", "06000"]), (3, ["Bob", "", ""]), (4, ["Total", "Lyon", "69000"])]
    assert warnings == []


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("padded", [False, True], ids=["short-title-lines", "titles-with-empty-cells"])
def test_the_quickbooks_customer_contact_list(tmp_path: Path, name: str, padded: bool) -> None:
    header, data, warnings = read(write(tmp_path / name, QUICKBOOKS, padded))
    assert header == ["", "Customer", "Phone Numbers", "Email", "Full Name"]
    assert [(line, values[1]) for line, values in data] == [(6, "Alice Ltd"), (7, "Total Energies SA"), (8, "Zed")]
    assert warnings == QUICKBOOKS_WARNINGS


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_separator_is_found_below_title_lines(tmp_path: Path, delimiter: str) -> None:
    path = write_csv_rows(tmp_path / "report.csv", QUICKBOOKS, delimiter)  # the period is quoted with ','
    header, data, warnings = read(path)
    assert header[1:] == ["Customer", "Phone Numbers", "Email", "Full Name"]
    assert len(data) == 3 and warnings == QUICKBOOKS_WARNINGS


@pytest.mark.parametrize("name", FILES)
def test_a_one_column_title_above_a_two_column_table(tmp_path: Path, name: str) -> None:
    rows: list[Cells] = [["Customer list 2024"], [], ["Name", "City"], ["Ann", "Nice"]]
    assert read(write(tmp_path / name, rows)) == (
        ["Name", "City"], [(4, ["Ann", "Nice"])], [(1, "1 title row above the header (line 1) was skipped")])


@pytest.mark.parametrize("name", FILES)
def test_title_rows_of_two_and_three_filled_cells(tmp_path: Path, name: str) -> None:
    rows: list[Cells] = [
        ["Sage 50", "Customer list"],
        ["Acme SARL", "Printed by: admin", "Period: 2025"],
        ["Code", "Company", "Address", "Zip", "Town", "Email"],
        ["C1", "Alpha", "1 rue A", "06000", "Nice", "a@alpha.example"],
        ["C2", "Beta", "2 rue B", "75001", "Paris", "b@beta.example"],
    ]
    header, data, warnings = read(write(tmp_path / name, rows))
    assert header == ["Code", "Company", "Address", "Zip", "Town", "Email"]
    assert [line for line, _ in data] == [4, 5]
    assert warnings == [(1, "2 title rows above the header (lines 1-2) were skipped")]


@pytest.mark.parametrize("name", FILES)
def test_a_title_row_as_wide_as_the_header_but_followed_by_a_wider_one(tmp_path: Path, name: str) -> None:
    rows: list[Cells] = [["Acme", "Contacts", "2025"], ["ID", "Name", "Email", "Phone"],
                         ["1", "Ann", "a@x.example", "06"]]
    header, data, warnings = read(write(tmp_path / name, rows))
    assert header == ["ID", "Name", "Email", "Phone"] and data == [(3, ["1", "Ann", "a@x.example", "06"])]
    assert warnings == [(1, "1 title row above the header (line 1) was skipped")]


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("footer", [["TOTAL"], ["Total", "", "", 3], ["Totaux :", 3], ["Gesamt"], ["Grand Total"],
                                    ["Total customers: 2"], ["TOTAL", 2, "1,234.50", "30/11/2026"],
                                    ["30/11/2026 09:41"], ["2026-11-30"]])
def test_footer_rows(tmp_path: Path, name: str, footer: Cells) -> None:
    rows: list[Cells] = [["ID", "Name", "Email", "Phone"], ["1", "Ann", "a@x.example", "06"],
                         ["2", "Bob", "b@x.example", "07"], [], footer]
    header, data, warnings = read(write(tmp_path / name, rows))
    assert [line for line, _ in data] == [2, 3]
    shown = " ".join(str(cell) for cell in footer if cell != "")
    assert warnings == [(5, f"footer line 5 ({shown!r}) was skipped")]


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("last", [
    ["3", "Total Energies SA", "t@total.example", "01"],  # a customer named Total
    ["Total Energies SA", "3", "0601020304", "75001"],  # named Total first, then numbers
    ["", "Total Energies SA", "t@total.example", ""],  # half filled, with an email: a data row
    ["", "Total Energies SA", "", "0601020304"],  # not the bare label, half filled
    ["Totalement Bio", "", "", ""],  # a word starting with "total" is not a total
    ["", "Carl", "", ""],  # a lone name
    ["Note: call back", "", "", ""],  # a lone text that is neither a total nor a date
    ["3", "", "", ""],  # a lone number: a line of a customer by its ID alone
    ["", "", "", "0"],  # a lone number elsewhere: data (found by hypothesis)
])
def test_a_last_row_that_is_data_is_kept(tmp_path: Path, name: str, last: Cells) -> None:
    rows: list[Cells] = [["ID", "Name", "Email", "Phone"], ["1", "Ann", "a@x.example", "06"], last]
    _, data, warnings = read(write(tmp_path / name, rows))
    assert [line for line, _ in data] == [2, 3] and warnings == []


@pytest.mark.parametrize("name", FILES)
def test_total_rows_among_the_data_are_data(tmp_path: Path, name: str) -> None:
    rows: list[Cells] = [["ID", "Name", "Email"], ["1", "Total Energies SA", "t@total.example"], ["TOTAL"],
                         ["2", "Bob", "b@x.example"]]
    _, data, warnings = read(write(tmp_path / name, rows))
    assert [line for line, _ in data] == [2, 3, 4] and warnings == []


@pytest.mark.parametrize("name", FILES)
def test_a_table_of_footer_like_rows_only_keeps_them(tmp_path: Path, name: str) -> None:
    rows: list[Cells] = [["ID", "Name", "Email"], ["2026-11-30"], ["TOTAL"]]
    _, data, warnings = read(write(tmp_path / name, rows))
    assert [line for line, _ in data] == [2, 3] and warnings == []


@pytest.mark.parametrize("name", FILES)
def test_a_header_with_numbers_or_repeated_titles_stays_the_first_row(tmp_path: Path, name: str) -> None:
    for first in (["Name", "2024", "2025"], ["Name", "Q", "Q"]):
        rows: list[Cells] = [first, ["Ann", "1", "2"], ["Bob", "3", "4"]]
        header, data, warnings = read(write(tmp_path / name, rows))
        assert header == first and [line for line, _ in data] == [2, 3] and warnings == []


def test_control_characters_are_escaped_in_warnings(tmp_path: Path) -> None:
    rows: list[Cells] = [["ID", "Name", "Email"], ["1", "Ann", "a@x.example"], ["TOTAL\x1b[31m\tdone"]]
    _, _, warnings = read(write_csv_rows(tmp_path / "ctl.csv", rows))
    assert warnings == [(3, "footer line 3 ('TOTAL\\x1b[31m\\tdone') was skipped")]


def test_footer_lines_in_a_large_file_keep_their_physical_numbers(tmp_path: Path) -> None:
    rows: list[Cells] = [["ID", "Name", "Email"], *([str(n), f"Name\n{n}", "x"] for n in range(50_000)), [],
                         ["Total", "50000"]]
    _, data, warnings = read(write_csv_rows(tmp_path / "large.csv", rows))  # the last record spans two lines
    assert data[-1] == (100_000, ["49999", "Name\n49999", "x"])
    assert warnings == [(100_003, "footer line 100003 ('Total 50000') was skipped")]


def test_header_index_and_footer_count_on_their_own() -> None:
    assert header_index([]) == 0 and footer_count([], 3, False) == 0
    assert header_index([["Name"], ["Ann"]]) == 0  # a one-column file
    assert header_index([["Report"], ["Name", "City"], ["Ann"]]) == 1
    assert header_index([["Name", "City"], ["1", "Nice", "x"]]) == 0  # followed by data, not by wider titles
    assert footer_count([["1", "Ann", "x"], ["TOTAL", "", ""], ["Printed 30/11/2026"]], 3, False) == 2
    assert footer_count([["TOTAL", "", ""]], 3, False) == 0 and footer_count([["TOTAL", "", ""]], 3, True) == 1


@pytest.mark.parametrize("name", FILES)
def test_the_run_reports_what_was_skipped_and_imports_the_rest(etl, tmp_path: Path, name: str) -> None:
    rows: list[Cells] = [["Acme Corp — customers"], ["Period: 2025"], HEADER,
                         ["C1", "Acme", *[""] * 12, "a@acme.example", *[""] * 6],
                         ["C2", "Total Energies SA", *[""] * 12, "t@total.example", *[""] * 6],
                         ["Total", 2]]
    path = write(tmp_path / name, rows)
    result = etl("run", path.name, "--report", "report.json")
    assert result.code == 0, result.err
    assert [c["name"] for c in read_store(tmp_path / "etl-db.json")["customers"]] == ["Acme", "Total Energies SA"]
    assert [(w["line"], w["message"]) for w in read_report(tmp_path / "report.json")["warnings"]] == [
        (1, "2 title rows above the header (lines 1-2) were skipped"), (6, "footer line 6 ('Total 2') was skipped")]
