"""What an outside attack tries on a store, its lock and the run's outputs (issue 15): kills and
signals at any moment, links, pipes and devices in the store's place, stores of a strange shape,
full disks, read-only folders, file names that climb out of their folder.

Every case ends in one line naming the file, a non-zero exit code and the store as it was, or a
complete import. Tests marked ``slow`` are sampled on a plain run (see conftest.py).
"""
from __future__ import annotations

import json
import os
import random
import resource
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import orjson
import pytest

import etl

from conftest import STORES, etl_process, interrupt, read_store, write_csv

ETL = [sys.executable, "-m", "etl"]
ETL_SOURCE = str(Path(etl.__file__).resolve().parent)


def rows(n: int, start: int = 0, email: str = "x.example") -> list[dict[str, str]]:
    return [{"Customer ID": f"C{i}", "Customer name": f"Customer {i}", "Contact email": f"c{i}@{email}"}
            for i in range(start, start + n)]


def big_store(path: Path, n: int) -> bytes:
    """A TinyDB store of ``n`` customers, written directly (an import of that size takes too long)."""
    customers = {str(i): {"external_id": f"S{i}", "name": f"Stored {i}", "city": "Paris " * 8} for i in range(1, n + 1)}
    path.write_bytes(orjson.dumps({"customers": customers}))
    return path.read_bytes()


def temporaries(folder: Path) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name.endswith(".tmp"))


def one_clear_line(err: str, *names: str) -> None:
    """The run's error: one line naming the files, no traceback, no unexpected error."""
    lines = [line for line in err.splitlines() if line.startswith("etl: error:")]
    assert len(lines) == 1, err
    assert "Traceback" not in err and "unexpected error" not in err, err
    for name in names:
        assert name in lines[0], err


def spawn(*args: str, cwd: Path, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([*ETL, *map(str, args)], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **kwargs)


def signal_when_writing(proc: subprocess.Popen, folder: Path, signum: int, timeout: float = 60) -> bool:
    """Send ``signum`` as soon as a temporary file appears in ``folder``: in the middle of the atomic write."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        if temporaries(folder):
            proc.send_signal(signum)
            return True
        time.sleep(0.0005)
    return False


def child_pids(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as handle:
        return [int(p) for p in handle.read().split()]


def open_files(pid: int) -> list[str]:
    """What the file descriptors of a process lead to."""
    names = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            names.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except FileNotFoundError:
            pass  # closed meanwhile
    return names


def gone(pid: int) -> bool:
    """Whether a process is dead (a zombie waiting for a reaper counts as dead)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def limited_file_size(limit: int):
    """A child's preexec_fn: files cannot grow past ``limit`` bytes, and the write fails (EFBIG)
    instead of SIGXFSZ killing the process: a full disk without root."""
    def limit_it() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    return limit_it


def run_limited(limit: int, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*ETL, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=120,
                          preexec_fn=limited_file_size(limit))


@pytest.fixture
def small_folder(tmp_path):
    """A folder on its own small tmpfs (a real full disk: ENOSPC), when mounting is allowed; and a
    function making it read-only. Without root, modes make it read-only and the tmpfs tests skip."""
    folder = tmp_path / "mnt"
    folder.mkdir()
    mounted = os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(folder)], capture_output=True).returncode == 0

    def read_only() -> None:
        if mounted:
            subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        elif os.geteuid() == 0:
            pytest.skip("root without mount: no folder can be made read-only")
        else:
            for path in folder.iterdir():
                path.chmod(0o444)
            folder.chmod(0o555)

    yield folder, read_only, mounted
    if mounted:
        subprocess.run(["umount", "-l", str(folder)], check=False)
    else:
        folder.chmod(0o755)


# Kills, signals and locks


@pytest.mark.parametrize("how", ["killed", "stopped-then-killed"])
def test_a_run_killed_while_reading_ahead_leaves_no_reader_and_no_lock(tmp_path, how):
    """The child reading a large file ahead never holds the store's lock and dies with its run,
    even when its pipe is full (the run stopped, then killed)."""
    write_csv(tmp_path / "big.csv", rows(150_000))
    write_csv(tmp_path / "small.csv", rows(3))
    store = tmp_path / "store.json"
    proc = spawn("run", "big.csv", "--target", store, cwd=tmp_path)
    deadline = time.monotonic() + 60
    while not (children := child_pids(proc.pid)) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert children, proc.communicate()
    [child] = children
    time.sleep(0.3)  # a child seen just after fork may not have run yet (closing the lock is its first step)
    assert proc.poll() is None
    assert not [fd for fd in open_files(child) if fd.endswith("store.json.lock")]
    if how == "stopped-then-killed":
        proc.send_signal(signal.SIGSTOP)
        time.sleep(0.5)  # the child fills the pipe and blocks on it
    proc.kill()
    proc.communicate()
    deadline = time.monotonic() + 10
    while not gone(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gone(child)
    result = etl_process("run", "small.csv", "--target", store, "--sink-option", "lock_timeout=5", cwd=tmp_path)
    assert result.code == 0, result.err


@pytest.mark.slow
def test_runs_killed_at_random_moments_never_block_or_litter_the_next(tmp_path):
    """SIGKILL anywhere in a run that reads ahead and writes a large store: its reader dies with it,
    the next run gets the lock at once and leaves no temporary file behind."""
    store = tmp_path / "store.json"
    big_store(store, 50_000)
    write_csv(tmp_path / "big.csv", rows(120_000))
    write_csv(tmp_path / "small.csv", rows(3))
    rng = random.Random(15)
    for _ in range(10):
        proc = spawn("run", "big.csv", "--target", store, cwd=tmp_path)
        time.sleep(rng.uniform(0.05, 5))
        children = child_pids(proc.pid) if proc.poll() is None else []
        proc.kill()
        proc.communicate()
        deadline = time.monotonic() + 10
        while not all(map(gone, children)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert all(map(gone, children))
        result = etl_process("run", "small.csv", "--target", store, "--sink-option", "lock_timeout=2", cwd=tmp_path)
        assert result.code == 0, result.err
        assert temporaries(tmp_path) == []


@pytest.mark.parametrize("to_group", [False, True], ids=["to-etl", "to-its-process-group"])
@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_during_the_atomic_write_leaves_no_temporary_file(tmp_path, signum, code, to_group):
    store = tmp_path / "store.json"
    before = big_store(store, 200_000)
    write_csv(tmp_path / "a.csv", rows(50))
    proc = spawn("run", "a.csv", "--target", store, cwd=tmp_path, start_new_session=True,
                 preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 60
    while proc.poll() is None and not temporaries(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.0005)
    err = interrupt(proc, signum, to_group)
    assert proc.returncode in (0, code), err
    assert "Traceback" not in err and temporaries(tmp_path) == []
    if proc.returncode == code:
        assert "interrupted while the sink committed" in err and "either as they were or complete" in err
        assert store.read_bytes() == before or len(read_store(store)["customers"]) == 200_050


@pytest.mark.parametrize("next_run", ["run", "dry-run-then-run", "failing-run", "json-sink"])
def test_a_temporary_file_left_by_sigkill_is_removed_by_the_next_run(tmp_path, next_run):
    store = tmp_path / "store.json"
    big_store(store, 200_000)
    write_csv(tmp_path / "a.csv", rows(50))
    proc = spawn("run", "a.csv", "--target", store, cwd=tmp_path)
    assert signal_when_writing(proc, tmp_path, signal.SIGKILL)
    proc.communicate()
    [left] = temporaries(tmp_path)
    alive = tmp_path / f".store.json.{os.getpid()}.abcdefgh.tmp"  # a live writer's, never removed
    alive.write_text("")
    other = tmp_path / ".store.json.5.99999.abcdefgh.tmp"  # another store's ("store.json.5"), never removed
    other.write_text("")
    if next_run == "dry-run-then-run":
        assert etl_process("run", "a.csv", "--target", store, "--dry-run", cwd=tmp_path).code == 0
    if next_run == "failing-run":  # stops while reading, before it writes anything
        assert etl_process("run", "a.csv", "--target", store, "--limit", "rows=10", cwd=tmp_path).code == 2
        assert temporaries(tmp_path) == sorted([alive.name, other.name])
        return
    if next_run == "json-sink":
        (tmp_path / "out.json").write_text("{}")
        stale = left.replace(".store.json.", ".out.json.")
        (tmp_path / stale).write_text("partial")
        assert etl_process("run", "a.csv", "--sink", "json", "--target", "out.json", cwd=tmp_path).code == 0
        assert stale not in temporaries(tmp_path)
        return
    result = etl_process("run", "a.csv", "--target", store, cwd=tmp_path)
    assert result.code == 0, result.err
    assert temporaries(tmp_path) == sorted([alive.name, other.name])
    assert len(read_store(store)["customers"]) == 200_050


def _interrupt_at_start(tmp_path: Path, command: list[str], delays: list[float]) -> None:
    write_csv(tmp_path / "a.csv", rows(3))
    for delay in delays:
        proc = subprocess.Popen([*command, "run", "a.csv", "--target", "s.json"], cwd=tmp_path,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        if "Traceback" in err and f'File "{ETL_SOURCE}' not in err:
            # Python itself was starting (site, runpy, importlib): no line of etl had run yet (README); the
            # importer may name etl's folder in its own messages (a KeyError of its path cache), not a frame of etl
            continue
        assert "Traceback" not in err and "Exception ignored" not in err, (delay, err)
        assert proc.returncode in (0, 130, -signal.SIGINT), (delay, proc.returncode, err)


COMMANDS = {"python -m etl": ETL, "etl": [str(Path(sys.executable).parent / "etl")]}


@pytest.mark.parametrize("command", COMMANDS)
def test_ctrl_c_while_etl_starts_shows_no_traceback(tmp_path, command):
    _interrupt_at_start(tmp_path, COMMANDS[command], [0.005, 0.02, 0.04])


@pytest.mark.slow
@pytest.mark.parametrize("command", COMMANDS)
def test_ctrl_c_at_every_moment_of_a_short_run_shows_no_traceback(tmp_path, command):
    _interrupt_at_start(tmp_path, COMMANDS[command], [n / 1000 for n in range(0, 400, 7)])


def test_a_lock_file_that_is_a_dangling_link_is_replaced_never_followed(etl, tmp_path):
    (tmp_path / "etl-db.json.lock").symlink_to(tmp_path / "victim")
    write_csv(tmp_path / "a.csv", rows(2))
    assert etl("run", "a.csv").code == 0
    assert not (tmp_path / "victim").exists() and not (tmp_path / "etl-db.json.lock").is_symlink()


def test_a_lock_file_linked_to_a_file_leaves_that_file_alone(etl, tmp_path):
    (tmp_path / "victim").write_text("keep me")
    (tmp_path / "etl-db.json.lock").symlink_to(tmp_path / "victim")
    write_csv(tmp_path / "a.csv", rows(2))
    assert etl("run", "a.csv").code == 0 and etl("run", "a.csv", "--dry-run").code == 0
    assert (tmp_path / "victim").read_text() == "keep me"


@pytest.mark.parametrize("kind", ["folder", "fifo"])
def test_a_lock_file_that_is_not_a_file_is_refused(etl, tmp_path, kind):
    lock = tmp_path / "etl-db.json.lock"
    lock.mkdir() if kind == "folder" else os.mkfifo(lock)
    write_csv(tmp_path / "a.csv", rows(2))
    result = etl("run", "a.csv")
    assert result.code == 2
    one_clear_line(result.err, "etl-db.json")
    assert not (tmp_path / "etl-db.json").exists()


# Store path and kind


def test_a_store_that_is_a_link_is_written_through(etl, tmp_path):
    (tmp_path / "real").mkdir()
    write_csv(tmp_path / "a.csv", rows(2))
    assert etl("run", "a.csv", "--target", "real/store.json").code == 0
    (tmp_path / "link.json").symlink_to("real/store.json")  # relative
    (tmp_path / "chain.json").symlink_to(tmp_path / "link.json")
    (tmp_path / "dir").symlink_to(tmp_path / "real")
    write_csv(tmp_path / "b.csv", rows(2, start=2))
    write_csv(tmp_path / "c.csv", rows(2, start=4))
    write_csv(tmp_path / "d.csv", rows(2, start=6))
    assert etl("run", "b.csv", "--target", "link.json").code == 0
    assert etl("run", "c.csv", "--target", "chain.json").code == 0
    assert etl("run", "d.csv", "--target", "dir/store.json").code == 0
    assert (tmp_path / "link.json").is_symlink() and (tmp_path / "chain.json").is_symlink()
    assert len(read_store(tmp_path / "real/store.json")["customers"]) == 8
    assert sorted(os.listdir(tmp_path / "real")) == ["store.json"]


def test_a_dangling_store_link_creates_its_target(etl, tmp_path):
    (tmp_path / "link.json").symlink_to("new.json")
    write_csv(tmp_path / "a.csv", rows(2))
    assert etl("run", "a.csv", "--target", "link.json").code == 0
    assert (tmp_path / "link.json").is_symlink() and len(read_store(tmp_path / "new.json")["customers"]) == 2


@pytest.mark.slow
def test_two_runs_through_two_names_of_one_store_lose_nothing(tmp_path):
    store = tmp_path / "store.json"
    (tmp_path / "alias.json").symlink_to(store)
    write_csv(tmp_path / "a.csv", rows(8000))
    write_csv(tmp_path / "b.csv", rows(8000, start=8000))
    procs = [spawn("run", name, "--target", target, cwd=tmp_path)
             for name, target in (("a.csv", "store.json"), ("b.csv", "alias.json"))]
    outputs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert len(read_store(store)["customers"]) == 16000


def _special(tmp_path: Path, kind: str) -> tuple[str, str]:
    """A store path of this kind, and what the error says about it."""
    if kind == "fifo":
        os.mkfifo(tmp_path / "s.json")
        return "s.json", "named pipe"
    if kind == "dev-zero-link":
        (tmp_path / "s.json").symlink_to("/dev/zero")
        return "s.json", "character device"
    if kind == "dev-null":
        return "/dev/null", "character device"
    if kind == "folder":
        (tmp_path / "s.json").mkdir()
        return "s.json", "a folder"
    if kind == "link-loop":
        (tmp_path / "s.json").symlink_to("s.json")
        return "s.json", "Too many levels of symbolic links"
    if kind == "socket":
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(tmp_path / "s.json"))
        return "s.json", "socket"
    (tmp_path / "s.json").write_text("{}")
    os.link(tmp_path / "s.json", tmp_path / "other.json")
    return "s.json", "2 hard links"


SPECIAL = ["fifo", "dev-zero-link", "dev-null", "folder", "socket", "hard-link", "link-loop"]


@pytest.mark.parametrize("dry_run", [False, True], ids=["run", "dry-run"])
@pytest.mark.parametrize("kind", SPECIAL)
def test_a_store_that_is_not_a_regular_file_is_refused_at_once(tmp_path, kind, dry_run):
    target, what = _special(tmp_path, kind)
    write_csv(tmp_path / "a.csv", rows(2))
    before = sorted(os.listdir(tmp_path))
    result = etl_process("run", "a.csv", "--target", target, *(["--dry-run"] if dry_run else []), cwd=tmp_path,
                         timeout=20)
    assert result.code == 2 and what in result.err
    one_clear_line(result.err, target)
    assert sorted(os.listdir(tmp_path)) == before
    assert not Path("/dev/null.lock").exists() and not Path("/dev/zero.lock").exists()


@pytest.mark.parametrize("kind", ["fifo", "dev-zero-link", "folder"])
def test_history_of_a_store_that_is_not_a_regular_file(tmp_path, kind):
    target, what = _special(tmp_path, kind)
    result = etl_process("history", "--target", target, cwd=tmp_path, timeout=20)
    assert result.code == 2 and what in result.err
    one_clear_line(result.err)


# Store shape

IMPORT = {"time": "2026-01-01T00:00:00+00:00", "input": "/x/a.csv", "checksum": "sha256:0", "reader": "csv",
          "sink": "tinydb", "status": "success", "rows": {"read": 1, "imported": 1, "rejected": 0},
          "counts": {"customers": {"created": 1}}, "errors": [],
          "rejects": {"header": ["a", "Error"], "rows": [], "reader": "csv", "format_options": {}}}


def _with(entry_change: dict) -> dict:
    return {"imports": {"1": {**IMPORT, **entry_change}}}


SHAPES = {
    "top-level-list": ([{"customers": {}}], "the file holds a list"),
    "top-level-number": (3, "the file holds a whole number"),
    "table-list": ({"customers": [{"name": "A"}]}, "table 'customers' is a list"),
    "table-null": ({"customers": None}, "table 'customers' is null"),
    "document-string": ({"customers": {"1": "Acme"}}, "table 'customers', document 1: text, not an object"),
    "document-list": ({"contacts": {"1": ["a@b.example"]}}, "document 1: a list, not an object"),
    "id-not-a-number": ({"customers": {"abc": {"name": "A"}}}, "the document id 'abc' is not a number"),
    "id-negative": ({"customers": {"-1": {"name": "A"}}}, "the document id '-1' is not a number"),
    "id-unicode-digit": ({"customers": {"\u0661": {"name": "A"}}}, "is not a number"),
    "control-characters-in-key": ({"customers": {"1\n\x1b[31m": {"name": "A"}}}, "'1\\n\\x1b[31m'"),
    "imports-list": ({"imports": [IMPORT]}, "table 'imports' is a list"),
    "import-string": ({"imports": {"1": "done"}}, "table 'imports', document 1: text, not an object"),
    "import-without-rows": ({"imports": {"1": {k: v for k, v in IMPORT.items() if k != "rows"}}},
                            "import 1 has no 'rows'"),
    "import-rows-text": (_with({"rows": {"read": "1", "imported": 1, "rejected": 0}}), "import 1.rows.read is text"),
    "import-errors-object": (_with({"errors": {"line": 2}}), "import 1.errors is an object, not a list"),
    "import-error-line-text": (_with({"errors": [{"line": "2", "column": None, "message": "m"}]}),
                               "import 1.errors[0].line is text"),
    "import-counts-list": (_with({"counts": [1]}), "import 1.counts is a list, not an object"),
    "import-rejects-rows": (_with({"rejects": {**IMPORT["rejects"], "rows": "x"}}), "import 1.rejects.rows is text"),
}


@pytest.mark.parametrize("command", ["run", "dry-run", "history", "history-show"])
@pytest.mark.parametrize("shape", SHAPES)
def test_a_store_of_an_unexpected_shape_is_refused_untouched(etl, tmp_path, shape, command):
    content, where = SHAPES[shape]
    store = tmp_path / "etl-db.json"
    store.write_bytes(orjson.dumps(content))
    before = store.read_bytes()
    write_csv(tmp_path / "a.csv", rows(2))
    args = {"run": ["run", "a.csv"], "dry-run": ["run", "a.csv", "--dry-run"], "history": ["history"],
            "history-show": ["history", "show", "1"]}[command]
    result = etl(*args)
    assert result.code == 2, result.err
    one_clear_line(result.err, "etl-db.json: not an etl store: ", where)
    assert store.read_bytes() == before and sorted(os.listdir(tmp_path)) == ["a.csv", "etl-db.json"]


FIELD_TYPES = {
    "email-number": ("contacts", {"email": 42}, "'email' is a whole number, not text"),
    "name-list": ("customers", {"name": ["A"]}, "'name' is a list, not text"),
    "external-id-object": ("customers", {"external_id": {"a": 1}}, "'external_id' is an object, not text"),
    "period-text": ("customers", {"payment_period_days": "30"}, "'payment_period_days' is text, not a whole number"),
    "period-bool": ("customers", {"payment_period_days": True},
                    "'payment_period_days' is true or false, not a whole number"),
    "is-main-text": ("contacts", {"is_main": "yes"}, "'is_main' is text, not true or false"),
    "group-number": ("customers", {"group_name": 7}, "'group_name' is a whole number, not text"),
    "owner-list": ("contacts", {"customer_name": []}, "'customer_name' is a list, not text"),
}
"""Stored fields of a type the default rules do not write (``RulesSpec.stored_types``), as another tool may leave."""


def _edit_first(store: Path, sink: str, kind: str, change: dict) -> int:
    """Change the first stored document of ``kind`` as another tool would; its ref."""
    if sink == "tinydb":
        tables = orjson.loads(store.read_bytes())
        tables[kind]["1"].update(change)
        store.write_bytes(orjson.dumps(tables))
        return 1
    with closing(sqlite3.connect(store)) as db, db:
        ref, data = db.execute("SELECT id, data FROM documents WHERE kind = ? ORDER BY id", (kind,)).fetchone()
        db.execute("UPDATE documents SET data = ? WHERE id = ?", (json.dumps({**json.loads(data), **change}), ref))
    return ref


@pytest.mark.parametrize("dry_run", [False, True])
@pytest.mark.parametrize("sink", ["tinydb", "sqlite"])
@pytest.mark.parametrize("case", FIELD_TYPES)
def test_a_stored_field_of_another_type_is_refused_untouched(etl, tmp_path, case, sink, dry_run):
    """Whatever the store, the rules never see a document another tool left of types they do not write."""
    kind, change, where = FIELD_TYPES[case]
    store = tmp_path / STORES[sink][0]
    write_csv(tmp_path / "a.csv", rows(2))
    assert etl("run", "a.csv", "--sink", sink).code == 0
    ref = _edit_first(store, sink, kind, change)
    before = sorted(os.listdir(tmp_path)), store.read_bytes()
    result = etl("run", "a.csv", "--sink", sink, *(["--dry-run"] if dry_run else []))
    assert result.code == 2, result.err
    one_clear_line(result.err, f"{store.name}: not an etl store: {kind} document {ref}: {where}")
    assert (sorted(os.listdir(tmp_path)), store.read_bytes()) == before


def test_a_store_of_the_expected_shape_with_fields_of_its_own_is_accepted(etl, tmp_path):
    (tmp_path / "etl-db.json").write_bytes(orjson.dumps({
        "customers": {"1": {"external_id": "C0", "name": "Old", "notes": ["kept"], "payment_period_days": None}},
        "imports": {"1": IMPORT}, "my_table": {"1": {"anything": [1, {"x": 2}]}}}))
    write_csv(tmp_path / "a.csv", rows(2))
    assert etl("run", "a.csv").code == 0
    store = read_store(tmp_path / "etl-db.json")
    assert store["customers"][0]["notes"] == ["kept"] and len(store["imports"]) == 2
    assert etl("history").code == 0


# Disk and outputs


def test_a_full_disk_while_new_documents_are_spooled(tmp_path):
    write_csv(tmp_path / "a.csv", rows(2))
    assert etl_process("run", "a.csv", cwd=tmp_path).code == 0
    before = (tmp_path / "etl-db.json").read_bytes()
    write_csv(tmp_path / "b.csv", rows(20_000, start=2))
    result = run_limited(len(before) + 200_000, "run", "b.csv", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    one_clear_line(result.stderr, "etl-db.json", "File too large")
    assert (tmp_path / "etl-db.json").read_bytes() == before and temporaries(tmp_path) == []


@pytest.mark.parametrize("sink", ["tinydb", "json"])
def test_a_full_disk_while_the_store_is_written(tmp_path, sink):
    store = "etl-db.json" if sink == "tinydb" else "out.json"
    write_csv(tmp_path / "a.csv", rows(2))
    assert etl_process("run", "a.csv", "--sink", sink, "--target", store, cwd=tmp_path).code == 0
    before = (tmp_path / store).read_bytes()
    write_csv(tmp_path / "b.csv", rows(300, start=2))
    result = run_limited(len(before) + 1000, "run", "b.csv", "--sink", sink, "--target", store, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    one_clear_line(result.stderr, store, "File too large")
    assert (tmp_path / store).read_bytes() == before and temporaries(tmp_path) == []


def test_an_already_full_disk(tmp_path):
    write_csv(tmp_path / "a.csv", rows(2))
    result = run_limited(0, "run", "a.csv", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    one_clear_line(result.stderr, "etl-db.json")
    assert not (tmp_path / "etl-db.json").exists() and temporaries(tmp_path) == []


def test_a_real_full_disk_leaves_the_store_intact(tmp_path, small_folder):
    folder, _, mounted = small_folder
    if not mounted:
        pytest.skip("needs root and mount for a small tmpfs")
    write_csv(tmp_path / "a.csv", rows(2))
    assert etl_process("run", tmp_path / "a.csv", "--target", folder / "s.json", cwd=tmp_path).code == 0
    before = (folder / "s.json").read_bytes()
    write_csv(tmp_path / "b.csv", rows(3000, start=2))
    result = etl_process("run", tmp_path / "b.csv", "--target", folder / "s.json", cwd=tmp_path)
    assert result.code == 2
    one_clear_line(result.err, "s.json", "No space left on device")
    assert (folder / "s.json").read_bytes() == before and temporaries(folder) == []


def test_rejects_that_do_not_fit_after_the_store_was_written(tmp_path):
    """The store is complete: the error says so, with exit 3; no partial rejects file is left."""
    long = "x" * 5000
    write_csv(tmp_path / "a.csv", [{**row, "Contact email": f"bad {long}"} for row in rows(40)] + rows(3, start=40))
    result = run_limited(100_000, "run", "a.csv", "--rejects", "rej.csv", "--limit", "value_length=10000",
                         "--sink", "json", cwd=tmp_path)
    assert result.returncode == 3, result.stderr
    one_clear_line(result.stderr, "rej.csv", "File too large", "the store WAS written")
    assert (tmp_path / "etl-out.json").exists() and not (tmp_path / "rej.csv").exists()
    assert temporaries(tmp_path) == []


def test_a_report_that_does_not_fit_keeps_the_previous_report(tmp_path):
    (tmp_path / "r.json").write_text('{"status": "previous"}')
    write_csv(tmp_path / "a.csv", [{**row, "Contact email": "bad"} for row in rows(2000)])
    result = run_limited(20_000, "run", "a.csv", "--report", "r.json", "--dry-run", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    one_clear_line(result.stderr, "r.json", "File too large")
    assert json.loads((tmp_path / "r.json").read_text()) == {"status": "previous"} and temporaries(tmp_path) == []


def test_a_report_on_a_full_disk_after_the_store_was_written(tmp_path, small_folder):
    folder, _, mounted = small_folder
    if not mounted:
        pytest.skip("needs root and mount for a small tmpfs")
    (folder / "filler").write_bytes(b"x" * 250_000)
    write_csv(tmp_path / "a.csv", [{**row, "Contact email": "bad"} for row in rows(500)] + rows(3, start=500))
    result = etl_process("run", "a.csv", "--report", folder / "r.json", cwd=tmp_path)
    assert result.code == 3
    one_clear_line(result.err, "r.json", "No space left on device", "the store WAS written")
    assert len(read_store(tmp_path / "etl-db.json")["customers"]) == 503 and sorted(os.listdir(folder)) == ["filler"]


OUTPUTS = {
    "rejects-in-a-missing-folder": (["--rejects", "missing/rej.csv"], "the folder"),
    "report-in-a-missing-folder": (["--report", "missing/r.json"], "the folder"),
    "rejects-is-a-folder": (["--rejects", "adir.csv"], "it is a folder"),
    "report-is-a-folder": (["--report", "adir"], "it is a folder"),
    "report-is-a-fifo": (["--report", "fifo"], "not a regular file"),
    "rejects-over-the-input": (["--rejects", "a.csv"], "would overwrite the input file"),
    "report-over-the-store": (["--report", "etl-db.json"], "would overwrite the target"),
    "report-and-rejects-one-file": (["--report", "r.csv", "--rejects", "r.csv"], "would overwrite the report"),
    "rejects-under-a-file": (["--rejects", "a.csv/rej.csv"], "does not exist"),
}


@pytest.mark.parametrize("output", OUTPUTS)
def test_an_output_that_cannot_be_written_stops_the_run_before_anything_is_written(etl, tmp_path, output):
    args, message = OUTPUTS[output]
    (tmp_path / "adir").mkdir()
    (tmp_path / "adir.csv").mkdir()
    os.mkfifo(tmp_path / "fifo")
    write_csv(tmp_path / "a.csv", [*rows(2), {"Customer ID": "C9", "Customer name": "N", "Contact email": "bad"}])
    write_csv(tmp_path / "b.csv", rows(2, start=10))
    assert etl("run", "b.csv").code == 0
    before = (tmp_path / "etl-db.json").read_bytes()
    inputs = (tmp_path / "a.csv").read_bytes()
    result = etl("run", "a.csv", "--target", "etl-db.json", *args)
    assert result.code == 2
    one_clear_line(result.err, args[1], message)
    assert (tmp_path / "etl-db.json").read_bytes() == before and (tmp_path / "a.csv").read_bytes() == inputs
    assert "imported" not in result.err


def test_a_batch_job_with_an_output_folder_missing_writes_nothing(etl, tmp_path):
    write_csv(tmp_path / "a.csv", [*rows(2), {"Customer ID": "C9", "Customer name": "N", "Contact email": "bad"}])
    (tmp_path / "jobs.toml").write_text('[[jobs]]\nname = "j"\ninput = "a.csv"\ntarget = "crm.json"\n'
                                        'rejects = "missing/{stem}-rejects.csv"\n')
    result = etl("batch", "jobs.toml")
    assert result.code == 2 and "missing/a-rejects.csv" in result.err and "does not exist" in result.err
    assert not (tmp_path / "crm.json").exists()


def test_a_dry_run_on_a_read_only_store(tmp_path, small_folder):
    folder, read_only, _ = small_folder
    write_csv(tmp_path / "a.csv", rows(2))
    write_csv(tmp_path / "b.csv", rows(3, start=1))
    assert etl_process("run", tmp_path / "a.csv", "--target", folder / "s.json", cwd=tmp_path).code == 0
    before = (folder / "s.json").read_bytes()
    read_only()
    result = etl_process("run", tmp_path / "b.csv", "--target", folder / "s.json", "--dry-run", "--report",
                         tmp_path / "r.json", cwd=tmp_path)
    assert result.code == 0, result.err
    assert json.loads((tmp_path / "r.json").read_text())["customers"]["created"] == 2
    assert sorted(os.listdir(folder)) == ["s.json"] and (folder / "s.json").read_bytes() == before
    result = etl_process("run", tmp_path / "b.csv", "--target", folder / "s.json", cwd=tmp_path)
    assert result.code == 2
    one_clear_line(result.err, "s.json")


def test_a_dry_run_waits_for_a_writer_and_never_creates_or_removes_the_lock(tmp_path):
    import fcntl

    write_csv(tmp_path / "a.csv", rows(2))
    assert etl_process("run", "a.csv", cwd=tmp_path).code == 0
    assert etl_process("run", "a.csv", "--dry-run", cwd=tmp_path).code == 0
    assert not (tmp_path / "etl-db.json.lock").exists()
    with open(tmp_path / "etl-db.json.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        result = etl_process("run", "a.csv", "--dry-run", "--sink-option", "lock_timeout=0.3", cwd=tmp_path)
        assert result.code == 2 and "another run is still using this store" in result.err
        fcntl.flock(held, fcntl.LOCK_UN)
        assert etl_process("run", "a.csv", "--dry-run", cwd=tmp_path).code == 0
    assert (tmp_path / "etl-db.json.lock").exists()


STEMS = {"dot-dot": "...csv", "dot": "..csv", "newline": "a\nb.csv", "escape": "a\x1b[2Jb.csv",
         "backslash": "a\\..\\b.csv"}


@pytest.mark.parametrize("stem", STEMS)
def test_a_batch_stem_never_leaves_its_folder(etl, tmp_path, stem):
    name = STEMS[stem]
    (tmp_path / "in").mkdir()
    (tmp_path / "reports").mkdir()
    write_csv(tmp_path / "in" / name, [*rows(2), {"Customer ID": "C9", "Customer name": "N", "Contact email": "bad"}])
    (tmp_path / "jobs.toml").write_text(
        f'[[jobs]]\nname = "j"\ninput = {json.dumps("in/" + name)}\ntarget = "stores/{{stem}}.json"\n'
        'report = "reports/{stem}/report.json"\nrejects = "reports/{stem}.csv"\n')
    result = etl("batch", "jobs.toml")
    assert result.code == 2 and "does not exist" in result.err
    assert sorted(os.listdir(tmp_path)) == ["in", "jobs.toml", "reports"] and os.listdir(tmp_path / "reports") == []
    assert "\x1b" not in result.err and "Traceback" not in result.err
    safe = os.listdir(tmp_path / "in")[0][:-4].replace("\n", "_").replace("\x1b", "_").replace("\\", "_")
    safe = "_" * len(safe) if safe in (".", "..") else safe
    (tmp_path / "reports" / safe).mkdir()
    (tmp_path / "stores").mkdir()
    assert etl("batch", "jobs.toml").code == 1
    assert os.listdir(tmp_path / "reports" / safe) == ["report.json"] and os.listdir(tmp_path / "stores") == [
        safe + ".json"]
