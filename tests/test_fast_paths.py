"""The fast paths give exactly the results of the plain ones."""
from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

import etl
from conftest import write_csv
from etl.plugins.rules import CustomerRules, texts_of, unquote_formula
from test_accounting import generated_rows


@given(st.lists(st.text(alphabet=" \t\n'=+-@ab\x1f", max_size=6), max_size=8))
def test_texts_of_is_strip_and_unquote_of_each_cell(column):
    assert texts_of(list(column)) == [unquote_formula(cell.strip()) for cell in column]


def test_the_short_path_for_common_lines_changes_nothing(tmp_path, monkeypatch):
    rows = generated_rows(400, seed=5, bad_share=0.1)
    rows += [{"Customer name": "Société 3", "Contact email": "extra@example.com"},
             {"Customer ID": "C9", "Town": "Nantes", "Contact email": "p9.0@example.com"},
             {"Customer ID": "C7", "Contact Position": "SALES"}]
    write_csv(tmp_path / "in.csv", rows)
    outputs = []
    for short in (True, False):
        monkeypatch.setattr(CustomerRules, "short_path", short)
        target = tmp_path / f"out-{short}.json"
        report = etl.run(tmp_path / "in.csv", sink="json", target=target, rejects=tmp_path / f"rej-{short}.csv")
        outputs.append((report.as_dict(), json.loads(target.read_text()), (tmp_path / f"rej-{short}.csv").read_text()))
    assert outputs[0] == outputs[1]
    assert outputs[0][0]["rows"]["rejected"] > 20
