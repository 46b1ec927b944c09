"""Keeping secrets out of output: option values that carry credentials, and URL passwords."""
from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

MASK = "***"
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
