"""The benchmark still runs: a smoke run of ``bench/run.py --quick`` (no timing is checked)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "run.py"


def test_the_quick_benchmark_runs_every_workload_but_the_pandas_one(tmp_path):
    """W1's peer is a pandas script, and pandas is no test dependency: the other workloads
    generate their data, run ours and their peer, and each gives a row of the table."""
    result = subprocess.run([sys.executable, str(BENCH), "--quick", "--only", "W2,W3,W4,W5,W6,W7,W8,WM",
                             "--workdir", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    table = (tmp_path / "RESULTS-quick.md").read_text(encoding="utf-8")
    for row in ("| W2 Excel", "| W3 re-import", "| W4 CSV", "| W5 HTTP", "| W6a start-up", "| W6b start-up",
                "| W7a batch", "| W7b batch", "| W8 100 lines", "| WM column matching"):
        assert row in table
    assert "W3: the store's round trip alone" in table
