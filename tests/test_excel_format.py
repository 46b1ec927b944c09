"""The ``excel`` format: reading workbooks with python-calamine, writing them with openpyxl.

Workbooks are written by the tests (openpyxl, or XML zipped by hand for what openpyxl
cannot write); third-party files come from tests/data/excel (see SOURCES.md). Hostile
files are opened in a child process with a time and memory limit, so that a failed guard
cannot hang or kill the test run.
"""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pluggy
import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from etl import hookspecs
from etl.components import Row
from etl.connectors import excel_archive, excel_format
from etl.connectors.excel_format import register_readers, write_xlsx
from etl.errors import InputError, UsageError


def open_excel(path: Path, options: dict[str, str]) -> excel_format.ExcelTable:
    """The reader's ``open`` with ``options`` loaded by its schema, as a run opens it."""
    return excel_format.open_excel(path, register_readers()[0].load_options(options))

DATA = Path(__file__).resolve().parent / "data" / "excel"
POI = DATA / "apache-poi" / "test-data" / "spreadsheet"
CALAMINE = DATA / "calamine" / "tests"
PY_CALAMINE = DATA / "python-calamine" / "tests" / "data"
FRICTIONLESS = DATA / "frictionless-py" / "data"

CHILD_MEMORY_LIMIT = 1536 << 20
CHILD_TIMEOUT = 60
"""Generous: the machine is shared. Each file must take under MAX_SECONDS in the child."""
MAX_SECONDS = 5


# Helpers


def write_rows(path: Path, rows: list[list[Any]], title: str = "Sheet1") -> Path:
    """A one-sheet workbook holding ``rows`` from A1 (None: no cell)."""
    return write_sheets(path, {title: rows})


def write_sheets(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path


def write_cells(path: Path, cells: dict[str, Any]) -> Path:
    """A one-sheet workbook with ``cells`` by reference ("C3": value)."""
    workbook = Workbook()
    for reference, value in cells.items():
        workbook.active[reference] = value
    workbook.save(path)
    return path


def zip_sheet(path: Path, sheet_data: str, prefix: str = "") -> Path:
    """A minimal .xlsx whose only sheet, "Data", has ``sheet_data`` inside <sheetData>.

    With ``prefix`` ("x:"), the worksheet's elements carry that namespace prefix.
    """
    namespace = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    declaration = f'xmlns:{prefix[:-1]}="{namespace}"' if prefix else f'xmlns="{namespace}"'
    package = "http://schemas.openxmlformats.org/package/2006"
    office = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    parts = {
        "[Content_Types].xml": f'<Types xmlns="{package}/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/></Types>',
        "_rels/.rels": f'<Relationships xmlns="{package}/relationships">'
        f'<Relationship Id="rId1" Type="{office}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{namespace}" xmlns:r="{office}">'
        '<sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{package}/relationships">'
        f'<Relationship Id="rId1" Type="{office}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": f"<{prefix}worksheet {declaration}><{prefix}sheetData>{sheet_data}"
        f"</{prefix}sheetData></{prefix}worksheet>",
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return path


def shared_strings_workbook(path: Path, start_tag: str = 'count="2000000000" uniqueCount="2000000000"',
                            strings: int = 4, encoding: str = "utf-8") -> Path:
    """A small .xlsx whose sheet uses ``strings`` shared strings, the ``<sst>`` tag having the
    attributes ``start_tag`` (by default, the count of a 2e9-text bomb in 1.9 KB)."""
    from test_bad_inputs import MAIN_NS, sheet_xml, xlsx_bytes

    texts = ["Customer ID", "Customer name", *(f"text {i}" for i in range(strings - 2))]
    cells = "".join(f'<c r="{chr(65 + i % 2)}{1 + i // 2}" t="s"><v>{i}</v></c>' for i in range(strings))
    items = "".join(f"<si><t>{text}</t></si>" for text in texts)
    shared = (f'<?xml version="1.0" encoding="{encoding}" standalone="yes"?>\n'
              f"<sst {MAIN_NS} {start_tag}>{items}</sst>").encode(encoding)
    path.write_bytes(xlsx_bytes(sheet_xml(f'<row r="1">{cells}</row>'), shared))
    return path


def text_cell(reference: str, text: str) -> str:
    return f'<c r="{reference}" t="inlineStr"><is><t>{text}</t></is></c>'


def read(path: Path, **options: str) -> tuple[list[str], list[Row]]:
    table = open_excel(path, options)
    try:
        return table.header, list(table.rows())
    finally:
        table.close()


def input_error(path: Path, **options: str) -> str:
    with pytest.raises(InputError) as caught:
        read(path, **options)
    message = str(caught.value)
    assert str(path) not in message and path.name not in message
    return message


CHILD = """
import json, sys, time
from pathlib import Path
from etl.connectors.excel_format import open_excel, register_readers
from etl.errors import InputError
outcomes = {}
for name, options in json.loads(sys.argv[1]):
    start = time.perf_counter()
    try:
        table = open_excel(Path(name), register_readers()[0].load_options(options))
        outcome = f"OK {len(list(table.rows()))} rows"
    except InputError as exc:
        outcome = f"InputError: {exc}"
    outcomes[name] = [outcome, time.perf_counter() - start]
print(json.dumps(outcomes))
"""


def _limit_memory() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY_LIMIT, CHILD_MEMORY_LIMIT))


def outcomes_in_child(files: list[tuple[Path, dict[str, str]]]) -> dict[str, tuple[str, float]]:
    """Open each file in one child process (memory-limited on POSIX): its outcome and seconds."""
    result = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps([[str(path), options] for path, options in files])],
        capture_output=True, text=True, timeout=CHILD_TIMEOUT,
        preexec_fn=_limit_memory if sys.platform != "win32" else None,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return {name: (outcome, seconds) for name, (outcome, seconds) in json.loads(result.stdout).items()}


# Values


def test_values_are_read_as_the_user_typed_them(tmp_path: Path) -> None:
    row = [
        1001, "06000", 33123456789, 45.0, 3.5, 0.1 + 0.2, -0.0, 1e20, 2.5e-07,
        dt.date(2024, 1, 31), dt.datetime(2024, 1, 31, 10, 0), dt.datetime(2024, 1, 31), dt.time(10, 30),
        dt.timedelta(hours=30, minutes=5), True, False, None, "  spaced  ",
    ]
    header, rows = read(write_rows(tmp_path / "values.xlsx", [[f"c{i}" for i in range(len(row))], row]))
    assert rows == [(2, [
        "1001", "06000", "33123456789", "45", "3.5", "0.3", "0", "1e+20", "2.5e-07",
        "2024-01-31", "2024-01-31T10:00:00", "2024-01-31", "10:30:00",
        "30:05:00", "TRUE", "FALSE", "", "  spaced  ",
    ])]


def test_numbers_formatted_with_leading_zeros_keep_them(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["Zip", "SIREN", "Phone", "Plain", "Text zip", "Long zip", "Fraction"])
    sheet.append([6000, 12345678, 612345678, 6000, "6000", 1234567, 6000.5])
    sheet.append([75001, None, None, 42, None, None, None])
    for row in (2, 3):
        for column, number_format in {1: "00000", 2: "000000000", 3: "0000000000", 5: "00000", 6: "00000",
                                      7: "00000"}.items():
            sheet.cell(row, column).number_format = number_format
    book.save(tmp_path / "zips.xlsx")
    assert read(tmp_path / "zips.xlsx")[1] == [
        (2, ["06000", "012345678", "0612345678", "6000", "6000", "1234567", "6000.5"]),
        (3, ["75001", "", "", "42", "", "", ""]),
    ]


def test_styles_without_zero_padded_formats_pad_nothing(tmp_path: Path) -> None:
    book = Workbook()
    book.active.append(["Zip", "Amount"])
    book.active.append([6000, 12])
    book.active["B2"].number_format = "0.00"
    book.save(tmp_path / "plain.xlsx")
    with zipfile.ZipFile(tmp_path / "plain.xlsx") as archive:
        assert excel_archive._zero_padded_styles(archive, {name: name for name in archive.namelist()}) == {}
    assert read(tmp_path / "plain.xlsx")[1] == [(2, ["6000", "12"])]


@pytest.mark.parametrize(("value", "text"), [
    (1234567890123456.0, "1234567890123460"),  # Excel keeps 15 significant digits
    (274.65999999999997, "274.66"),
    (2.9999999999999996, "3"),
    (-1.5, "-1.5"),
    (1e-05, "1e-05"),
])
def test_floats_have_excel_precision(value: float, text: str) -> None:
    assert excel_format._float_text(value) == text


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_float_text_is_the_float_to_15_digits(value: float) -> None:
    assert float(excel_format._float_text(value)) == float(f"{value:.15g}")


@pytest.mark.parametrize(("value", "text"), [
    (dt.timedelta(days=10, seconds=54610), "255:10:10"),
    (dt.timedelta(seconds=36610, microseconds=100000), "10:10:10.1"),
    (dt.timedelta(minutes=-90), "-1:30:00"),
])
def test_durations_are_hours_minutes_seconds(value: dt.timedelta, text: str) -> None:
    assert excel_format._duration_text(value) == text


def test_formula_results_are_read_not_formulas() -> None:
    assert read(CALAMINE / "shared_formula_simple.xlsx") == (["1", "2"], [(2, ["2", "4"]), (3, ["3", "6"])])
    header, rows = read(FRICTIONLESS / "adjust-floating-point-error.xlsx")
    assert header[2] == "actual PO4 (formula)" and rows[1][1][2] == "274.66"


def test_error_cells_give_their_text() -> None:
    header, rows = read(CALAMINE / "errors.xlsx")
    assert [header] + [values for _, values in rows] == [
        ["#DIV/0!"], ["#NAME?"], ["#VALUE!"], ["#NULL!"], ["#REF!"], ["#NUM!"], ["#N/A"],
    ]


def test_formula_saved_without_result_is_refused(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "formula.xlsx", [["Name", "Total"], ["a", 1], ["b", "=B2+1"]])
    message = input_error(path)
    assert message.startswith("row 3: cell B3 holds a formula saved without its result")
    assert "save it" in message


def test_string_formula_with_empty_result_is_read(tmp_path: Path) -> None:
    sheet = (
        f'<row r="1">{text_cell("A1", "Name")}{text_cell("B1", "Code")}</row>'
        f'<row r="2">{text_cell("A2", "a")}<c r="B2" t="str"><f>IF(A2="x","y","")</f><v></v></c></row>'
    )
    assert read(zip_sheet(tmp_path / "empty_result.xlsx", sheet)) == (["Name", "Code"], [(2, ["a", ""])])


# Layout: header, rows, row numbers


def test_blank_rows_are_skipped_and_rows_keep_their_sheet_number(tmp_path: Path) -> None:
    rows = [["Name", "City"], ["Ann", "Nice"], [None, None], ["  ", None], ["Bob", "Paris"]]
    assert read(write_rows(tmp_path / "blank.xlsx", rows)) == (
        ["Name", "City"], [(2, ["Ann", "Nice"]), (5, ["Bob", "Paris"])]
    )


def test_table_away_from_a1_keeps_sheet_row_numbers(tmp_path: Path) -> None:
    path = write_cells(tmp_path / "offset.xlsx", {"C3": "Name", "D3": "City", "C4": "Ann", "D6": "Paris"})
    assert read(path) == (["Name", "City"], [(4, ["Ann", ""]), (6, ["", "Paris"])])


def test_header_titles_are_stripped_text(tmp_path: Path) -> None:
    header, _ = read(write_rows(tmp_path / "titles.xlsx", [[" Name ", 2024, None, "City", None], ["a"]]))
    assert header == ["Name", "2024", "", "City"]


def test_rows_are_fitted_to_the_header(tmp_path: Path) -> None:
    rows = [["A", "B", "C"], ["short"], ["a", "b", "c", None, "  "], ["a", "b", "c", None, "extra"]]
    assert read(write_rows(tmp_path / "ragged.xlsx", rows))[1] == [
        (2, ["short", "", ""]),
        (3, ["a", "b", "c"]),
        (4, ["a", "b", "c", "", "extra"]),
    ]


def test_rows_can_be_read_again_until_closed(tmp_path: Path) -> None:
    table = open_excel(write_rows(tmp_path / "again.xlsx", [["Name"], ["a"], ["b"]]), {})
    assert list(table.rows()) == list(table.rows()) == [(2, ["a"]), (3, ["b"])]
    table.close()
    with pytest.raises(ValueError):
        list(table.rows())


def test_title_and_footer_rows_are_skipped_with_warnings() -> None:
    table = open_excel(FRICTIONLESS / "skip-rows.xlsx", {})  # "Table 1", the header, a row, "TOTAL"
    try:
        assert (table.header, list(table.rows())) == (["A", "B"], [(3, ["8", "9"])])
        assert [(w.line, w.message) for w in table.warnings] == [
            (1, "1 title row above the header (line 1) was skipped"), (4, "footer line 4 ('TOTAL') was skipped")]
    finally:
        table.close()


def test_one_column_sheet_is_not_a_title(tmp_path: Path) -> None:
    assert read(write_rows(tmp_path / "emails.xlsx", [["Email"], ["a@x.org"]])) == (["Email"], [(2, ["a@x.org"])])


def test_sheet_without_row_references_is_placed_like_calamine_does() -> None:
    header, rows = read(POI / "59746_NoRowNums.xlsx")
    assert header[:3] == ["Checked", "Ion", "Charge"]
    assert [number for number, _ in rows] == list(range(2, 72))
    assert rows[0][1][:4] == ["TRUE", "[M+Na]+1", "1", "644.24222"]


# Sheets


def test_sheet_is_chosen_by_name_then_position(tmp_path: Path) -> None:
    path = write_sheets(tmp_path / "sheets.xlsx", {
        "Customers": [["Name"], ["customer"]], "Contacts": [["Name"], ["contact"]], "1": [["Name"], ["named 1"]],
    })
    assert read(path, sheet="Contacts")[1] == [(2, ["contact"])]
    assert read(path, sheet="contacts")[1] == [(2, ["contact"])]
    assert read(path, sheet="2")[1] == [(2, ["contact"])]
    assert read(path, sheet="1")[1] == [(2, ["named 1"])]
    assert open_excel(path, {"sheet": "2"}).format_options == {"sheet": "Contacts"}


def test_unknown_sheet_lists_the_sheets(tmp_path: Path) -> None:
    path = write_sheets(tmp_path / "sheets.xlsx", {"Customers": [["Name"]], "Contacts": [["Name"]]})
    for wanted in ("Orders", "3", "0"):
        assert input_error(path, sheet=wanted) == (
            f"there is no sheet {wanted!r} in the file: give a sheet name or a position from 1 to 2"
            " (sheets: 'Customers', 'Contacts')"
        )


def test_first_sheet_with_data_is_read_by_default(tmp_path: Path) -> None:
    path = write_sheets(tmp_path / "second.xlsx", {"Notes": [[None, "  "]], "Data": [["Name"], ["a"]]})
    table = open_excel(path, {})
    assert (table.format_options, table.header) == ({"sheet": "Data"}, ["Name"])
    assert open_excel(FRICTIONLESS / "sheet2.xlsx", {}).format_options == {"sheet": "Sheet2"}


def test_empty_sheets_are_refused(tmp_path: Path) -> None:
    assert input_error(write_rows(tmp_path / "empty.xlsx", [], title="Data")) == "the sheet 'Data' is empty"
    path = write_sheets(tmp_path / "empties.xlsx", {"A": [], "B": [["x"]]})
    assert input_error(path, sheet="A") == "the sheet 'A' is empty"
    path = write_sheets(tmp_path / "all_empty.xlsx", {"A": [], "B": [[None]]})
    assert input_error(path) == "every sheet of the file is empty ('A', 'B')"


# Other formats


def test_xls_and_ods_are_read() -> None:
    header, rows = read(FRICTIONLESS / "table-with-ints-floats-dates.xls")
    assert header == ["Int", "Float", "Date"] and rows[0] == (2, ["2013", "3.3", "2009-08-16"])
    assert read(FRICTIONLESS / "table.ods") == (["id", "name"], [(2, ["1", "english"]), (3, ["2", "中国人"])])


def test_xlsb_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsb"
    path.write_bytes(b"PK\x03\x04 not really")
    assert input_error(path) == "the .xlsb format is not supported: save the workbook as .xlsx"


def test_reader_spec() -> None:
    [spec] = register_readers()
    assert (spec.name, spec.extensions, spec.open, spec.write) == (
        "excel", (".xlsx", ".xlsm", ".xls", ".ods"), excel_format.open_excel, write_xlsx
    )


def test_reader_is_registered_through_the_hook() -> None:
    manager = pluggy.PluginManager("etl")
    manager.add_hookspecs(hookspecs)
    manager.register(excel_format)
    assert [spec.name for specs in manager.hook.register_readers() for spec in specs] == ["excel"]


def test_import_stays_light() -> None:
    """Registering the reader, as every run does, loads neither the workbook libraries nor the archive checks."""
    code = ("import sys, etl.connectors.excel_format; "
            "print(sorted({'python_calamine', 'openpyxl', 'etl.connectors.excel_archive'} & set(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


# Options


@pytest.mark.parametrize("options", [
    {"sheets": "1"}, {"max_cells": "many"}, {"max_cells": "0"}, {"max_uncompressed_size": "big"},
])
def test_bad_options_are_usage_errors(tmp_path: Path, options: dict[str, str]) -> None:
    with pytest.raises(UsageError):
        open_excel(write_rows(tmp_path / "a.xlsx", [["Name"]]), options)


def test_sizes_take_binary_suffixes() -> None:
    assert excel_format.parse_size("2G") == 2 << 30
    assert excel_format.parse_size("500 MB") == 500 << 20
    assert excel_format.parse_size("1024") == 1024


# Hostile files


def _zip_bomb(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", bytes(32 << 20))
    return path


def _lying_zip(path: Path) -> Path:
    """A workbook whose sheet unpacks to far more than its zip headers declare (100 bytes)."""
    zip_sheet(path, "".join(f'<row r="{n}">{text_cell(f"A{n}", "x" * 50)}</row>' for n in range(1, 2001)))
    data = bytearray(path.read_bytes())
    name = b"xl/worksheets/sheet1.xml"
    for signature, name_offset, size_offset in ((b"PK\x03\x04", 30, 22), (b"PK\x01\x02", 46, 24)):
        start = data.find(signature)
        while start != -1:
            if data[start + name_offset:start + name_offset + len(name)] == name:
                data[start + size_offset:start + size_offset + 4] = (100).to_bytes(4, "little")
            start = data.find(signature, start + 4)
    path.write_bytes(data)
    return path


def _unclosed_ods(path: Path) -> Path:
    """An .ods whose table is never closed (python-calamine would loop forever)."""
    with zipfile.ZipFile(FRICTIONLESS / "table.ods") as source, zipfile.ZipFile(path, "w") as target:
        for member in source.infolist():
            data = source.read(member)
            if member.filename == "content.xml":
                data = data.replace(b"</table:table>", b"</tale>")
            target.writestr(member, data)
    return path


def _hostile_files(folder: Path) -> dict[str, tuple[Path, dict[str, str], str]]:
    """Name -> (file, options, expected start of the outcome)."""
    random = folder / "random.xlsx"
    random.write_bytes(bytes(range(256)) * 16)
    far = f'<row r="1">{text_cell("A1", "a")}</row><row r="1048576">{text_cell("XFD1048576", "b")}</row>'
    duplicate = f'<row r="1">{text_cell("A1", "a")}</row><row r="2"><c r="A2" r="XFD1048576"><v>1</v></c></row>'
    sequential = "".join("<x:row>" + "<x:c><x:v>1</x:v></x:c>" * 40 + "</x:row>" for _ in range(40))
    protected = "InputError: the file is password-protected"
    return {
        "protected_passtika": (POI / "protected_passtika.xlsx", {}, protected),
        "pass_protected": (CALAMINE / "pass_protected.xlsx", {}, protected),
        "password": (PY_CALAMINE / "password.xlsx", {}, protected),
        "xmlbomb": (POI / "poc-xmlbomb.xlsx", {}, "InputError: not a valid Excel file"),
        "xmlbomb_empty": (POI / "poc-xmlbomb-empty.xlsx", {}, "InputError: not a valid Excel file"),
        "corrupted": (POI / "xlsx-corrupted.xlsx", {}, "InputError: not a valid Excel file"),
        "fuzzed": (POI / "clusterfuzz-testcase-minimized-XLSX2CSVFuzzer-5636439151607808.xlsx", {},
                   "InputError: not a valid Excel file"),
        "too_small_xls": (CALAMINE / "too_small.xls", {}, "InputError: not a valid Excel file"),
        "empty_file": (PY_CALAMINE / "empty_file.xlsx", {}, "InputError: the file is empty"),
        "xxe_in_schema": (POI / "xxe_in_schema.xlsx", {}, "OK 1 rows"),
        "huge_dimension": (CALAMINE / "issue_174.xlsx", {}, "OK 1 rows"),
        "random_bytes": (random, {}, "InputError: not a valid Excel file"),
        "zip_bomb": (_zip_bomb(folder / "bomb.xlsx"), {}, "InputError: the file looks like a zip bomb"),
        "too_big": (zip_sheet(folder / "big.xlsx", far), {"max_uncompressed_size": "100"},
                    "InputError: the file unpacks to"),
        "lying_sizes": (_lying_zip(folder / "lying.xlsx"), {}, "InputError: not a valid Excel file"),
        "far_cells": (zip_sheet(folder / "far.xlsx", far), {},
                      "InputError: a sheet's cells span 1,048,576 rows by 16,384 columns"),
        "duplicate_reference": (zip_sheet(folder / "duplicate.xlsx", duplicate), {},
                                "InputError: a sheet's cells span 1,048,576 rows by 16,384 columns"),
        "ods_unclosed": (_unclosed_ods(folder / "unclosed.ods"), {},
                         "InputError: not a valid Excel file: malformed XML in 'content.xml'"),
        "sequential_cells": (zip_sheet(folder / "sequential.xlsx", sequential, prefix="x:"), {"max_cells": "1000"},
                             "InputError: a sheet's cells span 40 rows by 40 columns"),
        "shared_strings_count": (shared_strings_workbook(folder / "strings.xlsx"), {},
                                 "InputError: the workbook's shared strings claim 2,000,000,000 texts but hold 4"),
    }


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, str, float]]:
    """Name -> (expected start, outcome, seconds), all opened in one child process."""
    cases = _hostile_files(tmp_path_factory.mktemp("hostile"))
    outcomes = outcomes_in_child([(path, options) for path, options, _ in cases.values()])
    return {name: (expected, *outcomes[str(path)]) for name, (path, _, expected) in cases.items()}


HOSTILE = [
    "protected_passtika", "pass_protected", "password", "xmlbomb", "xmlbomb_empty", "corrupted", "fuzzed",
    "too_small_xls", "empty_file", "xxe_in_schema", "huge_dimension", "random_bytes", "zip_bomb", "too_big",
    "lying_sizes", "far_cells", "duplicate_reference", "ods_unclosed", "sequential_cells", "shared_strings_count",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_file_ends_in_one_clear_line(hostile: dict[str, tuple[str, str, float]], name: str) -> None:
    expected, outcome, seconds = hostile[name]
    assert outcome.startswith(expected), outcome
    assert "\n" not in outcome and "Traceback" not in outcome
    assert seconds < MAX_SECONDS


def test_every_hostile_case_is_tested(hostile: dict[str, tuple[str, str, float]]) -> None:
    assert sorted(hostile) == sorted(HOSTILE)


def test_large_sheet_is_scanned_in_pieces(tmp_path: Path) -> None:
    rows = "".join(f'<row r="{n}">{text_cell(f"A{n}", f"value {n:06d}")}</row>' for n in range(2, 40_002))
    sheet = f'<row r="1">{text_cell("A1", "Name")}</row>{rows}<row r="40002"><c r="A40002" t="e"><v>#N/A</v></c></row>'
    _, read_rows = read(zip_sheet(tmp_path / "large.xlsx", sheet))
    assert len(read_rows) == 40_001 and read_rows[-1] == (40_002, ["#N/A"])
    formula = sheet.replace('t="e"><v>#N/A</v>', "><f>A1</f>")
    assert input_error(zip_sheet(tmp_path / "formula.xlsx", formula)).startswith("row 40002: cell A40002")


def test_element_longer_than_a_piece_gets_the_exact_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scanned: list[str] = []
    exact_scan = excel_archive.ExactScanner.scan

    def scan(self: excel_archive.ExactScanner, stream: Any, name: str) -> excel_archive.PartScan:
        scanned.append(name)
        return exact_scan(self, stream, name)

    monkeypatch.setattr(excel_archive.ExactScanner, "scan", scan)
    long_text = "x" * (3 * excel_archive.MAX_CARRY)
    sheet = f'<row r="1">{text_cell("A1", "Name")}</row><row r="2">{text_cell("A2", long_text)}</row>'
    assert read(zip_sheet(tmp_path / "long.xlsx", sheet)) == (["Name"], [(2, [long_text])])
    assert scanned == ["xl/worksheets/sheet1.xml"]


def test_cells_far_apart_within_the_limit_are_read(tmp_path: Path) -> None:
    sheet = f'<row r="1">{text_cell("A1", "Name")}</row><row r="30">{text_cell("AD30", "far")}</row>'
    header, rows = read(zip_sheet(tmp_path / "far.xlsx", sheet), max_cells="900")
    assert header == ["Name"] and rows == [(30, [""] * 29 + ["far"])]


# Writing


def test_written_cells_are_text_never_formulas(tmp_path: Path) -> None:
    path = tmp_path / "rejects.xlsx"
    rows = [["=1+1", "+33 1 23", "-5", "@SUM(A1)"], [3.5, None, "", "bell\x07"]]
    write_xlsx(path, ["Name", "Phone", "Amount", "Error"], rows, {"sheet": "Data: 2024/Q1"})
    sheet = load_workbook(path).active
    assert sheet.title == "Data_ 2024_Q1"
    assert [(cell.value, cell.data_type, cell.font.b) for cell in sheet[1]] == [
        ("Name", "s", True), ("Phone", "s", True), ("Amount", "s", True), ("Error", "s", True),
    ]
    assert [(cell.value, cell.data_type) for cell in sheet[2]] == [
        ("=1+1", "s"), ("+33 1 23", "s"), ("-5", "s"), ("@SUM(A1)", "s"),
    ]
    assert [cell.value for cell in sheet[3]] == ["3.5", None, None, "bell\ufffd"]
    assert read(path) == (
        ["Name", "Phone", "Amount", "Error"],
        [(2, ["=1+1", "+33 1 23", "-5", "@SUM(A1)"]), (3, ["3.5", "", "", "bell\ufffd"])],
    )


def test_written_sheet_title_defaults(tmp_path: Path) -> None:
    write_xlsx(tmp_path / "out.xlsx", ["Name"], [], {})
    assert load_workbook(tmp_path / "out.xlsx").active.title == "Sheet1"
