"""What people see: progress on a terminal only, --quiet, --verbose, --version, the summary's words."""
from __future__ import annotations

import re

import io

import pytest

from conftest import EXAMPLE, write_csv
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
    assert re.search(r"^Customer ID +-> customer_id \(exact\)$", verbose.err, re.M) and "done in" in verbose.err


def test_the_summary_counts_agree_in_number(etl, tmp_path):
    write_csv(tmp_path / "one.csv", [{"Customer ID": "C1", "Customer name": "Acme", "Contact email": "a@acme.example"}])
    assert etl("run", "one.csv").err.splitlines() == [
        "1 line read: 1 imported, 0 rejected.",
        "customers: 1 was created, 0 updated, 0 unchanged, 0 rejected.",
        "contacts: 1 was created, 0 updated, 0 unchanged, 0 rejected.",
    ]
    write_csv(tmp_path / "two.csv", [{"Customer ID": "C2", "Customer name": "Beta"},
                                     {"Customer ID": "C3", "Customer name": "Gamma"}])
    assert etl("run", "two.csv").err.splitlines() == [
        "2 lines read: 2 imported, 0 rejected.",
        "customers: 2 were created, 0 updated, 0 unchanged, 0 rejected.",
        "contacts: 0 were created, 0 updated, 0 unchanged, 0 rejected.",
    ]


def test_a_dry_run_says_what_would_be_imported(etl, tmp_path):
    write_csv(tmp_path / "one.csv", [{"Customer ID": "C1", "Customer name": "Acme"}])
    assert etl("run", "one.csv", "--dry-run").err.splitlines() == [
        "1 line read: 1 would be imported, 0 rejected.",
        "customers: 1 would be created, 0 updated, 0 unchanged, 0 rejected.",
        "contacts: 0 would be created, 0 updated, 0 unchanged, 0 rejected.",
    ]


@pytest.mark.parametrize("bad, more", [(21, "... and 1 more error (see"), (22, "... and 2 more errors (see")])
def test_errors_past_the_twentieth_are_counted_in_number(etl, tmp_path, bad, more):
    write_csv(tmp_path / "bad.csv", [{"Customer ID": f"C{i}", "Customer name": "A", "Contact email": "bad"}
                                     for i in range(bad)])
    lines = etl("run", "bad.csv").err.splitlines()
    assert lines[20].startswith(more) and lines[21] == f"{bad} lines read: 0 imported, {bad} rejected."


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
