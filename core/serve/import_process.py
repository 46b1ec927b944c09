"""Each import or dry run started from the page runs in a process spawned for it, as ``etl run`` would.

The server then holds only its own memory: what a large import takes is given back to the system when
it ends, and the run reads its file ahead in a second process as ``etl run`` does (a fork, which the
server's threads forbid in the server itself). A crash ends that run only. The process sends its
progress, then its report (the diff grouped and capped as the page shows it) or its error.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from etl.errors import EtlError, Terminated
from etl.terminal import printable

from .diff import ChangeGroup

Outcome = tuple[dict[str, Any], list[ChangeGroup]]
"""The run's report (as written by ``--report``, without its changes) and its changes as the page groups them."""


class ImportProcess:
    """One run in its own process; ``stop`` ends it as a SIGTERM ends ``etl run`` (its store kept whole)."""

    def __init__(self) -> None:
        self._process: multiprocessing.process.BaseProcess | None = None

    def run(self, source: Path, options: dict[str, Any],
            progress: Callable[[str, int, int | None], None]) -> Outcome:
        """The outcome of ``etl.run(source, **options)``, run in a new process; ``progress(step, n, expected)``
        is told how far it got. EtlError for the run's fatal error, or a process that died."""
        context = multiprocessing.get_context("spawn")
        receiver, sender = context.Pipe(duplex=False)
        # not a daemon, which could not read ahead in a process of its own: ``stop`` ends it with the server,
        # and the kernel if the server dies
        process = context.Process(target=_run, args=(source, options, sender, os.getpid()), name="etl-import")
        self._process = process
        process.start()
        sender.close()
        try:
            return self._outcome(receiver, process, progress)
        finally:
            receiver.close()
            process.join()
            self._process = None

    @staticmethod
    def _outcome(receiver: Connection, process: multiprocessing.process.BaseProcess,
                 progress: Callable[[str, int, int | None], None]) -> Outcome:
        while True:
            try:
                kind, *payload = receiver.recv()
            except EOFError:
                process.join()
                raise EtlError(f"the import stopped unexpectedly (exit code {process.exitcode})") from None
            if kind == "progress":
                progress(*payload)
            elif kind == "done":
                return payload[0], payload[1]
            else:
                raise EtlError(payload[0])

    def stop(self) -> None:
        """End the run if it is still going, and wait for its process."""
        if (process := self._process) is not None:
            if process.is_alive():
                process.terminate()
            process.join()


class _ProgressSender:
    """Told the run's progress as :class:`etl.progress.Progress` is, sends it to the server."""

    def __init__(self, sender: Connection) -> None:
        self.sender = sender

    def reading(self, lines: int, expected: int | None) -> None:
        _send(self.sender, ("progress", "reading", lines, expected))

    def loading(self, documents: int) -> None:
        _send(self.sender, ("progress", "loading", documents, None))

    def close(self) -> None:
        """Nothing to erase."""


def _terminate(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once is enough: the run now ends as it must
    raise Terminated()


def _send(sender: Connection, message: tuple[Any, ...]) -> None:
    """Send to the server, unless it is gone (then nobody waits for the outcome)."""
    try:
        sender.send(message)
    except OSError:
        pass


def _run(source: Path, options: dict[str, Any], sender: Connection, parent: int) -> None:
    """In the spawned process: run, then send the outcome or the error in one line."""
    from etl.api import run

    from .diff import grouped_changes

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C stops the server, which stops this run
    signal.signal(signal.SIGTERM, _terminate)
    if sys.platform.startswith("linux"):
        from etl.read_ahead import die_with

        die_with(parent)
    try:
        report = run(source, progress=_ProgressSender(sender), **options).as_dict()
        changes = grouped_changes(report.pop("changes", None))
        message: tuple[Any, ...] = ("done", report, changes)
    except EtlError as exc:
        message = ("error", str(exc))
    except Terminated:
        message = ("error", "stopped with the server before it began")
    except Exception as exc:  # a bug: said in one line
        message = ("error", printable(f"unexpected error: {type(exc).__name__}: {exc}"))
    try:
        _send(sender, message)
    except Terminated:  # stopped once the run was over: its outcome stands
        pass
