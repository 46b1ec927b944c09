"""A progress line on a terminal: lines read (rate, ETA when the size is known), documents loaded."""
from __future__ import annotations

import time
from typing import TextIO

from .terminal import printable


def _duration(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class Progress:
    """Redraws one line on ``stream`` at most every ``interval`` seconds; ``close`` erases it."""

    def __init__(self, stream: TextIO, interval: float = 0.2, clock=time.monotonic) -> None:
        self.stream = stream
        self.interval = interval
        self.clock = clock
        self.started = clock()
        self.last_draw = 0.0
        self.width = 0

    def _draw(self, text: str, force: bool = False) -> None:
        now = self.clock()
        if not force and now - self.last_draw < self.interval:
            return
        self.last_draw = now
        text = printable(text)
        self.stream.write("\r" + text.ljust(self.width))
        self.stream.flush()
        self.width = len(text)

    def reading(self, lines: int, expected: int | None) -> None:
        elapsed = max(self.clock() - self.started, 1e-9)
        rate = lines / elapsed
        text = f"reading: {lines:,} lines, {rate:,.0f} lines/s"
        if expected and expected > lines and rate:
            text += f", {100 * lines // expected}%, ETA {_duration((expected - lines) / rate)}"
        self._draw(text)

    def loading(self, documents: int) -> None:
        self._draw(f"loading: {documents:,} documents")

    def close(self) -> None:
        if self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
