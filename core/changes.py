"""What a run changes, record by record (``--diff``): created, or each field as ``old -> new``.

Worked out from the documents the rules give and the stored data they matched, with the rule of
every sink: a value given replaces the stored one, a value not given (None) keeps it, and a field
cleared on purpose (:data:`etl.components.CLEAR`) is erased: its new value is None, shown as ``(cleared)``.
"""
from __future__ import annotations

from typing import Any

from .components import CREATED, UPDATED, Document, changed_fields
from .terminal import printable

MAX_SHOWN_VALUE = 60
"""Characters of a value shown in the terminal, at most."""
CLEARED = "(cleared)"
"""How the terminal shows the new value of a field cleared on purpose."""


def field_changes(documents: list[Document]) -> list[dict[str, list[Any]] | None]:
    """Each document's fields whose given value differs from the stored one, ``{field: [old, new]}``, new
    being None for a field cleared. Taken before the sink writes them (a sink may update the stored data in
    place); None for a document without stored data, see :func:`after_writing`."""
    return [None if doc.before is None else
            {name: [doc.before.get(name), value] for name, value in changed_fields(doc.data, doc.before).items()}
            for doc in documents]


def after_writing(fields: list[dict[str, list[Any]] | None], documents: list[Document], results: list[Any]
                  ) -> list[dict[str, list[Any]]]:
    """``fields`` once the sink said what it did: a document without stored data that it updated (a sink that
    finds documents itself, as the http sink does) changed every field it gives; one it created, none listed
    (so a run that creates many documents never lists their fields)."""
    return [changed if changed is not None else
            {name: [None, value] for name, value in changed_fields(doc.data, {}).items()} if result == UPDATED else {}
            for changed, doc, result in zip(fields, documents, results)]


def changes_of(documents: list[Document], fields: list[dict[str, list[Any]]], outcomes: list[Any]
               ) -> list[dict[str, Any]]:
    """One entry per created or updated document (unchanged and rejected ones are only counted)."""
    found = []
    for doc, changed, outcome in zip(documents, fields, outcomes):
        if outcome not in (CREATED, UPDATED):
            continue
        entry: dict[str, Any] = {"kind": doc.kind, "key": doc.key, "lines": list(doc.lines), "outcome": outcome}
        if outcome == UPDATED:
            entry["fields"] = changed
        found.append(entry)
    return found


def _shown(value: Any) -> str:
    text = printable(repr(value))
    return text if len(text) <= MAX_SHOWN_VALUE else text[: MAX_SHOWN_VALUE - 1] + "…"


def describe_changes(changes: list[dict[str, Any]]) -> list[str]:
    """A line per record: ``customers 'C1' (lines 2, 3): name 'Acme' -> 'Acme SA'``."""
    lines = []
    for entry in changes:
        where = ", ".join(map(str, entry["lines"]))
        head = f"{entry['kind']} {_shown(entry['key'])} (line{'s' if len(entry['lines']) > 1 else ''} {where})"
        if entry["outcome"] == CREATED:
            lines.append(f"{head}: created")
        else:
            fields = entry.get("fields") or {}
            lines.append(f"{head}: " + ("; ".join(f"{name} {_shown(old)} -> {CLEARED if new is None else _shown(new)}"
                                                  for name, (old, new) in fields.items()) or "updated"))
    return lines
