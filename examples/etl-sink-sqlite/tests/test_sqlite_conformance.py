"""The sqlite sink passes etl's conformance kit for sinks (etl.testing)."""
from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("etl_sink_sqlite", reason="install it first: pip install -e examples/etl-sink-sqlite")

from etl.testing import SinkConformance  # noqa: E402
from etl_sink_sqlite import register_sinks  # noqa: E402


class TestSqliteSink(SinkConformance):
    spec = register_sinks()[0]

    def target(self, tmp_path: Path) -> str:
        return str(tmp_path / "crm.db")
