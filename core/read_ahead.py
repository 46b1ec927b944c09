"""Reading ahead in a second process, to use the other core on large files.

The reader, the mapping and the validators of the next batches run in a forked child
while this process gives the current batch to the rules; batches come back in order,
pickled, so the results are those of one process.
"""
from __future__ import annotations

import gc
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, TypeVar

from .errors import InputError, Terminated

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

T = TypeVar("T")

MIN_FILE_SIZE = 4 << 20
"""Bytes from which a file is read ahead: below, starting the child costs more than it saves."""
PR_SET_PDEATHSIG = 1
"""prctl(2): the signal the kernel sends this process when its parent dies."""


def worth_reading_ahead(file_size: int) -> bool:
    """Whether a file of this size is read in a child process: on Linux only, as it forks,
    and not while other threads run (a lock one of them holds would stay locked in the child)."""
    return file_size >= MIN_FILE_SIZE and sys.platform.startswith("linux") and threading.active_count() == 1


def read_ahead(produce: Callable[[], Iterator[T]], in_child: bool) -> Iterator[T]:
    """The items of ``produce()``, made in a forked child process when ``in_child``.

    An exception raised by ``produce`` is raised here, in its place; stopping early
    (an error, an interruption) stops the child.
    """
    if not in_child:
        yield from produce()
        return
    import multiprocessing  # here, not at start-up: a small file never needs it

    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_produce_into, args=(produce, sender, receiver, os.getpid()),
                            name="etl-read-ahead", daemon=True)
    child.start()
    sender.close()
    try:
        while True:
            try:
                kind, payload = pickle.loads(receiver.recv_bytes())
            except EOFError:
                child.join()
                if child.exitcode == -signal.SIGTERM:
                    raise Terminated() from None
                raise InputError(f"the process reading the file stopped unexpectedly (exit code {child.exitcode})"
                                 ) from None
            if kind == "error":
                raise payload
            if kind == "done":
                return
            yield payload
    finally:
        receiver.close()
        if child.is_alive():
            child.terminate()
        child.join()


def die_with(parent: int) -> None:
    """In a child process (on Linux): be killed by the kernel when the parent dies (even by SIGKILL),
    and stop now if it already has, so that no child ever outlives its run."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


def _produce_into(produce: Callable[[], Iterator[T]], sender: Connection, receiver: Connection, parent: int) -> None:
    """In the child: send each item, then "done", or the exception that stopped ``produce``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops it
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    die_with(parent)
    receiver.close()  # the parent's end: with it closed here, a parent gone makes sending fail, never block
    gc.freeze()  # the parent's objects (a loaded store...) are never scanned here, so stay shared, not copied
    try:
        for item in produce():
            sender.send_bytes(pickle.dumps(("item", item), pickle.HIGHEST_PROTOCOL))
    except BrokenPipeError:
        return  # the parent stopped reading
    except Exception as exc:  # raised again in the parent, as if read there
        try:
            message = pickle.dumps(("error", exc))
            pickle.loads(message)  # some exceptions pickle but cannot be rebuilt
        except Exception:
            message = pickle.dumps(("error", RuntimeError(repr(exc))))
    else:
        message = pickle.dumps(("done", None))
    try:
        sender.send_bytes(message)
    except BrokenPipeError:
        pass
    sender.close()
