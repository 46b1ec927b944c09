"""Writes the files of written/ (the bad inputs written for this project, see SOURCES.md).

Run from the repository root: ``python tests/data/bad/make_written_files.py``. The output is
the same bytes on every run (fixed random seed, fixed zip member times). The builders come
from tests/test_bad_inputs.py, which generates the large cases the same way at run time.
"""
from __future__ import annotations

import hashlib
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from test_bad_inputs import (  # noqa: E402
    HEADER,
    column_name,
    csv_text,
    entity_bomb,
    ods_bytes,
    ods_row,
    shared_strings_xml,
    sheet_xml,
    xlsx_bytes,
    xlsx_rows,
    zip_bytes,
)

GOOD = [("C1", "Acme", "a@acme.example"), ("C2", "Beta", "b@beta.example")]
BAD_EMAIL = ("C3", "Gamma", "not-an-email")
GOOD_XLSX = xlsx_bytes(sheet_xml(xlsx_rows([HEADER, *GOOD])))


def many_good_lines(count: int) -> str:
    return csv_text(*[(f"C{i}", f"Customer {i}", f"c{i}@example.com") for i in range(1, count + 1)])


def formulas_without_cached_values() -> bytes:
    # what openpyxl (and most libraries) write: <f> without <v>
    rows = (xlsx_rows([HEADER]) + '<row r="2"><c r="A2" t="inlineStr"><is><t>C1</t></is></c>'
            '<c r="B2"><f>UPPER("acme")</f></c><c r="C2" t="inlineStr"><is><t>a@acme.example</t></is></c></row>'
            '<row r="3"><c r="A3" t="inlineStr"><is><t>C2</t></is></c><c r="B3" t="inlineStr"><is><t>Beta</t></is>'
            '</c><c r="C3" t="str"><f>A3&amp;"@beta.example"</f></c></row>')
    return xlsx_bytes(sheet_xml(rows))


def merged_cells() -> bytes:
    # customer C2 on three lines, its ID and name merged down: rows 4 and 5 read blank there
    rows = xlsx_rows([HEADER, GOOD[0], ("C2", "Beta", "b1@beta.example"), ("", "", "b2@beta.example"),
                      ("", "", "b3@beta.example")])
    merges = '<mergeCells count="2"><mergeCell ref="A3:A5"/><mergeCell ref="B3:B5"/></mergeCells>'
    return xlsx_bytes(sheet_xml(rows, after=merges))


def merged_header_cells() -> bytes:
    # the three column titles merged into one cell: only 'Customer ID' is left, as a title
    rows = xlsx_rows([("Customer ID",), *GOOD], first=1)
    merges = '<mergeCells count="1"><mergeCell ref="A1:C1"/></mergeCells>'
    return xlsx_bytes(sheet_xml(rows, after=merges))


def zip_without_workbook() -> bytes:
    return zip_bytes([("customers.csv", csv_text(HEADER, *GOOD).encode())])


def ods_lines(*extra: str) -> str:
    return "".join(ods_row(r) for r in [HEADER, *GOOD]) + "".join(extra)


FILES = {
    # CSV: not text at all
    "binary-junk.csv": lambda: random.Random(1).randbytes(4096),
    "nul-bytes.csv": lambda: csv_text(HEADER, ("C1", "Acme\x00Corp", "a@acme.example"),
                                      ("C2", "Beta", "b@\x00beta.example")).encode(),
    "nul-bytes-after-64k.csv": lambda: (csv_text(HEADER) + many_good_lines(2100) + csv_text(
        ("Z9", "Bad\x00Name", "n@example.com"), ("Z10", "Ok", "ok@exam\x00ple.com"))).encode(),
    "control-chars-in-header.csv": lambda: csv_text(("Customer\x01ID", "Customer\x02name", "Contact\x1bemail"),
                                                    GOOD[0]).encode(),
    "html-saved-as.csv": lambda: (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Customers</title></head><body>\n"
        "<table>\n<tr><th>Customer ID</th><th>Customer name</th><th>Contact email</th></tr>\n"
        "<tr><td>C1</td><td>Acme</td><td>a@acme.example</td></tr>\n</table>\n</body></html>\n").encode(),
    "xlsx-saved-as.csv": lambda: GOOD_XLSX,
    # CSV: encodings
    "utf16le-without-bom.csv": lambda: csv_text(HEADER, *GOOD, BAD_EMAIL).encode("utf-16-le"),
    "utf16-odd-byte-count.csv": lambda: csv_text(HEADER, *GOOD).encode("utf-16") + b"A",
    "mixed-encodings.csv": lambda: (csv_text(HEADER, ("C1", "Société Générale", "compta@societe.example"))
                                    .encode("utf-8")
                                    + csv_text(("C2", "Crédit Agricole", "credit@credit.example"), BAD_EMAIL)
                                    .encode("cp1252")),
    "utf8-bom-then-cp1252.csv": lambda: b"\xef\xbb\xbf" + csv_text(HEADER, ("C1", "Crédit", "a@b.example"), BAD_EMAIL)
    .encode("cp1252"),
    "utf16-bom-then-utf8.csv": lambda: b"\xff\xfe" + csv_text(HEADER, ("C1", "Crédit", "a@b.example")).encode(),
    "bom-only.csv": lambda: b"\xef\xbb\xbf",
    # CSV: structure
    "header-only.csv": lambda: csv_text(HEADER).encode(),
    "header-repeated.csv": lambda: csv_text(HEADER, GOOD[0], HEADER, GOOD[1]).encode(),
    "blank-lines-only.csv": lambda: b"\r\n \r\n\t\r\n\r\n",
    "only-separators.csv": lambda: b";;;\r\n" * 100,
    "field-count-mismatch.csv": lambda: csv_text(HEADER, GOOD[0], ("C2", "Beta"),
                                                 ("C3", "Gamma", "c@gamma.example", "extra")).encode(),
    "unbalanced-quote-on-first-line.csv": lambda: (csv_text(HEADER) + 'C1;"Acme;a@acme.example\r\n'
                                                   + csv_text(*GOOD[1:], ("C3", "Gamma", "c@gamma.example")))
    .encode(),
    "unbalanced-quote-swallows-the-rest.csv": lambda: (csv_text(HEADER, GOOD[0]) + 'C2;"Beta;b@beta.example\r\n'
                                                       + csv_text(("C3", "Gamma", "c@gamma.example"))).encode(),
    "tab-separated.csv": lambda: csv_text(HEADER, *GOOD, BAD_EMAIL, delimiter="\t").encode(),
    "mixed-separators.csv": lambda: (csv_text(HEADER) + csv_text(GOOD[0], delimiter=",")
                                     + csv_text(GOOD[1])).encode(),
    "cr-line-ends-bad-email.csv": lambda: csv_text(HEADER, GOOD[0], BAD_EMAIL).replace("\r\n", "\r").encode(),
    "quoted-newlines-bad-email.csv": lambda: (csv_text(HEADER) + 'C1;"Acme\r\nHolding";a@acme.example\r\n'
                                              'C2;"Beta\r\n\r\nSA";not-an-email\r\n').encode(),
    "csv-saved-as.xlsx": lambda: csv_text(HEADER, *GOOD).encode(),
    # xlsx: broken zips, wrong formats
    "truncated-half.xlsx": lambda: GOOD_XLSX[: len(GOOD_XLSX) // 2],
    "truncated-tail.xlsx": lambda: GOOD_XLSX[:-10],
    "zip-without-workbook.xlsx": zip_without_workbook,
    "xlsx-named.xlsb": lambda: GOOD_XLSX,
    "xlsx-named.xls": lambda: GOOD_XLSX,
    "xlsx-named.ods": lambda: GOOD_XLSX,
    "ole-signature-then-junk.xls": lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + random.Random(2).randbytes(4088),
    # xlsx: hostile or broken XML
    "entity-bomb-in-sheet.xlsx": lambda: xlsx_bytes(sheet_xml(
        xlsx_rows([HEADER, ("C1", "&a9;", "a@acme.example")]), prolog=entity_bomb("worksheet"))),
    "entity-bomb-in-shared-strings.xlsx": lambda: xlsx_bytes(
        sheet_xml(xlsx_rows([HEADER, *GOOD]) + '<row r="4"><c r="A4" t="inlineStr"><is><t>C3</t></is></c>'
                  '<c r="B4" t="s"><v>0</v></c></row>'),
        shared_strings_xml(("&a9;",), prolog=entity_bomb("sst"))),
    "entity-quadratic-blowup.xlsx": lambda: xlsx_bytes(sheet_xml(
        xlsx_rows([HEADER, ("C1", "&a;" * 20000, "a@acme.example")]),
        prolog='<!DOCTYPE worksheet [<!ENTITY a "' + "x" * 50000 + '">]>')),
    "external-entity-in-sheet.xlsx": lambda: xlsx_bytes(sheet_xml(
        xlsx_rows([HEADER, ("C1", "&x;", "a@acme.example")]),
        prolog='<!DOCTYPE worksheet [<!ENTITY x SYSTEM "file:///etc/passwd">]>')),
    "sheet-xml-truncated.xlsx": lambda: xlsx_bytes(sheet_xml(xlsx_rows([HEADER, *GOOD]))[:-40]),
    "sheet-xml-not-utf8.xlsx": lambda: xlsx_bytes(sheet_xml(xlsx_rows([HEADER, *GOOD])).replace(b"Acme", b"Acm\xe9")),
    "shared-string-index-out-of-range.xlsx": lambda: xlsx_bytes(sheet_xml(
        xlsx_rows([HEADER, *GOOD]) + '<row r="4"><c r="A4" t="s"><v>999999</v></c><c r="B4" t="s"><v>-1</v></c>'
        "</row>")),
    "cell-reference-column-overflow.xlsx": lambda: xlsx_bytes(sheet_xml(
        xlsx_rows([HEADER, *GOOD]) + '<row r="4"><c r="ZZZZZZZZ4"><v>1</v></c></row>')),
    "row-number-99999999999.xlsx": lambda: xlsx_bytes(sheet_xml(
        xlsx_rows([HEADER, *GOOD]) + '<row r="99999999999"><c r="A99999999999"><v>1</v></c></row>')),
    "cells-a1-and-xfd1048576.xlsx": lambda: xlsx_bytes(sheet_xml(
        xlsx_rows([HEADER, *GOOD]) + f'<row r="1048576"><c r="{column_name(16384)}1048576"><v>1</v></c></row>',
        dimension="A1:XFD1048576")),
    "formulas-without-cached-values.xlsx": formulas_without_cached_values,
    "merged-cells.xlsx": merged_cells,
    "merged-header-cells.xlsx": merged_header_cells,
    # ods
    "ods-malformed-xml.ods": lambda: ods_bytes(ods_lines().replace("</table:table-row>", "", 1)),
    "ods-entity-bomb.ods": lambda: ods_bytes(ods_row(HEADER) + ods_row(("C1", "&a9;", "a@acme.example")),
                                             prolog=entity_bomb("office:document-content")),
    "ods-repeated-columns-16384.ods": lambda: ods_bytes(ods_lines(ods_row(
        ("x",), cell_attributes=' table:number-columns-repeated="16384"'))),
    "ods-repeated-rows-1048576.ods": lambda: ods_bytes(ods_lines(ods_row(  # rows 4 to 1,048,576
        ("x",), row_attributes=' table:number-rows-repeated="1048573"',
        cell_attributes=' table:number-columns-repeated="3"'))),
    "ods-repeated-cells-16-billion.ods": lambda: ods_bytes(ods_lines(ods_row(
        ("x",), row_attributes=' table:number-rows-repeated="1000000"',
        cell_attributes=' table:number-columns-repeated="16384"'))),
}


def main() -> None:
    folder = HERE / "written"
    folder.mkdir(exist_ok=True)
    for name, make in FILES.items():
        data = make()
        (folder / name).write_bytes(data)
        print(f"| written/{name} | {len(data)} | {hashlib.sha256(data).hexdigest()[:16]} |")


if __name__ == "__main__":
    main()
