"""Hostile and broken inputs end with exit 1 or 2 and one line naming the file, in bounded time and memory.

The cases are every file of tests/data/bad (see its SOURCES.md: byte-for-byte copies from
the project's corpus with their licence, and small files written for this project by
tests/data/bad/make_written_files.py) plus the large ones generated below at run time, once
per session (10,000 columns, fields of 5 and 12 MB, 100,000 lines of separators, zip bombs,
cells spanning a million columns). Each runs through the real CLI in a child process,
``python -m etl run FILE --sink json --target OUT``, and must end:

* with exit code 1 or 2, within TIMEOUT seconds and MAX_RSS_KIB of peak memory;
* without a traceback;
* exit 2: one line, ``etl: error: ...`` naming the file; or, when every data line was
  rejected, the exit-1 output below with "0 imported" in its summary;
* exit 1: every line starting with the file's path names a line ("line N"), and there is at
  least one.

The child runs under an address-space limit (CHILD_MEMORY_LIMIT, above MAX_RSS_KIB) so that a
failed guard cannot take the shared machine's memory: such a child dies (SIGABRT or
MemoryError) and its case fails. Cases marked xfail fail because of a bug of the project
(the reason says which); fix it and remove the mark.
"""
from __future__ import annotations

import io
import json
import os
import re
import signal
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

if sys.platform == "win32":  # os.wait4 and resource limits are POSIX
    pytest.skip("runs the CLI under POSIX process limits", allow_module_level=True)

import resource  # noqa: E402

DATA = Path(__file__).resolve().parent / "data" / "bad"
SOURCES = DATA / "SOURCES.md"
NOT_CASES = {"SOURCES.md", ".gitattributes", "make_written_files.py"}
"""Files of DATA that are not inputs (licence files are recognised by their name, see is_case)."""

TIMEOUT = 10
MAX_RSS_KIB = 500 * 1024
"""500 MB (MiB), in the unit of ru_maxrss on Linux."""
CHILD_MEMORY_LIMIT = 1 << 30
"""The address space of the child: a safety net for the shared machine, not the limit tested."""

HEADER = ("Customer ID", "Customer name", "Contact email")
GOOD_LINES = (("C1", "Acme", "a@acme.example"), ("C2", "Beta", "b@beta.example"))


# --- builders (also used by tests/data/bad/make_written_files.py) ---------------------------

def csv_text(*rows: tuple[str, ...] | list[str], delimiter: str = ";") -> str:
    """Lines joined with ``delimiter`` and CRLF, no quoting: the rows are written as given."""
    return "".join(delimiter.join(row) + "\r\n" for row in rows)


ZIP_TIME = (1980, 1, 1, 0, 0, 0)
"""Fixed member times: the same input writes the same bytes."""

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
).encode()
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>'
).encode()
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Customers" sheetId="1" r:id="rId1"/></sheets></workbook>'
).encode()
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'sharedStrings" Target="sharedStrings.xml"/></Relationships>'
).encode()
MAIN_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
SHEET_PART = "xl/worksheets/sheet1.xml"


def column_name(number: int) -> str:
    """1 -> A, 16384 -> XFD (and beyond Excel's last column, the same way)."""
    name = ""
    while number:
        number, rest = divmod(number - 1, 26)
        name = chr(65 + rest) + name
    return name


def xlsx_rows(rows: list[tuple[str, ...]] | list[list[str]], first: int = 1) -> str:
    """``<row>`` elements of inline-string cells, from row ``first``."""
    out = []
    for number, values in enumerate(rows, first):
        cells = "".join(f'<c r="{column_name(i)}{number}" t="inlineStr"><is><t>{value}</t></is></c>'
                        for i, value in enumerate(values, 1) if value != "")
        out.append(f'<row r="{number}">{cells}</row>')
    return "".join(out)


def sheet_xml(rows: str, dimension: str = "", prolog: str = "", after: str = "") -> bytes:
    """A worksheet: ``prolog`` (a DOCTYPE) before the root, ``after`` (mergeCells...) after sheetData."""
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f"{prolog}<worksheet {MAIN_NS}>{dim}<sheetData>{rows}</sheetData>{after}</worksheet>").encode()


def shared_strings_xml(strings: tuple[str, ...] = (), prolog: str = "") -> bytes:
    items = "".join(f"<si><t>{s}</t></si>" for s in strings)
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'{prolog}<sst {MAIN_NS} count="{len(strings)}" uniqueCount="{len(strings)}">{items}</sst>').encode()


def zip_bytes(members: list[tuple[str, bytes]], stored: tuple[str, ...] = ()) -> bytes:
    """A zip of ``members`` (deflated, but those named in ``stored``), with fixed times."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.compress_type = zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def xlsx_parts(sheet: bytes, shared_strings: bytes | None = None) -> list[tuple[str, bytes]]:
    return [("[Content_Types].xml", CONTENT_TYPES), ("_rels/.rels", ROOT_RELS), ("xl/workbook.xml", WORKBOOK),
            ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS), (SHEET_PART, sheet),
            ("xl/sharedStrings.xml", shared_strings if shared_strings is not None else shared_strings_xml())]


def xlsx_bytes(sheet: bytes, shared_strings: bytes | None = None) -> bytes:
    """The smallest workbook Excel opens: one sheet 'Customers', its XML as given."""
    return zip_bytes(xlsx_parts(sheet, shared_strings))


ODS_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
    '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
).encode()
ODS_NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"')


def ods_row(values: tuple[str, ...] | list[str], row_attributes: str = "", cell_attributes: str = "") -> str:
    cells = "".join(f'<table:table-cell office:value-type="string"{cell_attributes}><text:p>{v}</text:p>'
                    "</table:table-cell>" for v in values)
    return f"<table:table-row{row_attributes}>{cells}</table:table-row>"


def ods_bytes(rows: str, prolog: str = "") -> bytes:
    """An OpenDocument spreadsheet with one table 'Customers' holding ``rows`` (XML)."""
    content = ('<?xml version="1.0" encoding="UTF-8"?>\n'
               f"{prolog}<office:document-content {ODS_NS}><office:body><office:spreadsheet>"
               f'<table:table table:name="Customers">{rows}</table:table>'
               "</office:spreadsheet></office:body></office:document-content>").encode()
    return zip_bytes([("mimetype", b"application/vnd.oasis.opendocument.spreadsheet"),
                      ("META-INF/manifest.xml", ODS_MANIFEST), ("content.xml", content)], stored=("mimetype",))


def entity_bomb(root: str, levels: int = 9) -> str:
    """A DOCTYPE whose entity ``a{levels}`` expands to 3 x 10**(levels + 1) characters (billion laughs)."""
    entities = '<!ENTITY a0 "lollollollollollollollollollol">' + "".join(
        f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, levels + 1))
    return f"<!DOCTYPE {root} [{entities}]>"


# --- zip bombs, built without compressing gigabytes --------------------------------------------

MIB = 1 << 20
FINAL_EMPTY_BLOCK = b"\x03\x00"
"""A raw deflate stream's last block, empty: what a fresh compressor's flush() gives."""


def _deflate(data: bytes, final: bool) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + (compressor.flush() if final else compressor.flush(zlib.Z_FULL_FLUSH))


@dataclass
class Member:
    """A deflated zip member given as its raw stream, CRC and size (``declared`` may lie)."""

    name: str
    stream: bytes
    crc: int
    size: int
    declared: int | None = None

    @classmethod
    def of(cls, name: str, data: bytes) -> Member:
        return cls(name, _deflate(data, final=True), zlib.crc32(data), len(data))


def blank_member(name: str, head: bytes, mebibytes: int, tail: bytes, crc: bool = True) -> Member:
    """``head``, then ``mebibytes`` MiB of spaces, then ``tail``: the spaces cost 1 KB each MiB,
    as one full-flushed block (byte-aligned, no back references) repeated. Without ``crc``,
    the CRC is left 0 (for a caller that sets its own)."""
    block = _deflate(b" " * MIB, final=False)
    stream = _deflate(head, final=False) + block * mebibytes + _deflate(tail, final=True)
    value = 0
    if crc:
        value, spaces = zlib.crc32(head), b" " * MIB
        for _ in range(mebibytes):
            value = zlib.crc32(spaces, value)
        value = zlib.crc32(tail, value)
    return Member(name, stream, value, len(head) + mebibytes * MIB + len(tail))


def raw_zip(members: list[Member]) -> bytes:
    """A zip whose headers give each member's ``declared`` size (its true size if None)."""
    out, central = bytearray(), bytearray()
    for m in members:
        name, offset, size = m.name.encode(), len(out), m.size if m.declared is None else m.declared
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, m.crc, len(m.stream), size,
                           len(name), 0) + name + m.stream
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, m.crc, len(m.stream),
                               size, len(name), 0, 0, 0, 0, 0, offset) + name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), len(out), 0)
    return bytes(out + central + end)


def xlsx_members(sheet: Member) -> list[Member]:
    return [Member.of(n, d) for n, d in xlsx_parts(b"") if n != SHEET_PART] + [sheet]


def good_sheet_ends() -> tuple[bytes, bytes]:
    """The real header and two good lines, cut where the bomb's blank goes (inside sheetData)."""
    head, tail = sheet_xml(xlsx_rows([HEADER, *GOOD_LINES]) + "\x00").split(b"\x00")
    return head, tail


# --- the cases generated at run time -----------------------------------------------------------

FIVE_MB = 5_000_000


def gen_columns_10000_in_the_header(path: Path) -> None:
    extra = [f"Extra {i}" for i in range(1, 9998)]
    path.write_text(csv_text([*HEADER, *extra], [*GOOD_LINES[0], *["x"] * 9997]), encoding="utf-8")


def gen_columns_1000_of_long_titles_and_odd_values(path: Path) -> None:
    """The most columns a run takes, each with a long title and values of nothing known: the
    matching of titles and content stays bounded (misspellings are looked for in short titles only)."""
    titles = [f"Column {i} " + "lorem ipsum dolor " * 16 for i in range(1000)]
    lines = [[f"v{line}@{i}x." + "z" * 8 for i in range(1000)] for line in range(200)]
    path.write_text(csv_text(titles, *lines), encoding="utf-8")


def gen_columns_10000_on_a_line(path: Path) -> None:
    path.write_text(csv_text(HEADER, GOOD_LINES[0], ("C2", "Beta", "b@beta.example", *[""] * 9997)), encoding="utf-8")


def gen_field_5mb_customer_name(path: Path) -> None:
    path.write_text(csv_text(HEADER, GOOD_LINES[0], ("C2", "N" * FIVE_MB, "b@beta.example")), encoding="utf-8")


def gen_field_5mb_contact_email(path: Path) -> None:
    path.write_text(csv_text(HEADER, GOOD_LINES[0], ("C2", "Beta", "b" * FIVE_MB + "@beta.example")),
                    encoding="utf-8")


def gen_field_5mb_quoted_on_50000_lines(path: Path) -> None:
    value = '"' + ("N" * 99 + "\r\n") * (FIVE_MB // 101) + '"'
    path.write_text(csv_text(HEADER, GOOD_LINES[0], ("C2", value, "not-an-email")), encoding="utf-8")


def gen_field_5mb_xlsx_cell(path: Path) -> None:
    rows = xlsx_rows([HEADER, GOOD_LINES[0], ("C2", "N" * FIVE_MB, "b@beta.example")])
    path.write_bytes(xlsx_bytes(sheet_xml(rows)))


def gen_field_12mb_over_the_limit(path: Path) -> None:
    path.write_text(csv_text(HEADER, GOOD_LINES[0], ("C2", "N" * 12_000_000, "b@beta.example"), GOOD_LINES[1]),
                    encoding="utf-8")


def gen_field_12mb_quote_never_closed(path: Path) -> None:
    path.write_text(csv_text(HEADER, GOOD_LINES[0]) + 'C2;"' + "N" * 12_000_000, encoding="utf-8")


def gen_separators_only_100000_lines(path: Path) -> None:
    path.write_text(";;;\r\n" * 100_000, encoding="utf-8")


def gen_header_then_100000_separator_lines(path: Path) -> None:
    path.write_text(csv_text(HEADER) + ";;\r\n" * 100_000, encoding="utf-8")


def gen_separators_100000_lines_then_bad_line(path: Path) -> None:
    path.write_text(csv_text(HEADER, GOOD_LINES[0]) + ";;\r\n" * 100_000 + csv_text(("C2", "Beta", "bad")),
                    encoding="utf-8")


def gen_zip_bomb_1gib_sheet(path: Path) -> None:
    head, tail = good_sheet_ends()
    path.write_bytes(raw_zip(xlsx_members(blank_member(SHEET_PART, head, 1024, tail))))


def gen_zip_bomb_200_members_of_15mib(path: Path) -> None:
    """3 GB in all, but no member over the size from which the compression ratio is checked."""
    head, tail = good_sheet_ends()
    members = xlsx_members(Member.of(SHEET_PART, head + tail))
    filler = blank_member("customXml/item0.xml", b"<a>", 15, b"</a>")
    members += [Member(f"customXml/item{i}.xml", filler.stream, filler.crc, filler.size) for i in range(200)]
    path.write_bytes(raw_zip(members))


def gen_zip_bomb_lying_about_its_size(path: Path) -> None:
    """Headers say 1 MiB (with that prefix's CRC); the stream inflates to 1 GiB."""
    head, tail = good_sheet_ends()
    bomb = blank_member(SHEET_PART, head, 1024, tail, crc=False)
    bomb.declared = len(head) + MIB + len(tail)
    bomb.crc = zlib.crc32(head + b" " * (MIB + len(tail)))
    path.write_bytes(raw_zip(xlsx_members(bomb)))


def gen_dimension_claims_1000000_columns(path: Path) -> None:
    rows = xlsx_rows([HEADER, *GOOD_LINES, ("C3", "Gamma", "not-an-email")])
    path.write_bytes(xlsx_bytes(sheet_xml(rows, dimension=f"A1:{column_name(1_000_000)}1048576")))


def _span(path: Path, row: int, column: int) -> None:
    """The real header and lines, then one cell at (row, column): a tiny file, a large rectangle."""
    corner = f'<row r="{row}"><c r="{column_name(column)}{row}"><v>1</v></c></row>'
    rows = xlsx_rows([HEADER, *GOOD_LINES]) + corner
    path.write_bytes(xlsx_bytes(sheet_xml(rows, dimension=f"A1:{column_name(column)}{row}")))


def gen_cells_span_40_rows_by_1000000_columns(path: Path) -> None:
    _span(path, 40, 1_000_000)


def gen_cells_span_3000_rows_by_16384_columns(path: Path) -> None:
    _span(path, 3000, 16384)


GENERATED: dict[str, tuple[Callable[[Path], None], str | None]] = {
    "columns-10000-in-the-header.csv": (gen_columns_10000_in_the_header, None),
    "columns-10000-on-a-line.csv": (gen_columns_10000_on_a_line, None),
    "columns-1000-of-long-titles-and-odd-values.csv": (gen_columns_1000_of_long_titles_and_odd_values, None),
    "field-5mb-customer-name.csv": (gen_field_5mb_customer_name, None),
    "field-5mb-contact-email.csv": (gen_field_5mb_contact_email, None),
    "field-5mb-quoted-on-50000-lines.csv": (gen_field_5mb_quoted_on_50000_lines, None),
    "field-5mb-xlsx-cell.xlsx": (gen_field_5mb_xlsx_cell, None),
    "field-12mb-over-the-limit.csv": (gen_field_12mb_over_the_limit, None),
    "field-12mb-quote-never-closed.csv": (gen_field_12mb_quote_never_closed, None),
    "separators-only-100000-lines.csv": (gen_separators_only_100000_lines, None),
    "header-then-100000-separator-lines.csv": (gen_header_then_100000_separator_lines, None),
    "separators-100000-lines-then-bad-line.csv": (gen_separators_100000_lines_then_bad_line, None),
    "zip-bomb-1gib-sheet.xlsx": (gen_zip_bomb_1gib_sheet, None),
    "zip-bomb-200-members-of-15mib.xlsx": (gen_zip_bomb_200_members_of_15mib, None),
    "zip-bomb-lying-about-its-size.xlsx": (gen_zip_bomb_lying_about_its_size, None),
    "dimension-claims-1000000-columns.xlsx": (gen_dimension_claims_1000000_columns, None),
    "cells-span-40-rows-by-1000000-columns.xlsx": (gen_cells_span_40_rows_by_1000000_columns, None),
    "cells-span-3000-rows-by-16384-columns.xlsx": (gen_cells_span_3000_rows_by_16384_columns, None),
}

# --- the committed cases ---------------------------------------------------------------------

COMMITTED_BUGS: dict[str, str] = {}

GOOD_ENOUGH_TO_IMPORT = {
    "frictionless-py/data/blank-rows.csv": "id and name are a customer's ID and name; the blank row is skipped",
    "frictionless-py/data/duplicate-headers.csv": "id and name map; the repeated ids are ignored columns, and said so",
}
"""Committed inputs that are bad for some tools but import here, with the reason: they may exit 0."""


def is_case(path: Path) -> bool:
    name = path.name
    return (path.is_file() and name not in NOT_CASES and "legal" not in path.relative_to(DATA).parts
            and not re.match(r"(?i)(licen[cs]e|notice|package\.json)", name))


COMMITTED = sorted(str(p.relative_to(DATA)) for p in DATA.rglob("*") if is_case(p))


def _param(case: str, reason: str | None):
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(case, marks=marks, id=case)


CASES = ([_param(f"committed:{c}", COMMITTED_BUGS.get(c)) for c in COMMITTED]
         + [_param(f"generated:{name}", reason) for name, (_, reason) in GENERATED.items()])


@pytest.fixture(scope="session")
def generated(tmp_path_factory) -> Callable[[str], Path]:
    """Writes a generated case on first use (once per session) and gives its path."""
    folder = tmp_path_factory.mktemp("bad-generated")
    made: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in made:
            path = folder / name
            GENERATED[name][0](path)
            made[name] = path
        return made[name]

    return get


# --- running the CLI ---------------------------------------------------------------------------

@dataclass
class Outcome:
    code: int
    lines: list[str]
    """The first lines of stderr (at most KEPT_LINES)."""
    line_count: int
    rss_kib: int
    seconds: float
    timed_out: bool
    problems: list[str]
    """Lines starting with the file's path that name no line (exit 1), at most a few."""
    traceback: bool
    """A line of stderr, any of them, starts a traceback."""


KEPT_LINES = 20


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY_LIMIT, CHILD_MEMORY_LIMIT))


READ_AHEAD_ALWAYS = "import etl.read_ahead, etl.cli; etl.read_ahead.MIN_FILE_SIZE = 0; etl.cli.main()"
"""``python -m etl``, reading even small files in a second process (as large ones are on Linux)."""


def run_cli(path: Path, cwd: Path, read_ahead: bool = False) -> Outcome:
    """``etl run path --sink json`` in a child; its exit code, stderr, peak RSS (wait4) and time."""
    err_path = cwd / "stderr.txt"
    start = time.monotonic()
    etl = ["-c", READ_AHEAD_ALWAYS] if read_ahead else ["-m", "etl"]
    with open(err_path, "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, *etl, "run", str(path), "--sink", "json", "--target", str(cwd / "out.json"),
             "--report", str(cwd / "report.json")],
            cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
            env={**os.environ, "RUST_BACKTRACE": "0"}, preexec_fn=_limit_memory)
    timed_out = False
    while True:  # os.wait4 alone gives the child's rusage; Popen.wait/poll would reap it first
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - start > TIMEOUT:
            os.kill(proc.pid, signal.SIGKILL)  # not proc.kill(): it may reap the child and lose its rusage
            pid, status, usage = os.wait4(proc.pid, 0)
            timed_out = True
            break
        time.sleep(0.01)
    seconds = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    lines: list[str] = []
    problems: list[str] = []
    count, traceback = 0, False
    with open(err_path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            count += 1
            line = line.rstrip("\n")
            if count <= KEPT_LINES:
                lines.append(line)
            if line.startswith(str(path)) and not re.search(r"\bline \d", line) and len(problems) < 3:
                problems.append(line)
            traceback = traceback or "Traceback" in line
    return Outcome(proc.returncode, lines, count, usage.ru_maxrss, seconds, timed_out, problems, traceback)


def _case_path(case: str, generated: Callable[[str], Path]) -> Path:
    kind, name = case.split(":", 1)
    return DATA / name if kind == "committed" else generated(name)


@pytest.mark.parametrize("read_ahead", [False, pytest.param(True, marks=pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reading ahead forks: Linux only"))], ids=["in-process", "read-ahead"])
@pytest.mark.parametrize("case", CASES)
def test_bad_input_ends_in_one_clear_line_naming_the_file(case: str, read_ahead: bool, generated, tmp_path):
    path = _case_path(case, generated)
    got = run_cli(path, tmp_path, read_ahead)
    head = "\n".join(got.lines[:8])
    where = (f"{case}: exit {got.code}, {got.seconds:.1f} s, {got.rss_kib / 1024:.0f} MiB, "
             f"{got.line_count} stderr lines:\n{head}")
    assert not got.timed_out, f"killed after {TIMEOUT} s; {where}"
    assert got.rss_kib <= MAX_RSS_KIB, f"peak RSS over {MAX_RSS_KIB // 1024} MiB; {where}"
    assert not got.traceback, where
    if case.removeprefix("committed:") in GOOD_ENOUGH_TO_IMPORT:
        rows = json.loads((tmp_path / "report.json").read_text())["rows"]
        assert got.code == 0 and rows["read"] == rows["imported"] > 0, where
        return
    assert got.code in (1, 2), where
    assert got.lines, f"nothing on stderr; {where}"
    if got.code == 2 and got.lines[0].startswith("etl: error: "):
        assert got.line_count == 1, f"an error of more than one line; {where}"
        assert path.name in got.lines[0], f"the error does not name the file; {where}"
        return
    # exit 1, or exit 2 with every line rejected: one line per error, each naming the file and line
    named = [line for line in got.lines if line.startswith(str(path))]
    assert named, f"no error line naming the file; {where}"
    assert not got.problems, f"error lines without a line number: {got.problems}; {where}"
    if got.code == 2:
        assert any(" 0 imported" in line for line in got.lines), f"exit 2 without one 'etl: error: ' line; {where}"
    rows = json.loads((tmp_path / "report.json").read_text())["rows"]  # every line accounted for
    assert rows["read"] == rows["imported"] + rows["rejected"] and rows["rejected"] > 0, where


def test_every_file_of_the_corpus_is_listed_in_sources():
    listed = SOURCES.read_text(encoding="utf-8")
    files = [str(p.relative_to(DATA)) for p in DATA.rglob("*") if p.is_file() and p.name != "SOURCES.md"]
    missing = [f for f in files if f"`{f}`" not in listed and f"| {f} |" not in listed]
    assert not missing, f"not in {SOURCES.relative_to(DATA.parent.parent.parent)}: {missing}"
    assert len(COMMITTED) + len(GENERATED) >= 40


def test_generated_inputs_are_what_they_claim(generated):
    """The builders behind the big cases: the zip bombs inflate as declared, the fields are 5 MB."""
    with zipfile.ZipFile(generated("zip-bomb-1gib-sheet.xlsx")) as archive:
        info = archive.getinfo(SHEET_PART)
        assert info.file_size > 1 << 30 and info.compress_size < 2 * MIB
        with archive.open(info) as member:  # the stream is valid: its first MiBs inflate
            assert member.read(3 * MIB).count(b" ") > 2 * MIB
    with zipfile.ZipFile(generated("zip-bomb-200-members-of-15mib.xlsx")) as archive:
        sizes = [i.file_size for i in archive.infolist()]
        assert sum(sizes) > 3 * 10**9 and max(sizes) < 16 * MIB
    with zipfile.ZipFile(generated("zip-bomb-lying-about-its-size.xlsx")) as archive:
        info = archive.getinfo(SHEET_PART)
        assert info.file_size < 2 * MIB and info.compress_size > MIB  # the stream goes on past the size told
        with archive.open(info) as member:  # in small reads: read() would inflate the whole GiB at once
            size = sum(len(chunk) for chunk in iter(lambda: member.read(MIB), b""))  # and checks the CRC
        assert size == info.file_size
    assert generated("field-5mb-customer-name.csv").stat().st_size > FIVE_MB
    stream = zlib.decompressobj(-15)
    assert stream.decompress(_deflate(b" " * MIB, final=False) * 2 + FINAL_EMPTY_BLOCK) == b" " * (2 * MIB)
