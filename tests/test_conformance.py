"""The built-in readers and sinks pass the conformance kit, etl.testing."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

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


class WithoutChecksum:
    """The csv reader's table, but for its ``checksum``."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def __getattr__(self, name: str) -> Any:
        if name == "checksum":
            raise AttributeError(name)
        return getattr(self._table, name)


def test_the_kit_catches_a_table_without_its_checksum(tmp_path: Path) -> None:
    csv = csv_readers()[0]

    class Bare(ReaderConformance):
        spec = replace(csv, open=lambda path, options: WithoutChecksum(csv.open(path, options)))

    check = Bare()
    table = check.opened(check.sample(tmp_path))
    try:
        with pytest.raises(pytest.fail.Exception, match="the table lacks checksum"):
            check.test_the_table_says_what_it_learns(table)
        TestCsvReader().test_the_table_says_what_it_learns(table._table)
    finally:
        table.close()
