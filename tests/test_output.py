"""What people see: progress on a terminal only, --quiet, --verbose, --version."""
from __future__ import annotations

import io

from conftest import EXAMPLE
from etl.progress import Progress


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_progress_shows_rate_and_eta_then_erases_itself():
    stream, clock = io.StringIO(), Clock()
    progress = Progress(stream, interval=0.2, clock=clock)
    clock.now = 1.0
    progress.reading(50_000, expected=200_000)
    progress.reading(60_000, expected=200_000)  # too soon: not drawn
    clock.now = 2.0
    progress.loading(1_000)
    progress.close()
    text = stream.getvalue()
    assert "\rreading: 50,000 lines, 50,000 lines/s, 25%, ETA 3s" in text
    assert "60,000" not in text and "\rloading: 1,000 documents" in text
    assert text.endswith("\r")


def test_no_progress_when_not_a_terminal_quiet_and_verbose(etl):
    normal = etl("run", EXAMPLE, "--dry-run")
    assert "\r" not in normal.err and "29 lines read" in normal.err
    assert etl("run", EXAMPLE, "--dry-run", "--quiet").err == ""
    verbose = etl("run", EXAMPLE, "--dry-run", "--verbose")
    assert "column 'Customer ID' -> customer_id" in verbose.err and "done in" in verbose.err


def test_version(etl):
    result = etl("--version")
    assert result.code == 0 and result.out.startswith("etl, version ")


def test_shell_completion_completes_commands():
    import os
    import subprocess
    import sys

    env = {**os.environ, "COMP_WORDS": "etl ba", "COMP_CWORD": "1", "_ETL_COMPLETE": "bash_complete"}
    proc = subprocess.run([sys.executable, "-m", "etl"], env=env, capture_output=True, text=True)
    assert "plain,batch" in proc.stdout.split()
