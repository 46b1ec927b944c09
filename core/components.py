"""What plugins register: readers, sinks, rules and validators, and the data they exchange.

Data moves in batches: a reader yields rows, the pipeline maps a batch of rows to a
column-wise :class:`Batch`, validators and rules check whole batches, and the rules hand
:class:`Document` batches to the sink.
"""
from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from .errors import RowError

if TYPE_CHECKING:
    from concurrent.futures import Executor

Row = tuple[int, list[str]]
"""A data row of an input: the physical line (or sheet row) where it starts, and its cells."""

StoredDocument = tuple[Any, dict]
"""A document already in the store: the sink's own reference to it, and its data."""


class Table(Protocol):
    """An opened input file.

    A run calls ``rows()`` once: the sample for the mapping, the rejected lines' cells and the
    history's rows all come from that one read. Every attribute is required (the run reads them, never
    probes): a table that knows nothing of one says None or [].
    """

    header: list[str]
    """The column titles of the first row, as written in the file."""

    format_options: dict[str, str]
    """How the file is written (e.g. delimiter, encoding), so rejects can be written alike."""

    estimated_rows: int | None
    """About how many data rows the file has, for progress (None when unknown)."""

    warnings: list[RowError]
    """What reading will skip or read in a special way without rejecting a line (title rows
    above the header, footer rows, lines in another encoding...), known once the table is
    opened; the run adds them to its report ([] when none)."""

    checksum: str | None
    """``sha256:<hex>`` of the file's bytes, computed while the first ``rows()`` read them, once it read
    them all (None before, or when the reader does not compute it: a sink that keeps history then has the file read
    again)."""

    def rows(self) -> Iterator[Row]:
        """Every data row after the header, in file order; fully blank rows are skipped."""

    def close(self) -> None:
        """Release the file."""


@dataclass(frozen=True)
class Content:
    """What a field's values look like, to check a column's sample against."""

    name: str
    """What the values are, in plural words ("email addresses")."""
    accepts: Callable[[str], bool]
    """Whether one stripped, non-empty value looks like this field's."""
    alone: bool = False
    """Values this distinctive map a column whose title says nothing known."""


@dataclass(frozen=True)
class Field:
    """A field the rules fill from one column of the file."""

    name: str
    labels: Mapping[str, str]
    """Column title per language ("en", "fr"...), as written in templates."""
    synonyms: tuple[str, ...] = ()
    """Other column titles that mean this field."""
    description: str = ""
    choices: tuple[str, ...] = ()
    as_text: bool = False
    """Values are codes to keep exactly as typed (leading zeros, long numbers): templates format them as text."""
    translations: Mapping[str, str] = field(default_factory=dict)
    """The description in other languages than English, by language ("fr"...), for templates."""
    content: Content | None = None
    """What the values look like: a column whose sample contradicts it is not matched by its title alone."""
    false_friends: tuple[str, ...] = ()
    """Titles that look like this field's but mean something else: never matched to it."""
    needs: str | None = None
    """A field without whose column this one's is ignored (a company phone in a file without contact emails)."""
    differs_from: tuple[str, ...] = ()
    """Fields whose column this one's cannot repeat: a column holding the same values row by row is not this field."""
    aliases: tuple[str, ...] = ()
    """Other names a user may type for the field in a mapping (e.g. the document key it fills)."""
    repeats: bool = False
    """Numbered groups of such columns on one line (Person1Email, Person2Email...) are as many more
    lines, each with the line's other values: several contacts on one line."""

    def describe(self, lang: str) -> str:
        """The description in ``lang``, else in English."""
        return self.translations.get(lang, self.description)


class TakesOptions:
    """A component spec whose options its ``options_schema`` checks and loads (``COMPONENT`` names it in errors)."""

    COMPONENT: ClassVar[str]
    name: str
    options_schema: Callable[[], Any] | None

    def load_options(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """``given`` checked and loaded by ``options_schema``: what ``open`` gets (UsageError for a bad one)."""
        from .options import load_options

        return load_options(self.options_schema, given, f"{self.name} {self.COMPONENT}")


@dataclass(frozen=True)
class ReaderSpec(TakesOptions):
    """A file format: how to read it and, optionally, how to write a table in it."""

    COMPONENT: ClassVar[str] = "reader"
    name: str
    extensions: tuple[str, ...]
    open: Callable[[Path, Mapping[str, Any]], Table]
    """``open(path, options)``, ``options`` as loaded by ``options_schema``."""
    write: Callable[[Path, Sequence[str], Iterable[Sequence[Any]], Mapping[str, str]], None] | None = None
    description: str = ""
    write_template: Callable[[Path, Sequence[Field], str], None] | None = None
    """Write an empty import file for these fields in a language (richer than ``write``; optional)."""
    write_extensions: tuple[str, ...] | None = None
    """The extensions ``write`` produces, when fewer than it reads (None: all of ``extensions``)."""
    options_schema: Callable[[], Any] | None = None
    """A marshmallow schema class for the reader's options (``--reader-option K=V``): core checks them by it, and
    ``open`` gets what it loaded; None: the reader takes none."""

    def writes(self, extension: str) -> bool:
        """Whether this format can write a file with ``extension``."""
        return (self.write is not None or self.write_template is not None) and \
            extension.lower() in (self.write_extensions or self.extensions)


@dataclass(slots=True)
class Batch:
    """Mapped rows, column-wise: ``columns[field][i]`` is the cell of ``lines[i]``."""

    lines: list[int]
    columns: dict[str, list[str]]

    def __len__(self) -> int:
        return len(self.lines)

    def __reduce__(self) -> tuple[Callable[..., Batch], tuple[Any, ...]]:
        """Pickle each column as one string when it can (a batch read ahead crosses processes):
        several times faster than pickling its cells one by one, on both sides."""
        return _unpacked_batch, (self.lines, {name: _packed(column) for name, column in self.columns.items()})


CELL_SEPARATOR = "\x00"
"""Joins the cells of a packed column: no CSV cell has one, and a column that does stays a list."""


def _packed(column: list[str]) -> str | list[str]:
    try:
        text = CELL_SEPARATOR.join(column)
    except TypeError:  # not all text
        return column
    return text if text.count(CELL_SEPARATOR) == len(column) - 1 else column


def _unpacked_batch(lines: list[int], columns: dict[str, str | list[str]]) -> Batch:
    return Batch(lines, {name: column.split(CELL_SEPARATOR) if isinstance(column, str) else column
                         for name, column in columns.items()})


class Clear:
    """The type of :data:`CLEAR`, the one value that erases a stored field."""

    _instance: Clear | None = None

    def __new__(cls) -> Clear:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "CLEAR"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:
        return "CLEAR"  # one instance, whatever crosses processes


CLEAR = Clear()
"""In a :class:`Document`'s ``data``: erase this stored field (``None``, by contrast, keeps it). A sink stores
the field as absent or None; the http sink sends JSON ``null``. Falsy, like a value not given."""


def stored_value(value: Any) -> Any:
    """The ``default`` of ``orjson.dumps`` for a sink that stores documents as JSON: a cleared field as null
    (found by orjson, in C, at no cost to the documents without one), any other value orjson has no form of
    its own for as text."""
    return None if value is CLEAR else str(value)


def stored_form(data: dict[str, Any]) -> dict[str, Any]:
    """A new document's data as stored: a cleared field is None (``data`` itself when none is)."""
    if CLEAR not in data.values():  # a loop in C: no value of a document compares equal to CLEAR but itself
        return data
    return {name: None if value is CLEAR else value for name, value in data.items()}


def changed_fields(data: dict[str, Any], stored: dict[str, Any]) -> dict[str, Any]:
    """The fields a document's ``data`` changes in the ``stored`` data, with their new values: a given value
    that differs, and None for a cleared field that held one. Empty: the document changes nothing."""
    changed = {}
    for name, value in data.items():
        if value is None:
            continue
        if value is CLEAR:
            if stored.get(name) is not None:
                changed[name] = None
        elif stored.get(name, CLEAR) != value:  # CLEAR: never a stored value, so a field not stored differs
            changed[name] = value
    return changed


@dataclass(slots=True)
class Document:
    """One record for the store, built by the rules from one or more lines.

    ``kind`` names the collection (e.g. "customers"), ``key`` the document's identity
    within it, ``ref`` the stored document it updates (as given by
    :meth:`Sink.existing` or :meth:`Sink.find`; None for a new one; a sink that keeps history
    sets it to the new document's ref when it creates one). A ``None`` value in ``data`` means
    "not given": it never erases a stored value; :data:`CLEAR` erases it. ``before`` is the stored
    data the rules matched (None for a new document): what ``--diff`` and the history compare
    ``data`` with.

    ``keys`` are the document's named lookup keys once written (e.g. ``{"email": ...}``), by
    which a sink that declares ``finds_by_key`` finds it again (:meth:`Sink.find`): a sink
    stores them with a document it creates or changes, replacing the ones it had (the sqlite sink with
    an unchanged one too, which gives a document stored by an earlier version the keys added since). None: the
    rules give none (other sinks ignore them). ``matched_by`` names the rule by which the rules found
    the stored document (see :attr:`RulesOutcome.match_rules`; None for a new one).
    """

    kind: str
    key: str
    data: dict[str, Any]
    lines: tuple[int, ...]
    ref: Any = None
    before: dict[str, Any] | None = None
    keys: dict[str, str] | None = None
    matched_by: str | None = None


CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


@dataclass(frozen=True, slots=True)
class Rejected:
    """A sink's refusal of one document, with the reason to report on its lines."""

    message: str


class Sink(Protocol):
    """An opened target store. Opened once per run; ``close`` is always called.

    What a sink declares on its :class:`SinkSpec` it must also offer here: ``keeps_history``,
    the method ``record_import(entry: dict) -> None`` (keep the run's history entry, a JSON-able
    dict, as a document of the kind ``etl.history.HISTORY_KIND`` written with the run's data,
    or alone for a run that failed), and for ``etl history undo`` :meth:`documents` and :meth:`delete`;
    ``finds_by_key``, the method :meth:`find`.
    """

    def existing(self, kind: str) -> Iterable[StoredDocument]:
        """The documents of ``kind`` already stored (empty for write-only targets)."""

    def find(self, kind: str, key_name: str, keys: Collection[str]) -> Iterable[StoredDocument]:
        """The stored documents of ``kind`` whose lookup key ``key_name`` (see
        :attr:`Document.keys`) is one of ``keys``, each once; only for a sink that declares
        ``finds_by_key``. Reads those documents only, however large the store."""

    def write_batch(self, documents: list[Document]) -> list[str | Rejected]:
        """Apply a batch; for each document say CREATED, UPDATED, UNCHANGED or Rejected. A value None
        keeps the stored one, :data:`CLEAR` erases it (see :func:`changed_fields`). A sink that keeps
        history sets the ``ref`` of each document it creates."""

    def documents(self, kind: str, refs: Collection[Any]) -> Iterable[StoredDocument]:
        """The stored documents of ``kind`` among ``refs`` (those that are gone are left out); only for a
        sink that keeps history."""

    def delete(self, kind: str, refs: Collection[Any]) -> None:
        """Remove the stored documents of ``kind`` among ``refs`` (and their lookup keys), with the run's
        other writes; only for a sink that keeps history."""

    def commit(self) -> None:
        """Make the run's writes durable (never called on a dry run or after a failure)."""

    def close(self) -> None:
        """Release the target; without a commit, leave it exactly as it was."""


@dataclass(frozen=True)
class SinkSpec(TakesOptions):
    """A kind of target store."""

    COMPONENT: ClassVar[str] = "sink"
    name: str
    open: Callable[[str | None, Mapping[str, Any], bool], Sink]
    """``open(target, options, dry_run)``, ``options`` as loaded by ``options_schema``; on a dry run the sink must
    not change the target."""
    description: str = ""
    default: bool = False
    """The sink of a run that names none (one installed sink declares it)."""
    default_target: str | None = None
    """The target used when none is given (a file path, for a store `etl history` can find)."""
    keeps_history: bool = False
    """The sink keeps a history of the runs (``Sink.record_import``): every run but a dry one
    is recorded, and `etl history` lists, shows, forgets and undoes them (``Sink.documents``,
    ``Sink.delete``; ``write_batch`` sets the ref of each document it creates)."""
    transactional: bool = False
    """A run's writes reach the target all at once at ``commit``, or not at all: a failed or
    interrupted run leaves it as it was."""
    finds_by_key: bool = False
    """The sink stores each document's lookup keys and finds documents by them
    (``Sink.find``): rules that know it read only the stored documents an import touches,
    never the whole store."""
    options_schema: Callable[[], Any] | None = None
    """A marshmallow schema class for the sink's options (``--sink-option K=V``): core checks them by it, and
    ``open`` gets what it loaded; None: the sink takes none."""


@dataclass(frozen=True)
class StoreAccess:
    """What the rules may read of the store, given to :meth:`Rules.start`.

    Called as ``existing(kind)``, it gives every stored document of ``kind``; when the sink
    declares ``finds_by_key``, ``find`` gives the ones whose lookup key matches (else None).
    """

    existing: Callable[[str], Iterable[StoredDocument]]
    find: Callable[[str, str, Collection[str]], Iterable[StoredDocument]] | None = None

    def __call__(self, kind: str) -> Iterable[StoredDocument]:
        return self.existing(kind)


@dataclass
class RulesOutcome:
    """What the rules decided once every batch was seen."""

    documents: Iterable[list[Document]]
    errors: list[RowError]
    rejected: dict[str, int] = field(default_factory=dict)
    """Count of rejected documents per kind."""
    warnings: list[RowError] = field(default_factory=list)
    """Problems reported without rejecting the line."""
    match_rules: Mapping[str, Sequence[str]] | None = None
    """The rules by which stored documents were found, per kind, when the rules say which one found each
    document (:attr:`Document.matched_by`): the report then counts the documents found per rule, and the
    success file has a ``Matched by`` column."""


class Rules(Protocol):
    """Turns mapped rows into documents; one instance per run."""

    kinds: tuple[str, ...]
    fields: Sequence[Field]

    def missing_fields(self, mapped: set[str]) -> list[str]:
        """Messages for required fields that no column maps to (empty if none); in a run, called after
        :meth:`start`, so that they may depend on the settings."""

    def start(self, settings: Mapping[str, Any], existing: StoreAccess) -> None:
        """Begin a run with validated settings and access to the stored documents: ``existing(kind)``
        gives them all; its ``find`` (when not None) gives those of given lookup keys."""

    def add_batch(self, batch: Batch) -> list[RowError]:
        """Check and absorb a batch; return the errors found in it so far."""

    def finish(self) -> RulesOutcome:
        """Resolve what needs the whole file (identities, groups) and give the documents."""


@dataclass(frozen=True)
class RulesSpec:
    """A set of import rules and the settings they accept."""

    name: str
    create: Callable[[], Rules]
    description: str = ""
    settings_schema: Callable[[], Any] | None = None
    """A marshmallow schema class for the rules' settings."""
    default: bool = False
    """The rules of a run that names none (one installed set of rules declares it)."""
    lookup_keys: Callable[[str, dict[str, Any]], dict[str, str] | None] | None = None
    """The lookup keys (:attr:`Document.keys`) of a stored document of a kind with this data: how
    ``etl history undo`` gives a restored document its keys again in a sink that finds by key."""
    stored_types: Mapping[str, Mapping[str, type]] = field(default_factory=dict)
    """The type of each field of the documents the rules store, per kind (``{"customers": {"name": str}}``;
    None is always allowed): a stored document the rules read with a value of another type stops the run,
    in one line naming the store, before the rules see it."""


@dataclass(frozen=True)
class ValidatorSpec:
    """An extra check run on every mapped batch, before the rules.

    ``validate(batch, settings)`` returns the errors found; a line with an error is
    rejected and not given to the rules.
    """

    name: str
    validate: Callable[[Batch, Mapping[str, Any]], list[RowError]]
    description: str = ""


@dataclass(frozen=True)
class Workers:
    """An opened executor, and how many jobs it runs at once."""

    executor: Executor
    """The interface of the standard pools, and of Dask's ``Client.get_executor()``."""
    slots: int
    queued: int = 0
    """Jobs handed to the executor beyond ``slots``, waiting: they keep its workers busy while a result
    travels back (a cluster's round trip). Once the batch stops, those may still run."""
    in_process: bool = False
    """Jobs run inside ``submit``, in this process: a Ctrl-C reaches them as in ``etl run``."""
    jobs_per_task: int = 1
    """Jobs handed over at most in one call (``run_job_specs``), which the worker runs one after another: a
    cluster's round trip costs more than a small job. Fewer once the jobs left are few, to keep every worker
    busy to the end."""


@dataclass(frozen=True)
class ExecutorSpec(TakesOptions):
    """A way to run the jobs of ``etl batch``: one at a time here, on a pool, on a cluster.

    ``open(workers, options)`` is a context manager giving :class:`Workers`; leaving it releases
    them. ``workers`` is None when the user gave no number.
    """

    COMPONENT: ClassVar[str] = "executor"

    name: str
    open: Callable[[int | None, Mapping[str, Any]], AbstractContextManager[Workers]]
    description: str = ""
    options_schema: Callable[[], Any] | None = None
    """A marshmallow schema class for the executor's own options (``--scheduler``, the keys of the
    config's ``[executor]`` table other than ``name`` and ``workers``); None: it takes none."""
