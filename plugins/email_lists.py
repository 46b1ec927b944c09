"""Cells that hold several email addresses ("a@x.fr; b@x.fr"): none of them is lost.

The first address keeps the line's other contact values; each other one becomes a contact of
the same customer with only its email, and a warning on the line says so.
"""
from __future__ import annotations

import re

from etl import Batch, RowError

from .fields import CONTACT_FIELD_NAMES
from .values import shown

SEPARATORS = re.compile(r"[\s;,/|]+")
TWO_AT_SIGNS_IN_A_CELL = re.compile("@[^\x00]*@")
"""Looked for in a column's cells joined with NUL: one scan finds whether any cell may hold several."""


def addresses(cell: str) -> list[str]:
    """The email addresses of a cell that holds several, in order, each once; [] for any other cell."""
    if cell.count("@") < 2:
        return []
    found = [part for part in SEPARATORS.split(cell) if "@" in part]
    return list(dict.fromkeys(found)) if len(found) > 1 else []


def one_email_per_row(batch: Batch) -> tuple[Batch, list[RowError]]:
    """The batch with a row per address of each cell holding several, and a warning for each such cell."""
    emails = batch.columns.get("contact_email")
    if not emails or not TWO_AT_SIGNS_IN_A_CELL.search("\x00".join(emails)):
        return batch, []
    several = {i: found for i, cell in enumerate(emails) if cell.count("@") > 1 and (found := addresses(cell))}
    if not several:
        return batch, []
    rows = [i for i in range(len(batch)) for _ in range(len(several.get(i, ())) or 1)]
    columns = {name: [column[i] for i in rows] for name, column in batch.columns.items()}
    position = 0
    warnings = []
    for i, line in enumerate(batch.lines):
        found = several.get(i)
        if found:
            for n, address in enumerate(found):
                columns["contact_email"][position + n] = address
                for name in CONTACT_FIELD_NAMES:
                    if n and name != "contact_email" and name in columns:
                        columns[name][position + n] = ""
            message = (f"{len(found)} email addresses in one cell: each is a contact; the line's other contact "
                       f"values go to the first ({shown(found[0])})")
            warnings.append(RowError(line, message, "contact_email", emails[i]))
        position += len(found) if found else 1
    return Batch([batch.lines[i] for i in rows], columns), warnings
