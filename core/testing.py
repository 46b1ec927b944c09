"""A conformance kit: the checks every reader and sink must pass, to run with pytest.

Subclass :class:`SinkConformance` or :class:`ReaderConformance` in a test module, under a
name pytest collects (``Test...``), and say which component to check::

    from etl import SinkSpec
    from etl.testing import SinkConformance
    from my_plugin import open_my_sink

    class TestMySink(SinkConformance):
        spec = SinkSpec("mine", open_my_sink)

        def target(self, tmp_path):
            return str(tmp_path / "store.db")

Each ``test_*`` method is one check of what :mod:`etl.components` promises. A reader's
checks read a sample file: set ``spec`` on a :class:`ReaderConformance` subclass, and override
``sample`` if the spec cannot ``write``. Only tests import this module: it imports pytest.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest

from .components import CLEAR, CREATED, UNCHANGED, UPDATED, Document, ReaderSpec, Rejected, Sink, SinkSpec, Table
from .history import HISTORY_KIND
from .errors import InputError, RowError, UsageError

KIND = "conformance"
"""The kind of the documents the sink checks write."""

SAMPLE_DATA: tuple[dict[str, Any], ...] = (
    {"code": "A1", "name": "Zoë Ångström", "city": "Malmö"},
    {"code": "B2", "name": "Łukasz Żółć", "city": "Kraków"},
    {"code": "C3", "name": "李小龙 👍", "city": None},
)
"""The data of the documents written: non-ASCII text, and a None ("not given") value."""

SAMPLE_HEADER = ["Name", "City", "Code"]
SAMPLE_ROWS = [["Zoë Ångström", "Malmö", "007"], ["", "", ""], ["李小龙 👍", "Kraków", "B2"], ["Ann", "", "C3"]]
"""What the reader checks' sample file holds below its header: a fully blank row among them."""


def _given(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` without its None values (not given: a sink need not store them)."""
    return {name: value for name, value in data.items() if value is not None}


def _same(actual: Any, expected: Any, what: str) -> None:
    """Fail the check unless ``actual == expected``, saying what differs (pytest rewrites only
    the asserts of test modules, not this one's)."""
    if actual != expected:
        pytest.fail(f"{what}:\n  expected {_shown(expected)}\n  got      {_shown(actual)}")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 300 else f"{text[:300]}... ({len(text)} characters)"


class SinkConformance:
    """The checks of a sink. Set ``spec``, override ``target``; set ``write_only`` for a sink
    whose ``existing()`` is always empty (the checks that read documents back are then skipped).
    What the spec declares is checked too: ``keeps_history`` (``record_import``) and
    ``finds_by_key`` (``find``); those checks are skipped for a sink that does not declare it.

    ``state(target)`` is what must not change on a dry run or without a commit: by default the
    bytes of the target file, or of every file under a target folder (None when absent).
    """

    spec: ClassVar[SinkSpec]
    write_only: ClassVar[bool] = False

    def target(self, tmp_path: Path) -> str:
        """A target the sink has never seen (a path in ``tmp_path``, by default ``store``)."""
        return str(tmp_path / "store")

    def state(self, target: str) -> Any:
        """What the target holds, to compare before and after."""
        path = Path(target)
        if path.is_dir():
            return {str(inner.relative_to(path)): inner.read_bytes() for inner in sorted(path.rglob("*"))
                    if inner.is_file()}
        return path.read_bytes() if path.exists() else None

    # -- helpers -------------------------------------------------------------------------

    def opened(self, target: str, dry_run: bool) -> Sink:
        """The sink opened on ``target`` as a run opens it: with no option given, its ``options_schema``'s
        defaults."""
        return self.spec.open(target, self.spec.load_options({}), dry_run)

    def documents(self, data: Iterable[Mapping[str, Any]] = SAMPLE_DATA,
                  refs: Mapping[str, Any] | None = None) -> list[Document]:
        """Documents of ``data``, keyed by their ``code``; those in ``refs`` (code -> ref) update."""
        refs = refs or {}
        return [Document(KIND, item["code"], dict(item), (line,), refs.get(item["code"]))
                for line, item in enumerate(data, start=1)]

    def write(self, target: str, documents: list[Document], commit: bool = True,
              dry_run: bool = False) -> list[str | Rejected]:
        """Open the sink, write ``documents`` in one batch, commit if asked, close; the results."""
        sink = self.opened(target, dry_run)
        try:
            results = sink.write_batch(documents)
            if commit:
                sink.commit()
        finally:
            sink.close()
        return results

    def stored(self, target: str) -> dict[str, tuple[Any, dict[str, Any]]]:
        """The documents of the checks' kind read back by a newly opened sink, by their ``code``:
        their ref, and their data without None values."""
        sink = self.opened(target, False)
        try:
            found = [(ref, _given(data)) for ref, data in sink.existing(KIND)]
        finally:
            sink.close()
        assert len({data.get("code") for _, data in found}) == len(found), f"duplicate documents: {found}"
        return {data.get("code"): (ref, data) for ref, data in found}

    def refs(self, target: str) -> dict[str, Any]:
        """The ref of each stored document, by its ``code``."""
        return {code: ref for code, (ref, _) in self.stored(target).items()}

    def imported(self, target: str) -> str:
        """``target`` with the sample documents imported and committed."""
        _same(self.write(target, self.documents()), [CREATED] * len(SAMPLE_DATA), "the results of new documents")
        return target

    def readable(self) -> None:
        """Skip the check for a write-only sink, whose documents cannot be read back."""
        if self.write_only:
            pytest.skip("a write-only sink: existing() gives nothing to read back or update")

    def changes(self, refs: Mapping[str, Any]) -> tuple[list[Document], list[str]]:
        """The sample documents changed, updating ``refs``, and a new one; the results they must get."""
        data = [{**item, "city": "Gdańsk"} for item in SAMPLE_DATA] + [{"code": "D4", "name": "Dörte"}]
        return self.documents(data, refs), [UPDATED if item["code"] in refs else CREATED for item in data]

    # -- the checks ----------------------------------------------------------------------

    def test_opens_and_closes_a_new_target(self, tmp_path: Path) -> None:
        """A new target opens, holds no document, and closing it changes nothing."""
        target = self.target(tmp_path)
        before = self.state(target)
        sink = self.opened(target, False)
        try:
            _same(list(sink.existing(KIND)), [], "the documents of a new target")
        finally:
            sink.close()
        _same(self.state(target), before, "the target")

    def test_refuses_unknown_options(self) -> None:
        """An option the sink's ``options_schema`` does not declare is refused with UsageError."""
        with pytest.raises(UsageError):
            self.spec.load_options({"no_such_option": "1"})

    def test_creates_new_documents_one_result_each(self, tmp_path: Path) -> None:
        """Each new document of a batch is CREATED, one result each."""
        _same(self.write(self.target(tmp_path), self.documents()), [CREATED] * len(SAMPLE_DATA),
              "the results of new documents")

    def test_finds_committed_documents_after_reopening(self, tmp_path: Path) -> None:
        """Committed documents, non-ASCII text included, are read back by ``existing()``."""
        self.readable()
        target = self.imported(self.target(tmp_path))
        _same({code: data for code, (_, data) in self.stored(target).items()},
              {item["code"]: _given(item) for item in SAMPLE_DATA}, "the documents read back")

    def test_gives_the_results_in_order(self, tmp_path: Path) -> None:
        """A batch of updates and a new document gets its results in its order, and is stored."""
        self.readable()
        target = self.imported(self.target(tmp_path))
        first, second = ({**item, "city": "Gdańsk"} for item in SAMPLE_DATA[:2])
        new = {"code": "D4", "name": "Dörte", "city": "Köln"}
        results = self.write(target, self.documents([first, new, second], self.refs(target)))
        _same(results, [UPDATED, CREATED, UPDATED], "the results, in order")
        _same({code: data for code, (_, data) in self.stored(target).items()},
              {"A1": first, "B2": second, "C3": _given(SAMPLE_DATA[2]), "D4": new}, "the documents read back")

    def test_imports_the_same_documents_again_without_duplicates(self, tmp_path: Path) -> None:
        """The same documents again, with their refs, are UPDATED or UNCHANGED, never doubled."""
        self.readable()
        target = self.imported(self.target(tmp_path))
        before = self.stored(target)
        results = self.write(target, self.documents(refs=self.refs(target)))
        assert len(results) == len(SAMPLE_DATA) and set(results) <= {UPDATED, UNCHANGED}, \
            f"each document must be UPDATED or UNCHANGED: {results!r}"
        _same(self.stored(target), before, "the documents read back")

    def test_none_never_erases_a_stored_value(self, tmp_path: Path) -> None:
        """None in a document's data keeps the stored value."""
        self.readable()
        target = self.imported(self.target(tmp_path))
        blanked = [{**item, "name": None, "city": None} for item in SAMPLE_DATA]
        before = self.stored(target)
        results = self.write(target, self.documents(blanked, self.refs(target)))
        assert len(results) == len(SAMPLE_DATA) and set(results) <= {UPDATED, UNCHANGED}, \
            f"each document must be UPDATED or UNCHANGED: {results!r}"
        _same(self.stored(target), before, "the documents read back")

    def test_clear_erases_a_stored_value(self, tmp_path: Path) -> None:
        """CLEAR in a document's data erases the stored field (absent or None when read back): UPDATED where it
        held a value, UNCHANGED where it held none; in a new document, the field is stored as None or not at all."""
        target = self.target(tmp_path)
        new = [{**item, "city": CLEAR} if item["code"] == "A1" else item for item in SAMPLE_DATA]
        _same(self.write(target, self.documents(new)), [CREATED] * len(SAMPLE_DATA), "the results of new documents")
        if self.write_only:
            return
        stored = self.stored(target)
        _same(stored["A1"][1], {"code": "A1", "name": SAMPLE_DATA[0]["name"]}, "a new document with a field cleared")
        cleared = [{"code": item["code"], "city": CLEAR} for item in SAMPLE_DATA]
        results = self.write(target, self.documents(cleared, self.refs(target)))
        _same(results, [UNCHANGED, UPDATED, UNCHANGED], "the results of clearing a field with and without a value")
        _same({code: data for code, (_, data) in self.stored(target).items()},
              {item["code"]: _given({**item, "city": None}) for item in SAMPLE_DATA}, "the documents read back")

    def test_dry_run_leaves_a_new_target_as_it_was(self, tmp_path: Path) -> None:
        """A dry run answers for each document but leaves a new target as it was (absent)."""
        target = self.target(tmp_path)
        before = self.state(target)
        _same(self.write(target, self.documents(), commit=False, dry_run=True), [CREATED] * len(SAMPLE_DATA),
              "the results of a dry run")
        _same(self.state(target), before, "the target")

    def test_dry_run_leaves_a_target_as_it_was(self, tmp_path: Path) -> None:
        """A dry run answers for each document but leaves a store as it was."""
        target = self.imported(self.target(tmp_path))
        before = self.state(target)
        sink = self.opened(target, True)
        try:
            documents, expected = self.changes({_given(data).get("code"): ref for ref, data in sink.existing(KIND)})
            _same(sink.write_batch(documents), expected, "the results of a dry run")
        finally:
            sink.close()
        _same(self.state(target), before, "the target")

    def test_close_without_commit_leaves_a_new_target_as_it_was(self, tmp_path: Path) -> None:
        """Writes never committed leave a new target as it was (absent)."""
        target = self.target(tmp_path)
        before = self.state(target)
        self.write(target, self.documents(), commit=False)
        _same(self.state(target), before, "the target")

    def test_close_without_commit_leaves_a_target_as_it_was(self, tmp_path: Path) -> None:
        """Writes never committed leave a store as it was."""
        target = self.imported(self.target(tmp_path))
        before = self.state(target)
        documents, expected = self.changes(self.refs(target))
        _same(self.write(target, documents, commit=False), expected, "the results")
        _same(self.state(target), before, "the target")


    def test_finds_documents_by_their_lookup_keys(self, tmp_path: Path) -> None:
        """A sink that declares ``finds_by_key`` finds committed documents by their keys, each once, and
        an update's keys replace the ones the document had."""
        if not self.spec.finds_by_key:
            pytest.skip("the sink does not declare finds_by_key")
        target = self.target(tmp_path)
        documents = self.documents()
        for doc in documents:
            doc.keys = {"code": doc.key, "initial": doc.key[0]}
        _same(self.write(target, documents), [CREATED] * len(SAMPLE_DATA), "the results of new documents")
        refs = self.refs(target)
        sink = self.opened(target, False)
        try:
            found = {ref for ref, _ in sink.find(KIND, "code", ["A1", "C3", "A1", "none"])}
            _same(found, {refs["A1"], refs["C3"]}, "the refs found by key")
            _same(list(sink.find(KIND, "initial", [])), [], "the documents found for no key")
            moved = Document(KIND, "A1", {"city": "Gdańsk"}, (1,), refs["A1"], keys={"code": "Z9"})
            _same(sink.write_batch([moved]), [UPDATED], "the result of an update")
            sink.commit()
        finally:
            sink.close()
        sink = self.opened(target, True)
        try:
            _same([ref for ref, _ in sink.find(KIND, "code", ["Z9"])], [refs["A1"]], "the refs found by a new key")
            _same(list(sink.find(KIND, "code", ["A1"])), [], "the documents found by a replaced key")
        finally:
            sink.close()

    def test_keeps_the_history_of_each_run(self, tmp_path: Path) -> None:
        """A sink that declares ``keeps_history`` keeps ``record_import``'s entry with the run's data, and
        gives it back as a document of the history's kind; a dry run records nothing."""
        if not self.spec.keeps_history:
            pytest.skip("the sink does not declare keeps_history")
        target = self.target(tmp_path)
        entry = {"time": "2026-01-01T00:00:00+00:00", "input": "/in/Zoë.csv", "checksum": "sha256:0", "reader": "csv",
                 "sink": self.spec.name, "status": "partial", "rows": {"read": 2, "imported": 1, "rejected": 1},
                 "counts": {KIND: {"created": 1}}, "errors": [{"line": 3, "column": "Name", "message": "bad"}],
                 "rejects": {"header": ["Name", "Error"], "rows": [["Łukasz", "bad"]], "reader": "csv",
                             "format_options": {}}}
        sink = self.opened(target, False)
        try:
            sink.write_batch(self.documents())
            sink.record_import(entry)
            sink.commit()
        finally:
            sink.close()
        before = self.state(target)
        sink = self.opened(target, True)
        try:
            _same([data for _, data in sink.existing(HISTORY_KIND)], [entry], "the history read back")
        finally:
            sink.close()
        _same(self.state(target), before, "the target after reading its history")

    def test_sets_the_ref_of_each_document_it_creates(self, tmp_path: Path) -> None:
        """A sink that keeps history sets the ``ref`` of each document it creates (what the history keeps to undo
        an import): the ref by which ``existing()`` and ``documents()`` give it back."""
        if not self.spec.keeps_history:
            pytest.skip("the sink does not declare keeps_history")
        target = self.target(tmp_path)
        documents = self.documents()
        _same(self.write(target, documents), [CREATED] * len(SAMPLE_DATA), "the results of new documents")
        _same({doc.key: doc.ref for doc in documents}, self.refs(target), "the refs set on the documents created")

    def test_gives_and_deletes_documents_by_ref(self, tmp_path: Path) -> None:
        """A sink that keeps history gives documents back by ref (``documents``; refs of none left out) and
        deletes them (``delete``), with the run's other writes: not before ``commit``, and never on a close
        without it."""
        if not self.spec.keeps_history:
            pytest.skip("the sink does not declare keeps_history")
        target = self.imported(self.target(tmp_path))
        refs = self.refs(target)
        sink = self.opened(target, False)
        try:
            found = {ref: _given(data) for ref, data in sink.documents(KIND, [refs["A1"], refs["C3"]])}
            _same(found, {refs["A1"]: _given(SAMPLE_DATA[0]), refs["C3"]: _given(SAMPLE_DATA[2])},
                  "the documents given by ref")
            sink.delete(KIND, [refs["A1"]])
        finally:
            sink.close()
        _same(sorted(self.stored(target)), ["A1", "B2", "C3"], "the documents after a delete without commit")
        sink = self.opened(target, False)
        try:
            sink.delete(KIND, [refs["A1"], refs["C3"]])
            _same(list(sink.documents(KIND, [refs["A1"]])), [], "the documents given by the ref of one deleted")
            sink.commit()
        finally:
            sink.close()
        _same(sorted(self.stored(target)), ["B2"], "the documents after a delete committed")


SAMPLE_LINES = [2, 4, 5]
"""The line (or sheet row) of each non-blank row of SAMPLE_ROWS, the header being line 1."""


class ReaderConformance:
    """The checks of a reader. Set ``spec``; override ``sample`` if the spec cannot ``write``."""

    spec: ClassVar[ReaderSpec]

    def sample(self, tmp_path: Path) -> Path:
        """A file in the reader's format: SAMPLE_HEADER on its first line, then SAMPLE_ROWS (by
        default written by the spec's ``write``)."""
        if self.spec.write is None:
            pytest.fail(f"the {self.spec.name} reader cannot write: override sample() to give a sample file")
        path = tmp_path / f"sample{(self.spec.write_extensions or self.spec.extensions)[0]}"
        self.spec.write(path, SAMPLE_HEADER, SAMPLE_ROWS, {})
        return path

    def opened(self, path: Path) -> Table:
        """The file opened as a run opens it: with no option given, the ``options_schema``'s defaults."""
        return self.spec.open(path, self.spec.load_options({}))

    @pytest.fixture
    def table(self, tmp_path: Path) -> Iterator[Table]:
        """The sample file, opened; closed after the check."""
        table = self.opened(self.sample(tmp_path))
        yield table
        table.close()

    def test_header_is_the_titles_of_the_first_row(self, table: Table) -> None:
        """``header`` is a list of the first row's titles, as text."""
        assert isinstance(table.header, list) and all(isinstance(title, str) for title in table.header), \
            f"the header must be a list of text: {table.header!r}"
        _same(table.header, SAMPLE_HEADER, "the header")

    def test_rows_are_the_data_rows_with_their_lines(self, table: Table) -> None:
        """``rows()`` gives each non-blank row below the header as (line, text cells), in order."""
        rows = list(table.rows())
        for row in rows:
            assert isinstance(row, tuple) and len(row) == 2, f"not a (line, cells) row: {row!r}"
            assert type(row[0]) is int and isinstance(row[1], list), f"not a (line, cells) row: {row!r}"
            assert all(isinstance(cell, str) for cell in row[1]), f"cells must be text: {row!r}"
        _same([line for line, _ in rows], SAMPLE_LINES, "the lines of the rows")
        _same([cells for _, cells in rows], [cells for cells in SAMPLE_ROWS if any(cells)], "the cells of the rows")

    def test_the_table_says_what_it_learns(self, table: Table) -> None:
        """The table has ``checksum`` (None, or ``sha256:<hex>`` once ``rows()`` read the file), ``warnings`` (a
        list of RowError) and ``estimated_rows`` (None or a number of rows): the run reads them, never probes."""
        missing = [name for name in ("checksum", "warnings", "estimated_rows") if not hasattr(table, name)]
        if missing:
            pytest.fail(f"the table lacks {', '.join(missing)} (None or [] when it knows nothing)")
        list(table.rows())
        assert table.checksum is None or str(table.checksum).startswith("sha256:"), \
            f"checksum must be None or sha256:<hex>: {table.checksum!r}"
        assert isinstance(table.warnings, list) and all(isinstance(w, RowError) for w in table.warnings), \
            f"warnings must be a list of RowError: {table.warnings!r}"
        assert table.estimated_rows is None or type(table.estimated_rows) is int, \
            f"estimated_rows must be None or a number of rows: {table.estimated_rows!r}"

    def test_rows_can_be_read_twice(self, table: Table) -> None:
        """Each ``rows()`` call reads the rows afresh (a run reads them once; other callers may read them again)."""
        _same(list(table.rows()), list(table.rows()), "the rows read again")

    def test_close_may_come_during_rows_and_twice(self, table: Table) -> None:
        """``close()`` ends an unfinished ``rows()`` and may be called again."""
        rows = table.rows()
        next(rows)
        table.close()
        table.close()

    def test_format_options_write_the_rows_back(self, table: Table, tmp_path: Path) -> None:
        """Rows written with the spec's ``write`` and the table's ``format_options`` read back the
        same (as a rejects file is written)."""
        if self.spec.write is None:
            pytest.skip(f"the {self.spec.name} reader cannot write")
        assert all(isinstance(key, str) and isinstance(value, str) for key, value in table.format_options.items()), \
            f"format_options must map text to text: {table.format_options!r}"
        path = tmp_path / f"again{(self.spec.write_extensions or self.spec.extensions)[0]}"
        self.spec.write(path, table.header, [cells for _, cells in table.rows()], table.format_options)
        again = self.opened(path)
        try:
            _same((again.header, [cells for _, cells in again.rows()]),
                  (table.header, [cells for _, cells in table.rows()]), "the header and rows written back")
        finally:
            again.close()

    def test_an_empty_file_is_an_input_error(self, tmp_path: Path) -> None:
        """An empty file is refused with InputError."""
        path = tmp_path / f"empty{self.spec.extensions[0]}"
        path.write_bytes(b"")
        with pytest.raises(InputError):
            self.opened(path).close()

    def test_a_missing_file_is_an_error(self, tmp_path: Path) -> None:
        """A missing file raises InputError, or OSError left to the caller (which names the file)."""
        with pytest.raises((InputError, OSError)):
            self.opened(tmp_path / f"missing{self.spec.extensions[0]}").close()
