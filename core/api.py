"""The Python API: ``etl.run`` does what ``etl run`` does and returns the report."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .job import Job
from .limits import Limits
from .mapping import load_mapping_file
from .pipeline import execute
from .progress import Progress
from .report import Report
from .settings import split_settings
from .table_files import read_table_file


def run(
    input: str | Path,
    *,
    reader: str | None = None,
    sink: str | None = None,
    target: str | Path | None = None,
    rules: str | None = None,
    mapping: Mapping[str, str | None] | str | Path | None = None,
    settings: Mapping[str, Any] | str | Path | None = None,
    rule_options: Mapping[str, Any] | None = None,
    reader_options: Mapping[str, str] | None = None,
    sink_options: Mapping[str, str] | None = None,
    report: str | Path | None = None,
    rejects: str | Path | None = None,
    success: str | Path | None = None,
    dry_run: bool = False,
    diff: bool = False,
    raw_rejects: bool = False,
    limits: Mapping[str, str | int] | None = None,
    progress: Progress | None = None,
    secrets: Iterable[str] = (),
) -> Report:
    """Import ``input`` into ``sink`` and return the report.

    ``mapping`` and ``settings`` are dicts or paths of TOML/JSON files; ``rule_options``
    override single settings; ``limits`` raise the input limits (``file_size``, ``columns``,
    ``rows``); ``rejects`` and ``success`` are the files of the rejected and the imported lines;
    ``raw_rejects`` keeps formula-like cells of both as read
    (they are neutralised with a leading apostrophe by default); ``diff`` puts each record created or
    updated, field by field, in ``report.changes``; ``progress`` shows progress
    on a terminal; ``secrets`` are texts masked in every message, the report, the rejects'
    reasons and the history. Raises :class:`etl.errors.EtlError` on a fatal problem.
    """
    if isinstance(mapping, (str, Path)):
        mapping = load_mapping_file(mapping)
    if isinstance(settings, (str, Path)):
        settings = read_table_file(settings)
    rule_settings, plugin_settings = split_settings(settings or {})
    rule_settings.update(rule_options or {})
    job = Job(
        input=Path(input),
        reader=reader,
        sink=sink,
        target=str(target) if target is not None else None,
        rules=rules,
        mapping=dict(mapping or {}),
        reader_options=dict(reader_options or {}),
        sink_options=dict(sink_options or {}),
        settings=rule_settings,
        plugin_settings=plugin_settings,
        report_path=Path(report) if report else None,
        rejects_path=Path(rejects) if rejects else None,
        success_path=Path(success) if success else None,
        dry_run=dry_run,
        diff=diff,
        raw_rejects=raw_rejects,
        limits=Limits.parse(limits or {}),
        secrets=tuple(secrets),
    )
    return execute(job, progress=progress)
