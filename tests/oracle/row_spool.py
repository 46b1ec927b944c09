"""The row spool as it was before rows were framed one by one (the oracle of tests/test_row_spool.py).

The rows of a run as read, kept in a temporary file while reading, so that the rejected
lines' cells come back at the end of the run without the input being read again.

Each batch of rows is one frame: its size, its first and last line, then the rows as JSON
(pickled if a cell is not valid Unicode). The rows of a file read in this process are kept in
memory (such a file is small: see ``etl.read_ahead``); those of a file read ahead go to an
unnamed file (gone with its last descriptor, even after SIGKILL) written without buffering: the
reader forked to read ahead writes into it, and the frames are on disk before its batch is
handed over.
"""
from __future__ import annotations

import io
import pickle
import struct
import tempfile
from collections.abc import Collection, Iterator
from typing import BinaryIO

import orjson

from etl.components import Row
from etl.errors import EtlError
from etl.files import reason

FRAME = struct.Struct("<QQQ")
"""A frame's head: the size of its rows' bytes, its first line and its last line."""


class RowSpool:
    """The rows read so far, in order, to find some of them again by their line."""

    def __init__(self, in_memory: bool) -> None:
        try:
            self._file: BinaryIO = io.BytesIO() if in_memory else tempfile.TemporaryFile(buffering=0)
        except OSError as exc:
            raise EtlError(_cannot_keep(exc)) from None

    def keep(self, rows: list[Row]) -> None:
        """Append a batch of rows (in file order)."""
        try:
            data = orjson.dumps(rows)
        except orjson.JSONEncodeError:  # a cell that is not valid Unicode
            data = pickle.dumps(rows, pickle.HIGHEST_PROTOCOL)
        frame = FRAME.pack(len(data), rows[0][0], rows[-1][0]) + data
        try:
            written = 0
            while written < len(frame):
                written += self._file.write(memoryview(frame)[written:]) or 0
        except OSError as exc:
            raise EtlError(_cannot_keep(exc)) from None

    def rows_on(self, lines: Collection[int] | None) -> Iterator[Row]:
        """The rows kept that start on ``lines`` (every row: None), in file order; only the frames
        holding some are read."""
        wanted = sorted(set(lines)) if lines is not None else None
        chosen = set(lines) if lines is not None else None
        self._file.seek(0)
        index = 0
        while head := self._file.read(FRAME.size):
            size, first, last = FRAME.unpack(head)
            if wanted is not None:
                while index < len(wanted) and wanted[index] < first:
                    index += 1
                if index == len(wanted):
                    return
                if wanted[index] > last:
                    self._file.seek(size, 1)
                    continue
            data = self._read(size)
            rows = orjson.loads(data) if data[:1] == b"[" else pickle.loads(data)
            for line, cells in rows:
                if chosen is None or line in chosen:
                    yield line, cells

    def close(self) -> None:
        self._file.close()

    def _read(self, size: int) -> bytes:
        parts, left = [], size
        while left:
            part = self._file.read(left)
            if not part:
                raise EtlError("the temporary file of the lines read was cut short")
            parts.append(part)
            left -= len(part)
        return b"".join(parts)


def _cannot_keep(exc: OSError) -> str:
    return f"{tempfile.gettempdir()}: cannot keep the lines read in a temporary file: {reason(exc)}"
