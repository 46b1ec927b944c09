"""The built-in readers and sinks pass the conformance kit, etl.testing."""
from __future__ import annotations

from pathlib import Path

from etl.connectors.csv_format import register_readers as csv_readers
from etl.connectors.excel_format import register_readers as excel_readers
from etl.connectors.json_sink import register_sinks as json_sinks
from etl.connectors.sqlite_sink import register_sinks as sqlite_sinks
from etl.connectors.tinydb_sink import register_sinks as tinydb_sinks
from etl.testing import ReaderConformance, SinkConformance


class TestTinyDBSink(SinkConformance):
    spec = tinydb_sinks()[0]

    def target(self, tmp_path: Path) -> str:
        return str(tmp_path / "etl-db.json")


class TestSqliteSink(SinkConformance):
    spec = sqlite_sinks()[0]

    def target(self, tmp_path: Path) -> str:
        return str(tmp_path / "etl-db.sqlite")


class TestJsonSink(SinkConformance):
    spec = json_sinks()[0]
    write_only = True

    def target(self, tmp_path: Path) -> str:
        return str(tmp_path / "etl-out.json")


class TestCsvReader(ReaderConformance):
    spec = csv_readers()[0]


class TestExcelReader(ReaderConformance):
    spec = excel_readers()[0]
