"""The bytes of a CSV input, each read from the file once.

``InputBytes`` reads the file: first its head (kept: the format is detected on it), then the
rest, hashing every byte as it passes (the history's checksum). ``CheckedBytes`` hands those
bytes to the text decoder whole lines at a time, checking them on the way: a NUL character is
an error naming its line, and lines that are not UTF-8 are noted (a UTF-8 file with some lines
in Windows-1252 has them read so, with a warning).

A file without a byte order mark is UTF-8 (some of its lines maybe Windows-1252) when one of its
non-ASCII lines is UTF-8, else Windows-1252 (Latin-1 if Windows-1252 cannot decode it): that is
known only at its end. So from the first line that is not UTF-8 met before any non-ASCII line
that is, the rest of the file goes to a temporary file while it is checked, and is given to the
decoder from there (as UTF-8 once decoded with the encoding found): the input is still read once.
"""
from __future__ import annotations

import codecs
import hashlib
import io
import os
import tempfile
from pathlib import Path
from typing import IO

from etl import InputError

CHUNK_SIZE = 1 << 18
"""Bytes read from the file at a time."""

BYTE_FOR_BYTE_NUL = frozenset({"utf-8", "utf-8-sig", "cp1252", "iso8859-1", "ascii"})
"""Encodings where a NUL character is a 0 byte and only that: the bytes are searched for it."""

BINARY_MESSAGE = "not a text CSV file (binary content)"


class InputBytes:
    """The file's bytes: its head first (read to detect the format, kept), then the rest, each
    read from the file once and hashed; its tail, when read early (``tail``), is kept for the end."""

    def __init__(self, path: Path, head_size: int) -> None:
        self._file = open(path, "rb", buffering=0)
        self._digest = hashlib.sha256()
        self.ended = False
        self.head = b""
        self._given = 0
        """Bytes of the head already handed over by ``read``."""
        self._position = 0
        """Bytes of the file read in order so far."""
        self._tail: bytes | None = None
        self._tail_start = 0
        self.extend_head(head_size)

    def tail(self, size: int) -> bytes:
        """The file's last ``size`` bytes (fewer if some are in the head), kept: reading in order ends with them."""
        end = os.fstat(self._file.fileno()).st_size
        self._tail_start = max(end - size, self._position)
        self._tail = os.pread(self._file.fileno(), end - self._tail_start, self._tail_start)
        return self._tail

    def extend_head(self, size: int) -> bool:
        """Read ``size`` more bytes into the head (fewer at the end of the file); False if none were left."""
        parts = []
        while size > 0 and (part := self._read_file(size)):
            parts.append(part)
            size -= len(part)
        self.head += b"".join(parts)
        return bool(parts)

    def read(self, size: int) -> bytes:
        """The next bytes, the head's first; b"" at the end of the file."""
        if self._given < len(self.head):
            part = self.head[self._given:self._given + size]
            self._given += len(part)
            return part
        return self._read_file(size)

    def whole(self) -> bytes | None:
        """The whole file when its head, or its head and its tail, hold it all; else None."""
        if self._tail is None:
            return self.head if self.ended and self._position == len(self.head) else None
        return self.head + self._tail if self._tail_start == len(self.head) else None

    @property
    def checksum(self) -> str | None:
        """``sha256:<hex>`` of the whole file once it was read to its end, else None."""
        return f"sha256:{self._digest.hexdigest()}" if self.ended else None

    def close(self) -> None:
        self._file.close()

    def _read_file(self, size: int) -> bytes:
        if self.ended:
            return b""
        if self._tail is None or self._position + size <= self._tail_start:
            data = self._file.read(size) or b""
        elif self._position < self._tail_start:
            data = self._file.read(self._tail_start - self._position) or b""
        else:
            data = self._tail[self._position - self._tail_start:self._position - self._tail_start + size]
        self._position += len(data)
        self._digest.update(data)
        self.ended = not data
        return data


class CheckedBytes(io.BufferedIOBase):
    """The input's bytes as the text decoder reads them, whole lines at a time, checked as they pass.

    ``encoding`` is the codec the decoder uses; ``notes_utf8``: note the lines that are not UTF-8
    (a file marked UTF-8, or without a mark); ``guessed``: the file has no mark, so that its encoding
    may turn out to be Windows-1252 or Latin-1 (``encoding_found``) rather than UTF-8.
    """

    def __init__(self, source: InputBytes, encoding: str, notes_utf8: bool, guessed: bool) -> None:
        super().__init__()
        self._source = source
        self._text_decoder = None if codecs.lookup(encoding).name in BYTE_FOR_BYTE_NUL else \
            codecs.getincrementaldecoder(encoding)(errors="replace")
        self._notes_utf8 = notes_utf8
        self._guessed = guessed
        self._lines = LineCounter()
        self._tail = b""
        self._ready = memoryview(b"")
        self._spool: IO[bytes] | None = None
        self._spool_size = 0
        self._windows_1252 = True
        """Whether Windows-1252 decodes every byte (checked from where the bytes are spooled)."""
        self.lines_not_utf8: list[int] = []
        self.some_utf8 = False
        """Whether a non-ASCII line is UTF-8."""
        self.encoding_found: str | None = None
        """The encoding of a file without a mark none of whose non-ASCII lines is UTF-8, known at its end."""

    def readable(self) -> bool:
        return True

    def spooled_end(self, size: int) -> bytes | None:
        """The last ``size`` bytes of the file (fewer if fewer were kept) when its rest was kept aside, else None."""
        if self._spool is None:
            return None
        end = self._spool_size
        return os.pread(self._spool.fileno(), min(size, end), end - min(size, end))

    def lines_checked(self) -> int | None:
        """The number of the file's last line, when the whole file was checked already (kept aside), else None."""
        return self._lines.current if self._spool is not None else None

    def read1(self, size: int = -1) -> bytes:
        while not self._ready:
            if not self._fill():
                return b""
        size = len(self._ready) if size < 0 else size
        part, self._ready = self._ready[:size], self._ready[size:]
        return bytes(part)

    def read(self, size: int | None = -1) -> bytes:
        return self.read1(-1 if size is None else size)

    def close(self) -> None:
        if self._spool is not None:
            self._spool.close()
        super().close()

    def _fill(self) -> bool:
        """Make the next bytes ready; False at the end of the file."""
        if self._spool is not None:
            return self._from_spool()
        block = self._next_block()
        if block is None:
            return False
        undecided = self._check(block)
        if undecided:
            self._spool_rest(block)
            return self._from_spool()
        self._ready = memoryview(block)
        return True

    def _next_block(self) -> bytes | None:
        """The next whole lines of the file (its last bytes even without a line end), None at its end."""
        while chunk := self._source.read(CHUNK_SIZE):
            data = self._tail + chunk
            end = max(data.rfind(b"\n"), data.rfind(b"\r")) + 1
            self._tail = data[end:]
            if end:
                return data[:end]
        block, self._tail = self._tail, b""
        return block or None

    def _check(self, block: bytes) -> bool:
        """Check ``block`` (whole lines); True when it holds the first line that is not UTF-8 of a file
        without a mark none of whose earlier lines decided its encoding."""
        text = None if self._text_decoder is None else self._text_decoder.decode(block)
        where, nul = (block, b"\x00") if text is None else (text, "\x00")
        if nul in where:
            lines = self._lines.copy()
            lines.add(where[: where.index(nul)])
            raise InputError(f"line {lines.current}: a NUL character: {BINARY_MESSAGE}")
        undecided = False
        if self._notes_utf8:
            undecided = self._note_utf8(block)
        if self._spool is not None or undecided:
            self._windows_1252 = self._windows_1252 and _decodes(block, "cp1252")
        self._lines.add(block if text is None else text)
        return undecided and self._spool is None

    def _note_utf8(self, block: bytes) -> bool:
        """Note the lines of ``block`` that are not UTF-8, and whether a non-ASCII one is; True if a line
        not UTF-8 comes before any non-ASCII line that is, in a file without a mark."""
        if _decodes(block, "utf-8"):
            self.some_utf8 = self.some_utf8 or not block.isascii()
            return False
        undecided = False
        lines = self._lines.copy()
        for line in block.splitlines(keepends=True):
            if not line.isascii():
                if _decodes(line, "utf-8"):
                    self.some_utf8 = True
                else:
                    undecided = undecided or (self._guessed and not self.some_utf8)
                    self.lines_not_utf8.append(lines.current)
            lines.add(line)
        return undecided and not self.some_utf8

    def _spool_rest(self, block: bytes) -> None:
        """Check the rest of the file into a temporary file, from ``block`` on, and decide its encoding."""
        spool = self._spool = tempfile.TemporaryFile()
        spool.write(block)
        while (block := self._next_block()) is not None:
            self._check(block)
            spool.write(block)
        if not self.some_utf8:
            self.encoding_found = "cp1252" if self._windows_1252 else "latin-1"
        self._spool_size = spool.tell()
        spool.seek(0)

    def _from_spool(self) -> bool:
        assert self._spool is not None
        data = self._spool.read(CHUNK_SIZE)
        if self.encoding_found is not None:  # one byte a character: a chunk never cuts one
            data = data.decode(self.encoding_found).encode("utf-8")
        self._ready = memoryview(data)
        return bool(data)


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


class LineCounter:
    """Counts physical lines as csv does: a line ends at LF, CR or CRLF (in text or in bytes)."""

    def __init__(self) -> None:
        self.breaks = 0
        self._after_cr = False

    @property
    def current(self) -> int:
        """The number of the line being read."""
        return self.breaks + 1

    def copy(self) -> LineCounter:
        counter = LineCounter()
        counter.breaks, counter._after_cr = self.breaks, self._after_cr
        return counter

    def add(self, text: str | bytes) -> None:
        """Count the line ends of the next piece of text (or of bytes of an ASCII-based encoding)."""
        if not text:
            return
        lf, cr, crlf = ("\n", "\r", "\r\n") if isinstance(text, str) else (b"\n", b"\r", b"\r\n")
        self.breaks += text.count(lf)  # type: ignore[arg-type]
        if cr in text:  # text with LF line ends spares two counts
            self.breaks += text.count(cr) - text.count(crlf)  # type: ignore[arg-type]
        if self._after_cr and text[:1] == lf:
            self.breaks -= 1
        self._after_cr = text[-1:] == cr
