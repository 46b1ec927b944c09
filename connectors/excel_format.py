"""The ``excel`` format: workbooks read with python-calamine and written with openpyxl.

Reads .xlsx, .xlsm, .xls and .ods (.xlsb is refused, see below). Only data is read: a
formula gives the result saved with it, never its text.

Reader options (``--reader-option KEY=VALUE``):

``sheet``
    the sheet to read: its name or, if no sheet has that name and it is a number, its
    position counting from 1. Default: the first sheet that has data.
``max_uncompressed_size``
    the most a zip-based workbook (.xlsx, .xlsm, .ods) may unpack to, in bytes or with a
    K, M or G suffix (default 2G: a full 1,048,576-row sheet of about 40 columns).
``max_cells``
    the largest area, rows x columns, that a worksheet's cells may span (default 50,000,000).

Values are given as text, as the user typed them: 1001.0 -> "1001", 33123456789 ->
"33123456789", 3.5 -> "3.5" (numbers with Excel's 15 significant digits, so a computed
274.65999999999997 -> "274.66"), dates and times in ISO 8601 ("2024-01-31",
"2024-01-31T10:00:00", "10:30:00"; a datetime at midnight is a date), durations as
"30:00:00", booleans "TRUE"/"FALSE", an empty cell "". In .xlsx and .xlsm files an error
cell gives its text ("#N/A"); .xls and .ods ones read as "".

The first non-blank row holds the column titles; a sheet starting with a title line (one
filled cell above a fuller row) is refused. Rows carry their number in the sheet; blank rows
are skipped.

Hostile files end in InputError, in bounded time and memory:

* a zip-based workbook is refused if it unpacks to more than ``max_uncompressed_size``, or
  if a member of over 16 MB is compressed more than 200:1 (a zip bomb);
* each .xlsx worksheet is scanned before python-calamine loads it, since calamine allocates
  the whole rectangle its cells span (a cell at A1 and one at XFD1048576 would abort the
  process): a sheet spanning more than ``max_cells`` is refused. The scan also finds the
  text of error cells, and formulas saved without their result, which calamine reads as
  empty: the file is then refused with the advice to save it from Excel or LibreOffice;
* the XML of an .ods file must be well-formed (calamine loops forever on some that are not);
* .xlsb is refused, as it cannot be scanned. An .xls file is not (valid ones hold at most
  65,536 x 256 cells).
"""
from __future__ import annotations

import datetime as dt
import html
import os
import pyexpat
import re
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from etl import hookimpl
from etl.components import ReaderSpec, Row
from etl.errors import InputError, UsageError

from .excel_template import write_template

if TYPE_CHECKING:
    from python_calamine import CalamineSheet, CalamineWorkbook

OPTION_NAMES = ("sheet", "max_uncompressed_size", "max_cells", "max_memory")
DEFAULT_MAX_MEMORY = 400 << 20
"""Address space a .xls or .ods workbook may take to load (tried first in a child process)."""
DEFAULT_MAX_UNCOMPRESSED_SIZE = 2 << 30
DEFAULT_MAX_CELLS = 25_000_000
"""Room for Excel's 1,048,576 rows of 21 columns; calamine holds every cell of the area in memory."""

MAX_COMPRESSION_RATIO = 200
"""A member unpacking to more than this times its packed size is a zip bomb..."""
RATIO_CHECK_MIN_SIZE = 16 << 20
"""...when it unpacks to more than this (small members compress well, e.g. empty styles)."""

CHUNK_SIZE = 1 << 20
"""Bytes of a worksheet's XML read at a time."""
MAX_CARRY = 1 << 20
"""The longest element kept whole when the XML is scanned piece by piece (Excel's longest
cell text is 32,767 characters)..."""
OVERLAP = 64
"""...and, past it, the bytes shared by consecutive pieces, so that "sheetData" is seen."""
SMALL_PART_LIMIT = 16 << 20
"""The most read of a workbook's small parts (workbook.xml, relationships)."""
ODS_PARTS = {"content.xml", "META-INF/manifest.xml"}
"""The parts calamine reads of an .ods file: checked well-formed first, since calamine loops
forever on some malformed ones (an end tag missing)."""

SIZE_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
SIZE_OPTION = re.compile(r"\s*(\d+)\s*([kmg]?)(?:i?b)?\s*", re.IGNORECASE)

PASSWORD_MESSAGE = "the file is password-protected: save a copy without the password and import that one"
XLSB_MESSAGE = "the .xlsb format is not supported: save the workbook as .xlsx"
EMPTY_FILE_MESSAGE = "the file is empty"

UTF16_STARTS = (b"\xff\xfe", b"\xfe\xff", b"<\x00", b"\x00<")
"""How XML in UTF-16 starts (with or without a byte order mark): left to expat, which decodes it."""

# What the fast scan of a worksheet looks for, in the UTF-8 (or other ASCII-based) bytes of
# its XML. A tag that the fast scan cannot vouch for sends the part to the exact one.
IRREGULAR_TAGS = (
    re.compile(rb"<c(?:[\t\n\r>/]| (?!r=))"),
    re.compile(rb"<row(?:[\t\n\r>/]| (?!r=))"),
    re.compile(rb":(?:c|row)[\s>/]"),
)
"""A cell or row tag without ``r=`` right after its name, or maybe with a namespace prefix:
its position may follow the previous cell's instead of being given (three expressions:
with a literal start each, they are much faster than one)."""
CHILDLESS_CELL = re.compile(rb"""<c\s(?:[^>"']|"[^"]*"|'[^']*')*?(?:/>|></c>)""")
"""A cell element without content: calamine reads it as empty and leaves it out."""
REFERENCE = re.compile(rb"r\s*=\s*[\"']([A-Za-z]+)(\d+)")
"""Anything like a cell's ``r`` attribute, wherever it is (duplicate attributes included:
calamine takes the last one). Row references have no letters: calamine places no cell by
them when every cell has its own."""
LARGEST_REFERENCE = 10**9
"""Beyond any valid row or column: what longer digit or letter runs count as."""
UNCACHED_FORMULA = re.compile(
    rb'<c r="([A-Za-z]{1,3}\d{1,7})"([^>]*)>(?:<f[^>]*/>|<f[^>]*>[^<]*</f>)(<v\s*/>|<v></v>)?</c>'
)
"""A formula cell whose saved result is missing, or empty (a result only a string formula may have)."""
ERROR_CELL = re.compile(
    rb'<c r="([A-Za-z]{1,3})(\d{1,7})"[^>]*?\st="e"[^>]*>(?:<f[^>]*/>|<f[^>]*>[^<]*</f>)?<v>([^<]*)</v>'
)
"""A cell holding an error (#N/A...), which python-calamine reads as empty."""

SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
ILLEGAL_XML_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


# Reading


@dataclass(frozen=True)
class ExcelOptions:
    """The reader options, checked."""

    sheet: str | None
    max_uncompressed_size: int
    max_cells: int
    max_memory: int


@dataclass
class PartScan:
    """What a worksheet part of an .xlsx file holds, found before calamine loads it."""

    max_row: int = 0
    max_column: int = 0
    has_sheet_data: bool = False
    irregular: bool = False
    uncached_formula: str | None = None
    """The reference of the first formula cell saved without its result."""
    errors: dict[int, dict[int, str]] = field(default_factory=dict)
    """Error texts by sheet row (from 1), then column (from 0)."""


class ExcelTable:
    """One sheet of an opened workbook: its column titles, and its rows read afresh by each ``rows()``."""

    def __init__(self, sheet: CalamineSheet, name: str, errors: dict[int, dict[int, str]]) -> None:
        self._sheet: CalamineSheet | None = sheet
        self._errors = errors
        self.format_options = {"sheet": name}
        self._header_row, self.header = self._read_header(name)

    def rows(self) -> Iterator[Row]:
        """Every non-blank row below the header, with its number in the sheet, fitted to the header."""
        if self._sheet is None:
            raise ValueError("the table is closed")
        width = len(self.header)
        for number, values in _text_rows(self._sheet, self._errors):
            if number > self._header_row:
                yield number, _fit(values, width)

    def close(self) -> None:
        """Drop the sheet's cells."""
        self._sheet = None

    def _read_header(self, name: str) -> tuple[int, list[str]]:
        """The first non-blank row and its titles, stripped, without empty ones at its end."""
        assert self._sheet is not None
        rows = _text_rows(self._sheet, self._errors)
        first, second = next(rows, None), next(rows, None)
        if first is None:
            raise InputError(f"the sheet {name!r} is empty")
        _refuse_title(first, second)
        titles = [title.strip() for title in first[1]]
        while titles and not titles[-1]:
            titles.pop()
        return first[0], titles


def _text_rows(sheet: CalamineSheet, errors: dict[int, dict[int, str]]) -> Iterator[Row]:
    """Every row of ``sheet`` with a non-blank cell, as text, with its number in the sheet.

    python-calamine's ``iter_rows`` starts at the sheet's first row, and at its first
    column that has data (``start[1]``, from 0).
    """
    if sheet.start is None:
        return
    offset, formats = sheet.start[1], _FORMATTERS
    for number, cells in enumerate(sheet.iter_rows(), 1):
        values = [value if type(value) is str else formats.get(type(value), str)(value) for value in cells]
        if number in errors:
            _put_errors(values, errors[number], offset)
        joined = "".join(values)
        if joined and not joined.isspace():
            yield number, values


def open_excel(path: Path, options: Mapping[str, str]) -> ExcelTable:
    """Open a sheet of a workbook; raise InputError if the file cannot be read.

    OSError is left to the caller, which names the file.
    """
    settings = parse_options(options)
    if path.stat().st_size == 0:
        raise InputError(EMPTY_FILE_MESSAGE)
    scans, parts = check_archive(path, settings)
    if not scans:  # .xls, .ods: nothing bounds what calamine allocates but trying it apart
        _probe_in_a_child(path, settings.max_memory)
    workbook = _load_workbook(path)
    try:
        return _open_sheet(workbook, settings.sheet, _scans_by_sheet(scans, parts, len(workbook.sheet_names)))
    finally:
        workbook.close()


def _probe_in_a_child(path: Path, max_memory: int) -> None:
    """Load every sheet in a forked child limited to ``max_memory`` more bytes of address space;
    raise InputError if it dies (a Rust abort) or runs out of memory, before this process tries."""
    import resource

    limit = _address_space() + max_memory
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 0
        try:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
            from python_calamine import CalamineWorkbook

            workbook = CalamineWorkbook.from_path(path)
            for index in range(len(workbook.sheet_names)):
                workbook.get_sheet_by_index(index)
        except MemoryError:
            code = 3
        except BaseException:  # noqa: BLE001 - other errors are reported by the real load
            code = 0
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status) or os.WEXITSTATUS(status) == 3:
        raise InputError(
            f"reading the workbook needs more than {_size_text(max_memory)} of memory, or crashes the reader: it is"
            " corrupt or made to exhaust memory (raise --reader-option max_memory=N if the file is genuine)"
        )


def _address_space() -> int:
    """This process's virtual memory size, in bytes."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _load_workbook(path: Path) -> CalamineWorkbook:
    from python_calamine import CalamineWorkbook

    with _calamine_errors():
        return CalamineWorkbook.from_path(path)


def _load_sheet(workbook: CalamineWorkbook, index: int) -> CalamineSheet:
    with _calamine_errors():
        return workbook.get_sheet_by_index(index)


def _open_sheet(workbook: CalamineWorkbook, wanted: str | None, scans: list[PartScan]) -> ExcelTable:
    """The table of the sheet ``wanted``, or of the first sheet with data."""
    names = workbook.sheet_names
    if wanted is not None:
        index = _sheet_index(names, wanted)
        return _table(_load_sheet(workbook, index), names[index], scans[index])
    for index, name in enumerate(names):
        sheet = _load_sheet(workbook, index)
        if next(_text_rows(sheet, scans[index].errors), None) is not None:
            return _table(sheet, name, scans[index])
    if len(names) == 1:
        raise InputError(f"the sheet {names[0]!r} is empty")
    raise InputError(f"every sheet of the file is empty ({_quoted(names)})")


def _table(sheet: CalamineSheet, name: str, scan: PartScan) -> ExcelTable:
    """The table of ``sheet``, refused if it has a formula saved without its result."""
    if scan.uncached_formula is not None:
        raise InputError(_uncached_formula_message(scan.uncached_formula))
    return ExcelTable(sheet, name, scan.errors)


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


def _refuse_title(first: Row, second: Row | None) -> None:
    """Raise InputError if the first row is one filled cell above a row with two or more."""
    filled = [value.strip() for value in first[1] if value.strip()]
    if len(filled) == 1 and second is not None and sum(1 for value in second[1] if value.strip()) >= 2:
        raise InputError(
            f"row {first[0]} looks like a title ({filled[0]!r}), not column titles:"
            " remove the rows above the column titles"
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

    try:
        with _rust_panics_silenced():
            yield
    except PasswordError:
        raise InputError(PASSWORD_MESSAGE) from None
    except Exception as exc:  # CalamineError, XmlError, ZipError... or anything else
        raise InputError(f"not a valid Excel file: {_first_line(exc)}") from None
    except BaseException as exc:
        if type(exc).__name__ != "PanicException":  # pyo3's, not an Exception
            raise
        raise InputError(f"not a valid Excel file: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:200] if lines else type(exc).__name__


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


# Archive checks


def check_archive(path: Path, settings: ExcelOptions) -> tuple[dict[str, PartScan], list[str | None]]:
    """Check a zip-based workbook before calamine opens it: raise InputError for a zip bomb,
    an .xlsb workbook or a worksheet too large; return the worksheet scans by part name and
    the part of each sheet (in workbook order, None where unknown). Other files: no scans.
    """
    if path.suffix.lower() == ".xlsb":
        raise InputError(XLSB_MESSAGE)
    if not zipfile.is_zipfile(path):
        return {}, []
    try:
        with zipfile.ZipFile(path) as archive:
            _check_sizes(archive.infolist(), settings.max_uncompressed_size)
            names = {_normalized(name): name for name in archive.namelist()}
            if "xl/workbook.bin" in names:
                raise InputError(XLSB_MESSAGE)
            for part in ODS_PARTS & set(archive.namelist()):
                _check_well_formed(archive, part)
            if path.suffix.lower() == ".ods":
                return {}, []
            return _scan_parts(archive, settings.max_cells), _sheet_parts(archive, names)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError,
            OverflowError, IndexError, struct.error) as exc:  # ValueError: names not UTF-8; IndexError: empty names
        raise InputError(f"not a valid Excel file: {_first_line(exc)}") from None


def _check_well_formed(archive: zipfile.ZipFile, name: str) -> None:
    """Raise InputError unless member ``name`` is well-formed XML without a DTD."""
    with archive.open(name) as stream:
        _parse_xml(stream, pyexpat.ParserCreate(), name)


def _parse_xml(stream: IO[bytes], parser: pyexpat.XMLParserType, name: str) -> None:
    """Feed ``stream`` to ``parser``, refusing a DTD (no entity is ever expanded)."""
    parser.StartDoctypeDeclHandler = _refuse_doctype
    try:
        while chunk := stream.read(CHUNK_SIZE):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except pyexpat.ExpatError as exc:
        raise InputError(f"not a valid Excel file: malformed XML in {name!r} ({exc})") from None


def _refuse_doctype(*_: object) -> None:
    raise InputError("not a valid Excel file: the XML declares a DTD")


def _check_sizes(members: list[zipfile.ZipInfo], limit: int) -> None:
    """Refuse an archive unpacking to more than ``limit`` bytes, or with a member compressed like a bomb.

    The declared sizes can be trusted: Python's zipfile and calamine's zip reader both stop
    with an error when a member unpacks to more than its declared size.
    """
    total = sum(member.file_size for member in members)
    if total > limit:
        raise InputError(
            f"the file unpacks to {_size_text(total)}, more than the limit of {_size_text(limit)}"
            " (raise it with --reader-option max_uncompressed_size=SIZE if the file is genuine)"
        )
    for member in members:
        if member.file_size > max(RATIO_CHECK_MIN_SIZE, MAX_COMPRESSION_RATIO * member.compress_size):
            raise InputError(
                f"the file looks like a zip bomb: {member.filename!r} unpacks to {_size_text(member.file_size)}"
                f" from {_size_text(member.compress_size)}"
            )


def _size_text(size: int) -> str:
    """``size`` in bytes, KB, MB or GB (of 1024)."""
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:,.1f} {unit}"
    return f"{size} bytes"


def _normalized(name: str) -> str:
    """A member name as calamine looks it up: '/' separated, lower case."""
    return name.replace("\\", "/").lower()


def _scan_parts(archive: zipfile.ZipFile, max_cells: int) -> dict[str, PartScan]:
    """Scan every member that is a worksheet; raise InputError if one spans more than ``max_cells``.

    Every member is scanned, not only the sheets the workbook lists: calamine's way of
    finding them need not be followed exactly to be safe.
    """
    scans = {}
    for member in archive.infolist():
        scan = None if member.is_dir() else _scan_part(archive, member, max_cells)
        if scan is not None:
            scans[member.filename] = scan
    return scans


def _scan_part(archive: zipfile.ZipFile, member: zipfile.ZipInfo, max_cells: int) -> PartScan | None:
    """The scan of ``member`` if it is a worksheet (it has sheetData), else None.

    The fast scan counts empty cells too (calamine leaves them out); only when that makes
    the sheet too large is it done again without them, which takes longer.
    """
    with archive.open(member) as stream:
        scan = _fast_scan(stream, keep_empty=True)
        if scan.has_sheet_data and not scan.irregular and _area(scan) > max_cells:
            stream.seek(0)
            scan = _fast_scan(stream, keep_empty=False)
        if scan.irregular and scan.has_sheet_data:
            stream.seek(0)
            scan = ExactScanner().scan(stream, member.filename)
    if not scan.has_sheet_data:
        return None
    if _area(scan) > max_cells:
        raise InputError(
            f"a sheet's cells span {scan.max_row:,} rows by {scan.max_column:,} columns, more than the"
            f" {max_cells:,} cells accepted (raise the limit with --reader-option max_cells=N if the"
            " file is genuine)"
        )
    return scan


def _area(scan: PartScan) -> int:
    return scan.max_row * scan.max_column


def _fast_scan(stream: IO[bytes], keep_empty: bool) -> PartScan:
    """Scan XML with regular expressions; sets ``irregular`` if it needs the exact scan
    (UTF-16 included: the expressions see ASCII bytes)."""
    scan = PartScan()
    if stream.read(2) in UTF16_STARTS:
        scan.irregular = scan.has_sheet_data = True
        return scan
    stream.seek(0)
    for piece, whole in _pieces(stream):
        scan.irregular = scan.irregular or not whole or any(tag.search(piece) for tag in IRREGULAR_TAGS)
        scan.has_sheet_data = scan.has_sheet_data or b"sheetData" in piece
        _scan_references(piece if keep_empty else CHILDLESS_CELL.sub(b"", piece), scan)
        if scan.uncached_formula is None and b"<f" in piece:
            scan.uncached_formula = _first_uncached_formula(piece)
        if b't="e"' in piece:
            for letters, row, error in ERROR_CELL.findall(piece):
                scan.errors.setdefault(int(row), {})[_column_number(letters) - 1] = error.decode("utf-8", "replace")
    return scan


def _pieces(stream: IO[bytes]) -> Iterator[tuple[bytes, bool]]:
    """The stream in pieces cut before a cell's start tag (else any tag), so that no cell is
    split, with False where an element longer than MAX_CARRY had to be (the pieces then
    overlap a little, and the part gets the exact scan)."""
    carry = b""
    while chunk := stream.read(CHUNK_SIZE):
        data = carry + chunk
        cut = data.rfind(b"<c ")
        if cut <= 0:
            cut = max(data.rfind(b"<"), 0)
        if len(data) - cut > MAX_CARRY:
            yield data, False
            carry = data[-OVERLAP:]
        else:
            yield data[:cut], True
            carry = data[cut:]
    yield carry, True


def _scan_references(piece: bytes, scan: PartScan) -> None:
    """Raise the scan's largest row and column to those of the references in ``piece``."""
    references = REFERENCE.findall(piece)
    if not references:
        return
    columns = set(map(itemgetter(0), references))
    rows = set(map(itemgetter(1), references))
    scan.max_column = max(scan.max_column, max(map(_column_number, columns)))
    scan.max_row = max(scan.max_row, max(int(row) if len(row) < 10 else LARGEST_REFERENCE for row in rows))


def _first_uncached_formula(piece: bytes) -> str | None:
    for match in UNCACHED_FORMULA.finditer(piece):
        if not (match[3] and b't="str"' in match[2]):
            return match[1].decode()
    return None


def _column_number(letters: bytes | str) -> int:
    """The column of letters, from 1 ("A"), as calamine reads it (any case); 0 for none."""
    if len(letters) > 6:
        return LARGEST_REFERENCE
    number = 0
    for letter in letters.upper() if isinstance(letters, str) else letters.decode("ascii").upper():
        number = number * 26 + ord(letter) - 64
    return number


class ExactScanner:
    """Follows a worksheet's cells with expat, placing them as calamine does.

    For parts the fast scan cannot vouch for (no ``r`` attributes, namespace prefixes...).
    A cell without a reference goes right of the previous one; a row without one, below
    the previous row. Over-estimates are fine: only the largest row and column matter.
    """

    def __init__(self) -> None:
        self._scan = PartScan()
        self._row = 0  # from 0, as calamine counts
        self._column = 0
        self._cell: _Cell | None = None

    def scan(self, stream: IO[bytes], name: str) -> PartScan:
        """Scan the XML of member ``name``; raise InputError if it is malformed or has a DTD."""
        parser = pyexpat.ParserCreate()
        parser.buffer_text = True
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._text
        _parse_xml(stream, parser, name)
        return self._scan

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        local = name.rpartition(":")[2]
        if local == "sheetData":
            self._scan.has_sheet_data = True
        elif local == "row":
            rows = [row for row, _ in _references(attributes)]
            if rows:
                self._row = max(rows) - 1
        elif local == "c":
            self._start_cell(attributes)
        elif self._cell is not None:
            self._cell.open(local)

    def _start_cell(self, attributes: dict[str, str]) -> None:
        references = [(row, column) for row, column in _references(attributes) if column]
        if references:
            row, column = max(row for row, _ in references) - 1, max(column for _, column in references) - 1
        else:
            row, column = self._row, self._column
        self._column = column
        self._cell = _Cell(row + 1, column, attributes.get("t"))

    def _end(self, name: str) -> None:
        local = name.rpartition(":")[2]
        if local == "row":
            self._row += 1
            self._column = 0
        elif local == "c" and self._cell is not None:
            self._end_cell(self._cell)
            self._cell = None
            self._column += 1
        elif local == "v" and self._cell is not None:
            self._cell.in_value = False

    def _end_cell(self, cell: _Cell) -> None:
        if cell.has_child:  # else calamine reads it as empty and leaves it out
            self._scan.max_row = max(self._scan.max_row, cell.row)
            self._scan.max_column = max(self._scan.max_column, cell.column + 1)
        if cell.has_formula and self._scan.uncached_formula is None and cell.lacks_result:
            self._scan.uncached_formula = f"{_column_letters(cell.column + 1)}{cell.row}"
        if cell.type == "e" and cell.value:
            self._scan.errors.setdefault(cell.row, {})[cell.column] = cell.value

    def _text(self, data: str) -> None:
        if self._cell is not None and self._cell.in_value:
            self._cell.value = (self._cell.value or "") + data


@dataclass
class _Cell:
    """The cell ExactScanner is in."""

    row: int
    column: int
    type: str | None
    has_child: bool = False
    has_formula: bool = False
    value: str | None = None
    in_value: bool = False

    def open(self, child: str) -> None:
        """Note a child element (any depth) starting."""
        self.has_child = True
        if child == "f":
            self.has_formula = True
        elif child == "v":
            self.in_value = True
            self.value = self.value or ""

    @property
    def lacks_result(self) -> bool:
        return self.value is None or (not self.value and self.type != "str")


def _references(attributes: dict[str, str]) -> list[tuple[int, int]]:
    """(row, column) from 1 of every ``r`` attribute (any prefix) that calamine could read; column 0 if none."""
    found = []
    for key, value in attributes.items():
        match = re.fullmatch(r"([A-Za-z]*)(\d+)", value) if key.rpartition(":")[2] == "r" else None
        if match and int(match[2]) > 0:
            found.append((int(match[2]), _column_number(match[1])))
    return found


def _column_letters(number: int) -> str:
    letters = ""
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


# Sheets and their parts


def _sheet_parts(archive: zipfile.ZipFile, names: dict[str, str]) -> list[str | None]:
    """The member holding each sheet listed by the workbook, in order (None where not found).

    Used to find a sheet's scan (error cells, formulas), not for safety.
    """
    root = _elements(_read_small(archive, names, "_rels/.rels"), b"Relationship")
    office = next((rel.get("Target", "") for rel in root if rel.get("Type", "").endswith("/officeDocument")), "")
    workbook = office.replace("\\", "/").lstrip("/") or "xl/workbook.xml"
    folder, _, file_name = workbook.rpartition("/")
    relationships = _elements(_read_small(archive, names, f"{folder}/_rels/{file_name}.rels"), b"Relationship")
    targets = {rel.get("Id"): rel.get("Target", "").replace("\\", "/") for rel in relationships}
    parts = []
    for sheet in _elements(_read_small(archive, names, workbook), b"sheet"):
        relation = next((value for key, value in sheet.items() if key.rpartition(":")[2] == "id"), None)
        target = targets.get(relation, "")
        path = target[1:] if target.startswith("/") else f"{folder}/{target}".lstrip("/")
        parts.append(names.get(_normalized(path)))
    return parts


def _scans_by_sheet(scans: dict[str, PartScan], parts: list[str | None], count: int) -> list[PartScan]:
    """The scan of each of the ``count`` sheets calamine lists (an empty one where unknown)."""
    if len(parts) != count:
        parts = [None] * count
    return [scans.get(part or "", PartScan()) for part in parts]


def _read_small(archive: zipfile.ZipFile, names: dict[str, str], path: str) -> bytes:
    name = names.get(_normalized(path))
    if name is None:
        return b""
    with archive.open(name) as stream:
        return stream.read(SMALL_PART_LIMIT)


def _elements(xml: bytes, tag: bytes) -> list[dict[str, str]]:
    """The attributes of each ``tag`` element (any prefix) of ``xml``."""
    pattern = re.compile(rb"<(?:[^\s<>/:]+:)?" + tag + rb"\s([^>]*)>")
    return [
        {
            key.decode("utf-8", "replace"): html.unescape((double or single).decode("utf-8", "replace"))
            for key, double, single in re.findall(rb"([^\s=/]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')", attributes)
        }
        for attributes in pattern.findall(xml)
    ]


# Options


def parse_options(options: Mapping[str, str]) -> ExcelOptions:
    """Check the reader options; raise UsageError."""
    unknown = sorted(set(options) - set(OPTION_NAMES))
    if unknown:
        raise UsageError(f"unknown Excel reader option {unknown[0]!r} (known: {', '.join(OPTION_NAMES)})")
    sheet = options.get("sheet")
    return ExcelOptions(
        sheet=sheet if sheet else None,
        max_uncompressed_size=_parse_size(options.get("max_uncompressed_size"), DEFAULT_MAX_UNCOMPRESSED_SIZE),
        max_cells=_parse_count(options.get("max_cells"), DEFAULT_MAX_CELLS),
        max_memory=_parse_size(options.get("max_memory"), DEFAULT_MAX_MEMORY),
    )


def _parse_size(value: str | None, default: int) -> int:
    if value is None:
        return default
    match = SIZE_OPTION.fullmatch(value)
    if not match or int(match[1]) == 0:
        raise UsageError(f"max_uncompressed_size must be a size in bytes such as 500000000, 500M or 2G, not {value!r}")
    return int(match[1]) * SIZE_UNITS[match[2].lower()]


def _parse_count(value: str | None, default: int) -> int:
    if value is None:
        return default
    if not value.strip().isdigit() or int(value) == 0:
        raise UsageError(f"max_cells must be a whole number above 0, not {value!r}")
    return int(value)


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
        )
    ]
