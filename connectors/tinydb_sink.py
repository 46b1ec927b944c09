"""Registers the ``tinydb`` sink, the embedded default store (see :mod:`etl.connectors.tinydb_store`), which is
imported only when a run uses it."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from etl import SinkSpec, hookimpl

from .storefile import lock_options

if TYPE_CHECKING:
    from .tinydb_store import TinyDBSink

DEFAULT_TARGET = "etl-db.json"


def open_tinydb_sink(target: str | None, options: Mapping[str, Any], dry_run: bool) -> TinyDBSink:
    from .tinydb_store import TinyDBSink

    return TinyDBSink(Path(target or DEFAULT_TARGET), options["lock_timeout"], dry_run)


@hookimpl
def register_sinks() -> list[SinkSpec]:
    return [SinkSpec("tinydb", open_tinydb_sink,
                     f"an embedded TinyDB store, one table per kind (default {DEFAULT_TARGET})",
                     default=True, default_target=DEFAULT_TARGET, keeps_history=True, transactional=True,
                     options_schema=lock_options())]
