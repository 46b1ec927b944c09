"""The record of one import, kept by sinks that can store it (``Sink.record_import``)."""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .job import Job
from .report import Report
from .secrets import mask_options, mask_url, mask_values


def checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return f"sha256:{digest.hexdigest()}"


def import_entry(job: Job, reader: str, report: Report, rejects: dict[str, Any]) -> dict[str, Any]:
    """What a history keeps of a run: where from, how, what happened, and the rejected lines.

    ``rejects`` holds ``header``, ``rows`` (the rejected lines with their reasons) and
    ``format_options``, enough to write the rejects file again. The job's secrets are masked.
    """
    result = report.as_dict()
    return {
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "input": job.mask(str(job.input.resolve())),
        "checksum": checksum(job.input),
        "reader": reader,
        "sink": job.sink,
        "target": job.mask(mask_url(job.target or "")),
        "rules": job.rules,
        "options": mask_values({
            "reader_options": mask_options(job.reader_options),
            "sink_options": mask_options(job.sink_options),
            "settings": dict(job.settings),
            "mapping": dict(job.mapping),
        }, job.secrets),
        "status": result["status"],
        "rows": result["rows"],
        "counts": dict(report.counts),
        "errors": result["errors"],
        "rejects": rejects,
    }
