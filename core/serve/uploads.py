"""Uploaded files: streamed to disk in the server's private temporary folder (mode 0700), one folder per
upload, removed once the file was imported and, with everything else, when the server stops."""
from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from python_multipart.multipart import MultipartParser, parse_options_header

from etl.proposal import Proposal

MAX_PARTS = 4
"""Parts of an upload form: its CSRF token and the file, and a little room."""
MAX_FIELD_BYTES = 1000
"""Bytes of a form field that is not the file."""
UPLOADS_KEPT = 20
"""Uploads waiting to be imported that the server keeps: an older one is removed."""
MAX_NAME = 100
"""Characters of a file name kept."""
UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f-\x9f/\\:*?\"<>|\u2028\u2029\u202a-\u202e\u2066-\u2069]")


class UploadRefused(Exception):
    """An upload the server does not take; the message says why, for the user."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Upload:
    """One uploaded file, waiting to be checked and imported."""

    id: str
    folder: Path
    path: Path
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)
    proposal: Proposal | None = None
    """The mapping proposed for the file (its chosen sheet)."""

    @property
    def name(self) -> str:
        return self.path.name


class PrivateFolder:
    """The server's own temporary folder: uploads and job outputs, removed when the server stops."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="etl-serve-"))  # mode 0700: this user's only
        self.uploads: dict[str, Upload] = {}

    def hide(self, text: str) -> str:
        """``text`` without the private folders of files named in it: ``data.csv: ...``, not its full path."""
        return re.sub(re.escape(str(self.root)) + r"/\w+/\w+/", "", text)

    def new_folder(self, kind: str) -> tuple[str, Path]:
        """A new folder under ``kind`` (``uploads``, ``jobs``...) with a random id."""
        ident = secrets.token_hex(8)
        folder = self.root / kind / ident
        folder.mkdir(parents=True, mode=0o700)
        return ident, folder

    def keep(self, upload: Upload) -> None:
        """Offer an upload to check and import; the oldest beyond ``UPLOADS_KEPT``, never imported, go."""
        for old in list(self.uploads.values())[:max(0, len(self.uploads) - UPLOADS_KEPT + 1)]:
            self.forget(old)
        self.uploads[upload.id] = upload

    def take(self, upload_id: str) -> Upload | None:
        """The upload, no longer offered to check or import: it is being imported."""
        return self.uploads.pop(upload_id, None)

    def forget(self, upload: Upload) -> None:
        """Remove an upload once used."""
        self.uploads.pop(upload.id, None)
        shutil.rmtree(upload.folder, ignore_errors=True)

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def safe_name(given: str) -> str:
    """A client's file name made a plain name: no folder, no control or reserved characters, not too long,
    its extension kept."""
    base = re.split(r"[/\\]", given)[-1]
    name = UNSAFE_NAME.sub("_", base).strip(" .") or "upload"
    stem, dot, ext = name.rpartition(".")
    if dot and len(ext) <= 10:
        return stem[:MAX_NAME - len(ext) - 1] + "." + ext if stem else "upload." + ext
    return name[:MAX_NAME]


async def receive_upload(content_type: str, body: AsyncIterator[bytes], area: PrivateFolder,
                         csrf_ok: Callable[[str], bool]) -> Upload:
    """Stream a ``multipart/form-data`` body holding a ``csrf`` field, then one ``file``, into a new upload
    folder. Refuses a missing or wrong CSRF token before any of the file is written, more parts than
    ``MAX_PARTS``, a second file and long fields."""
    kind, params = parse_options_header(content_type)
    if kind != b"multipart/form-data" or not params.get(b"boundary"):
        raise UploadRefused(400, "expected a file sent from the page's form")
    ident, folder = area.new_folder("uploads")
    parts = _Parts(folder, csrf_ok)
    try:
        parser = MultipartParser(params[b"boundary"], parts.callbacks())
        async for chunk in body:
            parser.write(chunk)
        parser.finalize()
        if parts.saved is None:
            raise UploadRefused(400, "no file was sent: choose one first")
    except BaseException:
        parts.close()
        shutil.rmtree(folder, ignore_errors=True)
        raise
    upload = Upload(ident, folder, parts.saved)
    area.keep(upload)
    return upload


class _Parts:
    """The callbacks of python-multipart's streaming parser: fields kept small, the file written as it comes."""

    def __init__(self, folder: Path, csrf_ok: Callable[[str], bool]) -> None:
        self.folder = folder
        self.csrf_ok = csrf_ok
        self.count = 0
        self.header_field = b""
        self.header_value = b""
        self.disposition: dict[bytes, bytes] = {}
        self.value = bytearray()
        self.out: IO[bytes] | None = None
        self.saved: Path | None = None
        self.csrf_seen = False

    def callbacks(self) -> dict[str, Callable]:
        return {"on_part_begin": self.begin, "on_header_field": self.field, "on_header_value": self.header,
                "on_header_end": self.header_end, "on_headers_finished": self.headers_done,
                "on_part_data": self.data, "on_part_end": self.end}

    def begin(self) -> None:
        self.count += 1
        if self.count > MAX_PARTS:
            raise UploadRefused(400, f"too many parts in the form (at most {MAX_PARTS})")
        self.disposition, self.value = {}, bytearray()

    def field(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def header(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def header_end(self) -> None:
        if self.header_field.lower() == b"content-disposition":
            self.disposition = parse_options_header(self.header_value)[1]
        self.header_field = self.header_value = b""

    def headers_done(self) -> None:
        if b"filename" not in self.disposition:
            return
        if not self.csrf_seen:
            raise UploadRefused(403, "the form's security token is missing or wrong: reload the page")
        if self.saved is not None:
            raise UploadRefused(400, "one file at a time")
        self.saved = self.folder / safe_name(self.disposition[b"filename"].decode("utf-8", "replace"))
        self.out = open(self.saved, "xb")
        os.chmod(self.saved, 0o600)

    def data(self, data: bytes, start: int, end: int) -> None:
        if self.out is not None:
            self.out.write(data[start:end])
            return
        self.value += data[start:end]
        if len(self.value) > MAX_FIELD_BYTES:
            raise UploadRefused(400, "a form field is too long")

    def end(self) -> None:
        if self.out is not None:
            self.close()
        elif self.disposition.get(b"name") == b"csrf":
            if not self.csrf_ok(self.value.decode("utf-8", "replace")):
                raise UploadRefused(403, "the form's security token is missing or wrong: reload the page")
            self.csrf_seen = True

    def close(self) -> None:
        if self.out is not None:
            self.out.close()
            self.out = None
