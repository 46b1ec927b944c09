"""Registers the built-in executors of ``etl batch`` (see :mod:`etl.executor_backends`, imported only when a
batch starts one): ``local``, ``processes`` and ``dask``."""
from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any

from . import hookimpl
from .components import ExecutorSpec, Workers


def _local(workers: int | None, options: Mapping[str, Any]) -> AbstractContextManager[Workers]:
    from .executor_backends import this_process

    return this_process(workers, options)


def _processes(workers: int | None, options: Mapping[str, Any]) -> AbstractContextManager[Workers]:
    from .executor_backends import process_pool

    return process_pool(workers, options)


def _dask(workers: int | None, options: Mapping[str, Any]) -> AbstractContextManager[Workers]:
    from .executor_backends import dask_cluster

    return dask_cluster(workers, options)


def _dask_options() -> type:
    """The dask executor's options schema, made when the registry is built (`etl --help` needs no marshmallow)."""
    from marshmallow import RAISE, Schema, fields, validate

    class DaskOptions(Schema):
        class Meta:
            unknown = RAISE

        scheduler = fields.String(metadata={"description": "tcp://HOST:PORT of a running Dask scheduler; "
                                                           "without it, a local cluster of --workers processes"})
        timeout = fields.Float(load_default=30.0, validate=validate.Range(min=0, min_inclusive=False),
                               metadata={"description": "seconds to wait for the scheduler"})

    return DaskOptions


@hookimpl
def register_executors() -> list[ExecutorSpec]:
    return [
        ExecutorSpec("local", _local, "one job after another, in this process (the default)"),
        ExecutorSpec("processes", _processes, "a pool of processes on this machine (--workers N, default: "
                                              "the number of cores)"),
        ExecutorSpec("dask", _dask, "a Dask cluster (--scheduler tcp://HOST:PORT), or a local one; "
                                    "pip install 'etl[dask]'", options_schema=_dask_options()),
    ]
