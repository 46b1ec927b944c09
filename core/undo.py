"""Undo one import (``etl history undo ID``): delete what it created, restore field by field what it updated.

The history entry of each import into a sink that keeps history holds what it wrote (``written``, see
:class:`etl.history.Written`): the refs, keys and data fingerprints of the documents it created, and the ref, key
and old and new value of each field it changed. An undo reads those documents back by ref
(``Sink.documents``), refuses, naming them, those changed since (a created document whose data is no longer
what the import wrote, an updated one whose changed fields no longer hold the import's values, one deleted),
unless forced; then deletes the created ones (``Sink.delete``), writes the old values back (``None`` becomes
:data:`etl.components.CLEAR`), and records an entry of its own naming the import it undid: all in the sink's
one transaction, committed at the end or not at all. Customer-agnostic: the rules of the import give the
restored documents their lookup keys (``RulesSpec.lookup_keys``) in a sink that finds by key.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .components import CLEAR, UPDATED, Document, Sink, SinkSpec
from .errors import EtlError, SinkError, UsageError
from .history import HISTORY_KIND, created_documents, data_digest
from .registry import Registry, get_registry
from .secrets import mask_url

UNDOES_KEY = "undoes"
"""The key of an undo's own history entry naming the import it undid."""
SHOWN_CONFLICTS = 5
"""Records changed since the import named in a refusal, at most (the count says how many more)."""


class UndoRefused(EtlError):
    """The import cannot be undone as asked (exit 2): already undone, keeps nothing to undo, records changed."""


@dataclass
class UndoResult:
    """What an undo did: per kind, how many documents it deleted and restored, and the records changed since
    the import that ``--force`` undid all the same."""

    import_id: str
    deleted: dict[str, int] = field(default_factory=dict)
    restored: dict[str, int] = field(default_factory=dict)
    forced: list[str] = field(default_factory=list)

    def summary(self) -> str:
        kinds = dict.fromkeys([*self.deleted, *self.restored])
        counts = "; ".join(f"{kind}: {self.deleted.get(kind, 0)} deleted, {self.restored.get(kind, 0)} restored"
                           for kind in kinds) or "nothing to change"
        forced = f" ({len(self.forced)} changed since, undone with --force)" if self.forced else ""
        return f"import {self.import_id} undone: {counts}{forced}"


@dataclass
class _Plan:
    """The documents to delete and to restore, per kind, and the records changed since the import."""

    deletions: dict[str, list[Any]] = field(default_factory=dict)
    restorations: dict[str, list[Document]] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)


def undo(spec: SinkSpec, target: str, import_id: str, force: bool = False,
         registry: Registry | None = None) -> UndoResult:
    """Undo the import ``import_id`` of the store ``target``, in one transaction of its sink. Raises
    UsageError for a sink without history or an unknown import, UndoRefused when it cannot be undone (records
    changed since, without ``force``), SinkError when the store fails."""
    if not spec.keeps_history:
        raise UsageError(f"the {spec.name} sink keeps no history of imports: it cannot undo one")
    sink = spec.open(target, spec.load_options({}), False)
    try:
        entries = {str(ref): entry for ref, entry in sink.existing(HISTORY_KIND)}
        entry = _undoable(entries, import_id, target)
        keys = None
        if spec.finds_by_key:  # the import's rules give a restored document its keys again
            keys = (registry or get_registry()).rule_set(str(entry.get("rules"))).lookup_keys
        try:
            created, updated = _written(entry["written"])
        except ValueError as exc:
            raise SinkError(f"{target}: not an etl store: import {import_id}: {exc}") from None
        plan = _plan(sink, import_id, created, updated, keys)
        if plan.conflicts and not force:
            raise UndoRefused(_refusal(import_id, plan.conflicts))
        result = UndoResult(import_id, forced=plan.conflicts)
        for kind, refs in plan.deletions.items():
            sink.delete(kind, refs)
            result.deleted[kind] = len(refs)
        for kind, documents in plan.restorations.items():
            outcomes = sink.write_batch(documents)
            result.restored[kind] = sum(outcome == UPDATED for outcome in outcomes)
        sink.record_import(undo_entry(spec.name, target, entry, result))
        sink.commit()
    finally:
        sink.close()
    return result


def _undoable(entries: dict[str, Any], import_id: str, target: str) -> dict[str, Any]:
    """The history entry of the import to undo, refused when it cannot be."""
    entry = entries.get(import_id)
    if not isinstance(entry, dict):
        raise UsageError(f"{target}: no import {import_id!r} (see etl history)")
    if UNDOES_KEY in entry:
        raise UndoRefused(f"import {import_id} is itself an undo (of import {entry[UNDOES_KEY]}): "
                          "import that file again instead")
    undone_by = next((ref for ref, other in entries.items()
                      if isinstance(other, dict) and str(other.get(UNDOES_KEY)) == import_id), None)
    if undone_by is not None:
        raise UndoRefused(f"import {import_id} was already undone (by {undone_by})")
    if "written" not in entry:
        what = "failed: it wrote nothing" if entry.get("status") == "failed" else \
            "was recorded without what it wrote (by an older etl)"
        raise UndoRefused(f"import {import_id} {what}: there is nothing to undo")
    return entry


def _written(written: Any) -> tuple[dict[str, list[tuple[Any, str, str]]], dict[str, list[list[Any]]]]:
    """The documents an import created, ``(ref, key, fingerprint)`` per kind, and those it updated, ``[ref, key,
    {field: [old, new]}]``, from its ``written`` record (from a store: it may have been edited); ValueError
    saying what is wrong."""
    if not isinstance(written, dict) or not all(isinstance(written.get(n), dict) for n in ("created", "updated")):
        raise ValueError("its 'written' is not an object of 'created' and 'updated'")
    created = {kind: created_documents(record, f"its 'written.created.{kind}'")
               for kind, record in written["created"].items()}
    for kind, items in written["updated"].items():
        if not isinstance(items, list) or not all(
                isinstance(item, list) and len(item) == 3 and isinstance(item[1], str) and isinstance(item[2], dict)
                and all(isinstance(pair, list) and len(pair) == 2 for pair in item[2].values()) for item in items):
            raise ValueError(f"its 'written.updated.{kind}' is not a list of [ref, key, {{field: [old, new]}}]")
    return created, written["updated"]


def _plan(sink: Sink, import_id: str, created_by_kind: dict[str, list[tuple[Any, str, str]]],
          updated_by_kind: dict[str, list[list[Any]]],
          keys: Callable[[str, dict[str, Any]], dict[str, str] | None] | None) -> _Plan:
    """What to delete and restore, and the records changed since the import (those gone are left alone)."""
    plan = _Plan()
    for kind, created in created_by_kind.items():
        current = dict(sink.documents(kind, [ref for ref, _, _ in created]))
        for ref, key, digest in created:
            data = current.get(ref)
            if data is None:
                plan.conflicts.append(f"{kind} {key!r} (created by import {import_id}) was deleted since")
                continue
            if data_digest(data) != digest:
                plan.conflicts.append(f"{kind} {key!r} (created by import {import_id}) was changed since")
            plan.deletions.setdefault(kind, []).append(ref)
    for kind, updated in updated_by_kind.items():
        current = dict(sink.documents(kind, [ref for ref, _, _ in updated]))
        for ref, key, fields in updated:
            data = current.get(ref)
            if data is None:
                plan.conflicts.append(f"{kind} {key!r} (updated by import {import_id}) was deleted since")
                continue
            changed = [name for name, (_, new) in fields.items() if data.get(name) != new]
            if changed:
                plan.conflicts.append(f"{kind} {key!r} (updated by import {import_id}) was changed since: "
                                      + ", ".join(changed))
            old = {name: CLEAR if before is None else before for name, (before, _) in fields.items()}
            restored = {**data, **{name: None if value is CLEAR else value for name, value in old.items()}}
            plan.restorations.setdefault(kind, []).append(
                Document(kind, key, old, (), ref, data, keys(kind, restored) if keys is not None else None))
    return plan


def _refusal(import_id: str, conflicts: list[str]) -> str:
    shown = "; ".join(conflicts[:SHOWN_CONFLICTS])
    more = f"; and {len(conflicts) - SHOWN_CONFLICTS} more" if len(conflicts) > SHOWN_CONFLICTS else ""
    return (f"import {import_id} cannot be undone: {len(conflicts)} record{'s' if len(conflicts) > 1 else ''} "
            f"changed since: {shown}{more}; nothing was changed (--force undoes it all the same)")


def undo_entry(sink: str, target: str, undone: dict[str, Any], result: UndoResult) -> dict[str, Any]:
    """The history entry of an undo: the shape of an import's (``etl history`` lists it), naming the import."""
    counts = {kind: {"deleted": result.deleted.get(kind, 0), "restored": result.restored.get(kind, 0)}
              for kind in dict.fromkeys([*result.deleted, *result.restored])}
    return {
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "input": f"undo of import {result.import_id}",
        "checksum": str(undone.get("checksum", "")),
        "reader": "", "sink": sink, "target": mask_url(target), "rules": undone.get("rules"),
        "status": "success",
        "rows": {"read": 0, "imported": 0, "rejected": 0},
        "counts": counts,
        "errors": [],
        "rejects": {"header": [], "rows": [], "reader": "", "format_options": {}},
        "columns": {}, "chosen": [],
        UNDOES_KEY: result.import_id,
        "forced": result.forced,
    }
