"""Each byte of the input is read once: the rejects file, the history's rejected lines and its
checksum come from the run's one read of the file."""
from __future__ import annotations

import hashlib
import json
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import write_csv

COUNTER = Path(__file__).with_name("count_input_reads.py")
HEADER = ["Customer ID", "Customer name", "Address", "Town", "Contact email", "Contact first name"]
ALLOWED = 1.1
"""The most a run may read of its input, in times its size."""

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads are counted through /proc")


def lines(n: int) -> list[list[str]]:
    """``n`` lines of varied text (so that a workbook does not compress them away), one in 97 with a bad email."""
    rng = random.Random(16)
    return [[f"C{i}", f"Société {i}", f"{rng.getrandbits(160):x} rue de la Paix", rng.choice(["Paris", "Nîmes"]),
             "not-an-email" if i % 97 == 0 else f"c{i}@example.com", f"Zoé {rng.getrandbits(40):x}"]
            for i in range(1, n + 1)]


def write_xlsx(path: Path, rows: list[list[str]]) -> Path:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Customers")
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def bytes_read(tmp_path: Path, source: Path, rejects: Path, rows: list[list[str]]) -> int:
    """The bytes of ``source`` (holding ``rows``) that a run into a TinyDB store writing ``rejects`` reads
    (see count_input_reads), once its history entry is checked."""
    store = tmp_path / "store.json"
    done = subprocess.run([sys.executable, str(COUNTER), str(source), str(store), str(rejects)],
                          capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    count, status = done.stdout.split()
    assert status == "partial"
    (entry,) = json.loads(store.read_text(encoding="utf-8"))["imports"].values()
    assert entry["checksum"] == "sha256:" + hashlib.sha256(source.read_bytes()).hexdigest()
    assert [row[:-1] for row in entry["rejects"]["rows"]] == [row for row in rows if row[4] == "not-an-email"]
    assert rejects.stat().st_size > 0
    return int(count)


@pytest.mark.parametrize("size", [5 << 20, 2 << 20], ids=["read ahead", "one process"])
def test_a_csv_input_is_read_once_with_rejects_and_history(tmp_path: Path, size: int) -> None:
    rows = lines(size // 120)
    source = write_csv(tmp_path / "customers.csv", rows, HEADER)
    assert size * 0.9 < source.stat().st_size < size * 1.1
    read = bytes_read(tmp_path, source, tmp_path / "rejects.csv", rows)
    assert read <= ALLOWED * source.stat().st_size, f"{read:,} bytes read of a file of {source.stat().st_size:,}"


def test_an_xlsx_input_is_read_once_with_rejects_and_history(tmp_path: Path) -> None:
    rows = lines(20_000)
    source = write_xlsx(tmp_path / "customers.xlsx", rows)
    assert source.stat().st_size > 1 << 20
    read = bytes_read(tmp_path, source, tmp_path / "rejects.xlsx", rows)
    assert read <= ALLOWED * source.stat().st_size, f"{read:,} bytes read of a file of {source.stat().st_size:,}"


def test_rows_that_cannot_be_kept_aside_end_in_one_line_and_leave_no_store(tmp_path: Path) -> None:
    """A file read ahead has its rows kept in a temporary file: a full disk there is one clear error,
    and the run is recorded as failed, nothing imported."""
    import resource
    import tempfile

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))

    source = write_csv(tmp_path / "customers.csv", lines((5 << 20) // 120), HEADER)
    done = subprocess.run([sys.executable, "-m", "etl", "run", str(source), "--rejects", "rejects.csv"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=600, preexec_fn=limited)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"etl: error: {tempfile.gettempdir()}: cannot keep the lines read in a temporary file: File too large")
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "rejects.csv").exists()
    store = json.loads((tmp_path / "etl-db.json").read_text(encoding="utf-8"))  # the failure is recorded, no more
    assert [entry["status"] for entry in store["imports"].values()] == ["failed"]
    assert not store.get("customers") and not store.get("contacts")
