"""Imports and dry runs started from the page: one at a time in a worker thread, never in the server's
event loop; each keeps its progress for the page to poll, then its report, its rejects file, and for a dry run
the records it would change (capped), for an import its success file."""
from __future__ import annotations

import queue
import shutil
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from etl.batch_config import BatchConfig, BatchJob, job_spec
from etl.batch_jobs import run_options
from etl.errors import EtlError
from etl.registry import get_registry
from etl.terminal import printable

from .diff import ChangeGroup
from .import_process import ImportProcess
from .uploads import PrivateFolder, Upload

JOBS_KEPT = 50
"""Jobs whose report, rejects and progress the server keeps (a long session must not grow without end)."""
WEB_KEYS = ("input", "report", "rejects", "success", "mapping", "diff")
"""Options of a config's job that the page gives itself."""
T = TypeVar("T")


@dataclass
class Settings:
    """Where and how the page's imports go: the options of one job of a batch config (``etl serve
    --config``), or of ``--sink``/``--target``, and the secrets to mask in everything shown."""

    config: BatchConfig
    job: BatchJob

    @classmethod
    def of(cls, config: BatchConfig, job: BatchJob) -> Settings:
        options = {k: v for k, v in job.options.items() if k not in WEB_KEYS}
        written = {k: v for k, v in job.written.items() if k not in WEB_KEYS}
        return cls(config, BatchJob(job.name, [], options, written))

    @property
    def options(self) -> dict[str, Any]:
        return self.job.options

    def mask(self, text: str) -> str:
        return self.config.mask(text)


@dataclass
class WebJob:
    """A dry run or an import of an upload, and how far it got."""

    id: str
    upload: Upload
    mapping: dict[str, str]
    """The user's own choices: column title -> field ("" ignores it)."""
    dry_run: bool
    folder: Path
    state: str = "queued"
    """queued, running, done (with a report) or failed (with an error and maybe no report)."""
    read: int = 0
    expected: int | None = None
    loaded: int = 0
    report: dict[str, Any] | None = None
    error: str | None = None
    rejects: Path | None = None
    success: Path | None = None
    """The imported lines with their outcome (an import's, not a dry run's)."""
    changes: list[ChangeGroup] = field(default_factory=list)
    """The records a dry run would create or update, grouped and capped (its report file keeps them all). An
    import shows none: its check did, and a diff costs what ``etl run --diff`` costs in memory."""

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed")

    @property
    def report_path(self) -> Path:
        return self.folder / "report.json"

    def progress(self) -> dict[str, Any]:
        """What the page polls."""
        percent = min(99, 100 * self.read // self.expected) if self.expected and not self.finished else None
        return {"state": self.state, "read": self.read, "expected": self.expected, "loaded": self.loaded,
                "percent": 100 if self.finished else percent}

    def advance(self, step: str, count: int, expected: int | None) -> None:
        """The run's progress: lines ``reading`` (of about ``expected``), or documents ``loading``."""
        if step == "reading":
            self.read, self.expected = count, expected
        else:
            self.loaded = count


@dataclass
class Task:
    """A call the worker makes between jobs (an undo), its result or error given to ``future``."""

    call: Callable[[], Any]
    future: Future = field(default_factory=Future)

    def run(self) -> None:
        if not self.future.set_running_or_notify_cancel():
            return
        try:
            self.future.set_result(self.call())
        except BaseException as exc:  # given to the route that waits for it, which says it in one line
            self.future.set_exception(exc)


class Runner:
    """Runs the jobs, and the tasks such as an undo, in order in one worker thread (a store takes one write
    at a time anyway). The thread is a daemon: stopping the server stops a running import as Ctrl-C stops
    ``etl run``."""

    def __init__(self, settings: Settings, area: PrivateFolder) -> None:
        self.settings = settings
        self.area = area
        self.jobs: dict[str, WebJob] = {}
        self.queue: queue.SimpleQueue[WebJob | Task] = queue.SimpleQueue()
        self.process = ImportProcess()
        threading.Thread(target=self._work, name="etl-import", daemon=True).start()

    def start(self, upload: Upload, mapping: dict[str, str], dry_run: bool) -> WebJob:
        self._forget_old_jobs()
        ident, folder = self.area.new_folder("jobs")
        job = WebJob(ident, upload, dict(mapping), dry_run, folder)
        self.jobs[ident] = job
        self.queue.put(job)
        return job

    def call(self, call: Callable[[], T]) -> Future[T]:
        """Run ``call`` in the worker thread, after the jobs queued before it: its future result."""
        task = Task(call)
        self.queue.put(task)
        return task.future

    def _forget_old_jobs(self) -> None:
        """Keep the reports and files of the last ``JOBS_KEPT`` jobs only (the history keeps every import's)."""
        finished = [ident for ident, job in self.jobs.items() if job.finished]
        for ident in finished[:max(0, len(self.jobs) - JOBS_KEPT + 1)]:
            shutil.rmtree(self.jobs.pop(ident).folder, ignore_errors=True)

    def import_of(self, entry: dict[str, Any]) -> WebJob | None:
        """The finished import this server ran that made the history ``entry`` (by its input, an upload of its
        own private folder), if the server still keeps it."""
        return next((job for job in self.jobs.values() if job.finished and not job.dry_run
                     and str(job.upload.path.resolve()) == entry.get("input")), None)

    def running(self) -> WebJob | None:
        """The import running now, if one is."""
        return next((job for job in self.jobs.values() if job.state == "running" and not job.dry_run), None)

    def _work(self) -> None:
        while True:
            item = self.queue.get()
            if isinstance(item, Task):
                item.run()
            else:
                self._run(item)

    def _run(self, job: WebJob) -> None:
        job.state = "running"
        source = job.upload.path
        reader_options = {**self.settings.options.get("reader_options", {}),
                          **({"sheet": job.upload.sheet} if job.upload.sheet else {})}

        try:
            writer = get_registry().writer_for(source.suffix)
            suffix = source.suffix.lower() if writer else ".xlsx"
            job.rejects = job.folder / f"rejects{suffix}"
            job.success = None if job.dry_run else job.folder / f"success{suffix}"
            options = run_options(job_spec(self.settings.config, self.settings.job, source, job.dry_run))
            options.update(reader_options=reader_options, mapping=job.mapping, report=job.report_path,
                           rejects=job.rejects, success=job.success, diff=job.dry_run)
            job.report, job.changes = self.process.run(source, options, job.advance)
            job.state = "done"
        except EtlError as exc:
            job.error = self.settings.mask(str(exc))
            job.state = "failed"
        except Exception as exc:  # a bug: said in one line, the server goes on
            job.error = self.settings.mask(printable(f"unexpected error: {type(exc).__name__}: {exc}"))
            job.state = "failed"
        finally:
            if not job.dry_run:
                self.area.forget(job.upload)
