"""One file of a batch job as plain data that travels to a worker, and the summary it sends back.

A worker may be this process, a process of a pool or a machine of a cluster: it runs the job by
importing etl, from a :class:`JobSpec` that holds no secret (``${VAR}`` is filled in from the
worker's own environment) and no path to a settings or mapping file (their contents travel).
"""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import EtlError, UsageError
from .secrets import mask_secrets

MAX_ERRORS = 20
"""Errors a summary carries back at most (the report file has them all)."""
MAX_TEXT = 1000
"""Characters of a summary's line at most."""
INTERRUPTED_CODES = (130, 143)


@dataclass(frozen=True)
class JobSpec:
    """One input file of one job, ready to run anywhere etl is installed."""

    job: str
    input: str
    base: str
    """The config file's folder: relative paths are relative to it."""
    options: dict[str, Any]
    """The job's keys as written, defaults merged, with ``${VAR}`` left for the worker to fill in."""
    plugins: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The config's ``[plugins.NAME]`` sections, as written."""
    settings: dict[str, Any] | None = None
    """The contents of the job's settings file, read where the batch started (None: no file)."""
    mapping: dict[str, Any] | None = None
    """The contents of the job's mapping file, read where the batch started (None: no file)."""
    dry_run: bool = False
    error: str = ""
    """A problem found where the batch started (an unreadable settings or mapping file): the job fails
    with it, in its turn, as it would have on the worker."""

    @property
    def key(self) -> str:
        """A key unique to this job and input within a batch (e.g. for a cluster's task names)."""
        return f"{self.job}:{self.input}"


@dataclass(frozen=True)
class JobSummary:
    """What a job sends back: small, whatever the size of its file."""

    job: str
    input: str
    status: str
    exit_code: int
    line: str = ""
    """The run's one-line summary, or its error."""
    counts: dict[str, int] = field(default_factory=dict)
    """Lines ``read``, ``imported`` and ``rejected``."""
    errors: list[dict[str, Any]] = field(default_factory=list)
    """The first rejected lines (line, column, value, message), at most ``MAX_ERRORS``."""
    outputs: dict[str, str] = field(default_factory=dict)
    """The files the run wrote besides the store: ``report``, ``rejects``, ``success``."""

    @property
    def interrupted(self) -> bool:
        return self.exit_code in INTERRUPTED_CODES


def not_run(spec: JobSpec, status: str, line: str = "", exit_code: int = 0) -> JobSummary:
    """The summary of a job that did not run to its end (skipped, interrupted, lost with its worker)."""
    return JobSummary(spec.job, spec.input, status, exit_code, _capped(line))


def _capped(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def run_options(spec: JobSpec) -> dict[str, Any]:
    """The keyword arguments of :func:`etl.run` for the job, here: ``${VAR}`` filled in from this
    machine's environment (their values in ``secrets``), paths resolved, ``{job}`` and ``{stem}`` filled.
    UsageError for the job's problem, or a variable this machine does not set."""
    from .batch_config import expand, fill, resolved

    if spec.error:
        raise UsageError(spec.error)
    problems: list[str] = []
    secrets: set[str] = set()
    options = expand(spec.options, "job", os.environ, problems, secrets)
    plugins = expand(spec.plugins, "plugins", os.environ, [], secrets)
    if problems:
        raise UsageError(f"on {socket.gethostname()}: {'; '.join(problems)}")
    options = fill(resolved(options, Path(spec.base)), spec.job, Path(spec.input))
    settings = dict(spec.settings if spec.settings is not None else options.pop("settings", None) or {})
    options.pop("settings", None)
    settings["plugins"] = {**plugins, **settings.get("plugins", {})}
    if spec.mapping is not None:
        options["mapping"] = spec.mapping
    options["sink_options"] = {k: "\n".join(v) if isinstance(v, list) else v
                               for k, v in options.get("sink_options", {}).items()}
    return {**options, "settings": settings, "dry_run": spec.dry_run, "secrets": tuple(secrets)}


def run_job_spec(spec: JobSpec) -> JobSummary:
    """Run one job on this machine (the function each executor's workers call)."""
    from .api import run

    try:
        options = run_options(spec)
    except EtlError as exc:
        return not_run(spec, "error", str(exc), exc.exit_code)
    if not os.path.isfile(spec.input):
        return not_run(spec, "error", f"{spec.input}: not found on {socket.gethostname()}: the inputs of a batch "
                                      "must be on storage that every worker sees", 2)
    try:
        report = run(spec.input, **options)
    except EtlError as exc:
        return not_run(spec, "error", mask_secrets(str(exc), options["secrets"]), exc.exit_code)
    rows = report.as_dict()["rows"]
    return JobSummary(
        spec.job, spec.input, report.status, report.exit_code, _capped(report.summary().splitlines()[0]),
        counts={key: rows[key] for key in ("read", "imported", "rejected")},
        errors=[error.as_dict() for error in report.errors[:MAX_ERRORS]],
        outputs={key: str(options[key]) for key in ("report", "rejects", "success") if options.get(key)},
    )


def run_job_specs(specs: list[JobSpec]) -> list[JobSummary]:
    """Run several jobs one after another on this machine (one task of a cluster, for small jobs whose
    round trips would cost more than themselves); once one is interrupted, the others do not start."""
    summaries: list[JobSummary] = []
    for spec in specs:
        interrupted = bool(summaries) and summaries[-1].interrupted
        summaries.append(not_run(spec, "skipped") if interrupted else run_job_spec(spec))
    return summaries
