"""The ``csv`` format: delimited text files (``.csv``, ``.txt``, ``.tsv``, ``.tab``), read and written.

Unless given as reader options, reading detects:

* the encoding: a byte order mark (UTF-8, UTF-16, UTF-32), else UTF-16 without one
  (NUL in one byte of most byte pairs), else UTF-8 if the whole file is valid UTF-8,
  else Windows-1252 if it can decode every byte, else Latin-1. A UTF-8 file (with a BOM,
  or with some non-ASCII line in UTF-8) whose other lines are not UTF-8 has those lines
  read as Windows-1252 (as Excel re-saves some lines), with a warning;
* the column separator: ';', ',', '|' or tab, whichever splits the most of the first
  records into as many fields as the header, title rows above it left out (ties: more
  fields, then that order).

Reader options (``--reader-option KEY=VALUE``, declared by ``options_schema``):

``delimiter``
    ';', ',', '|' or 'tab'.
``encoding``
    any Python text codec, e.g. utf-8, cp1252, utf-16-le.
``max_field_size``
    the longest field accepted, in characters (default 10,000,000).

The header is the first non-blank record, unless title rows come before it (see
``layout``); title rows, and footer rows at the end (TOTAL, a timestamp...), are skipped
with a warning. Rows carry the physical line where their record starts (the first line
being line 1); blank lines are skipped but counted. Values are given exactly as in the file.
"""
from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import chain, islice, takewhile
from pathlib import Path
from typing import IO, Any, NamedTuple

from etl import Field, InputError, ReaderSpec, Row, RowError, UsageError, hookimpl

from .csv_input import BINARY_MESSAGE, CheckedBytes, InputBytes, LineCounter
from .layout import HEADER_SEARCH_ROWS, MAX_FOOTER_ROWS, footer_count, footer_warning, header_index, title_warning

DELIMITERS = (";", ",", "|", "\t")
"""The separators detected, in tie-break order."""

DELIMITER_NAMES = {";": ";", ",": ",", "|": "|", "tab": "\t", "\t": "\t", "\\t": "\t"}
"""The accepted values of the ``delimiter`` option, and the separator each stands for."""

DEFAULT_MAX_FIELD_SIZE = 10_000_000
MAX_FIELD_SIZE_LIMIT = 2**31 - 1
"""The largest limit csv accepts on every platform (a C long)."""

SAMPLE_SIZE = 1 << 16
"""Bytes of the head checked for binary content, and characters parsed to detect the separator."""

SAMPLE_RECORDS = 50
"""Records after the header compared with it to detect the separator."""

CHUNK_SIZE = 1 << 18
"""Bytes decoded at a time when looking for the line that cannot be decoded."""

LINES_BLOCK_SIZE = 1 << 20
"""Characters read at a time when looking for footer rows."""

TAIL_SIZE = 1 << 14
"""Characters at the end of the file looked at for footer rows."""

LINE_BREAK = re.compile("\r\n|\r|\n")

BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE, whose BOM starts it
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
"""Byte order marks, and the codec that reads (and writes) a file starting with each."""

CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""Characters that text files hardly ever contain (all C0 controls but tab, LF and CR)."""

FIELD_LIMIT_ERROR = "field larger than field limit"
"""How csv.Error starts when a field exceeds ``csv.field_size_limit()``."""

EMPTY_MESSAGE = "the file is empty"


class Decoding(NamedTuple):
    """How to decode a file, as found from its head."""

    encoding: str
    guessed: bool
    """The file has no mark: UTF-8 for now, maybe Windows-1252 or Latin-1 in the end (see ``csv_input``)."""
    notes_utf8: bool
    """Lines that are not UTF-8 are read as Windows-1252, with a warning (a file marked UTF-8, or without a mark)."""

    @property
    def errors(self) -> str:
        """The codecs error handler to decode with."""
        return WINDOWS_1252_LINES if self.notes_utf8 else "strict"


class CsvTable:
    """An opened CSV file: its header, and its rows. The first ``rows()`` call goes on with the read
    that found the header, each byte of the file read once (hashed: ``checksum``); others read afresh."""

    def __init__(self, path: Path, source: InputBytes, delimiter: str, decoding: Decoding, lineterminator: str,
                 max_field_size: int) -> None:
        self.path = path
        self.format_options = {"delimiter": delimiter, "encoding": decoding.encoding, "lineterminator": lineterminator}
        self.warnings: list[RowError] = []
        self.checksum: str | None = None
        """``sha256:<hex>`` of the file, once the first ``rows()`` read it to its end."""
        self._decoding = decoding
        self._errors = decoding.errors
        self._max_field_size = max_field_size
        self._streams: set[IO[str]] = set()
        self._source = source
        self._checked = CheckedBytes(source, decoding.encoding, decoding.notes_utf8, decoding.guessed)
        self._once = io.TextIOWrapper(self._checked, encoding=decoding.encoding, errors=decoding.errors, newline="")
        self._first_read: Iterator[Row] | None = self._parse(self._once)
        self._head_records: list[Row] = []
        self.header = self._read_header()
        self._footer_line = self._find_footer()
        self.estimated_rows: int | None = None

    def rows(self) -> Iterator[Row]:
        """Every non-blank record after the header and before any footer, with the line where it starts."""
        once = self._first_read is not None
        records = chain(self._kept_records(), self._first_read) if self._first_read is not None else self._records()
        self._first_read = None
        for line, _ in records:
            if line == self._header_line:
                break
        if self._footer_line is None:
            yield from records
        else:
            yield from takewhile(lambda row: row[0] < self._footer_line, records)
            if once:
                for _ in records:  # the footer rows: the file is checked and hashed to its end
                    pass
        if once:
            self._read_to_the_end()

    def _kept_records(self) -> Iterator[Row]:
        """The records read while looking for the header, as long as the table is open."""
        for record in self._head_records:
            if self._once.closed:
                raise ValueError("I/O operation on closed file")
            yield record

    def close(self) -> None:
        """Close the file of any ``rows()`` iteration left unfinished."""
        for stream in list(self._streams):
            stream.close()
        self._once.close()
        self._source.close()

    def _read_to_the_end(self) -> None:
        """Learn what reading the whole file told: its checksum, its encoding, its lines in Windows-1252."""
        checked = self._checked
        self.checksum = self._source.checksum
        if checked.encoding_found is not None:
            self.format_options["encoding"], self._errors = checked.encoding_found, "strict"
        elif checked.lines_not_utf8:
            self.warnings[:0] = _decoding_warnings(checked.lines_not_utf8)
        else:  # UTF-8 throughout: read so again
            self._errors = "strict"
        self._once.close()
        self._source.close()

    def _read_header(self) -> list[str]:
        """The column titles (see ``header_index``), stripped of whitespace (and a BOM)."""
        assert self._first_read is not None
        first = self._head_records = list(islice(self._first_read, HEADER_SEARCH_ROWS))
        if not first:
            raise InputError(EMPTY_MESSAGE)
        first[0][1][0] = first[0][1][0].removeprefix("\ufeff")
        index = header_index([values for _, values in first])
        if index:
            self.warnings.append(title_warning([line for line, _ in first[:index]]))
        self._header_line, titles = first[index]
        return [title.strip() for title in titles]

    def _find_footer(self) -> int | None:
        """The line of the first footer row, if the file ends with some (warned about). The file's
        end is looked at first without counting its lines, which only a footer needs."""
        for numbered in (False, True):
            candidates, more_above = self._last_records(numbered)
            count = footer_count([values for _, values in candidates], len(self.header), more_above)
            if not count:
                return None
            if numbered:
                self.warnings.extend(footer_warning(line, values) for line, values in candidates[-count:])
                return candidates[-count][0]
        return None

    def _last_records(self, numbered: bool) -> tuple[list[Row], bool]:
        """The last non-blank lines below the header that are records by themselves (an even
        number of quotes), up to MAX_FOOTER_ROWS + 1 of them, in file order, with their line
        (``numbered``; else in order but not numbered); and whether other lines come between the
        header and them."""
        encoding = self.format_options["encoding"]
        errors = "replace" if self._errors == "strict" else self._errors  # reading tells the undecodable line
        tail = self._tail_lines(encoding)
        whole = self._source.whole()
        checked_lines = self._checked.lines_checked()
        if whole is not None:  # a short file: its head (and its tail) read already hold it
            lines, last_line = _last_lines([codecs.decode(whole, encoding, errors)])
        elif tail is not None and checked_lines is not None:  # the file was kept aside: its lines are counted
            lines, last_line = tail, checked_lines
        elif tail is None or numbered:
            lines, last_line = _last_lines(_text_blocks(self.path, encoding, errors))
        else:
            lines, last_line = tail, self._header_line + len(tail) + 1  # lines come between: the file is long
        found: list[Row] = []
        for number, text in zip(range(last_line, self._header_line, -1), reversed(lines)):
            if text.count('"') % 2 or len(found) > MAX_FOOTER_ROWS:
                return found[::-1], True
            values = next(csv.reader([text], delimiter=self.format_options["delimiter"]), [])
            if not _is_blank(values):
                found.append((number, values))
        return found[::-1], last_line - len(lines) > self._header_line

    def _tail_lines(self, encoding: str) -> list[str] | None:
        """The last whole physical lines of a long file (about TAIL_SIZE bytes), when its encoding
        writes line ends as single bytes; None for a short file or another encoding. Its end is read
        once: kept for the read in order to end with, or found where the file was kept aside."""
        if self._source.whole() is not None or not _single_byte_line_ends(encoding):
            return None
        tail = self._checked.spooled_end(TAIL_SIZE)
        if tail is None:
            tail = self._source.tail(TAIL_SIZE)
        if len(tail) < TAIL_SIZE:
            return None
        lines = LINE_BREAK.split(tail.decode(encoding, errors="replace"))
        lines.pop(0)  # cut at its start, maybe inside a character
        return lines

    def _records(self) -> Iterator[Row]:
        """Every non-blank record of the file, header included, with the line where it starts."""
        with open(self.path, encoding=self.format_options["encoding"], errors=self._errors, newline="") as stream:
            self._streams.add(stream)
            try:
                yield from self._parse(stream)
            finally:
                self._streams.discard(stream)

    def _parse(self, stream: IO[str]) -> Iterator[Row]:
        """Parse ``stream``; a record starts on the line after the previous one ended."""
        csv.field_size_limit(self._max_field_size)
        reader = csv.reader(stream, delimiter=self.format_options["delimiter"])
        line = 0
        try:
            for values in reader:
                start = line + 1
                line = reader.line_num
                if not _is_blank(values):
                    yield start, values
        except csv.Error as exc:
            raise InputError(self._csv_error_message(exc, line + 1)) from None
        except UnicodeError:  # an encoding given, or marked, that does not decode the whole file
            encoding = self.format_options["encoding"]
            raise InputError(_undecodable_message(_undecodable_line(self.path, encoding), encoding)) from None

    def _csv_error_message(self, exc: csv.Error, line: int) -> str:
        if str(exc).startswith(FIELD_LIMIT_ERROR):
            return (
                f"line {line}: a field is longer than {self._max_field_size} characters"
                " (raise the limit with --reader-option max_field_size=N)"
            )
        return f"line {line}: {exc}"


def _text_blocks(path: Path, encoding: str, errors: str) -> Iterator[str]:
    with open(path, encoding=encoding, errors=errors, newline="") as stream:
        while block := stream.read(LINES_BLOCK_SIZE):
            yield block


def _last_lines(blocks: Iterable[str]) -> tuple[list[str], int]:
    """The last whole physical lines of a file's text (about TAIL_SIZE characters), and the number of the last one."""
    counter, tail = LineCounter(), ""
    for block in blocks:
        counter.add(block)
        tail = (tail + block)[-TAIL_SIZE:] if len(block) < TAIL_SIZE else block[-TAIL_SIZE:]
    lines = LINE_BREAK.split(tail)
    if counter.current > len(lines):
        lines.pop(0)  # cut at its start
    return lines, counter.current


def _single_byte_line_ends(encoding: str) -> bool:
    return "\r\n".encode(encoding, errors="replace") == b"\r\n" and \
        not codecs.lookup(encoding).name.startswith(("utf-16", "utf-32"))


def _is_blank(values: list[str]) -> bool:
    """Whether a record has nothing but whitespace (cheap for the common record: its first cell says)."""
    return not (values and (values[0].strip() or "".join(values).strip()))


def open_csv(path: Path, options: Mapping[str, Any]) -> CsvTable:
    """Open a CSV file, detecting what ``options`` (loaded by ``options_schema``) do not give; raise InputError
    if unreadable.

    OSError is left to the caller, which names the file.
    """
    max_field_size = options["max_field_size"]
    source = InputBytes(path, SAMPLE_SIZE)
    try:
        decoding = _choose_decoding(path, source.head, options["encoding"])
        sample = _text_sample(source, decoding)
        delimiter = options["delimiter"] or _detect_delimiter(sample, max_field_size)
        table = CsvTable(path, source, delimiter, decoding, _line_terminator(sample), max_field_size)
    except BaseException:
        source.close()
        raise
    if len(table.header) < 2:
        table.close()
        raise InputError(_no_separator_message((delimiter,)))
    table.estimated_rows = _estimated_rows(path, sample, decoding.encoding)
    return table


def write_csv(
    path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]], format_options: Mapping[str, str]
) -> None:
    """Write ``header`` then ``rows`` with the delimiter, encoding and line ends of ``format_options``.

    Defaults: ',', UTF-8, CRLF. Characters the encoding cannot represent become '?'.
    """
    delimiter = parse_delimiter(format_options.get("delimiter", ","))
    encoding = format_options.get("encoding", "utf-8")
    with open(path, "w", encoding=encoding, errors="replace", newline="") as file:
        writer = csv.writer(file, delimiter=delimiter, lineterminator=format_options.get("lineterminator", "\r\n"))
        writer.writerow(header)
        writer.writerows(rows)


SEMICOLON_LANGUAGES = frozenset({"fr", "de", "es", "it", "nl", "pt", "da", "fi", "nb", "sv", "pl", "cs", "ru"})
"""Languages whose spreadsheets write decimals with a comma, and so separate CSV fields with ';'."""


def write_csv_template(path: Path, fields: Sequence[Field], lang: str) -> None:
    """An empty import file: the fields' titles in ``lang``, separated as that language's spreadsheets
    expect, with a byte order mark so that Excel reads the accents right."""
    header = [f.labels.get(lang) or f.labels["en"] for f in fields]
    write_csv(path, header, [], {"delimiter": ";" if lang in SEMICOLON_LANGUAGES else ",", "encoding": "utf-8-sig"})


@hookimpl
def register_readers() -> list[ReaderSpec]:
    """The ``csv`` format."""
    return [
        ReaderSpec(
            name="csv",
            extensions=(".csv", ".txt", ".tsv", ".tab"),
            open=open_csv,
            write=write_csv,
            write_template=write_csv_template,
            description="delimited text: ';', ',', '|' or tab and UTF-8, UTF-16 or Windows-1252, detected",
            options_schema=options_schema(),
        )
    ]


# Options


def options_schema() -> type:
    """The reader options' schema; None for the delimiter or the encoding means "detect it" (made when the
    registry is built: `etl --help` needs no marshmallow)."""
    from marshmallow import Schema, fields, validate

    class CsvOptions(Schema):
        delimiter = fields.Function(deserialize=_delimiter, load_default=None)
        encoding = fields.Function(deserialize=_encoding, load_default=None)
        max_field_size = fields.Integer(load_default=DEFAULT_MAX_FIELD_SIZE,
                                        validate=validate.Range(min=1, max=MAX_FIELD_SIZE_LIMIT))

    return CsvOptions


def parse_delimiter(value: str) -> str:
    """The separator named by ``value`` (';', ',', '|', 'tab' or a tab character)."""
    try:
        return DELIMITER_NAMES[value.strip(" ").lower()]
    except KeyError:
        raise UsageError(f"unsupported delimiter {value!r}: use ';', ',', '|' or 'tab'") from None


def _delimiter(value: Any) -> str:
    """The ``delimiter`` option: the separator it names."""
    from marshmallow import ValidationError

    if not isinstance(value, str) or value.strip(" ").lower() not in DELIMITER_NAMES:
        raise ValidationError("Must be ';', ',', '|' or 'tab'.")
    return parse_delimiter(value)


def _encoding(name: Any) -> str:
    """The ``encoding`` option: a text codec Python knows (one ``open()`` accepts)."""
    from marshmallow import ValidationError

    try:
        io.TextIOWrapper(io.BytesIO(), encoding=name)
    except (LookupError, TypeError):
        raise ValidationError("Not a text encoding Python knows.") from None
    return name


# Encoding


def _choose_decoding(path: Path, head: bytes, forced: str | None) -> Decoding:
    """How to decode ``path``, from its ``head``: the encoding given, else marked, else UTF-16 without a
    mark, else UTF-8 for now (see ``Decoding.guessed``); the rest of the file is checked while read."""
    encoding = forced or _bom_encoding(head) or _utf16_without_bom(head)
    if encoding is None:
        _check_not_binary(head.decode("latin-1"))  # one character per byte
        return Decoding("utf-8", guessed=True, notes_utf8=True)
    decoding = Decoding(encoding, guessed=False, notes_utf8=encoding == "utf-8-sig" and not forced)
    try:
        text = codecs.getincrementaldecoder(encoding)(decoding.errors).decode(head)
    except UnicodeError:
        raise InputError(_undecodable_message(_undecodable_line(path, encoding), encoding)) from None
    _check_not_binary(text)
    return decoding


def _bom_encoding(head: bytes) -> str | None:
    return next((encoding for bom, encoding in BOMS if head.startswith(bom)), None)


def _utf16_without_bom(head: bytes) -> str | None:
    """'utf-16-le' or '-be' when one byte of most pairs is NUL and the other hardly ever."""
    pairs = len(head) // 2
    first_nuls, second_nuls = head[0 : 2 * pairs : 2].count(0), head[1 : 2 * pairs : 2].count(0)
    if second_nuls * 2 >= pairs > 0 and first_nuls * 10 < second_nuls:
        return "utf-16-le"
    if first_nuls * 2 >= pairs > 0 and second_nuls * 10 < first_nuls:
        return "utf-16-be"
    return None


def _check_not_binary(text: str) -> None:
    """Raise InputError if ``text`` has a NUL or more than a few (1%) control characters."""
    controls = len(CONTROL_CHARS.findall(text))
    if "\x00" in text or controls > max(2, len(text) // 100):
        raise InputError(BINARY_MESSAGE)


WINDOWS_1252_LINES = "etl-windows-1252-lines"
"""The codecs error handler that decodes the rest of a line that is not UTF-8 as Windows-1252."""

LINE_END = re.compile(rb"[\r\n]")


def _rest_of_line_as_windows_1252(error: UnicodeError) -> tuple[str, int]:
    """Decode from the undecodable byte to the end of its line as Windows-1252 (Latin-1 for the
    five bytes Windows-1252 leaves undefined)."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    end = LINE_END.search(error.object, error.start)
    stop = end.start() if end else len(error.object)
    piece = error.object[error.start:stop]
    try:
        return piece.decode("cp1252"), stop
    except UnicodeDecodeError:
        return piece.decode("latin-1"), stop


codecs.register_error(WINDOWS_1252_LINES, _rest_of_line_as_windows_1252)


def _decoding_warnings(windows_1252_lines: list[int]) -> list[RowError]:
    if not windows_1252_lines:
        return []
    count, first = len(windows_1252_lines), windows_1252_lines[0]
    lines = f"1 line (line {first}) is" if count == 1 else f"{count} lines (the first: line {first}) are"
    return [RowError(first, f"{lines} not UTF-8 like the rest of the file: read as Windows-1252")]


def _undecodable_line(path: Path, encoding: str) -> int:
    """The physical line of the first bytes ``encoding`` cannot decode (the last line if none)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    lines = LineCounter()
    with open(path, "rb") as file:
        while chunk := file.read(CHUNK_SIZE):
            state = decoder.getstate()
            try:
                lines.add(decoder.decode(chunk))
            except UnicodeError:
                decoder.setstate(state)
                return _undecodable_line_in(chunk, decoder, lines)
    return lines.current


def _undecodable_line_in(chunk: bytes, decoder: codecs.IncrementalDecoder, lines: LineCounter) -> int:
    """Decode ``chunk`` byte by byte to find the line where decoding fails."""
    for i in range(len(chunk)):
        try:
            lines.add(decoder.decode(chunk[i : i + 1]))
        except UnicodeError:
            break
    return lines.current


def _undecodable_message(line: int, encoding: str) -> str:
    return (
        f"line {line}: the text cannot be decoded as {encoding}"
        " (give the right one with --reader-option encoding=NAME)"
    )


# Separator


def _text_sample(source: InputBytes, decoding: Decoding) -> str:
    """The first characters of the file (its head, read on while it is blank), cut after the last whole
    line if the file goes on; "" if the file is blank."""
    text = codecs.getincrementaldecoder(decoding.encoding)(decoding.errors).decode(source.head)
    while (not text or text.isspace()) and source.extend_head(SAMPLE_SIZE):
        text = codecs.getincrementaldecoder(decoding.encoding)(decoding.errors).decode(source.head)
    if not source.ended:
        text = text[: max(text.rfind("\n"), text.rfind("\r")) + 1] or text
    return text


def _detect_delimiter(sample: str, max_field_size: int) -> str:
    """The separator giving the most sample records with as many fields as the header (>= 2).

    With none, the file is empty if some separator makes every line blank (e.g. ";;").
    """
    csv.field_size_limit(max_field_size)
    counts_by_delimiter = [_field_counts(sample, delimiter) for delimiter in DELIMITERS]
    candidates = [
        (counts[1:].count(counts[0]), counts[0], -rank, delimiter)
        for rank, (delimiter, counts) in enumerate(zip(DELIMITERS, counts_by_delimiter))
        if counts and counts[0] >= 2
    ]
    if not candidates:
        raise InputError(EMPTY_MESSAGE if not all(counts_by_delimiter) else _no_separator_message(DELIMITERS))
    return max(candidates)[-1]


def _field_counts(sample: str, delimiter: str) -> list[int]:
    """The number of fields of the header (title rows above it left out) and of up to
    SAMPLE_RECORDS non-blank records after it."""
    records: list[list[str]] = []
    try:
        for values in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter):
            if not _is_blank(values):
                records.append(values)
                if len(records) > HEADER_SEARCH_ROWS + SAMPLE_RECORDS:
                    break
    except csv.Error:
        pass  # a field over the size limit: judge on the records before it, reading will report it
    start = header_index(records[:HEADER_SEARCH_ROWS])
    return [len(values) for values in records[start : start + SAMPLE_RECORDS + 1]]


def _no_separator_message(delimiters: Sequence[str]) -> str:
    names = ["tab" if delimiter == "\t" else repr(delimiter) for delimiter in delimiters]
    expected = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
    return f"no column separator found: expected {expected} between the column titles"


def _estimated_rows(path: Path, sample: str, encoding: str) -> int | None:
    """About how many data rows the file has, from the length of the sample's lines (for progress)."""
    lines = sample.count("\n") or sample.count("\r")
    sample_bytes = len(sample.encode(encoding, errors="replace"))
    if not lines or not sample_bytes:
        return None
    return max(int(path.stat().st_size * lines / sample_bytes) - 1, 0)


def _line_terminator(sample: str) -> str:
    """The line end of the sample's first line (CRLF if it has none)."""
    match = re.search("\r\n|\r|\n", sample)
    return match.group() if match else "\r\n"
