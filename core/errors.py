"""Errors of a run: fatal ones that stop it, and rejected rows that it reports."""
from __future__ import annotations

from dataclasses import dataclass


class EtlError(Exception):
    """A fatal error: the run stops, nothing is written, the CLI prints one line.

    ``exit_code`` is 2 for bad input, bad options and failed writes.
    """

    exit_code = 2


class UsageError(EtlError):
    """Bad options or configuration given by the user."""


class InputError(EtlError):
    """An input file that cannot be read at all (not a table, bad encoding...)."""


class SinkError(EtlError):
    """The target store cannot be read or written."""


class OutputError(EtlError):
    """The import is complete and the store was written, but the report or the rejects file could not be (exit 3)."""

    exit_code = 3


class Terminated(BaseException):
    """Raised in the main thread when the process receives SIGTERM (like KeyboardInterrupt)."""


class Interrupted(EtlError):
    """The run was stopped by SIGINT (exit 130) or SIGTERM (exit 143); says what was written."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(slots=True)
class RowError:
    """Why one line of the input was rejected.

    ``line`` is the physical line (or sheet row) where the record starts, the
    header being line 1. ``field`` names the rules' field at fault (or None for a
    line-level problem); the pipeline turns it into ``column``, the file's own
    header text.
    """

    line: int
    message: str
    field: str | None = None
    value: str | None = None
    column: str | None = None

    def as_dict(self) -> dict:
        return {"line": self.line, "column": self.column, "value": self.value, "message": self.message}
