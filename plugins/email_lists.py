"""Cells that hold several email addresses ("a@x.fr; b@x.fr"): none of them is lost.

The first address keeps the line's other contact values; each other one becomes a contact of
the same customer with only its email, and a warning on the line says so.
"""
from __future__ import annotations

import re

from etl.components import Batch
from etl.errors import RowError

from .fields import CONTACT_FIELD_NAMES
from .values import shown

SEPARATORS = re.compile(r"[\s;,/|]+")


def addresses(cell: str) -> list[str]:
    """The email addresses of a cell that holds several, in order, each once; [] for any other cell."""
    if cell.count("@") < 2:
        return []
    found = [part for part in SEPARATORS.split(cell) if "@" in part]
    return list(dict.fromkeys(found)) if len(found) > 1 else []


def one_email_per_row(batch: Batch) -> tuple[Batch, list[RowError]]:
    """The batch with a row per address of each cell holding several, and a warning for each such cell."""
    emails = batch.columns.get("contact_email")
    if emails is None or not any(cell.count("@") > 1 for cell in emails):
        return batch, []
    lines: list[int] = []
    columns: dict[str, list[str]] = {name: [] for name in batch.columns}
    warnings = []
    for i, line in enumerate(batch.lines):
        found = addresses(emails[i])
        for n, address in enumerate(found or [emails[i]]):
            lines.append(line)
            for name, column in batch.columns.items():
                columns[name].append(address if name == "contact_email" else
                                     "" if n and name in CONTACT_FIELD_NAMES else column[i])
        if found:
            warnings.append(RowError(
                line, f"{len(found)} email addresses in one cell: each is a contact; the line's other contact "
                      f"values go to the first ({shown(found[0])})", "contact_email", emails[i]))
    return Batch(lines, columns), warnings
