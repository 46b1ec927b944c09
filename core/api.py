"""The Python API: ``etl.run`` does what ``etl run`` does and returns the report."""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .pipeline import execute
from .progress import Progress
from .report import Report
from .run_options import RUN_OPTIONS, api_signature, job_of


def run(input: str | Path, *, progress: Progress | None = None, secrets: Iterable[str] = (), **options: Any) -> Report:
    """Import ``input`` and return the report; raises :class:`etl.EtlError` on a fatal problem.

    The keywords are the options of ``etl run`` (``etl.run_options.RUN_OPTIONS``): ``reader``, ``sink``,
    ``target``, ``rules``; ``mapping`` and ``settings``, dicts or paths of TOML/JSON files; ``rule_options``,
    single settings over them; ``reader_options``, ``sink_options``; ``report``, ``rejects`` and ``success``,
    the files of the report, of the rejected lines and of the imported ones; ``raw_rejects`` keeps formula-like
    cells of those files as read (they are neutralised with a leading apostrophe by default); ``dry_run``;
    ``diff`` puts each record created or updated, field by field, in ``report.changes``; ``limits`` raise the
    input limits (``file_size``, ``columns``, ``rows``...). And two of the API's own: ``progress`` shows
    progress on a terminal; ``secrets`` are texts masked in every message, the report, the rejects' reasons
    and the history.
    """
    return execute(job_of(input, options, secrets), progress=progress)


run.__signature__ = api_signature(run)  # type: ignore[attr-defined]
assert [option.name for option in RUN_OPTIONS] == list(run.__signature__.parameters)[1:-2]  # type: ignore
