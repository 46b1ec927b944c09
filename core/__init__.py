"""etl: import customer and contact lists from CSV and Excel files into a store.

``etl`` itself is the one public surface: the Python API (``etl.run``), and all that a plugin
may use (``@etl.hookimpl``, the component specs, the data they exchange, the errors, the text
and file helpers). Plugins, the built-in ones included, import from ``etl`` (and test with
``etl.testing``) and from nothing else: every other module of the package is internal.
"""
from __future__ import annotations

__version__ = "0.1.0"

PUBLIC: dict[str, str] = {
    # the Python API
    "run": "api",
    # hooks and component specs
    **dict.fromkeys(("ReaderSpec", "SinkSpec", "RulesSpec", "ValidatorSpec", "ExecutorSpec", "Workers", "Field",
                     "Content", "Table"), "components"),
    # the data components exchange
    **dict.fromkeys(("Row", "Batch", "Document", "StoredDocument", "StoreAccess", "RulesOutcome", "Rejected",
                     "CREATED", "UPDATED", "UNCHANGED", "CLEAR", "changed_fields", "stored_form", "stored_value"),
                    "components"),
    # errors
    **dict.fromkeys(("RowError", "EtlError", "UsageError", "InputError", "SinkError"), "errors"),
    # text: comparing names, showing values, masking secrets, a rejects file's cells read back
    "normalise": "mapping", "printable": "terminal", "mask_secrets": "secrets", "restore": "rejects",
    # files and history, for sinks that keep their store in a file or keep a history
    **dict.fromkeys(("write_atomically", "reason", "remove_stale_temporaries", "new_file_mode"), "files"),
    **dict.fromkeys(("HISTORY_KIND", "TYPE_NAMES", "described", "shape_problem", "entry_keys"), "history"),
}
"""Each public name, and the internal module that defines it (imported when the name is first used)."""

__all__ = ["__version__", "hookimpl", "hookspec", *PUBLIC]


def __getattr__(name: str) -> object:
    # Nothing is imported with `import etl` itself (not even typing, nor pluggy), so that `etl` reaches its
    # handling of Ctrl-C at once and `etl --help` stays light. Each name brings its module when first used.
    if name in ("hookimpl", "hookspec"):
        import pluggy

        markers = globals()
        markers.setdefault("hookimpl", pluggy.HookimplMarker("etl"))
        markers.setdefault("hookspec", pluggy.HookspecMarker("etl"))
        return markers[name]
    if name in PUBLIC:
        from importlib import import_module

        value = getattr(import_module(f"{__name__}.{PUBLIC[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'etl' has no attribute {name!r}")

