"""The spool of the rows read: any rows, any lines asked for, in memory or in a file, give back what the spool
they replaced gave (``tests/oracle/row_spool.py``), which is the rows kept on those lines, in file order."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

from etl.row_spool import RowSpool
from oracle.row_spool import RowSpool as OldRowSpool

CELLS = st.lists(st.text(max_size=6) | st.sampled_from(["", "\udcff", "a\udc80b", "=1+1", "\x00", "é"]), max_size=5)
"""Cells as the readers give them: texts, and undecodable bytes as lone surrogates (which JSON cannot hold)."""


@st.composite
def batches(draw) -> list[list[tuple[int, list[str]]]]:
    """Batches of rows, each starting on a line after the last one's (several lines for a record)."""
    steps = draw(st.lists(st.integers(1, 3), min_size=1, max_size=40))
    lines = [2 + sum(steps[:n]) for n in range(len(steps))]
    rows = [(line, draw(CELLS)) for line in lines]
    cuts = sorted(set(draw(st.lists(st.integers(1, len(rows)), max_size=6))) | {len(rows)})
    return [rows[start:end] for start, end in zip([0, *cuts], cuts) if start < end]


def _kept(spool_type: type, in_memory: bool, kept: list, lines: set[int] | None) -> list[tuple[int, list[str]]]:
    spool = spool_type(in_memory)
    try:
        for rows in kept:
            spool.keep(rows)
        return [(line, list(cells)) for line, cells in spool.rows_on(lines)]
    finally:
        spool.close()


@settings(max_examples=300, deadline=None)
@given(kept=batches(), asked=st.none() | st.sets(st.integers(0, 130)), in_memory=st.booleans())
def test_gives_back_what_the_old_spool_gave(kept, asked, in_memory):
    given_back = _kept(RowSpool, in_memory, kept, asked)
    assert given_back == _kept(OldRowSpool, in_memory, kept, asked)
    every_row = [row for rows in kept for row in rows]
    assert given_back == [(line, cells) for line, cells in every_row if asked is None or line in asked]


def test_asked_twice_gives_the_same_rows(tmp_path):
    spool = RowSpool(in_memory=False)
    spool.keep([(2, ["a", "\udcff"]), (3, ["b"])])
    spool.keep([(5, ["c"])])
    assert list(spool.rows_on({3, 5})) == list(spool.rows_on({3, 5})) == [(3, ["b"]), (5, ["c"])]
    assert list(spool.rows_on(None)) == [(2, ["a", "\udcff"]), (3, ["b"]), (5, ["c"])]
    spool.close()
