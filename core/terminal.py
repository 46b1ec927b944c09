"""What etl prints: control characters in file names, cell values or server messages shown
as visible escapes, so that no text can move the cursor, change colours, reorder a line
or forge a line of its own ("\\netl: all good")."""
from __future__ import annotations

import re

import click

CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""C0 and C1 controls, DEL, the line and paragraph separators, and the bidirectional marks,
embeddings, overrides and isolates."""
NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def printable(text: str) -> str:
    """``text`` with each control character written as its escape (``\\x1b``, ``\\n``, ``\\u2028``)."""
    return CONTROLS.sub(_escape, text)


def echo(line: str, err: bool = False) -> None:
    """Print one line, its control characters escaped (a newline in it is shown as ``\\n``)."""
    click.echo(printable(line), err=err)
