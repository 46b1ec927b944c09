"""The ``sqlite`` sink for etl: one SQLite table per kind, one transaction per run.

Each kind of document (``customers``, ``contacts``, or any kind third-party rules give)
is a table, created on demand::

    CREATE TABLE "customers" (id INTEGER PRIMARY KEY, key TEXT UNIQUE NOT NULL, ...)

``id`` is the row's surrogate key, given to the rules as the document's ``ref``; ``key``
is :attr:`etl.components.Document.key`. Every document field is a real column, added
(``ALTER TABLE ADD COLUMN``) the first time the field has a value, and typed after that
value: TEXT, INTEGER, REAL, BOOLEAN (stored 0/1, read back as bool) or JSON (lists and
dicts, stored as JSON text).

A run is one transaction, opened with ``BEGIN IMMEDIATE`` when the sink opens (so two
runs on one database take turns: the second waits up to ``timeout`` seconds), committed
by :meth:`SqliteSink.commit` and rolled back by :meth:`SqliteSink.close` otherwise (dry
run, failure, nothing to write). SQLite's journal, with ``synchronous=FULL``, makes a
run killed at any moment leave the database as it was before or as it is after the run.

Only the public plugin API of etl is used.
"""
from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import etl
from etl.components import CREATED, UNCHANGED, UPDATED, Document, Rejected, SinkSpec, StoredDocument
from etl.errors import SinkError, UsageError
from etl.settings import check_options

__version__ = "0.1.0"

DEFAULT_TARGET = "etl.db"
DEFAULT_TIMEOUT = 60.0
OPTIONS = ("timeout",)
RESERVED = ("id", "key")
"""The sink's own columns; no document field may be named so (in any case)."""

INT64 = (-(2**63), 2**63 - 1)


def quote(name: str) -> str:
    """An SQL identifier, whatever characters it holds."""
    return '"' + name.replace('"', '""') + '"'


def declared_type(value: Any) -> str | None:
    """The column type for a field whose first value is ``value`` (None: not storable)."""
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, int):
        return "INTEGER" if INT64[0] <= value <= INT64[1] else None
    if isinstance(value, float):
        return "REAL" if not math.isnan(value) else None
    if isinstance(value, str):
        return "TEXT"
    if isinstance(value, (list, dict)):
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            return None
        return "JSON"
    return None


def fits(value: Any, column_type: str) -> bool:
    """Whether ``value`` can go into a column of ``column_type`` and read back unchanged.

    SQLite converts values to the column's affinity (a text "007" in an INTEGER column
    becomes 7, a number in a TEXT column becomes text), so a column takes only the values
    of its own type; numbers go into INTEGER and REAL columns alike. Columns the sink did
    not create (any other declared type) take any storable value.
    """
    own = declared_type(value)
    if own is None:
        return False
    if column_type in ("INTEGER", "REAL"):
        return own in ("INTEGER", "REAL")
    if column_type in ("TEXT", "BOOLEAN", "JSON"):
        return own == column_type
    return True


def encode(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return value


def decode(value: Any, column_type: str) -> Any:
    if value is None:
        return None
    if column_type == "BOOLEAN" and isinstance(value, int):
        return bool(value)
    if column_type == "JSON" and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class Table:
    """What the sink knows of one kind's table: its name and its columns' types."""

    def __init__(self, kind: str, columns: dict[str, str]) -> None:
        self.kind = kind
        self.name = quote(kind)
        self.columns = columns
        """column name -> declared type (upper case), without id and key."""
        self.by_folded = {name.casefold(): name for name in columns}


class SqliteSink:
    """Upserts documents into a SQLite database inside one transaction."""

    def __init__(self, path: Path, timeout: float, dry_run: bool) -> None:
        self.path = path
        self.timeout = timeout
        self.dry_run = dry_run
        self._tables: dict[str, Table | None] = {}
        for attempt in range(2):
            # A dry run on a database that does not exist yet works on an empty one in memory:
            # it must not even create the file.
            existed = path.exists()
            location = ":memory:" if dry_run and not existed else str(path)
            try:
                self.db = sqlite3.connect(location, timeout=timeout, isolation_level=None)
            except sqlite3.Error as exc:
                raise SinkError(f"{path}: cannot open the database: {exc}") from None
            try:
                self._begin()
                break
            except SinkError:
                self.db.close()
                if attempt or location == ":memory:" or path.exists():
                    raise
                # the run that made the file while this one waited failed, and removed it: make it anew
            except BaseException:
                self.db.close()
                raise
        self._created = location != ":memory:" and not existed and path.stat().st_size == 0
        """Whether this run made the (empty) file, which close() removes unless committed: since
        ``BEGIN IMMEDIATE`` no other run can have written to it."""

    def _begin(self) -> None:
        try:
            self.db.execute("PRAGMA synchronous = FULL")
            if self.dry_run:
                # Keep a dry run's writes in memory: the database file is never written (not
                # even for a while), and no journal file appears. A WAL database stays WAL:
                # leaving that mode would change the file.
                if self.db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                    self.db.execute("PRAGMA journal_mode = MEMORY")
                self.db.execute("PRAGMA cache_spill = OFF")
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise SinkError(
                    f"{self.path}: the database is busy (another run is writing to it); gave up after "
                    f"{self.timeout:g} s (--sink-option timeout=SECONDS waits longer)"
                ) from None
            raise SinkError(f"{self.path}: cannot open the database: {exc}") from None
        except sqlite3.DatabaseError as exc:
            raise SinkError(f"{self.path}: not a SQLite database ({exc})") from None

    def _fail(self, doing: str, exc: Exception) -> SinkError:
        return SinkError(f"{self.path}: cannot {doing}: {exc}")

    # -- tables -----------------------------------------------------------------------------

    def _table(self, kind: str, create: bool = False) -> Table | None:
        """The kind's table (created if ``create``), or None when it does not exist."""
        if kind not in self._tables or (create and self._tables[kind] is None):
            info = self.db.execute(f"PRAGMA table_info({quote(kind)})").fetchall()
            if not info and create:
                self.db.execute(f"CREATE TABLE {quote(kind)} (id INTEGER PRIMARY KEY, key TEXT UNIQUE NOT NULL)")
                info = self.db.execute(f"PRAGMA table_info({quote(kind)})").fetchall()
            if not info:
                self._tables[kind] = None
            else:
                # (cid, name, type, notnull, default, pk)
                names = {row[1].casefold(): row for row in info}
                id_column, key_column = names.get("id"), names.get("key")
                if not id_column or id_column[2].upper() != "INTEGER" or id_column[5] != 1 or not key_column:
                    raise SinkError(
                        f"{self.path}: table {kind!r} was not made by the sqlite sink "
                        "(it needs the columns id INTEGER PRIMARY KEY and key)"
                    )
                columns = {row[1]: row[2].upper() for row in info if row[1].casefold() not in RESERVED}
                self._tables[kind] = Table(kind, columns)
        return self._tables[kind]

    def _add_column(self, table: Table, name: str, column_type: str) -> None:
        self.db.execute(f"ALTER TABLE {table.name} ADD COLUMN {quote(name)} {column_type}")
        table.columns[name] = column_type
        table.by_folded[name.casefold()] = name

    # -- the Sink protocol --------------------------------------------------------------------

    def existing(self, kind: str) -> Iterator[StoredDocument]:
        try:
            table = self._table(kind)
            if table is None:
                return
            cursor = self.db.execute(f"SELECT * FROM {table.name} ORDER BY id")
            names = [d[0] for d in cursor.description]
            while rows := cursor.fetchmany(1000):
                for row in rows:
                    yield row[names.index("id")], self._data(table, names, row)
        except sqlite3.Error as exc:
            raise self._fail(f"read table {kind!r}", exc) from None

    @staticmethod
    def _data(table: Table, names: list[str], row: tuple) -> dict[str, Any]:
        return {
            name: decode(value, table.columns.get(name, ""))
            for name, value in zip(names, row)
            if name.casefold() not in RESERVED
        }

    def write_batch(self, documents: list[Document]) -> list[str | Rejected]:
        try:
            return [self._write(doc) for doc in documents]
        except sqlite3.Error as exc:
            raise self._fail("write to the database", exc) from None

    def _write(self, doc: Document) -> str | Rejected:
        problem = self._check_names(doc)
        if problem:
            return Rejected(problem)
        given = {name: value for name, value in doc.data.items() if value is not None}
        table = self._table(doc.kind, create=True)
        assert table is not None
        for name, value in given.items():
            column = table.by_folded.get(name.casefold())
            if column is not None and column != name:
                return Rejected(f"field {name!r} would share the column {column!r} of table {doc.kind!r} "
                                "(SQLite column names ignore case)")
            column_type = table.columns.get(name) or declared_type(value)
            if column_type is None or not fits(value, column_type):
                what = f"a {column_type} column" if name in table.columns else "SQLite"
                return Rejected(f"field {name!r}: cannot store {type(value).__name__} value {value!r} "
                                f"in {what}")
        for name, value in given.items():
            if name not in table.columns:
                self._add_column(table, name, declared_type(value) or "")
        stored = self._row(table, doc.ref) if doc.ref is not None else None
        try:
            if stored is None:
                return self._insert(table, doc.key, given)
            return self._update(table, doc.key, given, stored)
        except sqlite3.IntegrityError:
            return Rejected(f"another {doc.kind} document already has the key {doc.key!r}")

    def _check_names(self, doc: Document) -> str | None:
        if not isinstance(doc.key, str):
            return f"the document key must be a text, not {type(doc.key).__name__}"
        if doc.kind.casefold().startswith("sqlite_"):
            return f"kind {doc.kind!r}: SQLite reserves table names starting with 'sqlite_'"
        seen: dict[str, str] = {}
        for name in doc.data:
            folded = name.casefold()
            if folded in RESERVED:
                return f"field {name!r}: the sqlite sink keeps the columns id and key for itself"
            if folded in seen:
                return f"fields {seen[folded]!r} and {name!r} differ only by case (SQLite column names ignore case)"
            seen[folded] = name
        return None

    def _row(self, table: Table, ref: Any) -> tuple[str, dict[str, Any]] | None:
        cursor = self.db.execute(f"SELECT * FROM {table.name} WHERE id = ?", (ref,))
        row = cursor.fetchone()
        if row is None:
            return None
        names = [d[0] for d in cursor.description]
        return row[names.index("key")], self._data(table, names, row) | {"id": row[names.index("id")]}

    def _insert(self, table: Table, key: str, given: dict[str, Any]) -> str:
        columns = ", ".join(["key", *map(quote, given)])
        marks = ", ".join("?" * (len(given) + 1))
        self.db.execute(f"INSERT INTO {table.name} ({columns}) VALUES ({marks})",
                        [key, *map(encode, given.values())])
        return CREATED

    def _update(self, table: Table, key: str, given: dict[str, Any], stored: tuple[str, dict[str, Any]]) -> str:
        stored_key, data = stored
        changes = {name: value for name, value in given.items() if data.get(name) is None or data[name] != value}
        if key != stored_key:
            changes["key"] = key
        if not changes:
            return UNCHANGED
        assignments = ", ".join(f"{quote(name)} = ?" for name in changes)
        self.db.execute(f"UPDATE {table.name} SET {assignments} WHERE id = ?",
                        [*map(encode, changes.values()), data["id"]])
        return UPDATED

    def commit(self) -> None:
        if self.dry_run:
            return  # a dry run is rolled back by close()
        try:
            self.db.execute("COMMIT")
            self._created = False
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise SinkError(f"{self.path}: cannot commit: the database is busy (readers hold it) after "
                                f"{self.timeout:g} s; nothing was written") from None
            raise self._fail("commit", exc) from None
        except sqlite3.Error as exc:
            raise self._fail("commit", exc) from None

    def close(self) -> None:
        try:
            if self._created:  # still locked: a run waiting for it starts again on a new file
                self.path.unlink(missing_ok=True)
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # closing the connection rolls back anyway
        finally:
            self.db.close()


def parse_timeout(options: Mapping[str, str]) -> float:
    raw = options.get("timeout")
    if raw is None:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0 or math.isinf(value):
        raise UsageError(f"sqlite sink option timeout={raw!r} must be a number of seconds >= 0")
    return value


def open_sqlite_sink(target: str | None, options: Mapping[str, str], dry_run: bool) -> SqliteSink:
    check_options(options, OPTIONS, "sqlite sink")
    return SqliteSink(Path(target or DEFAULT_TARGET), parse_timeout(options), dry_run)


@etl.hookimpl
def register_sinks() -> list[SinkSpec]:
    return [SinkSpec("sqlite", open_sqlite_sink,
                     f"a SQLite database, one table per kind, one transaction per run (default {DEFAULT_TARGET})")]
