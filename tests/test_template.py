"""`etl template`: an empty import file with every column, that imports with no option once filled."""
from __future__ import annotations

import csv

import pytest

from conftest import read_store
from etl.plugins.fields import FIELDS


@pytest.mark.parametrize("lang, delimiter", [("en", ","), ("fr", ";")])
def test_csv_template_has_every_column_and_imports_once_filled(etl, tmp_path, lang, delimiter):
    result = etl("template", "--format", "csv", "--lang", lang, "--out", "t.csv")
    assert result.code == 0
    with open(tmp_path / "t.csv", newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle, delimiter=delimiter))
    assert header == [f.labels[lang] for f in FIELDS]
    empty = etl("run", "t.csv")
    assert empty.code == 2 and "no data lines" in empty.err
    with open(tmp_path / "t.csv", "a", newline="", encoding="utf-8") as handle:
        row = dict.fromkeys(header, "")
        row.update({header[0]: "C1", header[1]: "Acme", header[14]: "a@acme.example", header[19]: "PAYER",
                    header[20]: "1"})
        csv.writer(handle, delimiter=delimiter).writerow(row.values())
    assert etl("run", "t.csv").code == 0
    assert read_store(tmp_path / "etl-db.json")["contacts"][0]["position"] == "PAYER"
