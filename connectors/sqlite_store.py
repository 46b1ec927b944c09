"""The ``sqlite`` sink: an embedded store whose cost follows the import, not the store.

One row per document in the table ``documents`` (``id``, the document's ref; ``kind``; ``key``;
``data``, its JSON), and its lookup keys (:attr:`etl.components.Document.keys`) in the table
``lookup_keys``, indexed: rules that know it find the stored documents an import touches by
their keys (``find``), and a run reads and writes those rows only. A run is one transaction,
begun with ``BEGIN IMMEDIATE`` when the sink opens (one writing run at a time: the next waits
up to ``lock_timeout``) and committed once: a run that fails, is interrupted or killed leaves
the store as it was. The database is in WAL mode, so that readers (dry runs, `etl history`)
never wait for a writer. A dry run reads and never writes.
"""
from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Collection, Iterable, Iterator
from contextlib import suppress
from itertools import islice
from pathlib import Path
from typing import Any

import orjson

from etl import (
    CREATED, Document, HISTORY_KIND, SinkError, StoredDocument, UNCHANGED, UPDATED, changed_fields,
    entry_keys, printable, stored_form)

from .storefile import check_store_kind, store_label, store_path

APPLICATION_ID = 0x65746C31
"""``PRAGMA application_id`` of an etl store ("etl1"): a database without it is not one."""
SCHEMA = (
    "CREATE TABLE documents (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, key TEXT NOT NULL, data TEXT NOT NULL)",
    "CREATE INDEX documents_by_kind ON documents (kind)",
    "CREATE TABLE lookup_keys (kind TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, id INTEGER NOT NULL, "
    "PRIMARY KEY (kind, name, value, id)) WITHOUT ROWID",
    "CREATE INDEX lookup_keys_by_document ON lookup_keys (id)",
    f"PRAGMA application_id = {APPLICATION_ID}",
)
CACHE_KIB = 65536
"""SQLite's page cache (64 MiB, not its 2 MiB default): a large first import inserts keys all over its indexes."""
CHUNK = 500
"""Keys or ids per query: well under SQLite's limit of parameters."""
SIDE_FILES = ("-journal", "-wal", "-shm")


def _chunks(values: Iterable[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    iterator = iter(values)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _json(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()


def _busy(exc: sqlite3.Error) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


class SqliteSink:
    """Upserts documents by the stored document they refer to; blank values never erase."""

    def __init__(self, target: str, lock_timeout: float, dry_run: bool) -> None:
        self.path = store_path(target)
        self.label = store_label(target)
        self.lock_timeout = lock_timeout
        self.dry_run = dry_run
        self._read: dict[int, dict[str, Any]] = {}
        """The documents found for the rules, by ref: what their updates are compared with."""
        self._created = False
        """Whether this run made the file, removed again unless the run commits."""
        self.db = self._connect()
        self._next_id = (self.db.execute("SELECT max(id) FROM documents").fetchone()[0] or 0) + 1 \
            if self._has_schema else 1

    # -- opening -----------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        for _ in range(3):  # again when the run that made the file failed and removed it while this one waited
            existed = self.path.exists()
            if existed:  # before SQLite opens it: a FIFO would hang the run, /dev/zero is no store
                check_store_kind(self.label, self.path.stat())
            elif self.dry_run:  # a dry run creates nothing: an empty store in memory
                db = sqlite3.connect(":memory:", isolation_level=None)
                self._has_schema = False
                return db
            try:
                db = sqlite3.connect(self.path, timeout=self.lock_timeout, isolation_level=None)
            except sqlite3.Error as exc:
                raise SinkError(f"{self.label}: cannot open the store: {exc}") from None
            try:
                inode = None if self.dry_run else os.stat(self.path).st_ino
                self._begin(db)
                if inode is not None and not self._same_file(inode):
                    db.close()
                    continue
                self._check_schema(db)
                # made by this run: it was absent, and is still empty now that this run holds it (a run
                # that made it while this one waited and committed is not this one's to remove)
                self._created = not existed and self._empty
                return db
            except BaseException:
                db.close()
                raise
        raise SinkError(f"{self.label}: the store keeps being removed by other runs")

    def _same_file(self, inode: int) -> bool:
        try:
            return os.stat(self.path).st_ino == inode
        except FileNotFoundError:
            return False

    def _begin(self, db: sqlite3.Connection) -> None:
        """Begin the run's transaction: a writer's, waiting up to ``lock_timeout`` for another writer;
        a reader's for a dry run (in WAL mode it never waits)."""
        try:
            db.execute("PRAGMA synchronous = FULL")
            db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            if self.dry_run:
                db.execute("BEGIN")
                return
            db.execute("PRAGMA busy_timeout = 0")
            try:
                db.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if not _busy(exc):
                    raise
            print(printable(f"etl: waiting for another run to finish with {self.label}"), file=sys.stderr)
            db.execute(f"PRAGMA busy_timeout = {int(self.lock_timeout * 1000)}")
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if _busy(exc):
                raise SinkError(f"{self.label}: another run is still using this store after {self.lock_timeout:g} s; "
                                "try again later or raise --sink-option lock_timeout=SECONDS") from None
            raise SinkError(f"{self.label}: cannot open the store: {exc}") from None
        except sqlite3.DatabaseError as exc:
            raise SinkError(f"{self.label}: not a SQLite database ({exc})") from None

    def _check_schema(self, db: sqlite3.Connection) -> None:
        """Refuse a database of other tables; give a new one the store's tables (in the run's transaction)."""
        try:
            tables = sorted(name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))
            application_id = db.execute("PRAGMA application_id").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise SinkError(f"{self.label}: not a SQLite database ({exc})") from None
        self._has_schema = bool(tables)
        self._empty = not tables
        if not tables and not self.dry_run:
            for statement in SCHEMA:
                db.execute(statement)
            self._has_schema = True
        elif tables and (application_id != APPLICATION_ID or not {"documents", "lookup_keys"} <= set(tables)):
            shown = ", ".join(map(repr, tables[:5])) + (", ..." if len(tables) > 5 else "")
            raise SinkError(f"{self.label}: not an etl store: a SQLite database of other tables ({shown})")

    def _fail(self, doing: str, exc: sqlite3.Error) -> SinkError:
        return SinkError(f"{self.label}: cannot {doing}: {exc}; the store was not changed")

    # -- reading ---------------------------------------------------------------------------------

    def _documents(self, query: str, parameters: Iterable[Any]) -> Iterator[StoredDocument]:
        try:
            cursor = self.db.execute(query, tuple(parameters))
            while rows := cursor.fetchmany(1000):
                for ref, text in rows:
                    try:
                        yield ref, orjson.loads(text)
                    except orjson.JSONDecodeError:
                        raise SinkError(f"{self.label}: not an etl store: document {ref} is not JSON") from None
        except sqlite3.Error as exc:
            raise SinkError(f"{self.label}: cannot read the store: {exc}") from None

    def existing(self, kind: str) -> Iterable[StoredDocument]:
        if not self._has_schema:
            return
        for ref, data in self._documents("SELECT id, data FROM documents WHERE kind = ? ORDER BY id", (kind,)):
            if kind != HISTORY_KIND:
                self._read[ref] = data
            yield ref, data

    def find(self, kind: str, key_name: str, keys: Collection[str]) -> Iterable[StoredDocument]:
        if not self._has_schema:
            return
        seen: set[int] = set()
        for chunk in _chunks(dict.fromkeys(keys)):
            query = ("SELECT DISTINCT d.id, d.data FROM lookup_keys AS k JOIN documents AS d ON d.id = k.id "
                     f"WHERE k.kind = ? AND k.name = ? AND k.value IN ({', '.join('?' * len(chunk))})")
            for ref, data in self._documents(query, (kind, key_name, *chunk)):
                if ref not in seen:
                    seen.add(ref)
                    yield ref, self._read.setdefault(ref, data)

    def _stored(self, refs: Iterable[Any]) -> None:
        """Read the documents of ``refs`` not read yet (a ref the rules got elsewhere)."""
        missing = [ref for ref in dict.fromkeys(refs) if isinstance(ref, int) and ref not in self._read]
        if missing and self._has_schema:
            for chunk in _chunks(missing):
                query = f"SELECT id, data FROM documents WHERE id IN ({', '.join('?' * len(chunk))})"
                self._read.update(self._documents(query, chunk))

    # -- writing ---------------------------------------------------------------------------------

    def write_batch(self, documents: list[Document]) -> list[str]:
        self._stored(doc.ref for doc in documents if doc.ref is not None)
        results: list[str] = []
        inserted: list[tuple[int, str, str, str]] = []
        updated: list[tuple[str, int]] = []
        keyed: list[tuple[int, Document]] = []
        """The documents written whose lookup keys the rules gave, by ref."""
        for doc in documents:
            stored = self._read.get(doc.ref) if doc.ref is not None else None
            if stored is None:
                ref = doc.ref = self._next_id
                self._next_id += 1
                inserted.append((ref, doc.kind, doc.key, _json(stored_form(doc.data))))
                if doc.keys is not None:
                    keyed.append((ref, doc))
                results.append(CREATED)
                continue
            if doc.keys is not None:  # an unchanged document too: a store of an earlier version may lack some
                keyed.append((doc.ref, doc))
            changed = changed_fields(doc.data, stored)
            if not changed:  # every given value is already stored
                results.append(UNCHANGED)
                continue
            stored.update(changed)
            updated.append((_json(stored), doc.ref))
            results.append(UPDATED)
        if not self.dry_run:
            self._write(inserted, updated, keyed)
        return results

    def _write(self, inserted: list[tuple[int, str, str, str]], updated: list[tuple[str, int]],
               keyed: list[tuple[int, Document]]) -> None:
        """Insert and update the documents, and replace the lookup keys of ``keyed`` (only those that
        changed: an unchanged key costs no write in its index; a stored document's keys are read in batches)."""
        try:
            self.db.executemany("INSERT INTO documents (id, kind, key, data) VALUES (?, ?, ?, ?)", inserted)
            self.db.executemany("UPDATE documents SET data = ? WHERE id = ?", updated)
            new = {(doc.kind, name, value, ref) for ref, doc in keyed
                   for name, value in (doc.keys or {}).items() if value is not None}
            old = self._keys_of({ref for ref, _ in keyed} - {row[0] for row in inserted})
            self.db.executemany("DELETE FROM lookup_keys WHERE kind = ? AND name = ? AND value = ? AND id = ?",
                                sorted(old - new))
            self.db.executemany("INSERT OR IGNORE INTO lookup_keys (kind, name, value, id) VALUES (?, ?, ?, ?)",
                                sorted(new - old))
        except sqlite3.Error as exc:
            raise self._fail("write the documents", exc) from None

    def _keys_of(self, refs: set[int]) -> set[tuple[str, str, str, int]]:
        """The stored lookup keys of the documents ``refs``."""
        keys: set[tuple[str, str, str, int]] = set()
        for chunk in _chunks(refs):
            query = f"SELECT kind, name, value, id FROM lookup_keys WHERE id IN ({', '.join('?' * len(chunk))})"
            keys.update(self.db.execute(query, chunk))
        return keys

    def documents(self, kind: str, refs: Collection[Any]) -> Iterable[StoredDocument]:
        if not self._has_schema:
            return []
        found: list[StoredDocument] = []
        for chunk in _chunks(dict.fromkeys(refs)):
            query = f"SELECT id, data FROM documents WHERE kind = ? AND id IN ({', '.join('?' * len(chunk))})"
            found += self._documents(query, (kind, *chunk))
        self._read.update(found)
        return found

    def delete(self, kind: str, refs: Collection[Any]) -> None:
        if self.dry_run or not self._has_schema:
            return
        try:
            for chunk in _chunks(dict.fromkeys(refs)):
                marks = ", ".join("?" * len(chunk))
                self.db.execute(f"DELETE FROM lookup_keys WHERE kind = ? AND id IN ({marks})", (kind, *chunk))
                self.db.execute(f"DELETE FROM documents WHERE kind = ? AND id IN ({marks})", (kind, *chunk))
        except sqlite3.Error as exc:
            raise self._fail("delete the documents", exc) from None
        for ref in refs:
            self._read.pop(ref, None)

    def record_import(self, entry: dict[str, Any]) -> None:
        """Keep the run's history entry as a document of the kind ``imports``, written with the data, found
        again by its lookup keys when it remembers column choices."""
        ref = self._next_id
        self._next_id += 1
        document = Document(HISTORY_KIND, str(ref), entry, (), keys=entry_keys(entry))
        self._write([(ref, HISTORY_KIND, document.key, _json(entry))], [], [(ref, document)])

    def commit(self) -> None:
        if self.dry_run:
            return
        try:
            self.db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise self._fail("commit", exc) from None
        self._created = False
        with suppress(sqlite3.Error):  # a store made by this run, or changed since: WAL from now on
            if self.db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                self.db.execute("PRAGMA journal_mode = WAL")

    def close(self) -> None:
        try:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # closing the connection rolls back anyway
        finally:
            if self._created:  # still this run's alone (BEGIN IMMEDIATE): a run that waited for it starts anew
                for suffix in ("", *SIDE_FILES):
                    Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            self.db.close()
