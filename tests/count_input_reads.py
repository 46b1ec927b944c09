"""Run one import and print how many bytes of its input file were read, every read counted.

    python count_input_reads.py INPUT STORE REJECTS

Run as a child process of the tests: every opening of INPUT (``open``, ``io.open``, and so
``pathlib`` and ``zipfile``) gives a file that counts the bytes read through it, so do
``os.read`` and ``os.pread`` on it, and a workbook python-calamine reads from its path counts
as read whole (Linux only: descriptors are named through /proc). The counts go to a file
opened for appending, so that a child forked to read ahead counts too. A first import, not
counted, loads etl's modules; the second, into a new store, is counted.
"""
from __future__ import annotations

import builtins
import io
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

INPUT = os.path.realpath(sys.argv[1])
_fd, _name = tempfile.mkstemp(prefix="reads-")
COUNTS = os.open(_name, os.O_RDWR | os.O_APPEND)
os.close(_fd)
os.unlink(_name)
counting = False


def counted(size: int) -> None:
    if counting and size:
        os.write(COUNTS, b"%d\n" % size)


class CountingFileIO(io.FileIO):
    """A file that counts the bytes read through it."""

    def readinto(self, buffer: Any) -> int | None:
        size = super().readinto(buffer)
        counted(size or 0)
        return size

    def read(self, size: int = -1) -> bytes | None:
        data = super().read(size)
        counted(len(data or b""))
        return data

    def readall(self) -> bytes:
        data = super().readall()
        counted(len(data))
        return data


real_open = io.open


def counting_open(file: Any, mode: str = "r", buffering: int = -1, encoding: str | None = None,
                  errors: str | None = None, newline: str | None = None, closefd: bool = True,
                  opener: Any = None) -> Any:
    """``open``, with a counting file underneath when ``file`` is the input, opened to be read."""
    if not isinstance(file, (str, bytes, os.PathLike)) or os.path.realpath(file) != INPUT or \
            set(mode) - set("rbt"):
        return real_open(file, mode, buffering, encoding, errors, newline, closefd, opener)
    raw = CountingFileIO(file, "r", closefd, opener)
    if buffering == 0:
        return raw
    buffered = io.BufferedReader(raw, buffering if buffering > 1 else io.DEFAULT_BUFFER_SIZE)
    return buffered if "b" in mode else io.TextIOWrapper(buffered, encoding, errors, newline)


class CountingCalamine:
    """python-calamine's workbook class, counting a workbook it reads by its path as read whole."""

    def __getattr__(self, name: str) -> Any:
        return getattr(real_calamine, name)

    def from_path(self, path: Any) -> Any:
        if os.path.realpath(path) == INPUT:
            counted(os.path.getsize(INPUT))
        return real_calamine.from_path(path)


real_pread, real_read = os.pread, os.read


def is_input(fd: int) -> bool:
    try:
        return os.readlink(f"/proc/self/fd/{fd}") == INPUT
    except OSError:
        return False


def counting_pread(fd: int, size: int, offset: int) -> bytes:
    data = real_pread(fd, size, offset)
    if is_input(fd):
        counted(len(data))
    return data


def counting_read(fd: int, size: int) -> bytes:
    data = real_read(fd, size)
    if counting and is_input(fd):
        counted(len(data))
    return data


builtins.open = io.open = counting_open
os.pread, os.read = counting_pread, counting_read

import python_calamine  # noqa: E402

real_calamine = python_calamine.CalamineWorkbook
python_calamine.CalamineWorkbook = CountingCalamine()

import etl  # noqa: E402

store, rejects = Path(sys.argv[2]), Path(sys.argv[3])
etl.run(INPUT, sink="tinydb", target=store.with_name("warm-up.json"),
        rejects=rejects.with_name("warm-up" + rejects.suffix))
counting = True
report = etl.run(INPUT, sink="tinydb", target=store, rejects=rejects)
counting = False
os.lseek(COUNTS, 0, os.SEEK_SET)
with os.fdopen(COUNTS, "rb") as counts:
    print(sum(int(line) for line in counts.read().split()), report.status)
