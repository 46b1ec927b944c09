"""Limits that keep a run's time and memory bounded, each with a clear error and a way to raise it."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

from .errors import InputError, UsageError
from .settings import valid_names


@dataclass(frozen=True)
class Limits:
    """``--limit NAME=N``: the largest input a run accepts."""

    file_size: int = 4 * 1024**3
    """Bytes of the input file."""
    columns: int = 1000
    """Columns of the header."""
    rows: int = 10_000_000
    """Data rows in one run."""
    value_length: int = 10_000
    """Characters in one cell."""
    errors: int = 100_000
    """Rejected lines, when they are also most of the lines read: past it the file is not what the
    rules expect (a wrong file, a wrong mapping), and going on would only fill memory."""

    @classmethod
    def parse(cls, given: Mapping[str, str | int]) -> Limits:
        names = [f.name for f in fields(cls)]
        values = {}
        for name, raw in given.items():
            if name not in names:
                raise UsageError(f"unknown limit {name!r} ({valid_names(name, names)})")
            try:
                values[name] = int(str(raw).replace("_", ""))
            except ValueError:
                values[name] = 0
            if values[name] <= 0:
                raise UsageError(f"limit {name}={raw!r} must be a whole number > 0")
        return cls(**values)

    def check_file_size(self, size: int) -> None:
        if size > self.file_size:
            raise InputError(f"the file has {size:,} bytes, more than the limit of {self.file_size:,} "
                             f"(raise it with --limit file_size=N)")

    def check_columns(self, count: int) -> None:
        if count > self.columns:
            raise InputError(f"the header has {count:,} columns, more than the limit of {self.columns:,} "
                             f"(raise it with --limit columns=N)")

    def long_values(self, lines: list[int], column: list[str]) -> list[tuple[int, str]]:
        """(line, message) for the cells of ``column`` longer than the limit."""
        if not column or max(map(len, column)) <= self.value_length:
            return []
        return [(line, f"a value of {len(value):,} characters, more than the limit of {self.value_length:,} "
                       f"(raise it with --limit value_length=N)")
                for line, value in zip(lines, column) if len(value) > self.value_length]

    def check_errors(self, rejected: int, read: int, line: int) -> None:
        if rejected > self.errors and rejected * 2 > read:
            raise InputError(f"line {line}: {rejected:,} of the {read:,} lines read are rejected, more than the limit of "
                             f"{self.errors:,}: stopping; is it the right file? (raise it with --limit errors=N)")

    def check_rows(self, count: int, batch: list[tuple[int, list[str]]]) -> None:
        """``count`` rows read so far, the last ones being ``batch`` (line, cells)."""
        if count > self.rows:
            line = batch[self.rows - (count - len(batch))][0]
            raise InputError(f"line {line}: more than {self.rows:,} data rows in one run "
                             f"(raise the limit with --limit rows=N)")
