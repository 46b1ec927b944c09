"""A real ``etl serve`` for the tests: a child process on 127.0.0.1 and a free port, its private
folder under the test's own TMPDIR; and an httpx client signed in through the printed URL."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

HOST = "127.0.0.1"
URL_LINE = re.compile(r"open (http://127\.0\.0\.1:\d+)/login\?token=([\w-]+)")
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass
class Served:
    """A running server: its base URL, the printed token, the process and its TMPDIR."""

    base: str
    token: str
    process: subprocess.Popen
    tmpdir: Path
    peak_kib: int = 0

    @property
    def login_url(self) -> str:
        return f"{self.base}/login?token={self.token}"

    def client(self, **kwargs) -> httpx.Client:
        """A client signed in with the printed URL (which spends its token)."""
        client = httpx.Client(base_url=self.base, timeout=60, trust_env=False, **kwargs)
        answer = client.get(self.login_url)
        assert answer.status_code == 303, answer.text
        return client

    def private_folders(self) -> list[Path]:
        return sorted(self.tmpdir.glob("etl-serve-*"))

    def stop(self) -> str:
        """Ctrl-C, as the user stops it; its output. Once it stopped, ``peak_kib`` is its largest process's
        peak resident memory: the server's or that of one of the processes it ran an import in."""
        if self.process.returncode is not None:
            return ""
        self.process.send_signal(signal.SIGINT)
        watchdog = threading.Timer(60, self.process.kill)
        watchdog.start()
        try:
            out = self.process.stdout.read() if self.process.stdout else ""
            _, status, usage = os.wait4(self.process.pid, 0)
        finally:
            watchdog.cancel()
        self.process.returncode = os.waitstatus_to_exitcode(status)
        self.peak_kib = usage.ru_maxrss
        return out


def start(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Served:
    """Start ``etl serve ARGS`` on a free port (with more variables in its environment) and wait until it answers."""
    port = free_port()
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir(exist_ok=True)
    env = {**os.environ, **(env or {}), "TMPDIR": str(tmpdir), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "etl", "serve", "--host", HOST, "--port", str(port), *args],
                               cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    match = URL_LINE.search(line)
    if not match:
        process.kill()
        raise AssertionError(f"etl serve printed {line!r}{process.communicate()[0]}")
    served = Served(match[1], match[2], process, tmpdir)
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(served.base + "/", trust_env=False, timeout=5)
            return served
        except httpx.TransportError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise AssertionError("etl serve did not answer: " + process.communicate()[0]) from None
            time.sleep(0.05)


def csrf_of(page: str) -> str:
    return CSRF.search(page)[1]
