"""The ``tinydb`` sink, the embedded default store: one table per kind in a TinyDB JSON file.

TinyDB rewrites its whole file on every write, so the sink reads the file once, applies
the run's changes in memory and writes it once, atomically, under a lock. New documents
are serialised as they come into an unnamed temporary file, so a large import does not
hold them in memory.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Collection, Iterable, Iterator
from contextlib import suppress
from pathlib import Path
from typing import IO, Any

import orjson
from tinydb.storages import Storage

from etl import (
    CREATED, Document, HISTORY_KIND, SinkError, StoredDocument, UNCHANGED, UPDATED,
    changed_fields, described, reason, remove_stale_temporaries,
    shape_problem, stored_value, write_atomically)

from .storefile import StoreLock, check_store_kind, open_store, store_label, store_path

HISTORY_TABLE = HISTORY_KIND


def _json(value: Any) -> bytes:
    return orjson.dumps(value, default=stored_value)


def _table_problem(name: str, table: Any) -> str | None:
    """What is wrong with a table of the store, and where; None if nothing."""
    where = f"table {name!r}"
    if not isinstance(table, dict):
        return f"{where} is {described(table)}, not an object of documents"
    for doc_id, doc in table.items():
        if not (doc_id.isascii() and doc_id.isdigit()):
            return f"{where}: the document id {doc_id!r} is not a number"
        if not isinstance(doc, dict):
            return f"{where}, document {doc_id}: {described(doc)}, not an object"
        if name == HISTORY_TABLE and (problem := shape_problem(doc, f"import {doc_id}")):
            return f"{where}: {problem}"
    return None


class AtomicJSONStorage(Storage):
    """TinyDB's JSON file format, replaced atomically on write.

    Usable by TinyDB itself: ``TinyDB(path, storage=AtomicJSONStorage)``.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = store_path(path)
        self.label = store_label(path)

    def read(self) -> dict[str, dict[str, Any]] | None:
        """The store's tables, None when there is no store; refused unless a regular file of
        tables of documents (their fields' types are the rules' to check: see ``RulesSpec.stored_types``)."""
        fd = open_store(self.path, self.label)
        if fd is None:
            return None
        try:
            with os.fdopen(fd, "rb") as handle:
                text = handle.read()
        except OSError as exc:
            raise SinkError(f"{self.label}: cannot read the store: {reason(exc)}") from None
        if not text.strip():
            return None
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise SinkError(f"{self.label}: not a TinyDB JSON file: {exc}") from None
        if not isinstance(data, dict):
            raise SinkError(f"{self.label}: not an etl store: the file holds {described(data)}, "
                            "not an object of tables")
        problem = next(filter(None, (_table_problem(name, table) for name, table in data.items())), None)
        if problem is not None:
            raise SinkError(f"{self.label}: not an etl store: {problem}")
        return data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        write_atomically(self.path, [_json(data)], "the store", SinkError, self.label)


class TinyDBSink:
    """Upserts documents by the stored document they refer to; blank values never erase."""

    def __init__(self, path: Path, lock_timeout: float, dry_run: bool) -> None:
        self.storage = AtomicJSONStorage(path)
        self.dry_run = dry_run
        if self.storage.path.exists():  # before its lock is made beside it: /dev/zero is no store
            check_store_kind(self.storage.label, self.storage.path.stat())
        self.lock = StoreLock(self.storage.path, self.storage.label, lock_timeout, shared=dry_run)
        self.lock.acquire()
        try:
            self.tables = self.storage.read() or {}
        except BaseException:
            self.lock.release()
            raise
        if dry_run:  # it read what it needs and never writes: other runs need not wait for it
            self.lock.release()
        else:  # what a killed run left goes now, even if this run fails before it writes
            remove_stale_temporaries(self.storage.path)
        self._next_ids: dict[str, int] = {}
        self._spools: dict[str, IO[bytes]] = {}
        """kind -> the new documents, as ``"id":{...},`` fragments of the table's JSON object."""

    def existing(self, kind: str) -> Iterable[StoredDocument]:
        return self.tables.get(kind, {}).items()

    def _new_id(self, kind: str) -> str:
        if kind not in self._next_ids:
            self._next_ids[kind] = max(map(int, self.tables.get(kind, {})), default=0) + 1
        doc_id = self._next_ids[kind]
        self._next_ids[kind] += 1
        return str(doc_id)

    def _spool(self, kind: str) -> IO[bytes]:
        spool = self._spools.get(kind)
        if spool is None:
            try:
                spool = self._spools[kind] = tempfile.TemporaryFile(dir=self.storage.path.parent)
            except OSError as exc:
                raise SinkError(f"{self.storage.label}: cannot write in its folder: {reason(exc)}") from None
        return spool

    def write_batch(self, documents: list[Document]) -> list[str]:
        results = []
        new: dict[str, dict[str, Any]] = {}
        for doc in documents:
            table = self.tables.get(doc.kind)
            stored = table.get(doc.ref) if table is not None and doc.ref is not None else None
            if stored is None:
                doc.ref = self._new_id(doc.kind)
                new.setdefault(doc.kind, {})[doc.ref] = doc.data  # as stored once written: see stored_value
                results.append(CREATED)
                continue
            changed = changed_fields(doc.data, stored)
            if changed:
                stored.update(changed)
                results.append(UPDATED)
            else:  # every given value is already stored
                results.append(UNCHANGED)
        if not self.dry_run:
            for kind, documents_by_id in new.items():  # one call per batch: '"7":{...},"8":{...},'
                spool = self._spool(kind)
                try:
                    spool.write(_json(documents_by_id)[1:-1] + b",")
                    spool.flush()  # a full disk fails here, not later when the spool is read or closed
                except OSError as exc:
                    raise SinkError(f"{self.storage.label}: cannot write the new documents to a temporary file in "
                                    f"{self.storage.path.parent}: {reason(exc)}; the store was not changed") from None
        return results

    def documents(self, kind: str, refs: Collection[Any]) -> Iterable[StoredDocument]:
        table = self.tables.get(kind, {})
        return [(ref, table[ref]) for ref in refs if ref in table]

    def delete(self, kind: str, refs: Collection[Any]) -> None:
        table = self.tables.get(kind, {})
        for ref in refs:
            table.pop(ref, None)

    def record_import(self, entry: dict[str, Any]) -> None:
        """Keep the run's history entry in the ``imports`` table, written with the data."""
        self.tables.setdefault(HISTORY_TABLE, {})[self._new_id(HISTORY_TABLE)] = entry

    def _chunks(self) -> Iterator[bytes]:
        """The store as TinyDB's JSON: each table's stored documents, then its new ones."""
        yield b"{"
        for n, kind in enumerate(dict.fromkeys([*self.tables, *self._spools])):
            yield (b"," if n else b"") + _json(kind) + b":"
            stored = _json(self.tables.get(kind, {}))
            spool = self._spools.get(kind)
            if spool is None:
                yield stored
                continue
            yield memoryview(stored)[:-1]  # not a slice: that would copy a table of a large store
            if len(stored) > 2:
                yield b","
            spool.seek(0)
            previous = b""
            while chunk := spool.read(1 << 20):
                if previous:
                    yield previous
                previous = chunk
            yield previous[:-1] + b"}"  # the last fragment's comma closes the table instead
        yield b"}"

    def commit(self) -> None:
        if not self.dry_run:
            write_atomically(self.storage.path, self._chunks(), "the store", SinkError, self.storage.label)

    def close(self) -> None:
        for spool in self._spools.values():
            with suppress(OSError):  # data it failed to write (a full disk), which nothing reads any more
                spool.close()
        self.lock.release()
