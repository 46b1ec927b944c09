"""The built-in executors of ``etl batch`` (registered by :mod:`etl.executors`): ``local`` (this process),
``processes`` (a pool) and ``dask`` (a Dask cluster, with ``pip install 'etl[dask]'``; dask is imported only when
chosen)."""
from __future__ import annotations

import os
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import BrokenExecutor, Executor, Future
from contextlib import ExitStack, contextmanager
from typing import Any

from . import __version__
from .components import Workers
from .errors import UsageError

LOCAL_SCHEDULER = "127.0.0.1"
"""Where a cluster started for the batch listens: this machine only."""
DASK_JOBS_PER_TASK = 5
"""Jobs in one Dask task at most: each task costs the scheduler and the worker a few milliseconds, as much as a
small file's job (W7, 1,000 files of 1,000 lines on a local cluster of 2: 21.3 s with one job per task, 16.7 s
with 5)."""


class InThisProcess(Executor):
    """Runs each job as it is submitted, here: today's ``etl batch``, one job after another."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:
            future.set_exception(exc)
        return future


@contextmanager
def this_process(workers: int | None, options: Mapping[str, Any]) -> Iterator[Workers]:
    if workers not in (None, 1):
        raise UsageError(f"the local executor runs one job at a time: use --executor processes for {workers} workers")
    yield Workers(InThisProcess(), 1, in_process=True)


_running = False


def _stop_if_running(signum: int, frame: object) -> None:
    """In a pool's worker: Ctrl-C stops the job it runs (which keeps its store whole); an idle worker ignores it."""
    if _running:
        raise KeyboardInterrupt


def _worker_started(parent: int) -> None:
    """In each worker of the pool: Ctrl-C stops only a running job, and the worker dies with the batch."""
    signal.signal(signal.SIGINT, _stop_if_running)
    if sys.platform.startswith("linux"):
        from .read_ahead import die_with

        die_with(parent)


def _run_in_worker(spec: Any) -> Any:
    global _running
    from .batch_jobs import not_run, run_job_spec

    try:
        _running = True
        return run_job_spec(spec)
    except KeyboardInterrupt:  # before or after the run itself, which reports its own interruption
        return not_run(spec, "interrupted", "interrupted: its store is as it was or complete", 130)
    finally:
        _running = False


class WorkerPool(Executor):
    """Spawned processes, each a pool of its own running one job at a time: a process that dies fails
    only the job it ran (a shared pool fails all those running), and is replaced for the next job."""

    def __init__(self, count: int) -> None:
        self._slots: list[tuple[Executor, Future | None]] = [(self._process(), None) for _ in range(count)]

    @staticmethod
    def _process() -> Executor:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_worker_started, initargs=(os.getpid(),))

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        from .batch_jobs import run_job_spec

        for index, (pool, last) in enumerate(self._slots):
            if last is None or last.done():
                if last is not None and not last.cancelled() and isinstance(last.exception(), BrokenExecutor):
                    pool.shutdown(wait=False)  # its process died
                    pool = self._process()
                future = pool.submit(_run_in_worker if fn is run_job_spec else fn, *args, **kwargs)
                self._slots[index] = (pool, future)
                return future
        raise RuntimeError(f"all {len(self._slots)} processes are busy")

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        for pool, _ in self._slots:
            pool.shutdown(wait=wait, cancel_futures=cancel_futures)


@contextmanager
def process_pool(workers: int | None, options: Mapping[str, Any]) -> Iterator[Workers]:
    count = workers or os.cpu_count() or 1
    pool = WorkerPool(count)
    try:
        yield Workers(pool, count)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _etl_version() -> str:
    import etl as installed

    return installed.__version__


@contextmanager
def dask_cluster(workers: int | None, options: Mapping[str, Any]) -> Iterator[Workers]:
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError:
        raise UsageError("the dask executor needs Dask: pip install 'etl[dask]'") from None
    with ExitStack() as stack:
        scheduler = options.get("scheduler")
        if scheduler:
            try:
                client = stack.enter_context(Client(scheduler, timeout=options["timeout"]))
            except OSError as exc:
                raise UsageError(f"cannot reach the Dask scheduler {scheduler}: {exc}") from None
        else:
            # its workers' files in a folder of the batch's own, removed with it: Dask would leave
            # dask-scratch-space and its locks in the temporary directory
            scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="etl-dask-"))
            stack.enter_context(dask.config.set(_local_cluster_config(dask.config, scratch)))
            cluster = stack.enter_context(LocalCluster(
                n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                host=LOCAL_SCHEDULER, dashboard_address=None, local_directory=scratch))
            client = stack.enter_context(Client(cluster))
        _check_versions(client.run(_etl_version))
        client.forward_logging()
        threads = sum(client.nthreads().values())
        yield Workers(client.get_executor(pure=False), threads, queued=threads, jobs_per_task=DASK_JOBS_PER_TASK)


def _local_cluster_config(config: Any, scratch: str) -> dict[str, Any]:
    """Dask's settings for a cluster started for the batch (a running one keeps its own): its scratch space
    (the scheduler's, here) in ``scratch``; and each job as fast as in a pool's process, not 6-8% slower:
    no statistical profiler (a thread sampling every stack each 10 ms, for a dashboard no one sees) and
    glibc's own trimming of freed memory (Dask makes workers give it back at once, for long-lived ones). And
    the kill rule of the other executors."""
    environ = {name: value for name, value in config.get("distributed.nanny.pre-spawn-environ").items()
               if name != "MALLOC_TRIM_THRESHOLD_"}
    return {"temporary-directory": scratch, "distributed.worker.profile.enabled": False,
            "distributed.nanny.pre-spawn-environ": environ,
            # a worker holds only the task it runs (the others wait at the scheduler), and a task whose worker
            # dies is not given to another: a job that kills its worker fails alone, at once, and no job that
            # merely waited on that worker is retried, nor failed after a few such deaths (KilledWorker)
            "distributed.scheduler.worker-saturation": 1.0, "distributed.scheduler.allowed-failures": 0}


def _check_versions(versions: Mapping[str, str]) -> None:
    """Every worker must run the etl of this machine: a job means the same thing everywhere."""
    wrong = {worker: version for worker, version in versions.items() if version != __version__}
    if wrong:
        worker, version = sorted(wrong.items())[0]
        raise UsageError(f"the Dask worker {worker} has etl {version}, this machine etl {__version__}: "
                         f"install the same version everywhere ({len(wrong)} of {len(versions)} workers differ)")
    if not versions:
        raise UsageError("the Dask cluster has no worker")
