"""The ``json`` sink: one file ``{"<kind>": [documents...], ...}``, written atomically."""
from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import suppress
from pathlib import Path
from typing import IO, Any

import orjson

from etl import (
    CREATED, Document, SinkError, SinkSpec, StoredDocument, hookimpl, reason, stored_value, write_atomically)

DEFAULT_TARGET = "etl-out.json"


class JsonSink:
    """Spools each kind's documents to a temporary file, then writes the target once."""

    def __init__(self, target: Path, dry_run: bool) -> None:
        self.target = target
        self.dry_run = dry_run
        self._spool_dir = Path(tempfile.mkdtemp(prefix="etl-json-"))
        self._spools: dict[str, IO[bytes]] = {}
        """kind -> its documents so far, as the inside of a JSON array."""

    def existing(self, kind: str) -> Iterable[StoredDocument]:
        return ()

    def write_batch(self, documents: list[Document]) -> list[str]:
        try:
            for kind in dict.fromkeys(doc.kind for doc in documents):
                spool = self._spools.get(kind)
                if spool is None:
                    spool = self._spools[kind] = open(self._spool_dir / f"{len(self._spools)}.json", "w+b")
                elif documents:
                    spool.write(b",")
                # one call per batch: the array "[{...},{...}]" without its brackets
                data = [doc.data for doc in documents if doc.kind == kind]
                spool.write(orjson.dumps(data, default=stored_value)[1:-1])
                spool.flush()  # a full disk fails here, not later when the spool is read or closed
        except OSError as exc:
            raise SinkError(f"{self.target}: cannot write the documents to a temporary file in {self._spool_dir}: "
                            f"{reason(exc)}; the target was not changed") from None
        return [CREATED] * len(documents)

    def _chunks(self) -> Iterator[bytes]:
        yield b"{"
        for n, (kind, spool) in enumerate(self._spools.items()):
            yield (b",\n" if n else b"\n") + json.dumps(kind).encode() + b": ["
            spool.seek(0)
            while chunk := spool.read(1 << 20):
                yield chunk
            yield b"]"
        yield b"\n}\n"

    def commit(self) -> None:
        if not self.dry_run:
            write_atomically(self.target, self._chunks(), "the output", SinkError)

    def close(self) -> None:
        for spool in self._spools.values():
            with suppress(OSError):  # data it failed to write (a full disk), which nothing reads any more
                spool.close()
        shutil.rmtree(self._spool_dir, ignore_errors=True)


def open_json_sink(target: str | None, options: Mapping[str, Any], dry_run: bool) -> JsonSink:
    return JsonSink(Path(target or DEFAULT_TARGET), dry_run)


@hookimpl
def register_sinks() -> list[SinkSpec]:
    return [SinkSpec("json", open_json_sink, f"a JSON file of documents by kind (default {DEFAULT_TARGET})")]

