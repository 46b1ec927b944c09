"""The column mapping proposed for a file, with what a person needs to check it: a few sample values of
each column, every field, and the required fields no column fills. ``etl map`` and ``etl serve`` show it."""
from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from .components import Field, Rules
from .history import HISTORY_KIND, REMEMBERS_KEY, remembered_mapping
from .job import Job
from .mapping import SAMPLE_ROWS, ColumnMapping, Sample, propose
from .pipeline import about, choose_reader, open_table
from .registry import Registry, get_registry
from .rejects import restore

SAMPLE_VALUES = 3
"""Sample values shown per column."""


@dataclass
class Proposal:
    """A file's proposed mapping and what goes with it."""

    mapping: ColumnMapping
    samples: list[list[str]]
    """A few distinct values of each column, in the columns' order."""
    fields: Sequence[Field]
    rules: Rules
    reader: str
    format_options: dict[str, str]
    """How the file is written (e.g. its sheet), as the reader found it."""

    def missing(self, fields: Collection[str] | None = None) -> list[str]:
        """Messages for the required fields without a column: in the proposal, or among ``fields``."""
        return self.rules.missing_fields(set(self.mapping.field_columns() if fields is None else fields))


def propose_for_file(input: str | Path, *, reader: str | None = None, reader_options: Mapping[str, str] | None = None,
                     rules: str | None = None, mapping: Mapping[str, str | None] | None = None,
                     sink: str | None = None, target: str | None = None, sink_options: Mapping[str, str] | None = None,
                     registry: Registry | None = None) -> Proposal:
    """Open ``input`` and propose its mapping: the explicit ``mapping`` first, then, with a ``sink`` that keeps
    history, the choices remembered from a past import of a close header, then the titles and the first rows'
    values. The store is only read. Raises :class:`etl.errors.EtlError` on a file that cannot be read."""
    registry = registry or get_registry()
    registry.check()
    job = Job(input=Path(input), reader=reader, reader_options=dict(reader_options or {}), rules=rules,
              mapping=dict(mapping or {}), sink=sink, target=target, sink_options=dict(sink_options or {}))
    reader_spec = choose_reader(job, registry)
    rule_set = registry.rule_set(rules).create()
    table = open_table(reader_spec, job, reader_spec.load_options(job.reader_options))
    try:
        header = [restore(title) for title in table.header]
        with about(job.input):
            sample = Sample.of(islice(table.rows(), SAMPLE_ROWS), len(header))
        remembered = _remembered(job, registry, header) if sink else ({}, "")
        proposal = propose(header, rule_set.fields, sample, job.mapping, remembered)
        samples = [sample.values(index)[:SAMPLE_VALUES] for index in range(len(header))]
        return Proposal(proposal, samples, rule_set.fields, rule_set, reader_spec.name, dict(table.format_options))
    finally:
        table.close()


def _remembered(job: Job, registry: Registry, header: Sequence[str]) -> tuple[dict[str, str], str]:
    """The column choices a sink that keeps history remembers for ``header``; the store only read."""
    spec = registry.sink(job.sink)
    if not spec.keeps_history:
        return {}, ""
    store = spec.open(job.target, spec.load_options(job.sink_options), True)
    try:
        entries = (store.find(HISTORY_KIND, REMEMBERS_KEY, ["yes"]) if spec.finds_by_key
                   else store.existing(HISTORY_KIND))
        return remembered_mapping(entries, header)
    finally:
        store.close()
