"""The record of one import, kept by sinks that declare ``keeps_history`` (``Sink.record_import``)."""
from __future__ import annotations

import base64
import hashlib
import zlib
from datetime import datetime, timezone
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import orjson

from .components import CLEAR, CREATED, UPDATED, Document, Rejected
from .job import Job
from .report import Report
from .secrets import mask_options, mask_url, mask_values

HISTORY_KIND = "imports"
"""The kind of the documents in which a sink that keeps history keeps it (``Sink.existing(HISTORY_KIND)``)."""
REMEMBERS_KEY = "remembers"
"""The lookup key (``Document.keys``) of the history entries that remember column choices, by which a sink
that finds by key gives back those only (value "yes")."""
CLOSE_HEADER = 0.8
"""From this share of titles in common (of all titles of both headers), a past import's mapping comes back."""
IMPORT_SHAPE: dict[str, Any] = {
    "time": str, "input": str, "checksum": str, "reader": str, "sink": str, "status": str,
    "rows": {"read": int, "imported": int, "rejected": int},
    "counts": {str: {str: int}},
    "errors": [{"line": int, "column": (str, type(None)), "message": str}],
    "rejects": {"header": [str], "rows": [[str]], "reader": str, "format_options": dict},
}
"""What ``etl history`` reads of each entry: a type, a tuple of types, an object with these keys,
``{str: shape}`` for an object of any keys, ``[shape]`` for a list."""
DIGEST_SIZE = 8
"""Bytes of a document's fingerprint."""
KEY_KEPT = 200
"""Characters of a created document's key the history keeps, at most, when a batch's keys are long (they are
only ever shown): read back, the keys of N documents are never more than N times that (in UTF-8)."""
CREATED_SHAPE: dict[str, Any] = {"refs": [list], "keys": [str], "digests": [str]}
"""A :class:`Created` record, as kept."""
TYPE_NAMES = {str: "text", int: "a whole number", float: "a number", bool: "true or false", list: "a list",
              dict: "an object", type(None): "null"}


def checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return f"sha256:{digest.hexdigest()}"


def _canonical(data: dict[str, Any]) -> bytes:
    """A document's data as the bytes its fingerprint is taken of: keys sorted, and as stored, its None fields
    left out (and those it clears, which are stored as None)."""
    given = {name: value for name, value in data.items() if value is not None and value is not CLEAR}
    return orjson.dumps(given, option=orjson.OPT_SORT_KEYS, default=str)


def _fingerprint(data: dict[str, Any]) -> bytes:
    """A short fingerprint of a document's stored data: whether a document an import created is still as it
    wrote it."""
    return hashlib.blake2b(_canonical(data), digest_size=DIGEST_SIZE).digest()


def data_digest(data: dict[str, Any]) -> str:
    """A document's fingerprint in hex, as :func:`created_documents` gives it."""
    return _fingerprint(data).hex()


class Created:
    """The documents of one kind a run created, kept small (a first import creates millions): their refs as
    runs ``[first, count]`` of consecutive numbers (a number, or its text as TinyDB's ids), their keys a line
    each, compressed (zlib) in one text per batch, and the fingerprints of their data (:func:`data_digest`, as
    bytes), one text per batch; texts in base64."""

    def __init__(self) -> None:
        self.refs: list[list[Any]] = []
        self.keys: list[str] = []
        self.digests: list[str] = []

    def add(self, documents: list[Document]) -> None:
        self._add_refs([doc.ref for doc in documents])
        keys = "\n".join(doc.key for doc in documents)
        if keys.count("\n") != len(documents) - 1 or len(keys) > len(documents) * (KEY_KEPT + 1):
            keys = "\n".join(doc.key[:KEY_KEPT].replace("\n", " ") for doc in documents)  # one line, not too long
        self.keys.append(base64.b64encode(zlib.compress(keys.encode("utf-8", "surrogatepass"), 1)).decode("ascii"))
        self.digests.append(base64.b64encode(b"".join(_fingerprint(doc.data) for doc in documents)).decode("ascii"))

    def _add_refs(self, refs: list[Any]) -> None:
        first = refs[0]
        if refs == _refs_from(first, len(refs)):  # as sinks number new documents: one run
            runs: list[tuple[Any, int]] = [(first, len(refs))]
        else:
            runs = [(ref, 1) for ref in refs]
        for ref, count in runs:
            last = self.refs[-1] if self.refs else None
            if last is not None and _is_number(last[0]) and _refs_from(last[0], last[1] + 1, last[1]) == [ref]:
                last[1] += count
            else:
                self.refs.append([ref, count])

    def as_dict(self) -> dict[str, Any]:
        return {"refs": self.refs, "keys": self.keys, "digests": self.digests}


def _is_number(ref: Any) -> bool:
    """Whether a ref starts runs: a number, or the text of one."""
    if isinstance(ref, str):
        return ref.isascii() and ref.isdigit() and str(int(ref)) == ref
    return isinstance(ref, int) and not isinstance(ref, bool)


def _refs_from(first: Any, count: int, skip: int = 0) -> list[Any]:
    """The refs of a run of ``count`` from ``first``, but its first ``skip``; only ``first`` for a ref that is
    not a number."""
    if not _is_number(first):
        return [first]
    numbers = range(int(first) + skip, int(first) + count)
    return list(numbers) if isinstance(first, int) else list(map(str, numbers))


def created_documents(record: Any, where: str) -> list[tuple[Any, str, str]]:
    """``(ref, key, hex fingerprint)`` of each document a kept :class:`Created` record (or the list of such
    triples an older etl kept) names; ValueError saying what is wrong, and ``where``, if it does not hold them."""
    if isinstance(record, list):
        if not all(isinstance(item, list) and len(item) == 3 and isinstance(item[1], str) and
                   isinstance(item[2], str) for item in record):
            raise ValueError(f"{where} is not a list of [ref, key, fingerprint]")
        return [(ref, key, digest) for ref, key, digest in record]
    problem = shape_problem(record, where, CREATED_SHAPE)
    if problem is None and not all(len(run) == 2 and type(run[1]) is int and run[1] > 0 for run in record["refs"]):
        problem = f"{where}.refs is not a list of [first, count]"
    if problem is not None:
        raise ValueError(problem)
    try:
        digests = b"".join(base64.b64decode(text, validate=True) for text in record["digests"])
    except ValueError:
        raise ValueError(f"{where}.digests is not base64") from None
    fingerprints = len(digests) / DIGEST_SIZE
    try:  # as long as the keys of that many documents can be: never a bomb an edit made
        keys = _keys(record["keys"], int(fingerprints) * 4 * (KEY_KEPT + 1))
    except ValueError:
        raise ValueError(f"{where}.keys is not texts compressed by etl") from None
    total = sum(count for _, count in record["refs"])
    if not total == len(keys) == fingerprints:  # checked first: never a run of a billion refs an edit made
        raise ValueError(f"{where} names {total} refs, {len(keys)} keys and {fingerprints:g} fingerprints")
    refs = [ref for first, count in record["refs"] for ref in _refs_from(first, count)]
    if len(refs) != total:
        raise ValueError(f"{where}.refs has a run of refs that are not numbers")
    return [(ref, key, digests[n * DIGEST_SIZE:(n + 1) * DIGEST_SIZE].hex())
            for n, (ref, key) in enumerate(zip(refs, keys))]


def _keys(kept: list[str], budget: int) -> list[str]:
    """The keys, from their kept form (a text per batch, a line each); ValueError if it is not one, or if they
    would take more than ``budget`` bytes (it comes from a store, which may have been edited)."""
    texts = []
    try:
        for text in kept:
            inflate = zlib.decompressobj()
            keys = inflate.decompress(base64.b64decode(text, validate=True), budget + 1)
            budget -= len(keys)
            if inflate.unconsumed_tail or not inflate.eof or budget < 0:
                raise ValueError("not a whole compressed text, or a larger one")
            texts.append(keys.decode("utf-8", "surrogatepass"))
    except (zlib.error, UnicodeDecodeError) as exc:
        raise ValueError(str(exc)) from None
    return "\n".join(texts).split("\n") if texts else []


class Written:
    """What a run wrote, kept in its history entry for ``etl history undo``: per kind, a :class:`Created`
    record of the documents it created, and ``[ref, key, {field: [old, new]}]`` for each document it updated,
    with each field it changed (new is None for a field cleared)."""

    def __init__(self) -> None:
        self.created: dict[str, Created] = {}
        self.updated: dict[str, list[list[Any]]] = {}

    def note(self, documents: list[Document], fields: list[dict[str, list[Any]]],
             results: list[str | Rejected]) -> None:
        """Note a batch the sink wrote: its documents, their changed fields (taken before the write) and
        the sink's results."""
        created: dict[str, list[Document]] = {}
        for doc, changed, result in zip(documents, fields, results):
            if result == CREATED:
                created.setdefault(doc.kind, []).append(doc)
            elif result == UPDATED:
                self.updated.setdefault(doc.kind, []).append([doc.ref, doc.key, changed])
        for kind, docs in created.items():
            self.created.setdefault(kind, Created()).add(docs)

    def as_dict(self) -> dict[str, Any]:
        return {"created": {kind: record.as_dict() for kind, record in self.created.items()},
                "updated": self.updated}


def import_entry(job: Job, reader: str, report: Report, rejects: dict[str, Any],
                 file_checksum: str | None = None, written: Written | None = None) -> dict[str, Any]:
    """What a history keeps of a run: where from, how, what happened, and the rejected lines.

    ``rejects`` holds ``header``, ``rows`` (the rejected lines with their reasons) and
    ``format_options``, enough to write the rejects file again. ``file_checksum`` is the input's,
    computed while reading it; without it (a run that failed, a reader that does not compute it)
    the file is read again for it. ``written`` (see :class:`Written`) is what ``etl history undo``
    undoes. The job's secrets are masked.
    """
    result = report.as_dict()
    return {
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "input": job.mask(str(job.input.resolve())),
        "checksum": file_checksum or checksum(job.input),
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
        **({"error": report.error} if report.error is not None else {}),
        "columns": report.mapping.as_file() if report.mapping else {},
        "chosen": report.mapping.chosen() if report.mapping else [],
        **({"written": written.as_dict()} if written is not None else {}),
    }


def entry_keys(entry: dict[str, Any]) -> dict[str, str]:
    """The lookup keys of a history entry, for a sink that finds by key: whether it remembers column
    choices (the only entries a run reads back, whatever the size of the history)."""
    return {REMEMBERS_KEY: "yes"} if entry.get("chosen") else {}


def remembered_mapping(entries: Iterable[tuple[Any, dict]], header: Sequence[str]) -> tuple[dict[str, str], str]:
    """The user's column choices in the newest past import that has some and whose header is the closest
    to ``header`` (and close enough), for the titles ``header`` has; and which import they come from ({}
    and "" when none)."""
    titles = set(header)
    best: tuple[float, str, Any, dict] | None = None
    for ref, entry in entries:
        columns = entry.get("columns") if isinstance(entry, dict) else None
        if not isinstance(columns, dict) or not isinstance(entry.get("chosen"), list) or not entry["chosen"]:
            continue
        share = len(titles & set(columns)) / len(titles | set(columns))
        if share >= CLOSE_HEADER and (best is None or (share, str(entry.get("time", ""))) > best[:2]):
            best = (share, str(entry.get("time", "")), ref, entry)
    if best is None:
        return {}, ""
    _, time, ref, entry = best
    links = {title: field for title, field in entry["columns"].items()
             if title in titles and title in entry["chosen"] and isinstance(field, str)}
    return links, f"import {ref} of {Path(str(entry.get('input', '?'))).name} ({time})"


def described(value: Any) -> str:
    """What kind of JSON value ``value`` is, in words."""
    return TYPE_NAMES.get(type(value), type(value).__name__)


def shape_problem(value: Any, where: str, shape: Any = IMPORT_SHAPE) -> str | None:
    """What is wrong with ``value`` for ``shape`` (by default a history entry's, see IMPORT_SHAPE), and
    where; None if nothing."""
    if isinstance(shape, (type, tuple)):
        kinds = shape if isinstance(shape, tuple) else (shape,)
        if type(value) in kinds:
            return None
        return f"{where} is {described(value)}, not {' or '.join(TYPE_NAMES[k] for k in kinds)}"
    if isinstance(shape, list):
        if not isinstance(value, list):
            return f"{where} is {described(value)}, not a list"
        if isinstance(shape[0], (type, tuple)) and set(map(type, value)) <= set(
                shape[0] if isinstance(shape[0], tuple) else (shape[0],)):
            return None  # items of plain types, all right: looked at in C (a history's rejected cells are many)
        return next(filter(None, (shape_problem(item, f"{where}[{n}]", shape[0]) for n, item in enumerate(value))),
                    None)
    if not isinstance(value, dict):
        return f"{where} is {described(value)}, not an object"
    if str in shape:
        items = ((f"{where}.{key}", item, shape[str]) for key, item in value.items())
    else:
        missing = next((key for key in shape if key not in value), None)
        if missing is not None:
            return f"{where} has no {missing!r}"
        items = ((f"{where}.{key}", value[key], inner) for key, inner in shape.items())
    return next(filter(None, (shape_problem(item, name, inner) for name, item, inner in items)), None)
