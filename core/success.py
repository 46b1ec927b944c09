"""Success files: the twin of the rejects file. Each imported line as read, once for each record
it went into, with what the sink did with that record (created, updated, unchanged), its kind
and its key; so that every line of a file is in its success file or its rejects file, never both,
never neither.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from .components import Document, ReaderSpec, Rejected
from .files import written_atomically
from .rejects import neutralise
from .row_spool import RowSpool

SUCCESS_COLUMNS = ("Outcome", "Kind", "Key")
"""The last columns of a success file."""
MATCHED_COLUMN = "Matched by"
"""One more last column when the rules say by which match rule each stored record was found."""


class Outcomes:
    """What the sink did with the records of each line, noted as documents are loaded."""

    def __init__(self, kinds: Sequence[str]) -> None:
        self._kinds = {kind: order for order, kind in enumerate(kinds)}
        self._by_line: dict[int, list[tuple[int, str, str, str, str]]] = {}

    def note(self, documents: Sequence[Document], results: Sequence[str | Rejected]) -> None:
        """Note the outcome of each document stored (a rejected one rejects its lines)."""
        for document, result in zip(documents, results):
            if isinstance(result, Rejected):
                continue
            record = (self._kinds.get(document.kind, len(self._kinds)), result, document.kind, document.key,
                      document.matched_by or "")
            for line in document.lines:
                self._by_line.setdefault(line, []).append(record)

    def of(self, line: int) -> list[tuple[str, str, str, str]]:
        """The (outcome, kind, key, matched by) of the records of ``line``, in the rules' order of kinds."""
        return [record[1:] for record in sorted(self._by_line.get(line, []), key=lambda record: record[0])]


def success_rows(spool: RowSpool, outcomes: Outcomes, rejected: set[int], safe: bool = True,
                 matched: bool = False) -> Iterator[list[str]]:
    """The lines read (kept in ``spool``) that were imported, each once per record it went into, with
    that record's outcome, kind and key, and with ``matched`` the match rule that found it (a line that
    went into none, once with those empty). With ``safe``, cells that would run as formulas in a
    spreadsheet are neutralised."""
    width = len(SUCCESS_COLUMNS) + matched
    for line, cells in spool.rows_on(None):
        if line in rejected:
            continue
        for record in outcomes.of(line) or [("", "", "", "")]:
            row = [*cells, *record[:width]]
            yield [neutralise(cell) for cell in row] if safe else row


def write_success(spec: ReaderSpec, path: Path, header: Sequence[str], rows: Iterator[list[str]],
                  format_options: dict[str, str], matched: bool = False) -> None:
    """Write the success file in the format of ``spec``, atomically: all of it or nothing; with ``matched``,
    its last column says by which match rule each stored record was found."""
    assert spec.write is not None
    with written_atomically(path, "the success file") as tmp:
        spec.write(tmp, [*header, *SUCCESS_COLUMNS, *([MATCHED_COLUMN] if matched else [])], rows, format_options)
