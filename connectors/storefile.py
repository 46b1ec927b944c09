"""A store file's safety between runs: its real path, its kind, and the lock that keeps one run at a time."""
from __future__ import annotations

import errno
import fcntl
import os
import stat
import sys
import time
from pathlib import Path

from etl import SinkError, new_file_mode, printable, reason

DEFAULT_LOCK_TIMEOUT = 60.0
"""Seconds a run waits for the lock of a store another run holds."""

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


def store_path(target: str | Path) -> Path:
    """The real path of a store: through symbolic links, so that every name of one store shares its
    lock and a link is written through, never replaced."""
    return Path(os.path.realpath(target))


def store_label(target: str | Path) -> str:
    """How messages name a store: as given, with its real path when a link leads elsewhere."""
    real = store_path(target)
    return str(target) if str(real) == os.path.abspath(target) else f"{target} (a link to {real})"


def check_store_kind(label: str, info: os.stat_result) -> None:
    """Refuse a store that is not a regular file (a FIFO would hang a run, a device never end) or
    that has other names (hard links, which an atomic replacement would separate)."""
    if not stat.S_ISREG(info.st_mode):
        raise SinkError(f"{label}: not a regular file ({_kind(info.st_mode)}): a store must be a file")
    if info.st_nlink > 1:
        raise SinkError(f"{label}: the store has {info.st_nlink} hard links; writing it would separate them "
                        "(copy it to a file of its own)")


def open_store(path: Path, label: str) -> int | None:
    """A descriptor to read the store at its real ``path``, None when there is none; checked before
    reading (opened without blocking, so a FIFO put in its place in the meantime cannot hang the
    run either, and without following a link put there since the path was resolved)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SinkError(f"{label}: cannot read the store: {reason(exc)}") from None
    try:
        check_store_kind(label, os.fstat(fd))
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _kind(mode: int) -> str:
    kinds = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))
    return next((name for test, name in kinds if test(mode)), "not a file")


class StoreLock:
    """A lock on a store between runs, held through ``<store>.lock``: exclusive for a run that
    writes, shared (and only when the file exists) for a dry run, which creates nothing.

    The kernel releases it when the holder dies, so a killed run never blocks the next; a writer
    removes the file when it is done, and a waiter that finds it was removed (or replaced) while
    it waited tries again on the new one. The file is never followed as a symbolic link.
    """

    def __init__(self, path: Path, label: str, timeout: float, shared: bool = False) -> None:
        self.path = path.with_name(path.name + ".lock")
        self.store = label
        self.timeout = timeout
        self.shared = shared
        self._fd: int | None = None

    def _open(self) -> int | None:
        flags = os.O_NOFOLLOW | os.O_NONBLOCK | (os.O_RDONLY if self.shared else os.O_RDWR | os.O_CREAT)
        for _ in range(3):
            try:
                fd = os.open(self.path, flags, new_file_mode())
            except OSError as exc:
                if self.shared and exc.errno in (errno.ENOENT, errno.EACCES, errno.EPERM, errno.EROFS, errno.ELOOP):
                    return None  # a dry run creates nothing: it reads without the lock it cannot take
                if exc.errno == errno.ELOOP and self.path.is_symlink():
                    self.path.unlink(missing_ok=True)  # never a lock of ours: replaced, not followed
                    continue
                raise SinkError(f"{self.store}: cannot lock the store ({self.path}): {reason(exc)}") from None
            if stat.S_ISREG(os.fstat(fd).st_mode):
                return fd
            os.close(fd)
            break
        raise SinkError(f"{self.store}: cannot lock the store: {self.path} is not a regular file")

    def _is_current(self, fd: int) -> bool:
        try:
            return os.fstat(fd).st_ino == os.lstat(self.path).st_ino
        except FileNotFoundError:
            return False

    def acquire(self) -> None:
        deadline = time.monotonic() + self.timeout
        told = False
        fd = self._open()
        while fd is not None:
            try:
                fcntl.flock(fd, (fcntl.LOCK_SH if self.shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise SinkError(
                        f"{self.store}: another run is still using this store after {self.timeout:g} s; "
                        "try again later or raise --sink-option lock_timeout=SECONDS"
                    ) from None
                if not told:
                    print(printable(f"etl: waiting for another run to finish with {self.store}"), file=sys.stderr)
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
            if not self.shared:
                self.path.unlink(missing_ok=True)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            _held.discard(self._fd)
            os.close(self._fd)
            self._fd = None


def lock_options() -> type:
    """The options of a sink whose store a :class:`StoreLock` guards: ``lock_timeout``, the seconds to wait for
    the lock (a schema made when the registry is built: `etl --help` needs no marshmallow)."""
    from marshmallow import Schema, fields, validate

    class LockOptions(Schema):
        lock_timeout = fields.Float(load_default=DEFAULT_LOCK_TIMEOUT, validate=validate.Range(min=0))

    return LockOptions
