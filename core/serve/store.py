"""The store's import history, as the page shows it: read through the sink (only read), each import by
its id; its report and its rejected lines written again on demand, never a file named by the client; an
import undone by :func:`etl.undo.undo`, as ``etl history undo`` does."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from etl.errors import UsageError
from etl.history import HISTORY_KIND
from etl.registry import get_registry
from etl.rejects import write_table
from etl.undo import UNDOES_KEY, UndoResult, undo

from .jobs import Settings

REPORT_KEYS = ("status", "time", "reader", "sink", "rules", "rows", "counts", "errors", "error", "columns")
"""What the report of a past import holds (its options and rejected rows stay in the store)."""


def imports(settings: Settings) -> list[tuple[str, dict[str, Any]]] | None:
    """The imports the store recorded, newest first; None when the sink keeps no history."""
    options = settings.options
    spec = get_registry().sink(options.get("sink"))
    if not spec.keeps_history:
        return None
    sink = spec.open(options.get("target"), spec.load_options(options.get("sink_options", {})), True)
    try:
        entries = [(str(ref), entry) for ref, entry in sink.existing(HISTORY_KIND) if isinstance(entry, dict)]
    finally:
        sink.close()
    return sorted(entries, key=lambda pair: (len(pair[0]), pair[0]), reverse=True)


def keeps_history(settings: Settings) -> bool:
    """Whether the page's sink declares it keeps history (and so can undo an import)."""
    return get_registry().sink(settings.options.get("sink")).keeps_history


def undone(entries: list[tuple[str, dict[str, Any]]]) -> dict[str, str]:
    """The imports undone, each with the id of the undo that undid it."""
    return {str(entry[UNDOES_KEY]): ref for ref, entry in entries if UNDOES_KEY in entry}


def undoable(ref: str, entry: dict[str, Any], undone_ids: dict[str, str]) -> bool:
    """Whether the page offers to undo the import: one that wrote something, not an undo, not undone yet (the
    core decides all the same, and says why it refuses)."""
    return UNDOES_KEY not in entry and ref not in undone_ids and "written" in entry


def undo_import(settings: Settings, import_id: str, force: bool) -> UndoResult:
    """Undo an import of the page's store, as ``etl history undo ID [--force]`` does."""
    options = settings.options
    spec = get_registry().sink(options.get("sink"))
    target = options.get("target") or spec.default_target
    if target is None:
        raise UsageError(f"the {spec.name} sink has no default target: start etl serve with --target")
    return undo(spec, str(target), import_id, force)


def find(settings: Settings, import_id: int) -> dict[str, Any] | None:
    return dict(imports(settings) or []).get(str(import_id))


def report_of(entry: dict[str, Any]) -> dict[str, Any]:
    """A past import's report: what happened, with the input's name only."""
    return {"input": Path(str(entry.get("input", ""))).name, **{k: entry[k] for k in REPORT_KEYS if k in entry}}


def rejected_count(entry: dict[str, Any]) -> int:
    rejects = entry.get("rejects")
    return len(rejects.get("rows", [])) if isinstance(rejects, dict) else 0


def write_rejects(entry: dict[str, Any], path: Path) -> None:
    """Write a past import's rejected lines in the format of ``path``'s extension."""
    spec = get_registry().writer_for(path.suffix)
    if spec is None or spec.write is None:
        raise UsageError(f"cannot write rejects as {path.suffix}")
    saved = entry["rejects"]
    options = saved.get("format_options", {}) if spec.name == saved.get("reader") else {}
    write_table(spec, path, saved["header"][:-1], saved["rows"], options)
