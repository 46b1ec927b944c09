"""etl: import customer and contact lists from CSV and Excel files into a store.

Plugins implement the hooks of :mod:`etl.hookspecs` with ``@etl.hookimpl``.
"""
from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "hookimpl", "hookspec", "run"]


def __getattr__(name: str):
    # The API pulls in the pipeline, and even pluggy takes a while: `import etl` does nothing, so
    # that `etl` reaches its handling of Ctrl-C at once (and `etl --help` stays light).
    if name == "run":
        from .api import run

        return run
    if name in ("hookimpl", "hookspec"):
        import pluggy

        markers = globals()
        markers.setdefault("hookimpl", pluggy.HookimplMarker("etl"))
        markers.setdefault("hookspec", pluggy.HookspecMarker("etl"))
        return markers[name]
    raise AttributeError(name)
