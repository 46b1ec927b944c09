"""Safety checks of a workbook before python-calamine opens it, so that a hostile file ends in
one clear InputError in bounded time and memory.

* a zip-based workbook is refused if it unpacks to more than its limit, or if a member of
  over 16 MB is compressed more than 200:1 (a zip bomb);
* each .xlsx worksheet is scanned before calamine loads it, since calamine allocates the
  whole rectangle its cells span (a cell at A1 and one at XFD1048576 would abort the
  process): a sheet spanning more than ``max_cells`` is refused. The scan also finds the
  text of error cells, and formulas saved without their result, which calamine reads as
  empty;
* the shared strings part may not declare (``uniqueCount``) far more texts than it holds,
  since calamine reserves memory for them all at once (2e9 of them abort the process);
* the XML of an .ods file must be well-formed (calamine loops forever on some that are not);
* .xlsb is refused, as it cannot be scanned; .xls and .ods workbooks, whose size nothing
  bounds here, are first loaded in a forked child with limited memory.
"""
from __future__ import annotations

import html
import os
import pyexpat
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import IO

from etl import InputError

XLSB_MESSAGE = "the .xlsb format is not supported: save the workbook as .xlsx"

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
ZEROS_FORMAT = re.compile(r"0{2,}")
"""A number format of zeros only: the number shown with at least that many digits (postal codes, SIREN)."""
CELL_XFS = re.compile(rb"<(?:[^\s<>/:]+:)?cellXfs[\s>].*?</(?:[^\s<>/:]+:)?cellXfs>", re.DOTALL)
CELL_START = re.compile(rb"<(?:[^\s<>/:]+:)?c\s([^>]*)>")
CELL_STYLE = re.compile(rb"(?:^|\s)s\s*=\s*[\"'](\d+)")
CELL_TYPE_NOT_NUMBER = re.compile(rb"(?:^|\s)t\s*=\s*[\"'](?!n[\"'])")

SHARED_STRINGS_START = re.compile(rb"<(?:[^\s<>/:]+:)?sst\s([^>]*)>")
UNIQUE_COUNT = re.compile(rb"(?:^|\s)uniqueCount\s*=\s*[\"'](\d+)")
SHARED_STRING = re.compile(rb"<(?:[^\s<>/:]+:)?si[\s>/]")
STRINGS_SLACK = 1_000_000
"""How many more texts than it holds a shared strings part may declare (a few writers count
every use of a text), at most twice as many plus this: calamine reserves 24 bytes a text."""

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
    padded: dict[int, dict[int, int]] = field(default_factory=dict)
    """The digits a number cell shows (format "00000": 5) by sheet row (from 1), then column
    (from 0), for cells whose number format is zeros only."""
    declared_strings: int | None = None
    """The ``uniqueCount`` of a shared strings part (``<sst>``), if the part is one."""
    strings: int = 0
    """The texts (``<si>``) of a shared strings part."""



def probe_in_a_child(data: bytes, max_memory: int) -> None:
    """Load every sheet in a forked child limited to ``max_memory`` more bytes of address space;
    raise InputError if it dies (a Rust abort) or runs out of memory, before this process tries.

    Linux only: it reads /proc and relies on RLIMIT_AS, which macOS does not enforce.
    """
    import resource

    limit = _address_space() + max_memory
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 0
        try:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
            import io

            from python_calamine import CalamineWorkbook

            workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
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
            f"reading the workbook needs more than {size_text(max_memory)} of memory, or crashes the reader: it is"
            " corrupt or made to exhaust memory (raise --reader-option max_memory=N if the file is genuine)"
        )


def _address_space() -> int:
    """This process's virtual memory size, in bytes."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:200] if lines else type(exc).__name__





def check_archive(file: Path | IO[bytes], suffix: str, max_uncompressed_size: int,
                  max_cells: int) -> tuple[dict[str, PartScan], list[str | None]]:
    """Check a zip-based workbook (its path, or its bytes), named with ``suffix``, before calamine opens
    it: raise InputError for a zip bomb, an .xlsb workbook or a worksheet too large; return the worksheet
    scans by part name and the part of each sheet (in workbook order, None where unknown). Other
    files: no scans.
    """
    if suffix.lower() == ".xlsb":
        raise InputError(XLSB_MESSAGE)
    if not zipfile.is_zipfile(file):
        return {}, []
    try:
        with zipfile.ZipFile(file) as archive:
            _check_sizes(archive.infolist(), max_uncompressed_size)
            names = {_normalized(name): name for name in archive.namelist()}
            if "xl/workbook.bin" in names:
                raise InputError(XLSB_MESSAGE)
            for part in ODS_PARTS & set(archive.namelist()):
                _check_well_formed(archive, part)
            if suffix.lower() == ".ods":
                return {}, []
            return _scan_parts(archive, max_cells, _zero_padded_styles(archive, names)), _sheet_parts(archive, names)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError,
            OverflowError, IndexError, struct.error) as exc:  # ValueError: names not UTF-8; IndexError: empty names
        raise InputError(f"not a valid Excel file: {first_line(exc)}") from None


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
            f"the file unpacks to {size_text(total)}, more than the limit of {size_text(limit)}"
            " (raise it with --reader-option max_uncompressed_size=SIZE if the file is genuine)"
        )
    for member in members:
        if member.file_size > max(RATIO_CHECK_MIN_SIZE, MAX_COMPRESSION_RATIO * member.compress_size):
            raise InputError(
                f"the file looks like a zip bomb: {member.filename!r} unpacks to {size_text(member.file_size)}"
                f" from {size_text(member.compress_size)}"
            )


def size_text(size: int) -> str:
    """``size`` in bytes, KB, MB or GB (of 1024)."""
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:,.1f} {unit}"
    return f"{size} bytes"


def _normalized(name: str) -> str:
    """A member name as calamine looks it up: '/' separated, lower case."""
    return name.replace("\\", "/").lower()


def _scan_parts(archive: zipfile.ZipFile, max_cells: int, padded_styles: dict[bytes, int]) -> dict[str, PartScan]:
    """Scan every member that is a worksheet; raise InputError if one spans more than ``max_cells``.

    Every member is scanned, not only the sheets the workbook lists: calamine's way of
    finding them need not be followed exactly to be safe.
    """
    scans = {}
    for member in archive.infolist():
        scan = None if member.is_dir() else _scan_part(archive, member, max_cells, padded_styles)
        if scan is not None:
            scans[member.filename] = scan
    return scans


def _scan_part(archive: zipfile.ZipFile, member: zipfile.ZipInfo, max_cells: int,
               padded_styles: dict[bytes, int]) -> PartScan | None:
    """The scan of ``member`` if it is a worksheet (it has sheetData), else None.

    The fast scan counts empty cells too (calamine leaves them out); only when that makes
    the sheet too large is it done again without them, which takes longer. The exact scan
    does not find zero-padded cells.
    """
    with archive.open(member) as stream:
        scan = _fast_scan(stream, True, padded_styles)
        if scan.has_sheet_data and not scan.irregular and _area(scan) > max_cells:
            stream.seek(0)
            scan = _fast_scan(stream, False, padded_styles)
        if scan.irregular and scan.has_sheet_data:
            stream.seek(0)
            scan = ExactScanner().scan(stream, member.filename)
    _check_shared_strings(scan)
    if not scan.has_sheet_data:
        return None
    if _area(scan) > max_cells:
        raise InputError(
            f"a sheet's cells span {scan.max_row:,} rows by {scan.max_column:,} columns, more than the"
            f" {max_cells:,} cells accepted (raise the limit with --reader-option max_cells=N if the"
            " file is genuine)"
        )
    return scan


def _check_shared_strings(scan: PartScan) -> None:
    """Refuse a shared strings part declaring far more texts than it holds."""
    if scan.declared_strings is not None and scan.declared_strings > 2 * scan.strings + STRINGS_SLACK:
        raise InputError(
            f"the workbook's shared strings claim {scan.declared_strings:,} texts but hold {scan.strings:,}: the"
            " file is corrupt or made to exhaust memory (open it in Excel or LibreOffice and save it again)"
        )


def _area(scan: PartScan) -> int:
    return scan.max_row * scan.max_column


def _fast_scan(stream: IO[bytes], keep_empty: bool, padded_styles: dict[bytes, int]) -> PartScan:
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
        if scan.declared_strings is None and b"sst" in piece:
            _scan_shared_strings_start(piece, scan)
        if scan.declared_strings is not None:
            scan.strings += len(SHARED_STRING.findall(piece))
        _scan_references(piece if keep_empty else CHILDLESS_CELL.sub(b"", piece), scan)
        if scan.uncached_formula is None and b"<f" in piece:
            scan.uncached_formula = _first_uncached_formula(piece)
        if b't="e"' in piece:
            for letters, row, error in ERROR_CELL.findall(piece):
                scan.errors.setdefault(int(row), {})[_column_number(letters) - 1] = error.decode("utf-8", "replace")
        if padded_styles:
            _scan_padded_cells(piece, padded_styles, scan)
    return scan


def _scan_shared_strings_start(piece: bytes, scan: PartScan) -> None:
    """Note the texts that a ``<sst>`` start tag in ``piece`` declares (0 if it does not say)."""
    start = SHARED_STRINGS_START.search(piece)
    if start:
        count = UNIQUE_COUNT.search(start[1])
        scan.declared_strings = int(count[1]) if count else 0


def _scan_padded_cells(piece: bytes, padded_styles: dict[bytes, int], scan: PartScan) -> None:
    """Record the number cells of ``piece`` whose style is zero-padded."""
    for attributes in CELL_START.findall(piece):
        style, reference = CELL_STYLE.search(attributes), REFERENCE.search(attributes)
        if style and reference and style[1] in padded_styles and not CELL_TYPE_NOT_NUMBER.search(attributes):
            row = int(reference[2]) if len(reference[2]) < 10 else LARGEST_REFERENCE
            scan.padded.setdefault(row, {})[_column_number(reference[1]) - 1] = padded_styles[style[1]]


def _zero_padded_styles(archive: zipfile.ZipFile, names: dict[str, str]) -> dict[bytes, int]:
    """The cell styles (their index in cellXfs, as written in a cell's ``s``) whose number
    format is zeros only ("00000"), with its number of digits; usually none."""
    styles = _read_small(archive, names, "xl/styles.xml")
    digits = {fmt.get("numFmtId"): len(fmt["formatCode"]) for fmt in _elements(styles, b"numFmt")
              if ZEROS_FORMAT.fullmatch(fmt.get("formatCode", ""))}
    if not digits:
        return {}
    cell_formats = CELL_XFS.search(styles)
    xfs = _elements(cell_formats[0], b"xf") if cell_formats else []
    return {str(index).encode(): digits[xf["numFmtId"]] for index, xf in enumerate(xfs) if xf.get("numFmtId") in digits}


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
        elif local == "sst":
            count = attributes.get("uniqueCount", "")
            self._scan.declared_strings = int(count) if count.isascii() and count.isdigit() else 0
        elif local == "si":
            self._scan.strings += 1
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


def scans_by_sheet(scans: dict[str, PartScan], parts: list[str | None], count: int) -> list[PartScan]:
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
