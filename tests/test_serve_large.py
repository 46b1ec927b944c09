"""etl serve on a 100,000-line file: its check shows a capped diff, the import's progress goes up as the page
polls it, and the server's peak memory stays within a generous bound of what ``etl run`` takes on the same file
for the check (``--dry-run --diff``) and the import."""
from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

for module in ("starlette", "uvicorn", "jinja2", "python_multipart"):
    pytest.importorskip(module, reason="etl serve needs its extra: pip install 'etl[serve]'")

from serve_server import csrf_of, start  # noqa: E402

from etl.serve.diff import SHOWN_PER_GROUP  # noqa: E402

LINES = 100_000
MIB = 1024


def write_large(path: Path) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["Customer ID", "Customer name", "Contact email", "Town"])
        writer.writerows([f"C{n:06d}", f"Customer {n}", f"c{n}@client{n}.fr", "Lyon"] for n in range(LINES))
    return path


def cli_peak_kib(source: Path, target: Path, *options: str) -> int:
    """The peak resident memory of ``etl run`` on ``source`` (its largest process), in KiB."""
    process = subprocess.Popen([sys.executable, "-m", "etl", "run", str(source), "--target", str(target), "--quiet",
                                *options], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 0
    return usage.ru_maxrss


def test_a_large_upload_imports_with_live_progress_in_the_clis_memory(tmp_path):
    source = write_large(tmp_path / "large.csv")
    # the page's check is ``etl run --dry-run --diff`` and its import ``etl run``, each writing the files the page
    # offers: the larger of the two is the bound
    outputs = ("--report", str(tmp_path / "report.json"), "--rejects", str(tmp_path / "rejects.csv"))
    cli_peak = max(cli_peak_kib(source, tmp_path / "cli-store.json", "--dry-run", "--diff", *outputs),
                   cli_peak_kib(source, tmp_path / "cli-store.json", *outputs, "--success", str(tmp_path / "ok.csv")))
    served = start(tmp_path, "--target", str(tmp_path / "store.json"))
    try:
        client = served.client()
        csrf = csrf_of(client.get("/").text)
        with open(source, "rb") as handle:
            location = client.post("/uploads", files={"csrf": (None, csrf), "file": ("large.csv", handle)}
                                   ).headers["location"]
        check = client.post(f"{location}/check", data={"csrf": csrf}).headers["location"]
        while client.get(f"{check}/state").json()["state"] not in ("done", "failed"):
            time.sleep(0.1)
        page = client.get(check).text  # the diff of 100,000 new customers and contacts, capped
        assert len(page) < 1_000_000 and page.count('class="record"') == 2 * SHOWN_PER_GROUP
        assert f"{LINES - SHOWN_PER_GROUP:,} more".replace(",", "") in page
        job = client.post(f"{check}/import", data={"csrf": csrf}).headers["location"]
        seen = []
        while (state := client.get(f"{job}/state").json())["state"] not in ("done", "failed"):
            seen.append(state["read"])
            time.sleep(0.02)
        assert state["state"] == "done" and state["read"] == LINES and state["percent"] == 100
        rising = sorted(set(n for n in seen if 0 < n < LINES))
        assert len(rising) >= 2 and seen == sorted(seen), seen  # it went up, poll after poll
        assert 'data-status="success"' in client.get(job).text
    finally:
        served.stop()
    print(f"\npeak memory on {LINES:,} lines: etl run {cli_peak // MIB} MiB, etl serve {served.peak_kib // MIB} MiB")
    # each run goes in a process of its own, the run of etl run: the largest process of the server peaks as high
    # (with what the page adds: the diff grouped, a few MiB)
    assert served.peak_kib <= cli_peak + 16 * MIB, (served.peak_kib, cli_peak)
