"""The config file of `etl batch jobs.toml`: read and checked whole, and each of its jobs made a JobSpec.

```toml
[defaults]                      # any job key, for every job
sink = "tinydb"
[[jobs]]
name = "eu"                     # letters, digits, '.', '_', '-'
input = "exports/eu/*.csv"      # a glob or a list of them; files run in sorted order
rejects = "out/{job}-{stem}-rejects.csv"
[plugins.NAME]                  # each plugin's own section
```
``${VAR}`` is taken from the environment, and its value masked in every message, report,
rejects file and history; relative paths are relative to the config file.
"""
from __future__ import annotations

import glob
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from .batch_jobs import JobSpec, JobSummary
from .components import SinkSpec
from .errors import EtlError, UsageError
from .mapping import load_mapping_file
from .secrets import MIN_SECRET_LENGTH, mask_secrets
from .settings import explain_unknown
from .run_options import RUN_OPTIONS
from .table_files import read_table_file
from .terminal import printable

VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
JOB_NAME = re.compile(r"^(?!\.{1,2}$)[A-Za-z0-9_.-]+$")
PATH_KEYS = ("mapping", "settings", "report", "rejects", "success")
UNSAFE_IN_NAME = re.compile(r"[/\\\x00-\x1f\x7f]")
"""What a value filled into a file name must not hold: path separators, control characters."""


class TextOrList(fields.Field):
    """A string, or a list of strings (e.g. several globs, several headers)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            return value
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            return list(value)
        raise ValidationError("must be a string or a list of strings")


class TableOrPath(fields.Field):
    """A file path, or the table itself written inline."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, (str, dict)):
            return value
        raise ValidationError("must be a file path or a table")


class Options(fields.Dict):
    """Reader or sink options: text values (numbers and booleans are turned to text)."""

    def __init__(self, **kwargs):
        super().__init__(keys=fields.String(), values=TextOrList(), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, dict):
            value = {k: (str(v).lower() if isinstance(v, bool) else str(v) if isinstance(v, (int, float)) else v)
                     for k, v in value.items()}
        return super()._deserialize(value, attr, data, **kwargs)


FIELD_OF_KIND: dict[str, Callable[[], fields.Field]] = {
    "name": fields.String, "path": fields.String, "flag": fields.Boolean, "table": TableOrPath, "options": Options,
    "settings": lambda: fields.Dict(keys=fields.String()),
    "limits": lambda: fields.Dict(keys=fields.String(), values=fields.Integer()),
}
"""The field of a job's key for each kind of run option."""


class JobSchema(Schema.from_dict({
    "name": fields.String(validate=validate.Regexp(JOB_NAME, error="must be letters, digits, '.', '_' or '-'")),
    "input": TextOrList(),
    **{option.name: FIELD_OF_KIND[option.kind]() for option in RUN_OPTIONS},
})):
    """A job: its name, its input files, and any option of a run (``RUN_OPTIONS``)."""

    class Meta:
        unknown = RAISE


class ConfigSchema(Schema):
    class Meta:
        unknown = RAISE

    defaults = fields.Nested(JobSchema, load_default=dict)
    jobs = fields.List(fields.Nested(JobSchema), required=True, validate=validate.Length(min=1))
    plugins = fields.Dict(keys=fields.String(), values=fields.Dict(), load_default=dict)
    executor = fields.Dict(keys=fields.String(), load_default=dict)


@dataclass
class BatchJob:
    name: str
    inputs: list[Path]
    options: dict[str, Any]
    """The job's keys, defaults merged, ``${VAR}`` filled in and paths resolved: checked here."""
    written: dict[str, Any] = field(default_factory=dict)
    """The same keys as written (``${VAR}`` kept): what travels to the worker that runs the job."""


@dataclass
class BatchConfig:
    path: Path
    jobs: list[BatchJob]
    plugins: dict[str, dict[str, Any]] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()
    """The values of ``${VAR}`` taken from the environment, masked in all output."""
    written_plugins: dict[str, dict[str, Any]] = field(default_factory=dict)
    executor: dict[str, Any] = field(default_factory=dict)
    """The ``[executor]`` table: ``name``, ``workers`` and the executor's own options."""

    def mask(self, text: str) -> str:
        return mask_secrets(text, self.secrets)


def _flatten(messages: Any, prefix: str = "") -> list[str]:
    if isinstance(messages, dict):
        return [line for key, value in messages.items() for line in _flatten(value, f"{prefix}{key}.")]
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [f"{prefix.rstrip('.')}: {' '.join(messages)}"]
    return [f"{prefix.rstrip('.')}: {messages}"]


def expand(value: Any, where: str, environ: Mapping[str, str], problems: list[str], secrets: set[str]) -> Any:
    """Replace ``${VAR}`` in every string, adding the values to ``secrets``; an unset variable
    is a problem naming it."""
    if isinstance(value, str):
        def variable(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in environ:
                problems.append(f"{where}: environment variable {name} is not set")
                return ""
            if len(environ[name]) >= MIN_SECRET_LENGTH:
                secrets.add(environ[name])
            return environ[name]
        return VARIABLE.sub(variable, value)
    if isinstance(value, dict):
        return {k: expand(v, f"{where}.{k}", environ, problems, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [expand(v, f"{where}.{i}", environ, problems, secrets) for i, v in enumerate(value)]
    return value


def _resolve(base: Path, value: str) -> str:
    """A path relative to the config file's folder; URLs and absolute paths as they are."""
    return value if "://" in value or os.path.isabs(value) else str(base / value)


def _merged(defaults: dict, job: dict) -> dict[str, Any]:
    """A job's keys over the defaults; tables (settings, options, limits) merged key by key."""
    options = {**defaults, **job}
    for key in ("settings", "rule_options", "reader_options", "sink_options", "limits"):
        if isinstance(defaults.get(key), dict) and isinstance(job.get(key), dict):
            options[key] = {**defaults[key], **job[key]}
    options.pop("name", None)
    return options


def resolved(options: dict[str, Any], base: Path) -> dict[str, Any]:
    """The options with their paths made relative to the config file's folder ``base``."""
    options = dict(options)
    for key in (*PATH_KEYS, "target"):
        if isinstance(options.get(key), str) and (key != "target" or options[key]):
            options[key] = _resolve(base, options[key])
    return options


def load_config(path: Path, environ: Mapping[str, str] | None = None) -> BatchConfig:
    """Read and check the whole config; every problem is reported at once, with its key path."""
    environ = os.environ if environ is None else environ
    raw = read_table_file(path)
    schema = ConfigSchema()
    try:
        data = schema.load(raw)
    except ValidationError as exc:
        messages = explain_unknown(exc.messages, schema, "key")
        raise UsageError(f"{path}: invalid config: " + "; ".join(_flatten(messages))) from None
    problems: list[str] = []
    secrets: set[str] = set()
    base = path.resolve().parent
    defaults = expand(data["defaults"], "defaults", environ, problems, secrets)
    jobs, names = [], set()
    for index, written in enumerate(data["jobs"]):
        where = f"jobs.{index}"
        job = expand(written, where, environ, problems, secrets)
        name = job.get("name")
        if not name:
            problems.append(f"{where}.name: missing")
            continue
        if name in names:
            problems.append(f"{where}.name: another job is already named {name!r}")
        names.add(name)
        options = resolved(_merged(defaults, job), base)
        patterns = options.pop("input", None)
        if not patterns:
            problems.append(f"{where}.input: missing")
            continue
        inputs = _inputs(base, [patterns] if isinstance(patterns, str) else patterns)
        if not inputs:
            problems.append(f"{where}.input: no file matches {patterns!r}")
        as_written = _merged(data["defaults"], written)
        as_written.pop("input")
        jobs.append(BatchJob(name, inputs, options, as_written))
    plugins = expand(data["plugins"], "plugins", environ, [], secrets)
    executor = expand(data["executor"], "executor", environ, problems, secrets)
    if problems:
        raise UsageError(mask_secrets(f"{path}: invalid config: " + "; ".join(problems), secrets))
    return BatchConfig(path, jobs, plugins, tuple(secrets), data["plugins"], executor)


def _inputs(base: Path, patterns: list[str]) -> list[Path]:
    found: set[Path] = set()
    for pattern in patterns:
        found.update(Path(p) for p in glob.glob(_resolve(base, pattern)) if os.path.isfile(p))
    return sorted(found)


def safe_stem(source: Path) -> str:
    """The input's name without extension, made a plain file name: path separators and control
    characters become '_', and so do the dots of '.' and '..', so that it never leaves its folder."""
    stem = UNSAFE_IN_NAME.sub("_", source.stem)
    return "_" * len(stem) if stem in ("", ".", "..") else stem


def fill(options: dict[str, Any], job: str, source: Path) -> dict[str, Any]:
    """The options with ``{job}`` and ``{stem}`` filled in the report, rejects, success and target paths."""
    options = dict(options)
    for key in ("report", "rejects", "success", "target"):
        if isinstance(options.get(key), str):
            options[key] = options[key].replace("{job}", job).replace("{stem}", safe_stem(source))
    return options


def job_spec(config: BatchConfig, job: BatchJob, source: Path, dry_run: bool) -> JobSpec:
    """What travels to the worker that runs ``job`` on ``source``: the job's keys as written, and
    the contents of its settings and mapping files, read here (an unreadable one fails the job)."""
    settings = job.options.get("settings")
    mapping = job.options.get("mapping")
    written = dict(job.written)
    base = str(config.path.resolve().parent)
    try:
        if isinstance(settings, str):
            settings = read_table_file(Path(settings))
            written.pop("settings")
        else:
            settings = None
        if isinstance(mapping, str):
            mapping = load_mapping_file(Path(mapping))
            written.pop("mapping")
        else:
            mapping = None
    except EtlError as exc:
        return JobSpec(job.name, str(source), base, {}, error=config.mask(str(exc)))
    return JobSpec(job.name, str(source), base, written, config.written_plugins, settings, mapping, dry_run)


def store_of(job: BatchJob, source: Path, sink: Callable[[str | None], SinkSpec]) -> str | None:
    """The store a job writes to, when it is a file that jobs must take turns on (None: a URL, or a sink that
    ``sink``, the registry's, does not know: the job fails alone); a job naming no sink or no target has the
    default sink's or target."""
    try:
        spec = sink(job.options.get("sink"))
    except UsageError:
        return None
    target = fill(job.options, job.name, source).get("target") or spec.default_target or ""
    if "://" in target:
        return None
    return f"{spec.name}:{os.path.abspath(target) if target else ''}"


def select(config: BatchConfig, names: tuple[str, ...]) -> list[BatchJob]:
    known = {job.name: job for job in config.jobs}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UsageError(f"{config.path}: no job named {unknown[0]!r} (jobs: {', '.join(known)})")
    return [job for job in config.jobs if not names or job.name in names]


def summary_table(results: list[JobSummary]) -> list[str]:
    """The lines of a table of the results, control characters in the file names escaped."""
    rows = [("job", "input", "status", "read", "imported", "rejected")]
    for r in results:
        rows.append((r.job, printable(Path(r.input).name), r.status,
                     *(str(r.counts.get(k, "")) for k in ("read", "imported", "rejected"))))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
