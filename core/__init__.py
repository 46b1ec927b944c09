"""etl: import customer and contact lists from CSV and Excel files into a store.

Plugins implement the hooks of :mod:`etl.hookspecs` with ``@etl.hookimpl``.
"""
from __future__ import annotations

import pluggy

__version__ = "0.1.0"

hookspec = pluggy.HookspecMarker("etl")
hookimpl = pluggy.HookimplMarker("etl")

__all__ = ["__version__", "hookimpl", "hookspec", "run"]


def __getattr__(name: str):
    # The API pulls in the pipeline; keep `import etl` (and so `etl --help`) light.
    if name == "run":
        from .api import run

        return run
    raise AttributeError(name)
