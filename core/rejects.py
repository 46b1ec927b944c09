"""Rejects files: the rejected lines as read, each with its reasons, to fix and import again.

Cells that a spreadsheet would run as formulas are written with a leading apostrophe
(``neutralise``), the header's titles too; reading such a file again takes it off (``restore``),
so a fixed rejects file imports as its lines first would have.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .components import ReaderSpec, Table
from .files import written_atomically
from .report import Report
from .row_spool import RowSpool

ERROR_COLUMN = "Error"
"""The last column of a rejects file: the line's reasons."""

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""How a cell starts when a spreadsheet would run it as a formula."""


def neutralise(value: str) -> str:
    """A cell a spreadsheet shows as text, never runs: a leading apostrophe before a formula start."""
    return "'" + value if value.startswith(FORMULA_START) else value


def restore(value: str) -> str:
    """A cell or title as it was before ``neutralise``: a rejects file imports as its lines first would have."""
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_START) else value


def rejects_header(table: Table, safe: bool = True) -> list[str]:
    """The header of the rejects file (before its Error column): the input's, neutralised with ``safe``."""
    return [neutralise(title) for title in table.header] if safe else list(table.header)


def rejected_rows(spool: RowSpool, report: Report, safe: bool = True) -> list[list[str]]:
    """The rejected lines as they were read (kept in ``spool``), each with its reasons in a last cell.

    With ``safe``, cells that would run as formulas in a spreadsheet are neutralised.
    """
    reasons: dict[int, list[str]] = {}
    for error in report.sorted_errors():
        where = f"{error.column}: " if error.column else ""
        reasons.setdefault(error.line, []).append(where + error.message)
    rows = [[*values, "; ".join(reasons[line])] for line, values in spool.rows_on(reasons)]
    return [[neutralise(cell) for cell in row] for row in rows] if safe else rows


def write_table(spec: ReaderSpec, path: Path, header: Sequence[str], rows: list[list[str]],
                format_options: dict[str, str]) -> None:
    """Write a table (a rejects file) in the format of ``spec``, atomically: all of it or nothing."""
    assert spec.write is not None
    with written_atomically(path, "the rejects file") as tmp:
        spec.write(tmp, [*header, ERROR_COLUMN], rows, format_options)
