"""The ``excel`` format: workbooks read with python-calamine and written with openpyxl.

Reads .xlsx, .xlsm, .xls and .ods (.xlsb is refused, see below). Only data is read: a
formula gives the result saved with it, never its text.

Reader options (``--reader-option KEY=VALUE``, declared by ``options_schema``):

``sheet``
    the sheet to read: its name or, if no sheet has that name and it is a number, its
    position counting from 1. Default: the first sheet that has data.
``max_uncompressed_size``
    the most a zip-based workbook (.xlsx, .xlsm, .ods) may unpack to, in bytes or with a
    K, M or G suffix (default 2G: a full 1,048,576-row sheet of about 40 columns).
``max_cells``
    the largest area, rows x columns, that an .xlsx worksheet's cells may span (default
    25,000,000).
``max_memory``
    the memory a .xls or .ods workbook may take to load, tried first in a child process
    (default 400M).

Values are given as text, as the user typed them: 1001.0 -> "1001", 33123456789 ->
"33123456789", 3.5 -> "3.5" (numbers with Excel's 15 significant digits, so a computed
274.65999999999997 -> "274.66"), dates and times in ISO 8601 ("2024-01-31",
"2024-01-31T10:00:00", "10:30:00"; a datetime at midnight is a date), durations as
"30:00:00", booleans "TRUE"/"FALSE", an empty cell "". In .xlsx and .xlsm files an error
cell gives its text ("#N/A"), and a whole number whose cell's format is zeros only keeps
the leading zeros it shows (6000 formatted "00000" -> "06000", python-calamine giving no
number formats: ``excel_archive`` finds those cells); .xls and .ods ones read as "" and
as the number.

The first non-blank row holds the column titles, unless title rows come before it (see
``layout``); title rows, and footer rows at the end (TOTAL, a timestamp...), are skipped
with a warning. Rows carry their number in the sheet; blank rows are skipped.

Hostile files end in InputError, in bounded time and memory: see ``excel_archive``, which
checks a workbook before python-calamine opens it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
import sys
import zipfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from etl import InputError, ReaderSpec, Row, RowError, hookimpl

from .excel_template import write_template
from .layout import HEADER_SEARCH_ROWS, MAX_FOOTER_ROWS, footer_count, footer_warning, header_index, title_warning

if TYPE_CHECKING:
    from python_calamine import CalamineSheet, CalamineWorkbook

    from .excel_archive import PartScan

DEFAULT_MAX_MEMORY = 400 << 20
"""Address space a .xls or .ods workbook may take to load (tried first in a child process)."""
DEFAULT_MAX_UNCOMPRESSED_SIZE = 2 << 30
DEFAULT_MAX_CELLS = 25_000_000
"""Room for Excel's 1,048,576 rows of 21 columns; calamine holds every cell of the area in memory."""

SIZE_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
SIZE_OPTION = re.compile(r"\s*(\d+)\s*([kmg]?)(?:i?b)?\s*", re.IGNORECASE)

PASSWORD_MESSAGE = "the file is password-protected: save a copy without the password and import that one"
COMPOUND_FILE = bytes.fromhex("d0cf11e0a1b11ae1")
"""How an OLE compound file starts: an .xls workbook, or an encrypted .xlsx one..."""
ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
"""...which holds a stream of this name."""
EMPTY_FILE_MESSAGE = "the file is empty"

TAIL_ROWS = 100
"""Rows at the end of a sheet looked at for footer rows (blank ones included)."""

SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
ILLEGAL_XML_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


# Reading


class ExcelTable:
    """One sheet of an opened workbook: its column titles, and its rows read afresh by each ``rows()``."""

    def __init__(self, sheet: CalamineSheet, name: str, scan: PartScan, checksum: str) -> None:
        self._sheet: CalamineSheet | None = sheet
        self._scan = scan
        self.format_options = {"sheet": name}
        self.checksum = checksum
        """``sha256:<hex>`` of the file, read once when it was opened."""
        self.warnings: list[RowError] = []
        self.estimated_rows: int | None = None
        self._header_row, self.header = self._read_header(name)
        self._footer_row = self._find_footer(sheet)

    def rows(self) -> Iterator[Row]:
        """Every non-blank row below the header and above any footer, with its number in the
        sheet, fitted to the header."""
        if self._sheet is None:
            raise ValueError("the table is closed")
        width = len(self.header)
        for number, values in _text_rows(self._sheet, self._scan):
            if number >= self._footer_row:
                return
            if number > self._header_row:
                yield number, _fit(values, width)

    def close(self) -> None:
        """Drop the sheet's cells."""
        self._sheet = None

    def _read_header(self, name: str) -> tuple[int, list[str]]:
        """The header row (see ``header_index``) and its titles, stripped, without empty ones at its end."""
        assert self._sheet is not None
        first = list(islice(_text_rows(self._sheet, self._scan), HEADER_SEARCH_ROWS))
        if not first:
            raise InputError(f"the sheet {name!r} is empty")
        index = header_index([values for _, values in first])
        if index:
            self.warnings.append(title_warning([number for number, _ in first[:index]]))
        titles = [title.strip() for title in first[index][1]]
        while titles and not titles[-1]:
            titles.pop()
        return first[index][0], titles

    def _find_footer(self, sheet: CalamineSheet) -> int:
        """The number of the first footer row, if the sheet ends with some (warned about), else
        one past the last row."""
        last = deque(enumerate(sheet.iter_rows(), 1), maxlen=TAIL_ROWS)  # only these rows made text
        tail = [row for row in _rows_as_text(last, sheet, self._scan) if row[0] > self._header_row]
        candidates = tail[-MAX_FOOTER_ROWS - 1:]
        more_above = len(tail) > len(candidates) or last[0][0] > self._header_row + 1
        count = footer_count([values for _, values in candidates], len(self.header), more_above)
        if not count:
            return sys.maxsize
        self.warnings.extend(footer_warning(number, values) for number, values in candidates[-count:])
        return candidates[-count][0]


def _text_rows(sheet: CalamineSheet, scan: PartScan) -> Iterator[Row]:
    """Every row of ``sheet`` with a non-blank cell, as text, with its number in the sheet.

    python-calamine's ``iter_rows`` starts at the sheet's first row, and at its first
    column that has data (``start[1]``, from 0).
    """
    if sheet.start is None:
        return
    yield from _rows_as_text(enumerate(sheet.iter_rows(), 1), sheet, scan)


def _rows_as_text(rows: Iterable[tuple[int, list[Any]]], sheet: CalamineSheet, scan: PartScan) -> Iterator[Row]:
    """The non-blank ``rows`` of ``sheet`` (numbered cells from ``iter_rows``) as text, with the
    error texts and zero-padded numbers its scan found."""
    offset, formats, errors, padded = sheet.start[1], _FORMATTERS, scan.errors, scan.padded
    for number, cells in rows:
        values = [value if type(value) is str else formats.get(type(value), str)(value) for value in cells]
        if number in errors:
            _put_errors(values, errors[number], offset)
        if number in padded:
            _pad_numbers(values, padded[number], offset)
        joined = "".join(values)
        if joined and not joined.isspace():
            yield number, values


def open_excel(path: Path, options: Mapping[str, Any]) -> ExcelTable:
    """Open a sheet of a workbook with ``options`` loaded by ``options_schema``; raise InputError if the file
    cannot be read.

    OSError is left to the caller, which names the file.
    """
    from .excel_archive import check_archive, probe_in_a_child, scans_by_sheet, size_text  # not for other readers

    size, limit, cells = path.stat().st_size, options["max_uncompressed_size"], options["max_cells"]
    if size == 0:
        raise InputError(EMPTY_FILE_MESSAGE)
    if size > limit:  # refused unread (a zip: from its directory, naming what it holds)
        check_archive(path, path.suffix, limit, cells)
        raise InputError(f"the file is {size_text(size)}, more than the limit of {size_text(limit)} (raise it with"
                         " --reader-option max_uncompressed_size=SIZE if the file is genuine)")
    data = path.read_bytes()  # the file's one read: checks, checksum and workbook all come from it
    if data.startswith(COMPOUND_FILE) and ENCRYPTED_PACKAGE in data:
        raise InputError(PASSWORD_MESSAGE)  # what python-calamine says only of a file it opens by its path
    scans, parts = check_archive(io.BytesIO(data), path.suffix, limit, cells)
    _refuse_another_format(data, path.suffix)
    if not scans and sys.platform.startswith("linux"):  # .xls, .ods: only a trial apart bounds calamine
        probe_in_a_child(data, options["max_memory"])
    workbook = _load_workbook(data)
    checksum = f"sha256:{hashlib.sha256(data).hexdigest()}"
    del data
    try:
        return _open_sheet(workbook, options["sheet"], scans_by_sheet(scans, parts, len(workbook.sheet_names)),
                           checksum)
    finally:
        workbook.close()


def _refuse_another_format(data: bytes, suffix: str) -> None:
    """Refuse a workbook whose content is of another format than its extension says, as python-calamine
    does when it opens a file by its path (given the bytes, it would take any format it recognises)."""
    members: set[str] = set()
    if zipfile.is_zipfile(io.BytesIO(data)):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = {name.replace("\\", "/").lower() for name in archive.namelist()}
    workbook = "xl/workbook.xml" in members
    matches = {".xls": data.startswith(COMPOUND_FILE), ".ods": "mimetype" in members, ".xlsx": workbook,
               ".xlsm": workbook}
    if not matches.get(suffix.lower(), True):  # another extension: python-calamine guesses too
        raise InputError(f"not a valid Excel file: its content is not that of a {suffix.lower()} workbook")


def _load_workbook(data: bytes) -> CalamineWorkbook:
    from python_calamine import CalamineWorkbook

    with _calamine_errors():
        return CalamineWorkbook.from_filelike(io.BytesIO(data))


def _load_sheet(workbook: CalamineWorkbook, index: int) -> CalamineSheet:
    with _calamine_errors():
        return workbook.get_sheet_by_index(index)


def _open_sheet(workbook: CalamineWorkbook, wanted: str | None, scans: list[PartScan], checksum: str) -> ExcelTable:
    """The table of the sheet ``wanted``, or of the first sheet with data."""
    names = workbook.sheet_names
    if wanted is not None:
        index = _sheet_index(names, wanted)
        return _table(_load_sheet(workbook, index), names[index], scans[index], checksum)
    for index, name in enumerate(names):
        sheet = _load_sheet(workbook, index)
        if next(_text_rows(sheet, scans[index]), None) is not None:
            return _table(sheet, name, scans[index], checksum)
    if len(names) == 1:
        raise InputError(f"the sheet {names[0]!r} is empty")
    raise InputError(f"every sheet of the file is empty ({_quoted(names)})")


def _table(sheet: CalamineSheet, name: str, scan: PartScan, checksum: str) -> ExcelTable:
    """The table of ``sheet``, refused if it has a formula saved without its result."""
    if scan.uncached_formula is not None:
        raise InputError(_uncached_formula_message(scan.uncached_formula))
    return ExcelTable(sheet, name, scan, checksum)


def _sheet_index(names: list[str], wanted: str) -> int:
    """The index of the sheet named ``wanted`` (exactly, else ignoring case), else at position ``wanted``."""
    if wanted in names:
        return names.index(wanted)
    folded = [index for index, name in enumerate(names) if name.casefold() == wanted.strip().casefold()]
    if len(folded) == 1:
        return folded[0]
    if wanted.strip().isdigit() and 1 <= int(wanted) <= len(names):
        return int(wanted) - 1
    raise InputError(
        f"there is no sheet {wanted!r} in the file: give a sheet name or a position from 1 to {len(names)}"
        f" (sheets: {_quoted(names)})"
    )


def _fit(values: list[str], width: int) -> list[str]:
    """``values`` cut to ``width`` where the cells beyond are blank.

    Never shorter: python-calamine gives every row the width of the sheet's cells, the
    header's included, so short rows come padded with "".
    """
    end = len(values)
    while end > width and not values[end - 1].strip():
        end -= 1
    del values[end:]
    return values


def _put_errors(values: list[str], errors: dict[int, str], offset: int) -> None:
    """Write the error texts of a row over its cells (columns from 0, ``values`` starting at ``offset``)."""
    for column, error in errors.items():
        if 0 <= column - offset < len(values):
            values[column - offset] = error


def _pad_numbers(values: list[str], digits: dict[int, int], offset: int) -> None:
    """Give whole numbers of a row the leading zeros of their cell's format ("00000": 6000 -> "06000")."""
    for column, count in digits.items():
        index = column - offset
        if 0 <= index < len(values) and values[index].isdigit():
            values[index] = values[index].zfill(count)


def _uncached_formula_message(reference: str) -> str:
    row = int(reference.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"))
    return (
        f"row {row}: cell {reference.upper()} holds a formula saved without its result (the file was"
        " written by a program that does not calculate formulas): open the file in Excel or"
        " LibreOffice, save it, and import it again"
    )


def _quoted(names: Sequence[str]) -> str:
    return ", ".join(repr(name) for name in names)


@contextmanager
def _rust_panics_silenced() -> Iterator[None]:
    """Rust's panic hook prints to file descriptor 2: send that to /dev/null meanwhile, so a
    corrupt file gives our one-line error and nothing else."""
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


@contextmanager
def _calamine_errors() -> Iterator[None]:
    """Turn what python-calamine raises into InputError, its panics included."""
    from python_calamine import PasswordError

    from .excel_archive import first_line

    try:
        with _rust_panics_silenced():
            yield
    except PasswordError:
        raise InputError(PASSWORD_MESSAGE) from None
    except Exception as exc:  # CalamineError, XmlError, ZipError... or anything else
        raise InputError(f"not a valid Excel file: {first_line(exc)}") from None
    except BaseException as exc:
        if type(exc).__name__ != "PanicException":  # pyo3's, not an Exception
            raise
        raise InputError(f"not a valid Excel file: {first_line(exc)}") from None


# Cell values


def _float_text(value: float) -> str:
    """At most 15 significant digits, as Excel keeps; integers below 10**16 without ".0" nor exponent."""
    if value.is_integer() and -1e15 < value < 1e15:
        return str(int(value))
    text = f"{value:.15g}"
    if "e" not in text:
        return text
    rounded = float(text)
    return str(int(rounded)) if rounded.is_integer() and -1e16 < rounded < 1e16 else repr(rounded)


def _datetime_text(value: dt.datetime) -> str:
    return value.date().isoformat() if value.time() == dt.time() else value.isoformat()


def _duration_text(value: dt.timedelta) -> str:
    """Hours (beyond 24 if need be), minutes and seconds, as Excel shows [h]:mm:ss."""
    sign = "-" if value < dt.timedelta() else ""
    value = abs(value)
    hours, seconds = divmod(value.days * 86400 + value.seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    fraction = f".{value.microseconds:06d}".rstrip("0") if value.microseconds else ""
    return f"{sign}{hours}:{minutes:02d}:{seconds:02d}{fraction}"


_FORMATTERS: dict[type, Callable[[Any], str]] = {
    float: _float_text,
    int: str,
    bool: lambda value: "TRUE" if value else "FALSE",
    dt.date: dt.date.isoformat,
    dt.datetime: _datetime_text,
    dt.time: dt.time.isoformat,
    dt.timedelta: _duration_text,
}


# Options


def options_schema() -> type:
    """The reader options' schema; the sheet None means "the first with data" (made when the registry is built:
    `etl --help` needs no marshmallow)."""
    from marshmallow import Schema, fields, validate

    class ExcelOptions(Schema):
        sheet = fields.Function(deserialize=lambda name: str(name) or None, load_default=None)
        max_uncompressed_size = fields.Function(deserialize=parse_size, load_default=DEFAULT_MAX_UNCOMPRESSED_SIZE)
        max_cells = fields.Integer(load_default=DEFAULT_MAX_CELLS, validate=validate.Range(min=1))
        max_memory = fields.Function(deserialize=parse_size, load_default=DEFAULT_MAX_MEMORY)

    return ExcelOptions


def parse_size(value: Any) -> int:
    """A size option: bytes, or with a K, M or G suffix."""
    from marshmallow import ValidationError

    match = SIZE_OPTION.fullmatch(str(value))
    if not match or int(match[1]) == 0:
        raise ValidationError("Must be a size in bytes such as 500000000, 500M or 2G.")
    return int(match[1]) * SIZE_UNITS[match[2].lower()]


# Writing


def write_xlsx(
    path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]], format_options: Mapping[str, str]
) -> None:
    """Write ``header`` in bold then ``rows``, every cell as text (never a formula), on one sheet
    named like ``format_options["sheet"]``."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_sheet_title(format_options.get("sheet")))
    bold = Font(bold=True)
    sheet.append([_text_cell(sheet, title, bold) for title in header])
    for row in rows:
        sheet.append([_text_cell(sheet, value) for value in row])
    workbook.save(path)


def _text_cell(sheet: Any, value: Any, font: Any = None) -> Any:
    """A write-only cell holding ``value`` as text, or None (no cell) for an empty value."""
    from openpyxl.cell import WriteOnlyCell

    text = "" if value is None else ILLEGAL_XML_CHARACTERS.sub("\ufffd", str(value))
    if not text and font is None:
        return None
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"  # after the value: openpyxl makes a formula of text starting with "="
    if font is not None:
        cell.font = font
    return cell


def _sheet_title(name: str | None) -> str:
    """``name`` made a valid sheet title (31 characters, none of []:*?/\\), or "Sheet1"."""
    title = SHEET_TITLE_FORBIDDEN.sub("_", name or "").strip("'")[:31]
    return title or "Sheet1"


@hookimpl
def register_readers() -> list[ReaderSpec]:
    """The ``excel`` format."""
    return [
        ReaderSpec(
            name="excel",
            extensions=(".xlsx", ".xlsm", ".xls", ".ods"),
            open=open_excel,
            write=write_xlsx,
            description="Excel and OpenDocument workbooks (.xlsx, .xlsm, .xls, .ods): one sheet, values only",
            write_template=write_template,
            write_extensions=(".xlsx",),
            options_schema=options_schema(),
        )
    ]
