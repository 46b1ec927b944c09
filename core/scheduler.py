"""Running a batch's jobs on an executor: side by side, except the jobs of one store, in turn.

- Jobs that write to the same file store run one after another, in config order; jobs on
  different stores (or on URLs) run side by side, as many at once as there are workers.
- A job that imports nothing (exit code 2) stops the batch unless ``keep_going``: jobs not
  handed to the executor yet are ``skipped``; those it holds (running, or ``Workers.queued``
  waiting) go on to their end and are reported.
- A worker that dies fails its job (``failed``, with the reason); its store is as it was or
  complete, as every sink commits at once. The executor replaces the worker for the next jobs.
- Ctrl-C (or SIGTERM) skips what has not started, waits at most ``GRACE`` seconds for the rest,
  and reports what did not end in time as ``interrupted``.
"""
from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, Future, wait
from contextlib import contextmanager, nullcontext
from typing import Any

from .batch_config import BatchConfig, BatchJob, job_spec, store_of
from .batch_jobs import JobSpec, JobSummary, not_run, run_job_spec, run_job_specs
from .components import ExecutorSpec, Workers
from .errors import Terminated, UsageError

GRACE = 30.0
"""Seconds an interrupted batch waits for the jobs already running."""
POLL = 0.2
"""Seconds between two looks at a stop asked for by a signal, while jobs run."""
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
STOP_EXIT_CODE = 2


class Scheduler:
    """Hands the jobs to the executor as workers and stores come free; collects their summaries."""

    def __init__(self, specs: list[JobSpec], stores: list[str | None], executor: ExecutorSpec,
                 workers: int | None, options: Mapping[str, Any], keep_going: bool,
                 echo: Callable[[JobSummary, int, int], None]) -> None:
        self.specs, self.stores = specs, stores
        self.executor, self.workers, self.options = executor, workers, options
        self.keep_going, self.echo = keep_going, echo
        self.results: list[JobSummary | None] = [None] * len(specs)
        self.pending = list(range(len(specs)))
        self.running: dict[Future, list[int]] = {}
        """Each future handed out, and the jobs it runs (several when the executor takes them so)."""
        self.done = 0
        self.stopped = False
        self.interrupted = False
        """Whether Ctrl-C or SIGTERM stopped the batch."""
        self.stop_requests = self.stops_handled = 0
        """Ctrl-C and SIGTERM received while the jobs ran elsewhere, and those acted on."""

    def run(self) -> list[JobSummary]:
        """Every job's summary, in config order."""
        with self.executor.open(self.workers, self.options) as workers, \
                (nullcontext() if workers.in_process else self._signals_as_requests()):
            try:
                while self.pending or self.running:
                    if not self.stopped:
                        self._submit(workers)
                    if not self.running:
                        break
                    self._collect(self._wait_for_one())
                if self.stop_requests > self.stops_handled:  # asked for as the last jobs came back
                    raise KeyboardInterrupt
            except (KeyboardInterrupt, Terminated):
                self._interrupt()
        for index in self.pending:
            self.results[index] = not_run(self.specs[index], "skipped")
        return [result for result in self.results if result is not None]

    @contextmanager
    def _signals_as_requests(self) -> Iterator[None]:
        """While jobs run elsewhere, Ctrl-C and SIGTERM only ask to stop (see ``_wait_for_one``): an
        exception raised in the middle of the pool's own locking could leave a lock taken for ever."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {signum: signal.signal(signum, self._request_stop) for signum in STOP_SIGNALS}
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _request_stop(self, signum: int, frame: object) -> None:
        self.stop_requests += 1

    def _wait_for_one(self, deadline: float | None = None) -> set[Future]:
        """The jobs finished once one is; KeyboardInterrupt once a stop is asked for; nothing after ``deadline``."""
        while True:
            if self.stop_requests > self.stops_handled:
                self.stops_handled = self.stop_requests
                raise KeyboardInterrupt
            timeout = POLL if deadline is None else min(POLL, max(0.0, deadline - time.monotonic()))
            finished, _ = wait(self.running, timeout=timeout, return_when=FIRST_COMPLETED)
            if finished or (deadline is not None and time.monotonic() >= deadline):
                return finished

    def _submit(self, workers: Workers) -> None:
        in_flight = workers.slots + workers.queued
        while len(self.running) < in_flight:
            group = self._next_jobs(min(workers.jobs_per_task, max(1, len(self.pending) // (2 * in_flight))))
            if not group:
                return
            if len(group) == 1:
                future = workers.executor.submit(run_job_spec, self.specs[group[0]])
            else:
                future = workers.executor.submit(run_job_specs, [self.specs[i] for i in group])
            self.running[future] = group

    def _next_jobs(self, most: int) -> list[int]:
        """Up to ``most`` pending jobs that may start now, taken out of ``pending``: none of a store that a
        running job writes to (then no later job of that store either: they keep their order)."""
        busy = {self.stores[i] for group in self.running.values() for i in group} - {None}
        group: list[int] = []
        for index in self.pending:
            if len(group) == most:
                break
            if self.stores[index] not in busy:
                group.append(index)  # a later job of its store may join this group: it runs after it
        for index in group:
            self.pending.remove(index)
        return group

    def _collect(self, finished: set[Future]) -> None:
        """Record the finished jobs."""
        for future in sorted(finished, key=self.running.__getitem__):
            group = self.running.pop(future)
            try:
                outcome = future.result()
                results = outcome if isinstance(outcome, list) else [outcome]
            except KeyboardInterrupt:  # the worker's own, sent back as its job's outcome
                results = [not_run(self.specs[i], "interrupted", "interrupted: its store is as it was or complete",
                                   130) for i in group]
            except BrokenExecutor:
                results = [not_run(self.specs[i], "failed", "the worker process running this job died: the store "
                                   "is as it was or complete", STOP_EXIT_CODE) for i in group]
            except Exception as exc:  # whatever the executor says went wrong (a cluster's KilledWorker...)
                results = [not_run(self.specs[i], "failed", f"the job's worker failed: {type(exc).__name__}: {exc}",
                                   STOP_EXIT_CODE) for i in group]
            for index, result in zip(group, results):
                self._record(index, result)

    def _record(self, index: int, result: JobSummary) -> None:
        self.results[index] = result
        self.done += 1
        self.echo(result, self.done, len(self.specs))
        if result.interrupted or (result.exit_code == STOP_EXIT_CODE and not self.keep_going):
            self.stopped = True

    def _interrupt(self) -> None:
        """Skip what was never handed to the executor; wait a bounded time for what was (an executor's
        future cannot always tell a job waiting from a job running: a Dask one never says it runs)."""
        self.stopped = self.interrupted = True
        deadline = time.monotonic() + GRACE
        while self.running:
            try:
                finished = self._wait_for_one(deadline)
            except (KeyboardInterrupt, Terminated):
                break  # a second Ctrl-C: stop waiting
            if not finished:
                break
            self._collect(finished)
        for group in self.running.values():
            for index in group:
                self.results[index] = not_run(self.specs[index], "interrupted", "still running when the batch was "
                                              "interrupted: its store is as it was or complete", 130)
        self.running.clear()


def run_batch(config: BatchConfig, jobs: list[BatchJob], chosen: Mapping[str, Any], keep_going: bool,
              dry_run: bool, echo: Callable[[JobSummary, int, int], None]) -> tuple[list[JobSummary], bool]:
    """Run every file of ``jobs`` on the executor ``chosen`` (the ``[executor]`` table, the command
    line's options over it); the summaries in config order, and whether the batch was interrupted."""
    from .registry import get_registry

    options = dict(chosen)
    name = options.pop("name", "local")
    workers = options.pop("workers", None)
    if workers is not None and (not isinstance(workers, int) or isinstance(workers, bool) or workers < 1):
        raise UsageError(f"{config.path}: executor.workers: must be a whole number of 1 or more")
    registry = get_registry()
    executor = registry.executor(str(name))
    specs, stores = [], []
    for job in jobs:
        for source in job.inputs:
            specs.append(job_spec(config, job, source, dry_run))
            stores.append(store_of(job, source, registry.sink))
    try:
        executor_options = executor.load_options(options)
    except UsageError as exc:
        raise UsageError(f"{config.path}: {exc}") from None
    scheduler = Scheduler(specs, stores, executor, workers, executor_options, keep_going, echo)
    return scheduler.run(), scheduler.interrupted
