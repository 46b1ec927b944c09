"""The per-record diff of a run (``report["changes"]``, issue 18) as the page shows it: grouped by kind,
updated records first, each group capped so that a 100,000-line file makes a page of a few hundred rows
(the report to download keeps them all)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from etl.components import CREATED, UPDATED

SHOWN_PER_GROUP = 200
"""Records shown in each group (kind and outcome); the others are counted."""
MAX_VALUE = 200
"""Characters of a value shown, at most."""


@dataclass
class ChangeGroup:
    """The records of one kind that one outcome (created or updated) touched: the first ones, and how many."""

    kind: str
    outcome: str
    total: int = 0
    shown: list[dict[str, Any]] = field(default_factory=list)

    @property
    def more(self) -> int:
        return self.total - len(self.shown)


def value_shown(value: Any) -> str:
    """A stored or given value as text: none as empty, long ones cut."""
    text = "" if value is None else str(value)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def grouped_changes(changes: list[dict[str, Any]] | None) -> list[ChangeGroup]:
    """The groups of ``changes``, in the order of the kinds as the run gave them, updated before created."""
    groups: dict[tuple[str, str], ChangeGroup] = {}
    for entry in changes or []:
        outcome = entry.get("outcome")
        if outcome not in (CREATED, UPDATED):
            continue
        kind = str(entry.get("kind", ""))
        group = groups.setdefault((kind, outcome), ChangeGroup(kind, outcome))
        group.total += 1
        if len(group.shown) < SHOWN_PER_GROUP:
            fields = entry.get("fields") or {}
            group.shown.append({
                "key": value_shown(entry.get("key")), "lines": ", ".join(map(str, entry.get("lines", []))),
                "fields": [(name, value_shown(old), value_shown(new)) for name, (old, new) in fields.items()]})
    kinds = list(dict.fromkeys(kind for kind, _ in groups))
    return [groups[kind, outcome] for kind in kinds for outcome in (UPDATED, CREATED) if (kind, outcome) in groups]
