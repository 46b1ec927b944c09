"""`etl map`: show a column mapping, let the user correct it, save it as a mapping file."""
from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import click

from .components import Field
from .errors import EtlError
from .mapping import EXPLICIT, ColumnMapping
from .terminal import printable

IGNORE = "-"


def describe(mapping: ColumnMapping) -> list[str]:
    """One line per column: title -> field (how), then the fields no column fills; control
    characters in the titles escaped."""
    titles = [printable(m.title) for m in mapping.columns]
    width = max(map(len, titles), default=0)
    lines = []
    for m, title in zip(mapping.columns, titles):
        how = f"{m.how}, {m.score:.2f}" if m.how == "similar" else m.how
        target = f"{m.field} ({how})" if m.field else "(ignored)"
        note = f"  - {m.note}" if m.note else ""
        lines.append(f"{title:<{width}}  -> {target}{note}")
    lines.append("fields without a column: " + (", ".join(mapping.unmapped_fields) or "none"))
    return lines


def confirm_doubtful(mapping: ColumnMapping, fields: Sequence[Field]) -> None:
    """Ask the user about each doubtful pair: keep the proposal, pick a field, or ignore ("-")."""
    choices = click.Choice([f.name for f in fields] + [IGNORE])
    for m in mapping.columns:
        if not m.doubtful:
            continue
        hint = f" ({m.note})" if m.note else ""
        answer = click.prompt(printable(f"column {m.title!r}{hint} ->"), type=choices, default=m.field or IGNORE,
                              err=True, show_choices=False)
        field_name = None if answer == IGNORE else answer
        if field_name:
            for other in mapping.columns:
                if other is not m and other.field == field_name:
                    other.field, other.how = None, ""
        m.field, m.how, m.score, m.note = field_name, EXPLICIT, 1.0, ""
    used = {m.field for m in mapping.columns if m.field}
    mapping.unmapped_fields = [f.name for f in fields if f.name not in used]


def save_mapping(mapping: ColumnMapping, path: Path) -> None:
    """Write ``column title -> field`` ("" ignores the column) as TOML, or JSON by extension."""
    pairs = mapping.as_file()
    if path.suffix.lower() == ".json":
        text = json.dumps(pairs, indent=2, ensure_ascii=False) + "\n"
    else:
        text = "".join(f"{json.dumps(title, ensure_ascii=False)} = {json.dumps(field)}\n"
                       for title, field in pairs.items())
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise EtlError(f"{path}: cannot write the mapping: {exc.strerror or exc}") from None
