"""Ctrl-C and SIGTERM: nothing half-written, exit 130 / 143, a message saying what was written."""
from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from conftest import etl_process, interrupt, write_csv


@pytest.mark.parametrize("to_group", [False, True], ids=["to-etl", "to-its-process-group"])
@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_run_leaves_the_store_as_it_was(tmp_path, signum, code, to_group):
    """The file is large enough to be read ahead by a child process (on Linux), which a
    terminal's Ctrl-C or a service manager's SIGTERM reaches too (the process group)."""
    rows = [{"Customer ID": f"C{i}", "Customer name": f"Name {i}", "Contact email": f"c{i}@x.example"}
            for i in range(150_000)]
    write_csv(tmp_path / "big.csv", rows)
    write_csv(tmp_path / "small.csv", rows[:10])
    store = tmp_path / "store.json"
    assert etl_process("run", "small.csv", "--target", store, cwd=tmp_path).code == 0
    before = store.read_bytes()
    proc = subprocess.Popen([sys.executable, "-m", "etl", "run", "big.csv", "--target", str(store)], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # even if CI ignores it
    time.sleep(0.8)
    err = interrupt(proc, signum, to_group)
    assert proc.returncode == code, err
    assert "interrupted" in err and "nothing was" in err and "Traceback" not in err
    assert store.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.csv", "small.csv", "store.json"]
