"""The report of a run: counts, status and every rejected line with its reason."""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .components import CREATED, UNCHANGED, UPDATED
from .errors import RowError
from .mapping import ColumnMapping

OUTCOMES = (CREATED, UPDATED, UNCHANGED, "rejected")


@dataclass
class Report:
    """What a run did. ``as_dict`` is the JSON written by ``--report``."""

    kinds: tuple[str, ...] = ()
    read: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    dry_run: bool = False
    error: str | None = None
    """The fatal error that stopped the run, if one did: its status is then ``failed``."""
    mapping: ColumnMapping | None = None
    """How the file's columns were linked to the fields."""
    changes: list[dict] | None = None
    """With ``--diff``: each record created or updated, with its fields' old and new values."""
    matched: dict[str, dict[str, int]] | None = None
    """When the rules say which match rule found each stored record: per kind, the records found per rule."""
    _rejected_cache: tuple[tuple[int, int], set[int]] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.declare(self.kinds)

    def declare(self, kinds: tuple[str, ...]) -> None:
        """Count these kinds of documents, even those that end with nothing."""
        self.kinds = tuple(kinds)
        for kind in kinds:
            self.counts.setdefault(kind, dict.fromkeys(OUTCOMES, 0))

    def total(self) -> int:
        """Documents the sink has dealt with so far."""
        return sum(n for counts in self.counts.values() for outcome, n in counts.items() if outcome != "rejected")

    def declare_matches(self, rules: Mapping[str, Sequence[str]]) -> None:
        """Count the records found by each of these match rules, per kind (zero until found)."""
        self.matched = {kind: dict.fromkeys(names, 0) for kind, names in rules.items()}

    def count(self, kind: str, outcome: str, n: int = 1) -> None:
        self.counts.setdefault(kind, dict.fromkeys(OUTCOMES, 0))[outcome] += n

    @property
    def rejected_lines(self) -> set[int]:
        """The lines with an error (worked out again only when the errors changed)."""
        if self._rejected_cache is None or self._rejected_cache[0] != (id(self.errors), len(self.errors)):
            self._rejected_cache = ((id(self.errors), len(self.errors)), {error.line for error in self.errors})
        return self._rejected_cache[1]

    @property
    def rejected(self) -> int:
        return len(self.rejected_lines)

    @property
    def imported(self) -> int:
        return self.read - self.rejected

    @property
    def status(self) -> str:
        if self.error is not None:
            return "failed"
        if self.read and not self.rejected:
            return "success"
        return "partial" if self.imported else "failed"

    @property
    def exit_code(self) -> int:
        return {"success": 0, "partial": 1, "failed": 2}[self.status]

    def sorted_errors(self) -> list[RowError]:
        return sorted(self.errors, key=lambda e: e.line)

    def as_dict(self) -> dict:
        return {
            "status": self.status,
            "dry_run": self.dry_run,
            "rows": {"read": self.read, "imported": self.imported, "rejected": self.rejected},
            **self.counts,
            **({"matched": self.matched} if self.matched is not None else {}),
            "errors": [error.as_dict() for error in self.sorted_errors()],
            "warnings": [warning.as_dict() for warning in sorted(self.warnings, key=lambda w: w.line)],
            "mapping": [m.as_dict() for m in self.mapping.columns if m.field] if self.mapping else [],
            "ignored_columns": [m.as_dict() for m in self.mapping.ignored()] if self.mapping else [],
            **({"changes": self.changes} if self.changes is not None else {}),
            **({"error": self.error} if self.error is not None else {}),
        }

    def write(self, path: Path) -> None:
        """Write ``as_dict`` as JSON, streamed: a report with every change of a large import is never
        held whole as one string."""
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(self.as_dict(), handle, indent=2, ensure_ascii=False)
            handle.write("\n")

    def mapping_summary(self) -> list[str]:
        """The columns linked by a guess and the columns ignored, for people to check."""
        if self.mapping is None:
            return []
        lines = []
        if self.mapping.remembered_from:
            remembered = sum(m.how == "remembered" for m in self.mapping.columns)
            lines.append(f"{remembered} column {'choice' if remembered == 1 else 'choices'} remembered from "
                         f"{self.mapping.remembered_from}")
        if guesses := self.mapping.guesses():
            lines.append("columns matched by a guess: " + ", ".join(
                f"{m.title!r} -> {m.field} ({m.how})" for m in guesses))
        if ignored := self.mapping.ignored():
            lines.append("columns ignored: " + ", ".join(
                f"{m.title!r}" + (f" ({m.note})" if m.note else "") for m in ignored))
        return lines

    def summary(self) -> str:
        """A few plain lines for people."""
        if not self.read:
            return "no data lines below the header: nothing to import."
        imported = "would be imported" if self.dry_run else "imported"
        lines = [f"{counted(self.read, 'line')} read: {self.imported} {imported}, {self.rejected} rejected."]
        for kind, counts in self.counts.items():
            created = counts[CREATED]
            verb = "would be" if self.dry_run else "was" if created == 1 else "were"
            lines.append(
                f"{kind}: {created} {verb} created, {counts[UPDATED]} updated, "
                f"{counts[UNCHANGED]} unchanged, {counts['rejected']} rejected."
            )
        for kind, found in (self.matched or {}).items():
            lines.append(f"{kind} found by " + ", ".join(f"{rule}: {n}" for rule, n in found.items()) + ".")
        return "\n".join(lines)


def counted(n: int, noun: str) -> str:
    """"1 line", "2 lines", "0 lines"."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
