"""The fast paths give exactly the results of the plain ones."""
from __future__ import annotations

import json
import multiprocessing
import pickle
import sys
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

import etl
from conftest import write_csv
from etl import read_ahead
from etl.components import Batch
from etl.errors import InputError
from etl.plugins.rules import CustomerRules, texts_of
from etl.rejects import restore
from test_accounting import generated_rows


@given(st.lists(st.text(alphabet=" \t\r\n'=+-@ab\x1f", max_size=6), max_size=8))
def test_texts_of_is_strip_and_unquote_of_each_cell(column):
    assert texts_of(list(column)) == [restore(cell.strip()).strip() for cell in column]


@given(st.lists(st.text(alphabet="a \x00\x1f", max_size=3), max_size=6))
def test_a_batch_crosses_processes_unchanged(column):
    """Columns pickle as one joined string: cells holding the separator, blank cells and
    cells that are not text must come back as they were."""
    batch = Batch(list(range(len(column))), {"a": column, "b": column[::-1], "c": [None, *column[1:]][:len(column)]})
    assert pickle.loads(pickle.dumps(batch, pickle.HIGHEST_PROTOCOL)) == batch


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


def run_both_ways(tmp_path, monkeypatch, source, **options):
    """The report, output and rejects of a run in one process, and with reading ahead in a child."""
    outcomes = []
    for min_size in (1 << 62, 0):
        monkeypatch.setattr(read_ahead, "MIN_FILE_SIZE", min_size)
        name = f"ahead-{min_size == 0}"
        report = etl.run(source, sink="json", target=tmp_path / f"{name}.json",
                         rejects=tmp_path / f"{name}-rejects.csv", **options)
        outcomes.append((report.as_dict(), (tmp_path / f"{name}.json").read_text(),
                         (tmp_path / f"{name}-rejects.csv").read_text()))
    return outcomes


@pytest.mark.skipif(not read_ahead.worth_reading_ahead(1 << 62), reason="reading ahead forks: Linux only")
def test_reading_ahead_in_a_child_process_changes_nothing(tmp_path, monkeypatch):
    rows = generated_rows(3000, seed=11, bad_share=0.1)  # more than one batch
    rows += [{"Customer ID": "C3", "Town": " Somewhere else ", "Contact email": "p3.x@example.com"},
             {"Customer name": "Société 8", "Contact email": "extra8@example.com"}]
    write_csv(tmp_path / "in.csv", rows)
    in_process, in_child = run_both_ways(tmp_path, monkeypatch, tmp_path / "in.csv")
    assert in_process == in_child
    assert in_process[0]["rows"]["read"] > 5000 and in_process[0]["rows"]["rejected"] > 200


@pytest.mark.skipif(not read_ahead.worth_reading_ahead(1 << 62), reason="reading ahead forks: Linux only")
def test_an_input_error_met_by_the_child_is_raised_as_such(tmp_path, monkeypatch):
    write_csv(tmp_path / "in.csv", generated_rows(50, seed=2))
    monkeypatch.setattr(read_ahead, "MIN_FILE_SIZE", 0)
    with pytest.raises(InputError, match=r"in\.csv: line \d+: more than 30 data rows in one run"):
        etl.run(tmp_path / "in.csv", sink="json", target=tmp_path / "out.json", limits={"rows": 30})
    assert not multiprocessing.active_children()
    assert not (tmp_path / "out.json").exists()


def test_no_child_process_is_forked_while_other_threads_run(monkeypatch):
    monkeypatch.setattr(read_ahead, "MIN_FILE_SIZE", 0)
    assert read_ahead.worth_reading_ahead(1) is sys.platform.startswith("linux")
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not read_ahead.worth_reading_ahead(1)
    finally:
        stop.set()
        other.join()


class UnbuildableError(Exception):
    def __init__(self, path, why):  # pickles, but cannot be rebuilt from its args
        super().__init__(f"{path}: {why}")


def failing_reader():
    yield 1
    raise UnbuildableError("in.csv", "broken")


@pytest.mark.skipif(not read_ahead.worth_reading_ahead(1 << 62), reason="reading ahead forks: Linux only")
def test_an_exception_that_cannot_cross_processes_still_says_what_happened():
    items = read_ahead.read_ahead(failing_reader, True)
    assert next(items) == 1
    with pytest.raises(RuntimeError, match="in.csv: broken"):
        next(items)
    assert not multiprocessing.active_children()
