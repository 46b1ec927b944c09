"""`etl template`: an empty import file with every column, that imports with no option once filled."""
from __future__ import annotations

import codecs
import csv

import pytest

from conftest import read_store
from etl.connectors.csv_format import open_csv, register_readers
from etl.plugins.fields import FIELDS


@pytest.mark.parametrize("lang, delimiter", [("en", ","), ("fr", ";")])
def test_csv_template_has_every_column_and_imports_once_filled(etl, tmp_path, lang, delimiter):
    result = etl("template", "--format", "csv", "--lang", lang, "--out", "t.csv")
    assert result.code == 0
    assert (tmp_path / "t.csv").read_bytes().startswith(codecs.BOM_UTF8)  # Excel then reads it as UTF-8
    with open(tmp_path / "t.csv", newline="", encoding="utf-8-sig") as handle:
        header = next(csv.reader(handle, delimiter=delimiter))
    assert header == [f.labels[lang] for f in FIELDS]
    table = open_csv(tmp_path / "t.csv", register_readers()[0].load_options({}))
    assert table.header == header  # accents and all, no BOM left
    table.close()
    empty = etl("run", "t.csv")
    assert empty.code == 2 and "no data lines" in empty.err
    with open(tmp_path / "t.csv", "a", newline="", encoding="utf-8") as handle:
        row = dict.fromkeys(header, "")
        row.update({header[0]: "C1", header[1]: "Acme", header[14]: "a@acme.example", header[19]: "PAYER",
                    header[20]: "1"})
        csv.writer(handle, delimiter=delimiter).writerow(row.values())
    assert etl("run", "t.csv").code == 0
    assert read_store(tmp_path / "etl-db.json")["contacts"][0]["position"] == "PAYER"


def test_every_described_field_is_described_in_french():
    described = [f for f in FIELDS if f.description]
    assert described and all(f.describe("fr") not in ("", f.description) for f in described)


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_xlsx_template_styles_lists_guide_and_a_filled_copy_imports(etl, tmp_path, lang):
    from openpyxl import load_workbook

    assert etl("template", "--format", "xlsx", "--lang", lang, "--out", "t.xlsx").code == 0
    workbook = load_workbook(tmp_path / "t.xlsx")
    sheet, guide = workbook.worksheets
    header = [c.value for c in sheet[1]]
    assert header == [f.labels[lang] for f in FIELDS]
    assert sheet["A1"].font.bold and sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["A"].width >= 14
    lists = {dv.formula1: str(dv.sqref) for dv in sheet.data_validations.dataValidation}
    assert lists['"ACCOUNTING,SALES,PURCHASER,PAYER"'].startswith("T2:") and lists['"1,0"'].startswith("U2:")
    assert [c.value for c in guide[1]] == {"en": ["Column", "What to enter", "Allowed values"],
                                           "fr": ["Colonne", "Contenu attendu", "Valeurs permises"]}[lang]
    assert [row[0].value for row in guide.iter_rows(min_row=2)] == header
    descriptions = [row[1].value for row in guide.iter_rows(min_row=2)]
    assert descriptions[11] == {"en": "Whole days, e.g. 30.", "fr": "En jours entiers, par ex. 30."}[lang]
    assert descriptions == [f.describe(lang) or None for f in FIELDS]
    values = {0: "C1", 1: "Acme", 5: "06000", 11: 45, 14: "a@acme.example", 17: 33123456789, 19: "PAYER", 20: 1}
    for column, value in values.items():
        sheet.cell(row=2, column=column + 1, value=value)
    workbook.save(tmp_path / "filled.xlsx")
    result = etl("run", "filled.xlsx")
    assert result.code == 0, result.err
    store = read_store(tmp_path / "etl-db.json")
    customer, contact = store["customers"][0], store["contacts"][0]
    assert (customer["postal_code"], customer["payment_period_days"]) == ("06000", 45)
    assert (contact["phone"], contact["is_main"], contact["position"]) == ("33123456789", True, "PAYER")
