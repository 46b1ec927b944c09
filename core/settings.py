"""Rule settings: the rules' own, validated by their schema, and one section per plugin under
``[plugins.NAME]``; and how a refused name is explained (the closest, the ones known)."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .errors import UsageError


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


def checked_plugin_sections(sections: Mapping[str, dict[str, Any]], pm: Any) -> dict[str, dict[str, Any]]:
    """The ``[plugins.NAME]`` sections, each validated by its plugin's ``plugin_settings_schema``; a section
    of a plugin that is not installed is refused, naming the closest."""
    installed = {name for name, plugin in pm.list_name_plugin() if plugin is not None}
    schemas = {impl.plugin_name: impl.function for impl in pm.hook.plugin_settings_schema.get_hookimpls()}
    checked = {}
    for name, values in sections.items():
        if name not in installed:
            raise UsageError(f"settings: [plugins.{name}]: no plugin is named {name!r} "
                             f"({valid_names(name, sorted(installed))})")
        schema = schemas.get(name)
        checked[name] = validate_settings(schema(), values, f"plugin {name!r}") if schema else dict(values)
    return checked


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
