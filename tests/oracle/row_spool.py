"""The row spool as it was at 2332c96, before its rows were framed one by one (the oracle of
tests/test_row_spool.py): each batch one frame of JSON (pickled if a cell is not valid Unicode),
decoded whole when any of its lines is asked for. Its file, appending and reading are today's."""
from __future__ import annotations

import pickle
import struct
from collections.abc import Collection, Iterator

import orjson

from etl.components import Row
from etl.row_spool import RowSpool as Today

FRAME = struct.Struct("<QQQ")
"""A frame's head: the size of its rows' bytes, its first line and its last line."""


class RowSpool(Today):
    def keep(self, rows: list[Row]) -> None:
        try:
            data = orjson.dumps(rows)
        except orjson.JSONEncodeError:
            data = pickle.dumps(rows, pickle.HIGHEST_PROTOCOL)
        self._append(FRAME.pack(len(data), rows[0][0], rows[-1][0]) + data)

    def rows_on(self, lines: Collection[int] | None) -> Iterator[Row]:
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
