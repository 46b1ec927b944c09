"""The TinyDB store: upsert, blank values keep stored data (on sqlite too), atomic writes, one run at a time."""
from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time

import pytest

from conftest import STORES, etl_process, read_store, write_csv


def rows(n: int, start: int = 0, city: str = "Paris") -> list[dict[str, str]]:
    return [{"Customer ID": f"C{i}", "Customer name": f"Customer {i}", "Town": city,
             "Contact email": f"c{i}@example.com", "Contact first name": "Ann"} for i in range(start, start + n)]


@pytest.mark.parametrize("sink", list(STORES))
def test_known_records_are_updated_new_ones_created_blanks_keep(etl, tmp_path, sink):
    target, read = STORES[sink]
    write_csv(tmp_path / "a.csv", [
        {"Customer ID": "C1", "Customer name": "Acme", "Town": "Paris", "VAT number": "FR1",
         "Contact email": "Ann@Acme.example", "Contact phone": "0102"},
    ])
    assert etl("run", "a.csv", "--sink", sink).code == 0
    write_csv(tmp_path / "b.csv", [
        {"Customer ID": "C1", "Town": "Lyon", "Contact email": "ann@acme.example", "Contact first name": "Ann"},
        {"Customer ID": "C2", "Customer name": "Beta"},
    ])
    result = etl("run", "b.csv", "--report", "r.json", "--sink", sink)
    assert result.code == 0, result.err
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["customers"] == {"created": 1, "updated": 1, "unchanged": 0, "rejected": 0}
    assert report["contacts"] == {"created": 0, "updated": 1, "unchanged": 0, "rejected": 0}
    store = read(tmp_path / target)
    acme = next(c for c in store["customers"] if c["external_id"] == "C1")
    assert (acme["name"], acme["city"], acme["vat_number"]) == ("Acme", "Lyon", "FR1")
    [ann] = store["contacts"]
    assert (ann["email"], ann["phone"], ann["first_name"]) == ("ann@acme.example", "0102", "Ann")
    again = etl("run", "b.csv", "--report", "r.json", "--sink", sink)
    assert json.loads((tmp_path / "r.json").read_text())["customers"]["unchanged"] == 2, again.err


def canonical(path) -> str:
    """The store's content, but for the time each import was recorded."""
    store = read_store(path)
    for entry in store.get("imports", []):
        entry.pop("time")
    return json.dumps(store, sort_keys=True)


def test_a_run_killed_at_any_moment_leaves_the_store_before_or_after(tmp_path):
    store = tmp_path / "store.json"
    write_csv(tmp_path / "first.csv", rows(3000))
    write_csv(tmp_path / "second.csv", rows(10000, start=1500, city="Lyon"))
    assert etl_process("run", "first.csv", "--target", store, cwd=tmp_path).code == 0
    before = canonical(store)
    backup = store.read_bytes()
    started = time.monotonic()
    assert etl_process("run", "second.csv", "--target", store, cwd=tmp_path).code == 0
    duration = time.monotonic() - started
    after = canonical(store)
    rng = random.Random(7)
    for _ in range(50):
        store.write_bytes(backup)
        proc = subprocess.Popen([sys.executable, "-m", "etl", "run", "second.csv", "--target", str(store)],
                                cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.1, duration * 1.1))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        state = canonical(store)
        assert state in (before, after)


def test_two_runs_at_once_both_complete_and_nothing_is_lost(tmp_path):
    store = tmp_path / "store.json"
    write_csv(tmp_path / "a.csv", rows(8000))
    write_csv(tmp_path / "b.csv", rows(8000, start=8000))
    procs = [subprocess.Popen([sys.executable, "-m", "etl", "run", name, "--target", str(store)], cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for name in ("a.csv", "b.csv")]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert len(read_store(store)["customers"]) == 16000


def test_a_busy_store_times_out_with_a_clear_message(tmp_path):
    import fcntl

    store = tmp_path / "store.json"
    write_csv(tmp_path / "a.csv", rows(3))
    with open(tmp_path / "store.json.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        result = etl_process("run", "a.csv", "--target", store, "--sink-option", "lock_timeout=0.3", cwd=tmp_path)
    assert result.code == 2
    assert "another run is still using this store" in result.err and "Traceback" not in result.err
    assert not store.exists()


def test_a_corrupt_store_is_refused_and_left_alone(etl, tmp_path):
    (tmp_path / "etl-db.json").write_text("{not json")
    write_csv(tmp_path / "a.csv", rows(2))
    result = etl("run", "a.csv")
    assert result.code == 2 and "not a TinyDB JSON file" in result.err
    assert (tmp_path / "etl-db.json").read_text() == "{not json"
