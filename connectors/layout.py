"""Where the table starts and ends in a file exported as a report.

Accounting programs (QuickBooks, Sage, Xero...) write a few title rows above the column
titles (company, report name, period) and footer rows below the data (TOTAL, a
generated-at timestamp, a count). Readers find the header with ``header_index`` and the
footer with ``footer_count``, skip both, and report them with ``title_warning`` and
``footer_warning``; a file without them reads as before.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

from etl import RowError

HEADER_SEARCH_ROWS = 20
"""The first non-blank rows among which the header is looked for."""

MAX_FOOTER_ROWS = 5
"""The most rows at the end that can be footer rows."""

MAX_TITLE_LENGTH = 100
"""A longer cell is not a column title."""

NUMBER_OR_DATE = re.compile(r"[\d\s.,:;/'+%()-]+")
"""A cell (fully matched) that is a number, an amount, a date or a time: a value, not a title."""

TOTAL = r"(grand[ -]?|sub-?|sous-)?(total|totaux|totals|gesamt|summe)"
TOTAL_START = re.compile(TOTAL + r"\b", re.IGNORECASE)
"""How the label of a total row starts ("Total customers: 42")."""
TOTAL_LABEL = re.compile(TOTAL + r"\s*:?", re.IGNORECASE)
"""A cell (fully matched) that is only a total's label."""

TIMESTAMP = re.compile(r"\d{1,2}:\d{2}|\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}")
"""A time or a date somewhere in a cell."""

SHOWN_LENGTH = 60
"""Characters of a skipped row quoted in its warning."""


def header_index(rows: Sequence[Sequence[str]]) -> int:
    """The index of the column titles among the first non-blank ``rows``, 0 when unsure.

    The header is the first row that fills at least two thirds as many cells as the fullest
    row, with two or more distinct short texts, none a number or a date. The rows above it
    are titles: narrower, or followed by a row of titles spanning more columns. A first row
    that is full without looking like titles is the header, as in any file without title rows.
    """
    counts = [_filled(row) for row in rows]
    fullest = max(counts, default=0)
    for index, row in enumerate(rows):
        if counts[index] * 3 < fullest * 2 or _titles_wider_than(rows[index + 1 : index + 2], row):
            continue  # a title row
        return index if _are_titles(row) and counts[index] >= 2 else 0
    return 0


def footer_count(rows: Sequence[Sequence[str]], width: int, more_above: bool) -> int:
    """How many of the last non-blank ``rows`` below the header of a table ``width`` columns
    wide are footer rows: a total (the first filled cell a total's label, or starting with
    one in a row less than half filled, and only numbers after it), or a lone date or time
    (a lone number is kept: it may be a line's Customer ID).
    A footer comes after data: none if every row below the header looks like one
    (``more_above``: whether rows come between the header and ``rows``)."""
    count = 0
    for row in reversed(rows[-MAX_FOOTER_ROWS:]):
        if not _is_footer(row, width):
            break
        count += 1
    return count if count < len(rows) or more_above else 0


def title_warning(lines: Sequence[int]) -> RowError:
    """The warning that the title rows on ``lines`` were skipped."""
    first, last = lines[0], lines[-1]
    if len(lines) == 1:
        return RowError(first, f"1 title row above the header (line {first}) was skipped")
    return RowError(first, f"{len(lines)} title rows above the header (lines {first}-{last}) were skipped")


def footer_warning(line: int, row: Sequence[str]) -> RowError:
    """The warning that the footer row ``row`` on ``line`` was skipped."""
    text = " ".join(cell.strip() for cell in row if cell.strip())
    shown = text if len(text) <= SHOWN_LENGTH else text[: SHOWN_LENGTH - 3] + "..."
    return RowError(line, f"footer line {line} ({shown!r}) was skipped")


def _filled(row: Sequence[str]) -> int:
    return sum(1 for cell in row if cell.strip())


def _span(row: Sequence[str]) -> int:
    """The number of columns up to the last filled cell."""
    return next((len(row) - i for i, cell in enumerate(reversed(row)) if cell.strip()), 0)


def _titles_wider_than(following: Sequence[Sequence[str]], row: Sequence[str]) -> bool:
    """Whether the row in ``following`` (none or one) holds titles spanning more columns than ``row``."""
    return any(_span(other) > _span(row) and _are_titles(other) for other in following)


def _are_titles(row: Sequence[str]) -> bool:
    """Whether the filled cells of ``row`` are distinct short texts, none a number or a date."""
    cells = [cell.strip() for cell in row if cell.strip()]
    return len({cell.casefold() for cell in cells}) == len(cells) and all(
        len(cell) <= MAX_TITLE_LENGTH and not NUMBER_OR_DATE.fullmatch(cell) for cell in cells)


def _is_footer(row: Sequence[str], width: int) -> bool:
    cells = [cell.strip() for cell in row if cell.strip()]
    if not cells:
        return False
    if TOTAL_START.match(cells[0]) and all(NUMBER_OR_DATE.fullmatch(cell) for cell in cells[1:]):
        return len(cells) * 2 < width or bool(TOTAL_LABEL.fullmatch(cells[0]))  # "TOTAL" and amounts
    return len(cells) == 1 and width >= 2 and bool(TIMESTAMP.search(cells[0]))  # a lone number may be data
