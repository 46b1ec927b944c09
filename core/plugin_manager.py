"""The plugin manager: built-in plugins plus third-party ones from the ``etl`` entry points.

Entry points are loaded one at a time: a plugin that fails to import or register is
recorded with its error (see :func:`load_failures`) and the others still work.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import Distribution, entry_points

import pluggy

from . import hookspecs

ENTRY_POINT_GROUP = "etl"

DEFAULT_PLUGINS = (
    "etl.connectors.csv_format",
    "etl.connectors.excel_format",
    "etl.connectors.json_sink",
    "etl.connectors.tinydb_sink",
    "etl.connectors.sqlite_sink",
    "etl.connectors.http_sink",
    "etl.plugins",
    "etl.executors",
)


@dataclass(frozen=True)
class LoadFailure:
    """A third-party plugin that could not be loaded."""

    name: str
    error: str

    def __str__(self) -> str:
        return f"plugin {self.name!r} failed to load: {self.error}"


_failures: list[LoadFailure] = []
_distributions: dict[str, Distribution | None] = {}
"""The distribution of each third-party plugin (None when unknown): its version is read only when asked."""


@lru_cache(maxsize=None)
def get_plugin_manager() -> pluggy.PluginManager:
    """Build the plugin manager once per process: defaults first, then entry points."""
    pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
    pm.add_hookspecs(hookspecs)
    for module_name in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(module_name), module_name)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if pm.get_plugin(ep.name) is not None or pm.is_blocked(ep.name):
            continue
        try:
            pm.register(ep.load(), ep.name)
            _distributions[ep.name] = ep.dist
        except Exception as exc:  # any failure of third-party code is reported, not raised
            _failures.append(LoadFailure(ep.name, f"{type(exc).__name__}: {exc}"))
            pm.set_blocked(ep.name)
    return pm


def load_failures() -> list[LoadFailure]:
    """The third-party plugins that failed to load in this process."""
    get_plugin_manager()
    return list(_failures)


def plugin_version(name: str) -> str:
    """The version of the distribution that provides plugin ``name``."""
    from . import __version__

    if name not in _distributions:
        return __version__
    dist = _distributions[name]
    return dist.version if dist is not None else "?"
