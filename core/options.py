"""Options of components and of the command line: `K=V` pairs, and their checks."""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from .errors import UsageError
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
