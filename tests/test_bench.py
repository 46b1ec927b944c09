"""The benchmark still runs: a smoke run of ``bench/run.py --quick`` (no timing is checked)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "run.py"


def test_the_quick_benchmark_runs_every_workload_but_the_pandas_one(tmp_path):
    """W1's peer is a pandas script, and pandas is no test dependency: the other workloads
    generate their data, run ours and their peer, and each gives a row of the table."""
    result = subprocess.run([sys.executable, str(BENCH), "--quick", "--only", "W2,W3,W4,W5,W6,W7,W8,W9,WM",
                             "--workdir", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    table = (tmp_path / "RESULTS-quick.md").read_text(encoding="utf-8")
    for row in ("| W2 Excel", "| W3 re-import", "| W4 CSV", "| W5 HTTP", "| W6a start-up", "| W6b start-up",
                "| W7a batch", "| W7b batch", "| W8 100 lines", "| W9a W3 with before-images",
                "| W9b-tinydb store size", "| W9b-sqlite store size", "| WM column matching"):
        assert row in table
    assert "W3: the store's round trip alone" in table


def test_w9s_peer_keeps_no_before_images_and_all_else_alike(tmp_path):
    """W9 measures what before-images cost by running etl without them: its peer must keep none, and
    write the same documents and history entry otherwise."""
    import json

    source = tmp_path / "in.csv"
    source.write_text("Customer ID;Customer name;Contact email\nC1;Acme;ana@acme.fr\n", encoding="utf-8")
    peer = BENCH.parent / "peers" / "w9_without_before_images.py"
    stores = {}
    for name, command in (("ours", [sys.executable, "-m", "etl"]), ("peer", [sys.executable, str(peer)])):
        subprocess.run([*command, "run", str(source), "--sink", "tinydb", "--target", f"{name}.json", "--quiet"],
                       cwd=tmp_path, check=True, timeout=120)
        stores[name] = json.loads((tmp_path / f"{name}.json").read_text(encoding="utf-8"))
    (ours,), (theirs,) = (list(stores[name].pop("imports").values()) for name in ("ours", "peer"))
    assert ours.pop("written")["created"]["customers"] and "written" not in theirs
    assert {k: v for k, v in ours.items() if k not in ("time", "target")} == \
        {k: v for k, v in theirs.items() if k not in ("time", "target")}
    assert stores["ours"] == stores["peer"]
