"""Safe file writes: atomic replacement, temporary files that never outlive their writer, and
the checks an output path passes before a run reads anything."""
from __future__ import annotations

import os
import signal
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import EtlError

STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
TEMPORARY_SUFFIX = ".tmp"


def new_file_mode() -> int:
    """The mode of a new file under the current umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


@contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back until the block ends, for steps that must not be cut in two."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _temporary_prefix(path: Path) -> str:
    """Temporary files of ``path`` are ``.<name>.<pid>.<random>.tmp``: the pid tells whether their writer lives."""
    return f".{path.name}."


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(path: Path) -> None:
    """Remove the temporary files of ``path`` whose writer died (SIGKILL, a crash) before renaming them."""
    prefix = _temporary_prefix(path)
    try:
        names = os.listdir(path.parent)
    except OSError:
        return
    for name in names:
        if not (name.startswith(prefix) and name.endswith(TEMPORARY_SUFFIX)):
            continue
        parts = name[len(prefix):-len(TEMPORARY_SUFFIX)].split(".")
        if len(parts) == 2 and parts[0].isdigit() and not _alive(int(parts[0])):
            try:
                os.unlink(path.parent / name)
            except OSError:
                pass  # someone else removed it, or the folder is read-only: the next writer tries again


def _temporary_beside(path: Path) -> Path:
    """A new empty temporary file in ``path``'s folder, with the mode ``path`` has or will have."""
    fd, name = tempfile.mkstemp(prefix=f"{_temporary_prefix(path)}{os.getpid()}.", suffix=TEMPORARY_SUFFIX,
                                dir=path.parent)
    try:
        os.fchmod(fd, stat.S_IMODE(os.stat(path).st_mode) if path.exists() else new_file_mode())
    finally:
        os.close(fd)
    return Path(name)


def _replace(tmp: Path, path: Path) -> None:
    """fsync ``tmp`` and rename it over ``path``: readers see the old or the new file, never a mix."""
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


@contextmanager
def written_atomically(path: Path, what: str, error: type[EtlError] = EtlError,
                       name: str | None = None) -> Iterator[Path]:
    """A temporary file to write ``path``'s new content into; it replaces ``path`` when the block
    ends, or is removed on any failure (an OSError becomes ``error`` naming ``path``, or ``name``,
    and ``what`` was written), interruptions included: ``path`` is then untouched and no temporary
    file is left.

    A symbolic link is written through: its target is replaced, the link stays.
    """
    real = Path(os.path.realpath(path))
    tmp: Path | None = None
    try:
        remove_stale_temporaries(real)
        with signals_held():  # so that the temporary file is known as soon as it exists
            tmp = _temporary_beside(real)
        yield tmp
        _replace(tmp, real)
    except OSError as exc:
        raise error(f"{name or path}: cannot write {what}: {reason(exc)}") from None
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)  # gone already after a successful rename


def write_atomically(path: Path, chunks: Iterator[bytes] | list[bytes], what: str,
                     error: type[EtlError] = EtlError, name: str | None = None) -> None:
    """Write the byte ``chunks`` to ``path`` atomically (see :func:`written_atomically`)."""
    with written_atomically(path, what, error, name) as tmp, open(tmp, "wb") as handle:
        for chunk in chunks:
            handle.write(chunk)


def check_output(path: Path, what: str) -> None:
    """Refuse, before a run reads anything, an output file that could not be written."""
    real = Path(os.path.realpath(path))
    folder = real.parent
    if not folder.is_dir():
        raise EtlError(f"{path}: cannot write {what}: the folder {folder} does not exist")
    if real.is_dir():
        raise EtlError(f"{path}: cannot write {what}: it is a folder")
    if real.exists() and not real.is_file():
        raise EtlError(f"{path}: cannot write {what}: it is not a regular file")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise EtlError(f"{path}: cannot write {what}: the folder {folder} is not writable")
