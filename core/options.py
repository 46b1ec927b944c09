"""Options of components and of the command line: `K=V` pairs, and their checks."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .errors import UsageError
from .secrets import SECRET_OPTION, mask_url
from .settings import valid_names


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


def load_options(schema: Callable[[], Any] | None, options: Mapping[str, Any], what: str) -> dict[str, Any]:
    """A component's ``options`` (``what``: "tinydb sink") loaded by its marshmallow ``schema`` class: typed, with
    the schema's defaults, as its ``open`` gets them; without a schema, it takes none. UsageError for an unknown
    option, naming the closest valid one, or for a bad value, naming the option, the value (not a secret's) and
    what is expected."""
    if schema is None:
        if options:
            raise UsageError(f"unknown {what} option {sorted(options)[0]!r} (valid: none)")
        return {}
    from marshmallow import RAISE, ValidationError

    loader = schema(unknown=RAISE)
    try:
        return loader.load(dict(options))
    except ValidationError as exc:
        problems = sorted(exc.normalized_messages().items())
    valid = [field.data_key or name for name, field in loader.load_fields.items()]
    unknown = [key for key, why in problems if why == [loader.error_messages["unknown"]]]
    if unknown:
        raise UsageError(f"unknown {what} option {unknown[0]!r} ({valid_names(unknown[0], valid)})")
    key, why = problems[0]
    subject = "options" if key == "_schema" else f"option {key}" + (
        f"={mask_url(str(options[key]))!r}" if key in options and not SECRET_OPTION.search(key) else "")
    raise UsageError(f"{what} {subject}: {' '.join(map(str, why)) if isinstance(why, list) else why}")
