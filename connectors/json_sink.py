"""The ``json`` sink: one file ``{"<kind>": [documents...], ...}``, written atomically."""
from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import orjson

from etl import hookimpl
from etl.components import CREATED, Document, SinkSpec, StoredDocument
from etl.settings import check_options

from .storefile import write_atomically

DEFAULT_TARGET = "etl-out.json"


class JsonSink:
    """Spools each kind's documents to a temporary file, then writes the target once."""

    def __init__(self, target: Path, dry_run: bool) -> None:
        self.target = target
        self.dry_run = dry_run
        self._spool_dir = Path(tempfile.mkdtemp(prefix="etl-json-"))
        self._spools: dict[str, object] = {}

    def existing(self, kind: str) -> Iterable[StoredDocument]:
        return ()

    def write_batch(self, documents: list[Document]) -> list[str]:
        for doc in documents:
            spool = self._spools.get(doc.kind)
            if spool is None:
                spool = self._spools[doc.kind] = open(self._spool_dir / f"{len(self._spools)}.jsonl", "w+b")
            spool.write(orjson.dumps(doc.data, default=str) + b"\n")
        return [CREATED] * len(documents)

    def _chunks(self):
        yield b"{"
        for n, (kind, spool) in enumerate(self._spools.items()):
            yield (b",\n" if n else b"\n") + json.dumps(kind).encode() + b": ["
            spool.seek(0)
            for i, line in enumerate(spool):
                yield (b",\n  " if i else b"\n  ") + line.rstrip(b"\n")
            yield b"\n]"
        yield b"\n}\n"

    def commit(self) -> None:
        if not self.dry_run:
            write_atomically(self.target, self._chunks())

    def close(self) -> None:
        for spool in self._spools.values():
            spool.close()
        shutil.rmtree(self._spool_dir, ignore_errors=True)


def open_json_sink(target: str | None, options: Mapping[str, str], dry_run: bool) -> JsonSink:
    check_options(options, (), "json sink")
    return JsonSink(Path(target or DEFAULT_TARGET), dry_run)


@hookimpl
def register_sinks() -> list[SinkSpec]:
    return [SinkSpec("json", open_json_sink, f"a JSON file of documents by kind (default {DEFAULT_TARGET})")]
