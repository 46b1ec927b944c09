"""The rows of a run as read, kept in a temporary file while reading, so that the rejected
lines' cells come back at the end of the run without the input being read again.

Each batch of rows is one frame: its head (the size of the rest, its first and last line, its
number of rows), the line of each row, where each row's bytes end, then each row's cells, marshalled
(the file lives and dies with the run, in one version of Python; marshal keeps any text, even a cell
that is not valid Unicode, and, unlike orjson, allocates no buffer of its own for each row). A row
is found by its line and decoded alone, so a run that rejects a few lines spread over a large file
decodes those only. The rows of a file read in this process are kept in memory (such a file
is small: see ``etl.read_ahead``); those of a file read ahead go to an unnamed file (gone with its
last descriptor, even after SIGKILL) written without buffering: the reader forked to read ahead
writes into it, and the frames are on disk before its batch is handed over.
"""
from __future__ import annotations

import io
import marshal
import struct
import tempfile
from array import array
from bisect import bisect_left
from collections.abc import Collection, Iterator
from itertools import accumulate
from typing import BinaryIO

from .components import Row
from .errors import EtlError
from .files import reason

FRAME = struct.Struct("<QQQQ")
"""A frame's head: the size of the rest of the frame, its first line, its last line and its number of rows."""


class RowSpool:
    """The rows read so far, in order, to find some of them again by their line."""

    def __init__(self, in_memory: bool) -> None:
        try:
            self._file: BinaryIO = io.BytesIO() if in_memory else tempfile.TemporaryFile(buffering=0)
        except OSError as exc:
            raise EtlError(_cannot_keep(exc)) from None

    def keep(self, rows: list[Row]) -> None:
        """Append a batch of rows (in file order)."""
        parts = [marshal.dumps(cells) for _, cells in rows]
        lines = array("Q", [line for line, _ in rows])
        ends = array("Q", accumulate(map(len, parts)))
        head = FRAME.pack(16 * len(rows) + ends[-1], rows[0][0], rows[-1][0], len(rows))
        self._append(b"".join((head, lines.tobytes(), ends.tobytes(), *parts)))

    def rows_on(self, lines: Collection[int] | None) -> Iterator[Row]:
        """The rows kept that start on ``lines`` (every row: None), in file order; only the frames
        holding some are read, and only those rows decoded."""
        wanted = sorted(set(lines)) if lines is not None else None
        self._file.seek(0)
        index = 0
        while head := self._file.read(FRAME.size):
            size, first, last, count = FRAME.unpack(head)
            if wanted is not None:
                index = bisect_left(wanted, first, index)
                if index == len(wanted):
                    return
                if wanted[index] > last:
                    self._file.seek(size, 1)
                    continue
            frame = memoryview(self._read(size))
            found, ends = array("Q"), array("Q")
            found.frombytes(frame[:8 * count])
            ends.frombytes(frame[8 * count:16 * count])
            rows = frame[16 * count:]
            for position in range(count) if wanted is None else _positions(found, wanted, index, last):
                yield found[position], marshal.loads(rows[ends[position - 1] if position else 0:ends[position]])

    def close(self) -> None:
        self._file.close()

    def _append(self, frame: bytes) -> None:
        try:
            written = 0
            while written < len(frame):
                written += self._file.write(memoryview(frame)[written:]) or 0
        except OSError as exc:
            raise EtlError(_cannot_keep(exc)) from None

    def _read(self, size: int) -> bytes:
        parts, left = [], size
        while left:
            part = self._file.read(left)
            if not part:
                raise EtlError("the temporary file of the lines read was cut short")
            parts.append(part)
            left -= len(part)
        return b"".join(parts)


def _positions(found: array, wanted: list[int], index: int, last: int) -> Iterator[int]:
    """Where the lines ``wanted[index:]`` up to ``last`` are among a frame's lines ``found`` (sorted)."""
    while index < len(wanted) and wanted[index] <= last:
        position = bisect_left(found, wanted[index])
        if position < len(found) and found[position] == wanted[index]:
            yield position
        index += 1


def _cannot_keep(exc: OSError) -> str:
    return f"{tempfile.gettempdir()}: cannot keep the lines read in a temporary file: {reason(exc)}"
