"""The lock that keeps one run at a time on a store."""
from __future__ import annotations

import fcntl
import os
import sys
import time
from pathlib import Path

from etl.errors import SinkError
from etl.files import new_file_mode, reason

_held: set[int] = set()
"""The file descriptors of the locks this process holds."""


def _drop_held_locks() -> None:
    """In a forked child: close the parent's lock descriptors, so that a child outliving its parent
    (a flock belongs to the open file, shared by fork) never keeps the store locked."""
    for fd in _held:
        try:
            os.close(fd)
        except OSError:
            pass
    _held.clear()


os.register_at_fork(after_in_child=_drop_held_locks)


class StoreLock:
    """An exclusive lock on a store between runs, held through ``<store>.lock``.

    The kernel releases it when the holder dies, so a killed run never blocks the next; the
    holder removes the file when it is done, and a waiter that finds it was removed (or
    replaced) while it waited tries again on the new one.
    """

    def __init__(self, path: Path, timeout: float) -> None:
        self.path = path.with_name(path.name + ".lock")
        self.store = path
        self.timeout = timeout
        self._fd: int | None = None

    def _open(self) -> int:
        try:
            return os.open(self.path, os.O_RDWR | os.O_CREAT, new_file_mode())
        except OSError as exc:
            raise SinkError(f"{self.store}: cannot lock the store: {reason(exc)}") from None

    def _is_current(self, fd: int) -> bool:
        try:
            return os.fstat(fd).st_ino == os.stat(self.path).st_ino
        except FileNotFoundError:
            return False

    def acquire(self) -> None:
        deadline = time.monotonic() + self.timeout
        told = False
        fd = self._open()
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise SinkError(
                        f"{self.store}: another run is still using this store after {self.timeout:g} s; "
                        "try again later or raise --sink-option lock_timeout=SECONDS"
                    ) from None
                if not told:
                    print(f"etl: waiting for another run to finish with {self.store}", file=sys.stderr)
                    told = True
                time.sleep(0.05)
                continue
            if self._is_current(fd):
                self._fd = fd
                _held.add(fd)
                return
            os.close(fd)  # the holder removed it while we waited: lock the new one
            fd = self._open()

    def release(self) -> None:
        if self._fd is not None:
            self.path.unlink(missing_ok=True)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            _held.discard(self._fd)
            os.close(self._fd)
            self._fd = None
