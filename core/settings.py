"""Options and settings files: `K=V` options, TOML/JSON files, and validated rule settings.

A settings file holds the rules' settings at its top level and one section per plugin
under ``[plugins.NAME]``.
"""
from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .errors import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


def read_table_file(path: str | Path) -> dict[str, Any]:
    """Read a TOML (or, by its ``.json`` extension, JSON) file into a dict."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not a UTF-8 text file") from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"{path}: not valid {'JSON' if path.suffix.lower() == '.json' else 'TOML'}: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a table of keys and values")
    return data


def parse_options(pairs: Iterable[str], what: str) -> dict[str, str]:
    """``["k=v", ...]`` -> dict; a repeated key joins its values with a newline."""
    options: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"{what} {pair!r} must look like KEY=VALUE")
        options[key] = f"{options[key]}\n{value}" if key in options else value
    return options


def split_settings(data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Split a settings table into the rules' own settings and the per-plugin sections."""
    rules = {k: v for k, v in data.items() if k != "plugins"}
    plugins = data.get("plugins", {})
    if not isinstance(plugins, dict) or not all(isinstance(v, dict) for v in plugins.values()):
        raise UsageError("settings: [plugins.NAME] sections must be tables")
    return rules, dict(plugins)


def validate_settings(schema_class: Any, values: Mapping[str, Any], origin: str) -> dict[str, Any]:
    """Validate ``values`` with a marshmallow schema; every problem in one message."""
    if schema_class is None:
        return dict(values)
    from marshmallow import ValidationError

    schema = schema_class()
    try:
        return schema.load(dict(values))
    except ValidationError as exc:
        messages = explain_unknown(exc.normalized_messages(), schema, "setting")
        problems = "; ".join(f"{key}: {' '.join(map(str, msgs)) if isinstance(msgs, list) else msgs}"
                             for key, msgs in sorted(messages.items()))
        raise UsageError(f"invalid settings ({origin}): {problems}") from None


def valid_names(name: str, valid: Iterable[str]) -> str:
    """"did you mean 'x'? valid: ..." for an unknown ``name``: the closest valid name, if any, then all."""
    import difflib

    valid = list(valid)
    close = difflib.get_close_matches(name, valid, n=1)
    return (f"did you mean {close[0]!r}? " if close else "") + f"valid: {', '.join(valid) or 'none'}"


def explain_unknown(messages: Any, node: Any, what: str) -> Any:
    """marshmallow's error messages for ``node`` (a schema or a field), with each "Unknown field."
    replaced by the valid names, the closest first."""
    from marshmallow import Schema, fields

    if isinstance(node, fields.Nested):
        node = node.schema
    if not isinstance(messages, dict):
        return messages
    if isinstance(node, fields.List):
        return {index: explain_unknown(inner, node.inner, what) for index, inner in messages.items()}
    if not isinstance(node, Schema):
        return messages
    known = {field.data_key or name: field for name, field in node.load_fields.items()}
    unknown = [node.error_messages["unknown"]]
    return {key: [f"unknown {what} ({valid_names(str(key), known)})"] if key not in known and value == unknown
            else explain_unknown(value, known.get(key), what)
            for key, value in messages.items()}


def check_options(options: Mapping[str, str], allowed: Iterable[str], what: str) -> None:
    """Refuse options a component does not know, naming the closest and the ones it knows."""
    allowed = list(allowed)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise UsageError(f"unknown {what} option {unknown[0]!r} ({valid_names(unknown[0], allowed)})")


def number_option(options: Mapping[str, str], key: str, default: float, what: str) -> float:
    """A non-negative number option."""
    raw = options.get(key)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value < 0:
        raise UsageError(f"{what} option {key}={raw!r} must be a number >= 0")
    return value
