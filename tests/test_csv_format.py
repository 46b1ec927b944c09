"""The CSV reader and writer (etl.connectors.csv_format), on files the tests write."""
from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conftest import read_report, read_store
from etl.connectors import csv_format
from etl.connectors.csv_format import SAMPLE_SIZE, register_readers, write_csv
from etl.errors import InputError, UsageError

SPECTRUM = Path(__file__).parent / "data" / "csv" / "csv-spectrum"
NO_SEPARATOR = "no column separator found: expected ';', ',', '|' or tab between the column titles"
BINARY = "not a text CSV file (binary content)"


def open_csv(path: Path, options: dict[str, str]) -> csv_format.CsvTable:
    """The reader's ``open`` with ``options`` loaded by its schema, as a run opens it."""
    return csv_format.open_csv(path, register_readers()[0].load_options(options))


def write(path: Path, content: str | bytes, encoding: str = "utf-8") -> Path:
    """Write ``content`` as is (text encoded, line ends untouched)."""
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def read(path: Path, **options: str) -> tuple[list[str], list[tuple[int, list[str]]], dict[str, str]]:
    """Header, rows and format options of ``path``."""
    table = open_csv(path, options)
    try:
        return table.header, list(table.rows()), table.format_options
    finally:
        table.close()


def input_error(path: Path, **options: str) -> str:
    """The message of the InputError raised while opening and reading ``path``."""
    with pytest.raises(InputError) as info:
        read(path, **options)
    return str(info.value)


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    return tmp_path / "input.csv"


def test_registers_the_csv_format() -> None:
    [spec] = register_readers()
    assert (spec.name, spec.extensions) == ("csv", (".csv", ".txt", ".tsv", ".tab"))
    assert spec.open is csv_format.open_csv and spec.write is write_csv


# Separators


@pytest.mark.parametrize("delimiter", [";", ",", "|", "\t"])
def test_reads_each_separator(csv_file: Path, delimiter: str) -> None:
    write(csv_file, f"Name{delimiter}Town\nAcme{delimiter}Lyon\nBolt{delimiter}Paris\n")
    header, rows, options = read(csv_file)
    assert header == ["Name", "Town"]
    assert rows == [(2, ["Acme", "Lyon"]), (3, ["Bolt", "Paris"])]
    assert options["delimiter"] == delimiter


@pytest.mark.parametrize(
    ("content", "delimiter", "row"),
    [
        ("Name;Address\nAcme;1, rue de la Paix\n", ";", ["Acme", "1, rue de la Paix"]),
        ("Name;Address\nAcme;1, rue X, Paris\nBolt;2, rue Y, Lyon\n", ";", ["Acme", "1, rue X, Paris"]),
        ("Name;Address\nAcme;\"1; rue X, Paris\"\n", ";", ["Acme", "1; rue X, Paris"]),
        ("name,note\nAcme,x;y|z\n", ",", ["Acme", "x;y|z"]),
        ('name,note\nAcme,"p;q;r"\n', ",", ["Acme", "p;q;r"]),
        ('"a;b",c\n1,2\n', ",", ["1", "2"]),
        ("id|name\n1|Doe, John; Jr\n", "|", ["1", "Doe, John; Jr"]),
        ('id|name\n1|"a|b"\n', "|", ["1", "a|b"]),
        ("id\tname\n1\tDoe, John; Jr|x\n", "\t", ["1", "Doe, John; Jr|x"]),
        ("id;name\n1;a\tb\n2;c\td\n", ";", ["1", "a\tb"]),
    ],
)
def test_values_holding_other_separators_do_not_fool_detection(
    csv_file: Path, content: str, delimiter: str, row: list[str]
) -> None:
    write(csv_file, content)
    _, rows, options = read(csv_file)
    assert options["delimiter"] == delimiter
    assert rows[0] == (2, row)


def test_a_tab_separated_export_read_as_tsv(tmp_path: Path) -> None:
    path = write(tmp_path / "export.tsv", "Customer ID\tCustomer name\tCity\r\nC1\tDupont, Fils & Cie\tNice\r\n")
    header, rows, options = read(path)
    assert header == ["Customer ID", "Customer name", "City"]
    assert rows == [(2, ["C1", "Dupont, Fils & Cie", "Nice"])]
    assert options["delimiter"] == "\t"


def test_the_separator_most_consistent_with_the_header_wins(csv_file: Path) -> None:
    # ';' gives 2 fields on every line; ',' gives 2, 2 then 3.
    write(csv_file, "a;b,c\n1;2,3\n4;5,6,7\n")
    assert read(csv_file)[2]["delimiter"] == ";"


def test_ties_go_to_more_fields_then_to_semicolon(csv_file: Path, tmp_path: Path) -> None:
    write(csv_file, "a,b,c;d\n1,2,3;4\n")  # both consistent: ',' has more fields
    assert read(csv_file)[2]["delimiter"] == ","
    other = write(tmp_path / "other.csv", "a,b;c|d\n")  # header only, 2 fields each
    assert read(other)[2]["delimiter"] == ";"


@pytest.mark.parametrize("content", ["just one title\nvalue\n", "a:b\n1:2\n", "Name\n"])
def test_a_single_column_is_an_error(csv_file: Path, content: str) -> None:
    write(csv_file, content)
    assert input_error(csv_file) == NO_SEPARATOR


@pytest.mark.parametrize(
    ("value", "delimiter"),
    [(";", ";"), (",", ","), ("|", "|"), ("tab", "\t"), ("TAB", "\t"), ("\t", "\t"), ("\\t", "\t")],
)
def test_the_delimiter_option_overrides_detection(csv_file: Path, value: str, delimiter: str) -> None:
    write(csv_file, f"a;b{delimiter}c\n1;2{delimiter}3\n")
    header, rows, options = read(csv_file, delimiter=value)
    assert options["delimiter"] == delimiter
    assert rows == [(2, f"1;2{delimiter}3".split(delimiter))]
    assert header == f"a;b{delimiter}c".split(delimiter)


def test_a_forced_delimiter_absent_from_the_header_is_an_error(csv_file: Path) -> None:
    write(csv_file, "a;b\n1;2\n")
    assert input_error(csv_file, delimiter="|") == "no column separator found: expected '|' between the column titles"
    assert input_error(csv_file, delimiter="tab") == "no column separator found: expected tab between the column titles"


@pytest.mark.parametrize(
    "options",
    [{"delimiter": "x"}, {"delimiter": ""}, {"sheet": "2"}, {"max_field_size": "0"}, {"max_field_size": "ten"}],
)
def test_bad_options_are_usage_errors(csv_file: Path, options: dict[str, str]) -> None:
    write(csv_file, "a;b\n1;2\n")
    with pytest.raises(UsageError):
        open_csv(csv_file, options)


# Encodings

ACCENTS = "Nom;Ville\nSociété Générale;Orléans\nCafé;Prix 5 €\n"
ACCENT_ROWS = [(2, ["Société Générale", "Orléans"]), (3, ["Café", "Prix 5 €"])]


@pytest.mark.parametrize(
    ("encoding", "prefix", "reported"),
    [
        ("utf-8", b"", "utf-8"),
        ("utf-8", codecs.BOM_UTF8, "utf-8-sig"),
        ("utf-16-le", codecs.BOM_UTF16_LE, "utf-16"),
        ("utf-16-be", codecs.BOM_UTF16_BE, "utf-16"),
        ("utf-32-le", codecs.BOM_UTF32_LE, "utf-32"),
        ("cp1252", b"", "cp1252"),
        ("utf-16-le", b"", "utf-16-le"),
        ("utf-16-be", b"", "utf-16-be"),
    ],
)
def test_detects_the_encoding(csv_file: Path, encoding: str, prefix: bytes, reported: str) -> None:
    write(csv_file, prefix + ACCENTS.encode(encoding))
    header, rows, options = read(csv_file)
    assert header == ["Nom", "Ville"]  # no BOM left in the first title
    assert rows == ACCENT_ROWS
    assert options["encoding"] == reported


def test_falls_back_to_latin1_when_cp1252_cannot_decode(csv_file: Path) -> None:
    write(csv_file, b"a;b\n\xe9t\xe9;x\x81y\n")  # 0x81 is undefined in cp1252
    header, rows, options = read(csv_file)
    assert rows == [(2, ["été", "x\x81y"])]
    assert options["encoding"] == "latin-1"


@pytest.mark.parametrize(("late", "encoding"), [("é€", "utf-8"), ("é€", "cp1252")])
def test_the_whole_file_decides_the_encoding(csv_file: Path, late: str, encoding: str) -> None:
    # The first non-ASCII character comes after the sampled head.
    filler = "".join(f"{n};{'x' * 20}\n" for n in range(2 * SAMPLE_SIZE // 20))
    write(csv_file, f"a;b\n{filler}{late};end\n", encoding)
    _, rows, options = read(csv_file)
    assert options["encoding"] == encoding
    assert rows[-1][1] == [late, "end"]


def test_lines_excel_resaved_in_windows_1252_are_read_as_such_with_one_warning(csv_file: Path) -> None:
    utf8 = "Nom;Ville\r\nSociété Générale;Orléans\r\n"
    write(csv_file, utf8.encode() + "Crédit Agricole;Nîmes\r\n".encode("cp1252") + "Café;Prix 5 €\r\n".encode()
          + "Hôtel;Sète\r\n".encode("cp1252") + "x;\x81\r\n".encode("latin-1"))  # 0x81: undefined in cp1252
    table = open_csv(csv_file, {})
    assert list(table.rows()) == [(2, ["Société Générale", "Orléans"]), (3, ["Crédit Agricole", "Nîmes"]),
                                  (4, ["Café", "Prix 5 €"]), (5, ["Hôtel", "Sète"]), (6, ["x", "\x81"])]
    assert table.format_options["encoding"] == "utf-8"  # rejects are written in UTF-8
    assert [(w.line, w.message) for w in table.warnings] == [
        (3, "3 lines (the first: line 3) are not UTF-8 like the rest of the file: read as Windows-1252")]


def test_the_windows_1252_warning_reaches_the_report(etl, tmp_path: Path) -> None:
    lines = ["Customer ID;Customer name;Contact email", "C1;Société Générale;a@sg.example", "C2;Crédit;c@c.example"]
    write(tmp_path / "mixed.csv", "\r\n".join(lines[:2]).encode() + b"\r\n" + lines[2].encode("cp1252") + b"\r\n")
    result = etl("run", "mixed.csv", "--report", "report.json")
    assert result.code == 0, result.err
    assert [c["name"] for c in read_store(tmp_path / "etl-db.json")["customers"]] == ["Société Générale", "Crédit"]
    assert [(w["line"], w["message"]) for w in read_report(tmp_path / "report.json")["warnings"]] == [
        (3, "1 line (line 3) is not UTF-8 like the rest of the file: read as Windows-1252")]


def test_a_windows_1252_line_after_the_first_16_mb_of_utf8(csv_file: Path) -> None:
    filler = "".join(f"{n};Société n° {n:07d} {'x' * 40}\n" for n in range(300_000))
    write(csv_file, f"Nom;Ville\n{filler}".encode() + "Crédit;Orléans\r\n".encode("cp1252") + b"end;1\n")
    assert csv_file.stat().st_size > 16 << 20
    table = open_csv(csv_file, {})
    rows = list(table.rows())
    assert rows[1] == (3, ["1", "Société n° 0000001 " + "x" * 40])
    assert rows[-2:] == [(300_002, ["Crédit", "Orléans"]), (300_003, ["end", "1"])]
    assert [(w.line, w.message) for w in table.warnings] == [
        (300_002, "1 line (line 300002) is not UTF-8 like the rest of the file: read as Windows-1252")]


def test_a_windows_1252_line_first_and_accented_utf8_only_after_16_mb(csv_file: Path) -> None:
    """The encoding is decided on the whole file, never on its first 16 MB alone (nothing is read garbled)."""
    filler = "".join(f"{n};Plain {n:07d} {'x' * 40}\n" for n in range(300_000))
    write(csv_file, b"Nom;Ville\n" + "Crédit;Orléans\n".encode("cp1252") + filler.encode() + "Crème;Brûlée\n".encode())
    assert csv_file.stat().st_size > 16 << 20
    table = open_csv(csv_file, {})
    rows = list(table.rows())
    assert rows[0] == (2, ["Crédit", "Orléans"]) and rows[-1] == (300_003, ["Crème", "Brûlée"])
    assert [(w.line, w.message) for w in table.warnings] == [
        (2, "1 line (line 2) is not UTF-8 like the rest of the file: read as Windows-1252")]


@pytest.mark.parametrize("line_end", ["\n", "\r", "\r\n"])
def test_windows_1252_lines_after_a_utf8_bom_name_their_line(csv_file: Path, line_end: str) -> None:
    write(csv_file, codecs.BOM_UTF8 + f"Nom;Ville{line_end}1;2{line_end}".encode()
          + f"Crédit;Orléans{line_end}".encode("cp1252"))
    table = open_csv(csv_file, {})
    assert table.header == ["Nom", "Ville"]
    assert list(table.rows()) == [(2, ["1", "2"]), (3, ["Crédit", "Orléans"])]
    assert [w.line for w in table.warnings] == [3]


def test_a_nul_after_windows_1252_lines_is_still_refused(csv_file: Path) -> None:
    filler = b"a;b\n" * SAMPLE_SIZE  # the NUL comes after the head checked for binary content
    head = "Nom;Ville\nSociété;Orléans\n".encode() + "Crédit;Nîmes\n".encode("cp1252")
    write(csv_file, head + filler + b"a;\x00\n")
    assert input_error(csv_file) == f"line {4 + SAMPLE_SIZE}: a NUL character: {BINARY}"


@pytest.mark.parametrize(("last", "encoding", "euro"), [(b"x;y\n", "cp1252", "€"), (b"x;\x81\n", "latin-1", "\x80")])
def test_a_windows_1252_file_longer_than_its_head_is_decided_on_all_of_it(csv_file: Path, last: bytes,
                                                                          encoding: str, euro: str) -> None:
    """Its rest is kept aside while read, and decoded once its end told the encoding: the file is read once."""
    filler = "".join(f"{n};Crédit n° {n}\n" for n in range(SAMPLE_SIZE // 10)).encode("cp1252")
    write(csv_file, "Nom;Prix\nCafé;5 €\n".encode("cp1252") + filler + last)
    table = open_csv(csv_file, {})
    try:
        rows = list(table.rows())
        assert rows[0] == (2, ["Café", f"5 {euro}"]) and rows[1] == (3, ["0", "Crédit n° 0"])
        assert rows[-1] == (len(rows) + 1, last.decode("latin-1").strip().split(";"))
        assert (table.format_options["encoding"], table.warnings) == (encoding, [])
        assert table.checksum == "sha256:" + hashlib.sha256(csv_file.read_bytes()).hexdigest()
    finally:
        table.close()


def test_a_forced_utf8_still_refuses_windows_1252_lines(csv_file: Path) -> None:
    write(csv_file, "Nom;Ville\nSociété;Orléans\n".encode() + "Crédit;Nîmes\n".encode("cp1252"))
    assert input_error(csv_file, encoding="utf-8").startswith("line 3: the text cannot be decoded as utf-8 ")


def test_the_encoding_option_overrides_detection(csv_file: Path) -> None:
    write(csv_file, ACCENTS)
    _, rows, options = read(csv_file, encoding="latin-1")
    assert rows[0][1][0] == "SociÃ©tÃ© GÃ©nÃ©rale"
    assert options["encoding"] == "latin-1"


def test_a_forced_utf8_strips_the_bom_from_the_header(csv_file: Path) -> None:
    write(csv_file, codecs.BOM_UTF8 + b"Nom;Ville\n1;2\n")
    header, _, options = read(csv_file, encoding="utf-8")
    assert header == ["Nom", "Ville"]
    assert options["encoding"] == "utf-8"


def test_bytes_the_forced_encoding_cannot_decode_name_their_line(csv_file: Path) -> None:
    write(csv_file, ACCENTS, "cp1252")
    assert input_error(csv_file, encoding="utf-8") == (
        "line 2: the text cannot be decoded as utf-8 (give the right one with --reader-option encoding=NAME)"
    )


def test_forcing_utf16_on_a_file_without_bom_is_an_input_error(csv_file: Path) -> None:
    write(csv_file, "a;b\r\n1;2\r\n", "utf-16-le")
    assert input_error(csv_file, encoding="utf-16").startswith("line 1: the text cannot be decoded as utf-16 ")
    assert read(csv_file, encoding="utf-16-le")[1] == [(2, ["1", "2"])]


def test_a_truncated_utf16_file_names_its_last_line(csv_file: Path) -> None:
    write(csv_file, codecs.BOM_UTF16_LE + "a;b\r\n1;2\r\n3;4".encode("utf-16-le") + b"\x00")
    assert input_error(csv_file).startswith("line 3: the text cannot be decoded as utf-16 ")


def test_a_file_changed_after_it_was_read_still_names_the_line(csv_file: Path) -> None:
    """The first ``rows()`` goes on with the read that found the header; the next ones read the file again."""
    write(csv_file, "a;b\n1;2\n")
    table = open_csv(csv_file, {})
    write(csv_file, b"a;b\n1;2\n3;\xff\n")
    assert list(table.rows()) == [(2, ["1", "2"])]
    with pytest.raises(InputError, match="^line 3: the text cannot be decoded as utf-8 "):
        list(table.rows())


@pytest.mark.parametrize("name", ["no-such-codec", "rot13", "base64"])
def test_an_unknown_encoding_is_a_bad_option(csv_file: Path, name: str) -> None:
    write(csv_file, "a;b\n")
    with pytest.raises(UsageError) as raised:
        read(csv_file, encoding=name)
    assert str(raised.value) == f"csv reader option encoding={name!r}: Not a text encoding Python knows."


# Lines and records


@pytest.mark.parametrize(("newline", "name"), [("\r\n", "CRLF"), ("\n", "LF"), ("\r", "CR")])
def test_line_ends(csv_file: Path, newline: str, name: str) -> None:
    write(csv_file, newline.join(["a;b", "1;2", "", "3;4", ""]))
    header, rows, options = read(csv_file)
    assert header == ["a", "b"]
    assert rows == [(2, ["1", "2"]), (4, ["3", "4"])]
    assert options["lineterminator"] == newline


def test_a_multiline_value_moves_the_next_line_number(csv_file: Path) -> None:
    write(csv_file, 'a;b\r\n1;"first\r\nsecond"\r\n2;"x\ny\nz"\r\n3;end\r\n')
    assert read(csv_file)[1] == [(2, ["1", "first\r\nsecond"]), (4, ["2", "x\ny\nz"]), (7, ["3", "end"])]


def test_a_multiline_title(csv_file: Path) -> None:
    write(csv_file, '" Town\nname ";b\n1;2\n')
    header, rows, _ = read(csv_file)
    assert header == ["Town\nname", "b"]
    assert rows == [(3, ["1", "2"])]


def test_blank_lines_are_skipped_but_counted(csv_file: Path) -> None:
    write(csv_file, "\n  \na;b\n\n1;2\n   \n;\n ; \n\"\";\"\"\n3;4\n\n")
    assert read(csv_file)[1] == [(5, ["1", "2"]), (10, ["3", "4"])]


def test_doubled_quotes(csv_file: Path) -> None:
    write(csv_file, 'a;b\n1;"say ""hi"""\n')
    assert read(csv_file)[1] == [(2, ["1", 'say "hi"'])]


def test_values_are_kept_as_written_titles_are_stripped(csv_file: Path) -> None:
    write(csv_file, " Name ;\tTown \n  Acme ; Lyon\t\n")
    header, rows, _ = read(csv_file)
    assert header == ["Name", "Town"]
    assert rows == [(2, ["  Acme ", " Lyon\t"])]


def test_field_counts_are_not_checked(csv_file: Path) -> None:
    write(csv_file, "a;b\n1\n1;2;3\n")
    assert read(csv_file)[1] == [(2, ["1"]), (3, ["1", "2", "3"])]


@pytest.mark.parametrize(
    "content",
    [b"", b"\n\n  \r\n\t\n", b';;\n"";" "\n', codecs.BOM_UTF8, codecs.BOM_UTF16_LE + " \n".encode("utf-16-le")],
)
@pytest.mark.parametrize("options", [{}, {"delimiter": ";"}])
def test_an_empty_file_is_an_error(csv_file: Path, content: bytes, options: dict[str, str]) -> None:
    write(csv_file, content)
    assert input_error(csv_file, **options) == "the file is empty"


def test_a_long_blank_head_is_not_empty(csv_file: Path) -> None:
    write(csv_file, "\n" * (3 * SAMPLE_SIZE) + "a;b\n1;2\n")
    assert read(csv_file)[:2] == (["a", "b"], [(3 * SAMPLE_SIZE + 2, ["1", "2"])])


@pytest.mark.parametrize(
    "content",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00",
        b"a;b\n1;\x00\n",
        b"a;b\n" + bytes(range(1, 9)) * 4 + b"\n",
        bytes(range(256)) * 8,
    ],
)
@pytest.mark.parametrize("options", [{}, {"encoding": "latin-1"}])
def test_binary_content_is_an_error(csv_file: Path, content: bytes, options: dict[str, str]) -> None:
    write(csv_file, content)
    assert input_error(csv_file, **options).endswith(BINARY)  # with "line N: a NUL character: " if forced


def test_a_nul_past_the_first_64_kib_is_an_error_naming_its_line(csv_file: Path) -> None:
    write(csv_file, b"a;b\n" + b"1;2\n" * 40_000 + b"3;\x00\n")
    assert input_error(csv_file) == f"line 40002: a NUL character: {BINARY}"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
def test_a_nul_is_found_on_its_line_in_every_encoding(csv_file: Path, encoding: str) -> None:
    """Some encodings are searched for a NUL byte, others decoded first: the line is the same."""
    write(csv_file, ("a;b\n" + "é;2\n" * 100_000 + "3;\x00\n").encode(encoding))  # past the first chunks
    assert input_error(csv_file) == f"line 100002: a NUL character: {BINARY}"


def test_a_few_control_characters_are_text(csv_file: Path) -> None:
    write(csv_file, "a;b\n1;page\x0cbreak\n\x1a")
    assert read(csv_file)[1] == [(2, ["1", "page\x0cbreak"]), (3, ["\x1a"])]


# Field size


def test_a_field_beyond_csv_default_limit_is_read(csv_file: Path) -> None:
    big = "x" * 200_000
    write(csv_file, f'a;b\n1;"{big}"\n2;{big}\n')
    assert read(csv_file)[1] == [(2, ["1", big]), (3, ["2", big])]


def test_a_field_beyond_max_field_size_is_an_error(csv_file: Path) -> None:
    write(csv_file, 'a;b\n1;short\n2;"multi\nline"\n3;' + "x" * 1001 + "\n")
    assert input_error(csv_file, max_field_size="1000") == (
        "line 5: a field is longer than 1000 characters (raise the limit with --reader-option max_field_size=N)"
    )
    assert read(csv_file, max_field_size="1001")[1][-1] == (5, ["3", "x" * 1001])


# Rows and close


def test_rows_can_be_read_again_and_interleaved(csv_file: Path) -> None:
    write(csv_file, "a;b\n1;2\n3;4\n")
    table = open_csv(csv_file, {})
    first, second = table.rows(), table.rows()
    assert next(first) == (2, ["1", "2"])
    assert list(second) == [(2, ["1", "2"]), (3, ["3", "4"])]
    assert list(first) == [(3, ["3", "4"])]
    assert list(table.rows()) == [(2, ["1", "2"]), (3, ["3", "4"])]
    table.close()


def test_close_releases_an_unfinished_iteration(csv_file: Path) -> None:
    write(csv_file, "a;b\n1;2\n3;4\n")
    table = open_csv(csv_file, {})
    rows = table.rows()
    next(rows)
    table.close()
    with pytest.raises(ValueError, match="closed file"):
        next(rows)


# Writing


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("cp1252", b""), ("utf-8", b""), ("utf-8-sig", codecs.BOM_UTF8), ("utf-16", codecs.BOM_UTF16_LE)],
)
@pytest.mark.parametrize("delimiter", [";", ",", "|"])
def test_rejects_are_written_in_the_input_format(tmp_path: Path, encoding: str, bom: bytes, delimiter: str) -> None:
    d = delimiter
    source = write(tmp_path / "in.csv", f'Nom{d}Ville\r\nSociété Générale{d}"Orléans{d} 5 €"\r\n', encoding)
    table = open_csv(source, {})
    rejects = tmp_path / "rejects.csv"
    write_csv(rejects, [*table.header, "error"], [[*values, "bad"] for _, values in table.rows()], table.format_options)
    expected = f'Nom{d}Ville{d}error\r\nSociété Générale{d}"Orléans{d} 5 €"{d}bad\r\n'
    assert rejects.read_bytes() == expected.encode(encoding)
    assert rejects.read_bytes().startswith(bom)
    assert read(rejects)[2] == table.format_options


def test_write_defaults_and_quoting(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    write_csv(path, ["a", "b"], [["x,y", 'say "hi"'], ["multi\nline", 3], ["plain", None]], {})
    assert path.read_bytes() == b'a,b\r\n"x,y","say ""hi"""\r\n"multi\nline",3\r\nplain,\r\n'


def test_write_keeps_lf_and_replaces_what_the_encoding_lacks(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    write_csv(path, ["a", "b"], [["é", "→"]], {"delimiter": ";", "encoding": "cp1252", "lineterminator": "\n"})
    assert path.read_bytes() == b"a;b\n\xe9;?\n"


# Third-party files


@pytest.mark.parametrize(
    "name", ["comma_in_quotes", "escaped_quotes", "newlines", "newlines_crlf", "quotes_and_newlines", "utf8", "empty"]
)
def test_csv_spectrum(name: str) -> None:
    header, rows, options = read(SPECTRUM / "csvs" / f"{name}.csv")
    expected = json.loads((SPECTRUM / "json" / f"{name}.json").read_text(encoding="utf-8"))
    assert [dict(zip(header, values, strict=True)) for _, values in rows] == expected
    assert options["delimiter"] == ","


def test_csv_spectrum_line_numbers() -> None:
    assert [line for line, _ in read(SPECTRUM / "csvs" / "quotes_and_newlines.csv")[1]] == [2, 5]
    assert [line for line, _ in read(SPECTRUM / "csvs" / "newlines_crlf.csv")[1]] == [2, 3, 5]


# Properties

SEPARATORS_AND_QUOTES = ';,|\t"\r\n'
BLANKS = "\t\r\n "
EXTRA = st.sampled_from(list(SEPARATORS_AND_QUOTES + BLANKS + "'é€\ufeff\u2028\x85"))
TEXT_CHARS = {
    # No C0 control but tab, CR, LF: a text with many of them is taken for binary content.
    "any": st.characters(exclude_categories=("Cs", "Cc")) | EXTRA,
    "cp1252": st.characters(codec="cp1252", exclude_categories=("Cc",))
    | EXTRA.filter(lambda c: c.isascii() or c in "é€"),
}


@st.composite
def tables(draw: st.DrawFn, encoding: str, plain_titles: bool) -> tuple[list[str], list[list[str]]]:
    """A header of distinct stripped titles (free of separators, quotes and line ends if
    ``plain_titles``) and 1 to 20 rows of any text."""
    chars = TEXT_CHARS["cp1252" if encoding == "cp1252" else "any"]
    titles = st.text(chars, min_size=1, max_size=12).filter(lambda t: t == t.strip() and not t.startswith("\ufeff"))
    if plain_titles:
        titles = titles.filter(lambda t: not set(t) & set(SEPARATORS_AND_QUOTES))
    header = draw(st.lists(titles, min_size=2, max_size=6, unique=True))
    row = st.lists(st.text(chars, max_size=15), min_size=len(header), max_size=len(header))
    return header, draw(st.lists(row, min_size=1, max_size=20))


@st.composite
def encoded_tables(draw: st.DrawFn) -> tuple[list[str], list[list[str]], str, str, bytes, bool]:
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]))
    delimiter = draw(st.sampled_from([";", ",", "|"]))
    plain_titles = draw(st.booleans())
    header, rows = draw(tables(encoding, plain_titles))
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])))
    writer.writerow(header)
    writer.writerows(rows)
    return header, rows, encoding, delimiter, buffer.getvalue().encode(encoding), plain_titles


def expected_rows(header: list[str], rows: list[list[str]], delimiter: str) -> list[tuple[int, list[str]]]:
    """The non-blank rows with the line where csv.writer puts each (CR, LF and CRLF end a line)."""
    expected, line = [], 1
    for record in [header, *rows]:
        buffer = io.StringIO(newline="")
        csv.writer(buffer, delimiter=delimiter).writerow(record)
        text = buffer.getvalue()
        if record is not header and "".join(record).strip():
            expected.append((line, record))
        line += text.count("\n") + text.count("\r") - text.count("\r\n")
    return expected


def is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One file path for all the examples of a property (function-scoped tmp_path is not reset between them)."""
    return tmp_path_factory.mktemp("examples") / "example.csv"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=encoded_tables())
def test_any_written_table_reads_back(scratch: Path, table) -> None:
    header, rows, encoding, delimiter, data, plain_titles = table
    # Windows-1252 lines that happen to be valid UTF-8 are (rightly) read as UTF-8.
    assume(not (encoding == "cp1252" and any(not line.isascii() and is_utf8(line) for line in data.splitlines())))
    path = write(scratch, data)
    # Titles holding separators make the separator ambiguous: give it.
    options = {} if plain_titles else {"delimiter": delimiter}
    read_header, read_rows, format_options = read(path, **options)
    assert read_header == header
    assert read_rows == expected_rows(header, rows, delimiter)
    assert format_options["delimiter"] == delimiter
    ascii_read_as_utf8 = encoding == "cp1252" and data.isascii()
    assert format_options["encoding"] == ("utf-8" if ascii_read_as_utf8 else encoding)


BOM_PREFIXES = st.sampled_from([codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE])
CSV_TOKENS = st.sampled_from(
    [b";", b",", b"|", b'"', b"\r", b"\n", b" ", b"\t", b"a", b"\xe9", b"\xc3\xa9", b"\x81", b"\x00", b"\x1a"]
)


@settings(max_examples=300, deadline=None)
@given(
    data=st.binary(max_size=3000)
    | st.tuples(BOM_PREFIXES, st.binary()).map(b"".join)
    | st.lists(CSV_TOKENS, max_size=200).map(b"".join)
)
def test_random_bytes_raise_nothing_but_input_errors(scratch: Path, data: bytes) -> None:
    path = write(scratch, data)
    try:
        read(path)
    except InputError as exc:
        assert "\n" not in str(exc)
