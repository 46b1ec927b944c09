"""Keeping secrets out of output: option values that carry credentials, URL passwords, and
the values of ``${VAR}`` taken from the environment."""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

MASK = "***"
MIN_SECRET_LENGTH = 4
"""The shortest ``${VAR}`` value masked: shorter ones hide nothing, and masking them (a "1")
would garble every message."""
URL_PASSWORD = re.compile(r"(://[^:/?#@\s]*):[^@/?#\s]*@")
SECRET_OPTION = re.compile(r"header|token|password|passwd|secret|auth|api[_-]?key|credential", re.IGNORECASE)
HEADER_VALUE = re.compile(r"^([^:\n]+:)[^\n]*$", re.MULTILINE)


def mask_url(text: str) -> str:
    """``https://user:pass@host/x`` -> ``https://user:***@host/x``; other text as is."""
    try:
        parts = urlsplit(text)
    except ValueError:
        return text
    if not parts.scheme or parts.password is None:
        return text
    netloc = f"{parts.username}:{MASK}@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def mask_options(options: Mapping[str, str]) -> dict[str, str]:
    """Options with credential values masked (a header keeps its name: ``Authorization: ***``)."""
    masked = {}
    for key, value in options.items():
        if key.lower() == "header":
            masked[key] = HEADER_VALUE.sub(rf"\1 {MASK}", str(value))
        elif SECRET_OPTION.search(key):
            masked[key] = MASK
        else:
            masked[key] = mask_url(str(value))
    return masked


def mask_secrets(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every URL password and each of ``secrets`` replaced by ``***``."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return URL_PASSWORD.sub(rf"\1:{MASK}@", text)


def mask_values(value: Any, secrets: Iterable[str]) -> Any:
    """``value`` with ``mask_secrets`` applied to every text in it, however deep in lists and dicts."""
    if isinstance(value, str):
        return mask_secrets(value, secrets)
    if isinstance(value, dict):
        return {key: mask_values(item, secrets) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_values(item, secrets) for item in value]
    return value


def url_passwords(target: str) -> tuple[str, ...]:
    """The password of a URL, also when the scheme is missing (``user:pw@host/x``), as written
    and decoded; none for anything else."""
    try:
        parts = urlsplit(target if "://" in target else "//" + target)
        password = parts.password
    except ValueError:
        return ()
    return (password, unquote(password)) if password else ()
