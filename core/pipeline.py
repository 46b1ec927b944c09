"""The streaming pipeline: reader -> mapping -> validators -> rules -> sink, in batches."""
from __future__ import annotations

import gc
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from functools import partial
from itertools import chain, islice
from pathlib import Path
from typing import Any, NamedTuple

from .changes import after_writing, changes_of, field_changes
from .components import (CREATED, UPDATED, Batch, Document, Field, ReaderSpec, Rejected, Row, Rules, RulesSpec, Sink,
                         SinkSpec, StoreAccess, Table, ValidatorSpec)
from .errors import EtlError, InputError, Interrupted, OutputError, RowError, SinkError, Terminated, UsageError
from .files import check_output, written_atomically
from .history import HISTORY_KIND, REMEMBERS_KEY, Written, import_entry, remembered_mapping
from .job import Job
from .mapping import SAMPLE_ROWS, ColumnMapping, Sample, propose
from .plugin_manager import get_plugin_manager
from .progress import Progress
from .read_ahead import read_ahead, worth_reading_ahead
from .rejects import ERROR_COLUMN, rejected_rows, rejects_header, restore, write_table
from .row_spool import RowSpool
from .stored_types import typed_access
from .success import Outcomes, success_rows, write_success
from .registry import Registry, get_registry
from .report import Report, counted
from .settings import checked_plugin_sections, validate_settings



@contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the cyclic garbage collector far less often: a run allocates millions of small
    containers that live until its end, and the default thresholds rescan them over and over
    (about half the time of a large import)."""
    thresholds = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def choose_reader(job: Job, registry: Registry) -> ReaderSpec:
    """The reader named by the job, else the one registered for the file's extension."""
    if job.reader:
        return registry.reader(job.reader)
    spec = registry.reader_for(job.input.suffix)
    if spec is None:
        known = ", ".join(sorted(registry.readers.specs))
        raise UsageError(f"{job.input}: cannot tell the file's format from its extension; use --reader ({known})")
    return spec


def table_writer(path: Path | None, what: str, registry: Registry) -> ReaderSpec | None:
    """The format that writes the rejects or success file ``path``, chosen by its extension."""
    if path is None:
        return None
    spec = registry.writer_for(path.suffix)
    if spec is None or spec.write is None:
        writable = sorted(ext for s in registry.readers.specs.values() if s.write
                          for ext in (s.write_extensions or s.extensions))
        raise UsageError(f"{path}: cannot write {what} in this format (use one of {', '.join(writable)})")
    return spec


class Writers(NamedTuple):
    """The formats of the run's rejects and success files (None: not asked for)."""

    rejects: ReaderSpec | None
    success: ReaderSpec | None


@contextmanager
def about(path: Path) -> Iterator[None]:
    """Name the file in any input error raised inside."""
    try:
        yield
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror or exc}") from None


def open_table(spec: ReaderSpec, job: Job, options: Mapping[str, Any]) -> Table:
    """The job's input opened by the reader ``spec`` with its loaded ``options``."""
    if not job.input.is_file():
        raise UsageError(f"{job.input}: no such file")
    with about(job.input):
        job.limits.check_file_size(job.input.stat().st_size)
        table = spec.open(job.input, options)
        try:
            job.limits.check_columns(len(table.header))
        except InputError:
            table.close()
            raise
        return table


def propose_mapping(table: Table, fields: Sequence[Field], job: Job,
                    remembered: tuple[dict[str, str], str] = ({}, ""), first_rows: list[Row] | None = None
                    ) -> ColumnMapping:
    """The job's explicit mapping, then the remembered one, completed from the titles and a sample of
    the first rows' values (``first_rows``, else read from the table)."""
    if first_rows is None:
        with about(job.input):
            first_rows = list(islice(table.rows(), SAMPLE_ROWS))
    sample = Sample.of(first_rows, len(table.header))
    return propose([restore(title) for title in table.header], fields, sample, job.mapping, remembered)


def missing_columns(mapping: ColumnMapping, rules: Rules, job: Job) -> None:
    """Refuse a mapping that leaves a required field without a column."""
    missing = rules.missing_fields(set(mapping.field_columns()))
    if missing:
        raise UsageError(f"{job.input}: " + "; ".join(missing))


def map_columns(table: Table, rules: Rules, job: Job, remembered: tuple[dict[str, str], str],
                first_rows: list[Row]) -> ColumnMapping:
    """The column mapping, refused when a required field has no column."""
    mapping = propose_mapping(table, rules.fields, job, remembered, first_rows)
    missing_columns(mapping, rules, job)
    return mapping


def batches(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def to_batch(rows: list[Row], width: int, field_columns: dict[str, int],
             groups: Sequence[dict[str, int]] = ()) -> tuple[Batch, list[RowError]]:
    """Column-wise batch of the rows that have the header's width; the others are errors.

    Each numbered group of repeated columns with a value on a row adds a row on the same line:
    the group's values in its fields, the line's own values in the others.
    """
    errors = [
        RowError(line, f"this line has {len(values)} fields but the header has {width}")
        for line, values in rows
        if len(values) != width
    ]
    if errors:
        rows = [row for row in rows if len(row[1]) == width]
    if groups:
        rows = list(_with_groups(rows, field_columns, groups))
    if not rows:
        return Batch([], {name: [] for name in field_columns}), errors
    lines, cells = zip(*rows)
    by_index = list(zip(*cells))
    return Batch(list(lines), {name: list(by_index[index]) for name, index in field_columns.items()}), errors


def _with_groups(rows: list[Row], field_columns: dict[str, int], groups: Sequence[dict[str, int]]) -> Iterator[Row]:
    """The rows, each followed by one row per numbered group with a value on it."""
    repeated = {name for group in groups for name in group}
    for line, values in rows:
        yield line, values
        for group in groups:
            if any(values[index].strip() for index in group.values()):
                extra = list(values)
                for name in repeated:
                    if name in field_columns:
                        extra[field_columns[name]] = values[group[name]] if name in group else ""
                yield line, extra


def without_lines(batch: Batch, lines: set[int]) -> Batch:
    keep = [i for i, line in enumerate(batch.lines) if line not in lines]
    return Batch([batch.lines[i] for i in keep], {f: [v[i] for i in keep] for f, v in batch.columns.items()})


def validate(batch: Batch, validators: Sequence[ValidatorSpec], settings: dict) -> tuple[Batch, list[RowError]]:
    errors = [error for spec in validators for error in spec.validate(batch, settings)]
    return (without_lines(batch, {e.line for e in errors}) if errors else batch), errors


def load(sink: Sink, documents: Iterable[list[Document]], report: Report, progress: Progress | None = None,
         outcomes: Outcomes | None = None, before_images: Written | None = None) -> int:
    """Hand the documents to the sink, batch by batch, count what it did (and note it per line in
    ``outcomes``, and what it wrote in ``before_images``); return how many changed."""
    changed = written = 0
    for docs in documents:
        noted = report.changes is not None or before_images is not None
        before_writing = field_changes(docs) if noted else []
        results = sink.write_batch(docs)
        if len(results) != len(docs):
            raise EtlError(f"the sink answered {len(results)} results for {len(docs)} documents")
        fields = after_writing(before_writing, docs, results) if noted else []
        if outcomes is not None:
            outcomes.note(docs, results)
        if before_images is not None:
            before_images.note(docs, fields, results)
        for (kind, result), n in Counter(zip((d.kind for d in docs), results)).items():
            if isinstance(result, Rejected):
                report.count(kind, "rejected", n)
            else:
                report.count(kind, result, n)
                changed += n if result in (CREATED, UPDATED) else 0
        for doc, result in zip(docs, results):
            if isinstance(result, Rejected):
                report.errors.extend(RowError(line, result.message) for line in doc.lines)
            elif doc.matched_by is not None and report.matched is not None:
                report.matched[doc.kind][doc.matched_by] += 1
        if report.changes is not None:
            report.changes.extend(changes_of(docs, fields, results))
        written += len(docs)
        if progress is not None:
            progress.loading(written)
    return changed


def name_columns(errors: list[RowError], mapping: ColumnMapping, header: Sequence[str],
                 spool: RowSpool | None = None) -> list[RowError]:
    """Give each error the file's own title of its field's column (in place): for a field of numbered
    groups, the column of the group whose value the error names, found again in the rows kept in ``spool``."""
    titles = mapping.titles()
    for error in errors:
        if error.column is None and error.field:
            error.column = titles.get(error.field)
    groups = mapping.groups()
    in_groups = [e for e in errors if groups and e.value is not None and any(e.field in g for g in groups)]
    if in_groups and spool is not None:
        columns = mapping.field_columns()
        rows = dict(spool.rows_on({e.line for e in in_groups}))
        for error in in_groups:
            cells = rows.get(error.line)
            if cells is None or _cell(cells, columns.get(error.field or "")) == error.value:
                continue
            for group in groups:  # of those with a value on the line: the others gave no row
                if any(_cell(cells, i) for i in group.values()) and \
                        _cell(cells, group.get(error.field or "")) == error.value:
                    error.column = header[group[error.field or ""]]
                    break
    return errors


def _cell(cells: Sequence[str], index: int | None) -> str | None:
    return cells[index].strip() if index is not None and index < len(cells) else None


def mask_errors(errors: list[RowError], job: Job) -> list[RowError]:
    """Mask the job's secrets in the messages and values of ``errors`` (in place)."""
    for error in errors:
        error.message = job.mask(error.message)
        if error.value is not None:
            error.value = job.mask(error.value)
    return errors


def check_outputs(job: Job) -> None:
    """Refuse, before anything is read or written, a report or rejects file that could not be written
    (its folder missing or read-only, a folder in its place) or that would overwrite another file of the run."""
    outputs = {"the report": job.report_path, "the rejects file": job.rejects_path,
               "the success file": job.success_path}
    taken = {os.path.realpath(job.input): "the input file"}
    if job.target and "://" not in job.target:
        taken[os.path.realpath(job.target)] = "the target"
    for what, path in outputs.items():
        if path is None:
            continue
        check_output(path, what)
        real = os.path.realpath(path)
        if real in taken:
            raise UsageError(f"{path}: {what} would overwrite {taken[real]}")
        taken[real] = what


def execute(job: Job, registry: Registry | None = None, progress: Progress | None = None) -> Report:
    """Run one import and return its report. Raises EtlError on a fatal problem, its
    message with the job's secrets masked."""
    try:
        return _execute(job, registry, progress)
    except EtlError as exc:
        exc.args = (job.mask(str(exc)),)
        raise


def _execute(job: Job, registry: Registry | None, progress: Progress | None) -> Report:
    registry = registry or get_registry()
    registry.check()
    reader_spec = choose_reader(job, registry)
    writers = Writers(table_writer(job.rejects_path, "rejects", registry),
                      table_writer(job.success_path, "the success file", registry))
    check_outputs(job)
    sink_spec = registry.sink(job.sink)
    rules_spec = registry.rule_set(job.rules)
    job.sink, job.rules = sink_spec.name, rules_spec.name  # the defaults, when the job named none
    settings = validate_settings(rules_spec.settings_schema, job.settings, f"rules {rules_spec.name!r}")
    reader_options = reader_spec.load_options(job.reader_options)
    run = Run(job, reader_spec, list(registry.validators.specs.values()), settings, progress,
              sink_spec.load_options(job.sink_options))
    pm = get_plugin_manager()
    job.plugin_settings = checked_plugin_sections(job.plugin_settings, pm)
    hooks = pm.hook
    hooks.job_started(job=job)
    try:
        table = open_table(reader_spec, job, reader_options)
        try:
            with fewer_collections():
                run.execute(table, rules_spec, sink_spec, writers)
        except (KeyboardInterrupt, Terminated) as exc:
            code = 143 if isinstance(exc, Terminated) else 130
            raise Interrupted(f"{job.input}: interrupted {run.stage()}", code) from None
        finally:
            table.close()
    except EtlError as exc:
        run.failed(job.mask(str(exc)), sink_spec, record=not isinstance(exc, (Interrupted, SinkError)))
        raise
    finally:
        hooks.job_finished(job=job, report=run.report)
    return run.report


class Run:
    """One import in progress; knows how far it got, to say what an interruption left behind."""

    def __init__(self, job: Job, reader_spec: ReaderSpec, validators: list[ValidatorSpec], settings: dict,
                 progress: Progress | None, sink_options: dict[str, Any]) -> None:
        self.job = job
        self.reader_spec = reader_spec
        self.validators = validators
        self.settings = settings
        self.progress = progress
        self.sink_options = sink_options
        """The job's sink options, as loaded by the sink's schema."""
        self.report = Report(dry_run=job.dry_run, changes=[] if job.diff else None)
        self.reading = False
        """Whether the run got to the file's lines (the mapping, the store and the rules were ready)."""
        self.committing = False
        self.committed = False
        self.sink_spec: SinkSpec | None = None
        """The run's sink, once chosen: what it declares says what an interruption left."""
        self.spool: RowSpool | None = None
        """The rows as read, kept while the run needs them."""

    def stage(self) -> str:
        if self.committed:
            return "after the store was written: the import is complete, the report or rejects file may be missing"
        spec = self.sink_spec
        transactions = spec.name if spec is not None and spec.transactional else None  # all-or-nothing writes
        if self.committing:  # the signal may have come just before or just after the sink's atomic step
            if transactions:
                return (f"while the sink committed: stores with transactions ({transactions}'s) are either as they "
                        "were or complete, never half-written")
            return "while the sink committed: the sink declares no transactions, its target may hold part of the run"
        if self.report.read and self.report.total():
            handed = self.report.total()
            left = (f"nothing was committed; stores with transactions ({transactions}'s) are as they were"
                    if transactions else "the sink declares no transactions: its target may hold some of them")
            return (f"while loading: {counted(handed, 'document')} {'was' if handed == 1 else 'were'} handed to the "
                    f"sink, {left}")
        return f"after reading {counted(self.report.read, 'line')}: nothing was written"

    def execute(self, table: Table, rules_spec: RulesSpec, sink_spec: SinkSpec, writers: Writers) -> Report:
        try:
            return self._import(table, rules_spec, sink_spec, writers)
        finally:
            if self.spool is not None:
                self.spool.close()

    def _import(self, table: Table, rules_spec: RulesSpec, sink_spec: SinkSpec, writers: Writers) -> Report:
        job, report = self.job, self.report
        rules = rules_spec.create()
        self.sink_spec = sink_spec
        keeps_history = sink_spec.keeps_history
        sink = sink_spec.open(job.target, self.sink_options, job.dry_run)
        try:
            rows = table.rows()  # read once: the sample for the mapping is its first rows
            with about(job.input):
                first_rows = list(islice(rows, SAMPLE_ROWS))
            remembered: tuple[dict[str, str], str] = ({}, "")
            if keeps_history:  # only the entries that remember choices, when the sink can find them alone
                entries = (sink.find(HISTORY_KIND, REMEMBERS_KEY, ["yes"]) if sink_spec.finds_by_key
                           else sink.existing(HISTORY_KIND))
                remembered = remembered_mapping(entries, [restore(t) for t in table.header])
            access = StoreAccess(sink.existing, sink.find if sink_spec.finds_by_key else None)
            rules.start(self.settings, typed_access(access, rules_spec.stored_types,
                                                    job.target or sink_spec.default_target or sink_spec.name))
            mapping = map_columns(table, rules, job, remembered, first_rows)
            report.declare(rules.kinds)
            report.mapping = mapping
            ahead = worth_reading_ahead(job.input.stat().st_size)
            if writers.rejects or writers.success or keeps_history or mapping.groups():
                # the rows as read: rejected and imported lines, the columns of errors in numbered groups
                self.spool = RowSpool(in_memory=not ahead)
            self.reading = True
            with about(job.input):
                read = read_all(chain(first_rows, rows), table, mapping, rules, self.validators, self.settings, job,
                                report, ahead, self.progress, self.spool)
            report.warnings.extend(read.warnings)
            if not report.read:
                raise InputError(f"{job.input}: no data lines below the header: nothing to import")
            outcomes = Outcomes(rules.kinds) if writers.success else None
            before_images = Written() if keeps_history and not job.dry_run else None
            changed = load(sink, rules_outcome(rules, report), report, self.progress, outcomes, before_images)
            report.errors = mask_errors(name_columns(report.errors, mapping, table.header, self.spool), job)
            report.warnings = mask_errors(name_columns(report.warnings, mapping, table.header, self.spool), job)
            rejects = (rejected_rows(self.spool, report, not job.raw_rejects)
                       if report.errors and self.spool is not None and (writers.rejects or keeps_history) else [])
            if not job.dry_run:
                if keeps_history:
                    sink.record_import(import_entry(job, self.reader_spec.name, report, {
                        "header": [*rejects_header(table, not job.raw_rejects), ERROR_COLUMN], "rows": rejects,
                        "reader": self.reader_spec.name, "format_options": read.format_options}, read.checksum,
                        before_images))
                if changed or keeps_history:
                    self.committing = True
                    sink.commit()
                    self.committed = True
        finally:
            sink.close()
        successes = (success_rows(self.spool, outcomes, report.rejected_lines, not job.raw_rejects,
                                  report.matched is not None)
                     if self.spool is not None and outcomes is not None else iter(()))
        self.write_outputs(table, writers, rejects, successes, read.format_options)
        return report

    def failed(self, error: str, sink_spec: SinkSpec, record: bool) -> None:
        """After a fatal error: the report says so, is written to ``--report``, and with ``record`` a sink
        that keeps history records a run that failed among the file's lines, in a write of its own that
        changes nothing else (not after an interruption, which must end at once, nor when the store
        itself failed). Once the store
        was written, the run did not fail: only its outputs did (see ``write_outputs``)."""
        if self.committed:
            return
        self.report.error = error
        if self.job.report_path is not None:
            with suppress(EtlError):  # the run's own error is the one to tell
                write_report(self.report, self.job.report_path)
        if record and self.reading and not self.job.dry_run:
            with suppress(EtlError, OSError):
                self.record_failure(sink_spec)

    def record_failure(self, sink_spec: SinkSpec) -> None:
        if not sink_spec.keeps_history:
            return
        sink = sink_spec.open(self.job.target, self.sink_options, False)
        try:
            sink.record_import(import_entry(self.job, self.reader_spec.name, self.report, {
                "header": [], "rows": [], "reader": self.reader_spec.name, "format_options": {}}))
            sink.commit()
        finally:
            sink.close()

    def write_outputs(self, table: Table, writers: Writers, rejects: list[list[str]],
                      successes: Iterator[list[str]], format_options: dict[str, str]) -> None:
        """Write the rejects file, the success file and the report; one that fails after the store was
        written is an OutputError (exit 3) that says the import is complete."""
        job, failures = self.job, []
        header = rejects_header(table, not job.raw_rejects)
        if writers.rejects is not None:
            try:
                write_table(writers.rejects, job.rejects_path, header, rejects,
                            format_options if writers.rejects is self.reader_spec else {})
            except EtlError as exc:
                failures.append(str(exc))
        if writers.success is not None:
            try:
                write_success(writers.success, job.success_path, header, successes,
                              format_options if writers.success is self.reader_spec else {},
                              self.report.matched is not None)
            except EtlError as exc:
                failures.append(str(exc))
        if job.report_path is not None:
            try:
                write_report(self.report, job.report_path)
            except EtlError as exc:
                failures.append(str(exc))
        if failures and self.committed:
            raise OutputError("; ".join(failures) + "; the import itself is complete: the store WAS written "
                              f"({self.report.imported} lines imported)")
        if failures:
            raise EtlError("; ".join(failures))


class TableRead(NamedTuple):
    """What the reader learnt by reading the whole file (in whichever process read it)."""

    checksum: str | None
    """The SHA-256 of the file's bytes as read (``sha256:<hex>``), None when the reader does not compute it."""
    warnings: list[RowError]
    format_options: dict[str, str]


class ReadBatch(NamedTuple):
    """A batch as read and checked, before the rules' state is involved."""

    rows: int
    """Rows read (with the rejected ones)."""
    last_line: int
    errors: list[RowError]
    """The rows rejected before the rules: wrong width, too long values, validators."""
    batch: Batch
    """The rows left for the rules."""


def read_batches(rows: Iterable[Row], table: Table, mapping: ColumnMapping, validators: Sequence[ValidatorSpec],
                 settings: dict, job: Job, spool: RowSpool | None) -> Iterator[ReadBatch | TableRead]:
    """Read, map and check the rows, batch by batch: all that comes before the rules; each batch's rows kept
    as read in ``spool``; and last, what the table learnt by reading."""
    field_columns, groups, width = mapping.field_columns(), mapping.groups(), len(table.header)
    read = 0
    for rows in batches(rows, job.batch_size):
        read += len(rows)
        job.limits.check_rows(read, rows)
        if spool is not None:
            spool.keep(rows)
        batch, errors = to_batch(rows, width, field_columns, groups)
        too_long = [RowError(line, message, name, None) for name, column in batch.columns.items()
                    for line, message in job.limits.long_values(batch.lines, column)]
        if too_long:
            batch = without_lines(batch, {e.line for e in too_long})
            errors += too_long
        if validators:
            batch, more = validate(batch, validators, settings)
            errors += more
        yield ReadBatch(len(rows), rows[-1][0], errors, batch)
    yield TableRead(table.checksum, list(table.warnings), dict(table.format_options))


def read_all(rows: Iterable[Row], table: Table, mapping: ColumnMapping, rules: Rules,
             validators: Sequence[ValidatorSpec], settings: dict, job: Job, report: Report, ahead: bool,
             progress: Progress | None = None, spool: RowSpool | None = None) -> TableRead:
    """Stream the table's ``rows`` through mapping, validators and rules, batch by batch; the reading
    and checking in a second process when ``ahead`` (see :mod:`etl.read_ahead`)."""
    produce = partial(read_batches, rows, table, mapping, validators, settings, job, spool)
    for read in read_ahead(produce, ahead):
        if isinstance(read, TableRead):
            return read
        report.read += read.rows
        if progress is not None:
            progress.reading(report.read, table.estimated_rows)
        report.errors.extend(read.errors)
        report.errors.extend(rules.add_batch(read.batch))
        job.limits.check_errors(report.rejected, report.read, read.last_line)
    raise EtlError("the reading of the file ended without its last step")


def rules_outcome(rules: Rules, report: Report) -> Iterable[list[Document]]:
    """Let the rules decide, record their errors and rejections, and give their documents."""
    outcome = rules.finish()
    report.errors.extend(outcome.errors)
    report.warnings.extend(outcome.warnings)
    for kind, n in outcome.rejected.items():
        report.count(kind, "rejected", n)
    if outcome.match_rules is not None:
        report.declare_matches(outcome.match_rules)
    return outcome.documents


def write_report(report: Report, path: Path) -> None:
    """Write the JSON report, atomically: all of it or nothing."""
    with written_atomically(path, "the report") as tmp:
        report.write(tmp)
