"""Registers the ``sqlite`` sink (see :mod:`etl.connectors.sqlite_store`), which is imported only when a run uses
it: a run into another store never loads sqlite3."""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from etl import SinkSpec, hookimpl

from .storefile import lock_options

if TYPE_CHECKING:
    from .sqlite_store import SqliteSink

DEFAULT_TARGET = "etl-db.sqlite"


def open_sqlite_sink(target: str | None, options: Mapping[str, Any], dry_run: bool) -> SqliteSink:
    from .sqlite_store import SqliteSink

    return SqliteSink(target or DEFAULT_TARGET, options["lock_timeout"], dry_run)


@hookimpl
def register_sinks() -> list[SinkSpec]:
    return [SinkSpec("sqlite", open_sqlite_sink,
                     "an embedded SQLite store that reads and writes only what a run touches "
                     f"(default {DEFAULT_TARGET})",
                     default_target=DEFAULT_TARGET, keeps_history=True, transactional=True, finds_by_key=True,
                     options_schema=lock_options())]
