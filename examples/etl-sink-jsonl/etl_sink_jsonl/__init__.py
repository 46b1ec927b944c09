"""The ``jsonl`` sink for etl: a store of one JSON document per line, replaced atomically once per run.

Each line is ``{"ref": 1, "kind": "customers", "key": "C1", "data": {...}}``: ``ref`` is the
number the rules get back from ``existing()`` to update the document. The file is read once
when the sink opens and written once, at ``commit``, to a temporary file beside it that then
replaces it: a run that fails, is interrupted or killed leaves the file as it was, and a dry
run never writes. It takes no lock: one run at a time per file.

Only etl's public plugin surface is used: ``etl.hookimpl``, ``etl.components``, ``etl.errors``.
"""
from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import etl
from etl import (
    CREATED, Document, SinkError, SinkSpec, StoredDocument, UNCHANGED, UPDATED, changed_fields, stored_form)

__version__ = "0.1.0"

DEFAULT_TARGET = "etl-db.jsonl"


class JsonLinesStore:
    """Upserts documents by their ref; a None value never erases a stored one, CLEAR does."""

    def __init__(self, path: Path, dry_run: bool) -> None:
        self.path = path
        self.dry_run = dry_run
        self.records: dict[int, dict[str, Any]] = {}
        """ref -> {"kind", "key", "data"}, in the file's order."""
        if path.exists():
            self._read()
        self.next_ref = max(self.records, default=0) + 1

    def _read(self) -> None:
        try:
            with open(self.path, encoding="utf-8") as handle:
                for number, line in enumerate(handle, start=1):
                    if line.strip():
                        self._add(number, line)
        except (OSError, UnicodeDecodeError) as exc:
            raise SinkError(f"{self.path}: cannot read the store: {exc}") from None

    def _add(self, number: int, line: str) -> None:
        try:
            record = json.loads(line)
            ref, kind, key, data = record["ref"], record["kind"], record["key"], record["data"]
        except (ValueError, TypeError, KeyError) as exc:
            raise SinkError(f"{self.path}: line {number}: not a document of a jsonl store ({exc})") from None
        if type(ref) is not int or not isinstance(kind, str) or not isinstance(data, dict):
            raise SinkError(f"{self.path}: line {number}: not a document of a jsonl store")
        self.records[ref] = {"kind": kind, "key": key, "data": data}

    def existing(self, kind: str) -> Iterable[StoredDocument]:
        return [(ref, record["data"]) for ref, record in self.records.items() if record["kind"] == kind]

    def write_batch(self, documents: list[Document]) -> list[str]:
        results = []
        for doc in documents:
            stored = self.records.get(doc.ref) if doc.ref is not None else None
            if stored is None or stored["kind"] != doc.kind:
                self.records[self.next_ref] = {"kind": doc.kind, "key": doc.key, "data": dict(stored_form(doc.data))}
                self.next_ref += 1
                results.append(CREATED)
                continue
            changed = changed_fields(doc.data, stored["data"])
            if changed:
                stored["data"].update(changed)
                results.append(UPDATED)
            else:
                results.append(UNCHANGED)
        return results

    def commit(self) -> None:
        if self.dry_run:
            return
        folder = self.path.parent if str(self.path.parent) else Path(".")
        fd, temporary = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                for ref, record in self.records.items():
                    handle.write(json.dumps({"ref": ref, **record}, ensure_ascii=False, default=str) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
        except OSError as exc:
            Path(temporary).unlink(missing_ok=True)
            raise SinkError(f"{self.path}: cannot write the store: {exc.strerror or exc}; it was not changed") from None

    def close(self) -> None:
        """Nothing to release: the file is open only while it is read or written."""


def open_jsonl_store(target: str | None, options: Mapping[str, Any], dry_run: bool) -> JsonLinesStore:
    """The store at ``target``; it declares no options schema, so core refuses any option."""
    return JsonLinesStore(Path(target or DEFAULT_TARGET), dry_run)


@etl.hookimpl
def register_sinks() -> list[SinkSpec]:
    return [SinkSpec("jsonl", open_jsonl_store, f"one JSON document per line, replaced atomically (default "
                     f"{DEFAULT_TARGET})", default_target=DEFAULT_TARGET, transactional=True)]
