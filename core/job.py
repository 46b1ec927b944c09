"""What one run is asked to do."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .limits import Limits
from .secrets import mask_secrets, url_passwords


@dataclass
class Job:
    """A run's request, as given to the pipeline and to the lifecycle hooks."""

    input: Path
    reader: str | None = None
    sink: str | None = None
    """None: the sink that declares itself the default (named here once the run starts)."""
    target: str | None = None
    rules: str | None = None
    """None: the rules that declare themselves the default (named here once the run starts)."""
    mapping: dict[str, str | None] = field(default_factory=dict)
    reader_options: dict[str, str] = field(default_factory=dict)
    sink_options: dict[str, str] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    plugin_settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    report_path: Path | None = None
    rejects_path: Path | None = None
    success_path: Path | None = None
    """Where to write the imported lines as read, with the outcome, kind and key of their records."""
    dry_run: bool = False
    diff: bool = False
    """Report each record created or updated, field by field (``report.changes``)."""
    raw_rejects: bool = False
    """Write rejected cells exactly as read, even those a spreadsheet would run as formulas."""
    limits: Limits = field(default_factory=Limits)
    batch_size: int = 5000
    secrets: tuple[str, ...] = ()
    """Texts to mask in every message, the report, the rejects and the history: the values of
    ``${VAR}`` a batch config took from the environment."""

    def mask(self, text: str) -> str:
        """``text`` with the job's secrets and any URL password (the target's too) masked."""
        return mask_secrets(text, (*self.secrets, *url_passwords(self.target or "")))

    def plugin_config(self, name: str) -> dict[str, Any]:
        """The ``[plugins.NAME]`` section of the settings (empty if none)."""
        return dict(self.plugin_settings.get(name, {}))
