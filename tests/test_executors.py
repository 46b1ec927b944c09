"""`etl batch --executor`: the same stores and reports from one process, a pool and a Dask cluster;
jobs of one store in turn; stops, dead workers and interruptions; jobs that travel without secrets."""
from __future__ import annotations

import importlib.util
import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import etl_process, read_report, read_store, write_csv
from test_plugins import env_with, install_fake_distribution

needs_dask = pytest.mark.skipif(importlib.util.find_spec("distributed") is None,
                                reason="dask is not installed: pip install 'etl[dask]'")
EXECUTORS = ["local", "processes", pytest.param("dask", marks=needs_dask)]
FILES_PER_JOB = 50

CONFIG = """
[defaults]
report = "out/{job}-{stem}.json"
rejects = "out/{job}-{stem}-rejects.csv"

[[jobs]]
name = "shared-a"
input = "in/a/*.csv"
target = "shared.json"

[[jobs]]
name = "own"
input = "in/own/*.csv"
sink = "json"
target = "out/{stem}.json"

[[jobs]]
name = "shared-b"
input = "in/b/*.csv"
target = "shared.json"

[[jobs]]
name = "other"
input = "in/other/*.csv"
target = "other.json"
"""


def make_batch(root: Path) -> None:
    """200 small files in 4 jobs: two jobs on one store, whose files change the same customers in turn."""
    for job in ("a", "own", "b", "other"):
        folder = root / "in" / job
        folder.mkdir(parents=True)
        for n in range(FILES_PER_JOB):
            rows = [{"Customer ID": f"C{k}", "Customer name": f"Company {k} {job}-{n}",
                     "Contact email": f"c{k}@example.com"} for k in range(n % 7, n % 7 + 3)]
            if n % 10 == 3:
                rows.append({"Customer ID": "", "Customer name": "", "Contact email": "bad@"})
            write_csv(folder / f"{n:03d}.csv", rows)
    (root / "out").mkdir()
    (root / "jobs.toml").write_text(CONFIG)


def outcome(root: Path) -> dict:
    """Every store's records (not the history's times) and every report, by file name."""
    found = {}
    for name in ("shared.json", "other.json"):
        tables = read_store(root / name)
        found[name] = {table: rows for table, rows in tables.items() if table != "imports"}
        found[name]["imports"] = [(Path(entry["input"]).relative_to(root).as_posix(), entry["status"])
                                  for entry in tables["imports"]]
    for path in sorted((root / "out").iterdir()):
        found[path.name] = read_report(path) if path.suffix == ".json" else path.read_text()
    return found


@pytest.fixture(scope="module")
def local_outcome(tmp_path_factory):
    root = tmp_path_factory.mktemp("local")
    make_batch(root)
    result = etl_process("batch", "jobs.toml", "--keep-going", cwd=root, timeout=300)
    assert result.code == 1, result.err
    return outcome(root), result


@pytest.mark.parametrize("executor", EXECUTORS[1:])
def test_a_batch_of_200_files_gives_the_same_stores_and_reports_on_every_executor(tmp_path, local_outcome, executor):
    expected, local = local_outcome
    make_batch(tmp_path)
    result = etl_process("batch", "jobs.toml", "--keep-going", "--executor", executor, "--workers", "2",
                         cwd=tmp_path, timeout=300)
    assert result.code == 1, result.err
    assert result.out == local.out  # the summary table, in config order
    assert outcome(tmp_path) == expected
    shared = read_store(tmp_path / "shared.json")
    # the last file of the last job on that store wins: jobs of one store ran in config order
    assert [c["name"] for c in shared["customers"] if c["external_id"] == "C0"] == ["Company 0 b-49"]
    assert "unexpected error" not in result.err
    if executor != "dask":  # Dask's own logs may hold a traceback of its own (a heartbeat lost under load)
        assert "Traceback" not in result.err


def test_progress_counts_jobs_done_out_of_all(tmp_path, local_outcome):
    _, local = local_outcome
    progress = [line for line in local.err.splitlines() if line.startswith("[")]
    assert len(progress) == 4 * FILES_PER_JOB
    assert progress[0].startswith("[1/200] shared-a: 000.csv: ") and progress[-1].startswith("[200/200] other: ")


STOPPING = """
[[jobs]]
name = "first"
input = "in/first.csv"
target = "first.json"

[[jobs]]
name = "broken"
input = "in/broken.csv"
target = "broken.json"

[[jobs]]
name = "later"
input = "in/later/*.csv"
target = "later-{stem}.json"
"""


@pytest.mark.parametrize("executor", ["local", "processes"])
def test_a_job_that_imports_nothing_stops_the_jobs_not_started(tmp_path, executor):
    (tmp_path / "in" / "later").mkdir(parents=True)
    write_csv(tmp_path / "in/first.csv", [{"Customer ID": "C1", "Customer name": "One"}])
    (tmp_path / "in/broken.csv").write_bytes(b"\x00\x01binary")
    for n in range(6):
        write_csv(tmp_path / f"in/later/{n}.csv", [{"Customer ID": f"L{n}", "Customer name": "Later"}])
    (tmp_path / "jobs.toml").write_text(STOPPING)
    result = etl_process("batch", "jobs.toml", "--executor", executor, "--workers", "1", cwd=tmp_path)
    assert result.code == 2, result.err
    rows = [line.split()[:3] for line in result.out.splitlines()[1:]]
    assert rows[:2] == [["first", "first.csv", "success"], ["broken", "broken.csv", "error"]]
    assert [row[2] for row in rows[2:]] == ["skipped"] * 6
    assert not list(tmp_path.glob("later-*.json"))


CRASHING_SINK = '''
import os
import etl
from etl.components import SinkSpec


def crash(target, options, dry_run):
    os._exit(9)  # the worker process dies, as one killed by the system would


@etl.hookimpl
def register_sinks():
    return [SinkSpec("crash", crash, "a sink whose process dies")]
'''

WITH_A_DYING_WORKER = """
[[jobs]]
name = "fine"
input = "in/fine-*.csv"
target = "fine-{stem}.json"

[[jobs]]
name = "dies"
input = "in/dies.csv"
sink = "crash"

[[jobs]]
name = "after"
input = "in/after.csv"
target = "after.json"
"""


@pytest.mark.parametrize("executor", ["processes", pytest.param("dask", marks=needs_dask)])
def test_a_worker_that_dies_fails_its_job_with_the_reason_and_the_batch_goes_on(tmp_path, executor):
    site = tmp_path / "site"
    site.mkdir()
    install_fake_distribution(site, "etl-sink-crash", "etl_sink_crash", CRASHING_SINK)
    (tmp_path / "in").mkdir()
    for name in ("fine-1", "fine-2", "dies", "after"):
        write_csv(tmp_path / f"in/{name}.csv", [{"Customer ID": name, "Customer name": name.title()}])
    (tmp_path / "jobs.toml").write_text(WITH_A_DYING_WORKER)
    result = etl_process("batch", "jobs.toml", "--keep-going", "--executor", executor, "--workers", "2",
                         cwd=tmp_path, env=env_with(site), timeout=300)
    assert result.code == 2, result.err
    rows = {line.split()[0]: line.split()[2] for line in result.out.splitlines()[1:]}
    assert rows["dies"] == "failed" and rows["after"] == "success", result.out + result.err
    assert "dies: dies.csv: the " in result.err and "died" in result.err
    assert read_store(tmp_path / "after.json")["customers"][0]["external_id"] == "after"
    assert "unexpected error" not in result.err
    if executor != "dask":  # Dask logs its worker's death in its own words
        assert "Traceback" not in result.err


def test_an_interrupted_batch_skips_what_has_not_started_and_ends_quietly(tmp_path):
    (tmp_path / "in").mkdir()
    big = [{"Customer ID": f"C{k}", "Customer name": f"Company {k}", "Contact email": f"c{k}@example.com"}
           for k in range(20000)]
    for n in range(8):
        write_csv(tmp_path / f"in/{n}.csv", big)
    (tmp_path / "jobs.toml").write_text('[[jobs]]\nname = "big"\ninput = "in/*.csv"\ntarget = "t-{stem}.json"\n')
    proc = subprocess.Popen([sys.executable, "-m", "etl", "batch", "jobs.toml", "--executor", "processes",
                             "--workers", "2"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob("t-*.json")) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)  # the first stores are written: the pool's workers are busy
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "etl: interrupted" in err and "Traceback" not in err
    statuses = [line.split()[2] for line in out.splitlines()[1:]]
    assert len(statuses) == 8 and "skipped" in statuses, (out, err)
    for store in tmp_path.glob("t-*.json"):  # every store is whole: as it was, or complete
        assert read_store(store)["customers"]



def processes_of_group(group: int) -> list[str]:
    """The command lines of the processes of a process group still alive (Linux's /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and os.getpgid(int(entry.name)) == group:
                found.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:  # gone meanwhile
            pass
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="looks for processes in Linux's /proc")
@pytest.mark.parametrize("executor", EXECUTORS[1:])
def test_a_batch_leaves_no_process_and_no_scratch_folder_behind(tmp_path, executor):
    (tmp_path / "in").mkdir()
    for n in range(4):
        write_csv(tmp_path / f"in/{n}.csv", [{"Customer ID": f"C{n}", "Customer name": f"Company {n}",
                                              "Contact email": f"c{n}@example.com"}])
    (tmp_path / "jobs.toml").write_text('[[jobs]]\nname = "j"\ninput = "in/*.csv"\nsink = "json"\n'
                                        'target = "out-{stem}.json"\n')
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "etl", "batch", "jobs.toml", "--executor", executor, "--workers",
                             "2"], cwd=tmp_path, env={**os.environ, "TMPDIR": str(scratch)}, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert len(list(tmp_path.glob("out-*.json"))) == 4
    assert list(scratch.iterdir()) == []  # Dask's dask-scratch-space included
    # Python's multiprocessing resource tracker ends by itself once the batch's process is gone (a second or two)
    deadline = time.monotonic() + 20
    while (left := processes_of_group(proc.pid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert left == []

def test_jobs_travel_without_secrets_and_a_worker_fills_them_in(tmp_path, monkeypatch):
    from etl import hookimpl
    from etl.batch_config import job_spec, load_config
    from etl.batch_jobs import run_job_spec
    from etl.plugin_manager import get_plugin_manager

    seen = []

    class Spy:  # a plugin with a section of its own, which a worker gets filled in
        @hookimpl
        def job_started(self, job):
            seen.append(job.plugin_config("x"))

    pm = get_plugin_manager()
    pm.register(Spy(), "x")
    (tmp_path / "in").mkdir()
    write_csv(tmp_path / "in/a.csv", [{"Customer ID": "C1", "Customer name": "One"}])
    (tmp_path / "settings.toml").write_text("default_payment_period = 45\n")
    (tmp_path / "jobs.toml").write_text('[[jobs]]\nname = "j"\ninput = "in/a.csv"\nsettings = "settings.toml"\n'
                                        'target = "${OUT}/store.json"\nreport = "r.json"\n'
                                        '[plugins.x]\ntoken = "${TOKEN}"\n')
    monkeypatch.setenv("OUT", str(tmp_path / "outdir"))
    monkeypatch.setenv("TOKEN", "s3cr3t-value")
    config = load_config(tmp_path / "jobs.toml")
    spec = job_spec(config, config.jobs[0], config.jobs[0].inputs[0], dry_run=False)
    travelling = pickle.dumps(spec)
    assert b"s3cr3t-value" not in travelling and str(tmp_path / "outdir").encode() not in travelling
    assert spec.settings == {"default_payment_period": 45}  # read where the batch started
    (tmp_path / "settings.toml").unlink()
    (tmp_path / "outdir").mkdir()
    try:
        summary = run_job_spec(pickle.loads(travelling))
    finally:
        pm.unregister(name="x")
    assert summary.status == "success", summary.line
    assert seen == [{"token": "s3cr3t-value"}]
    assert summary.counts == {"read": 1, "imported": 1, "rejected": 0}
    assert summary.outputs == {"report": str(tmp_path / "r.json")}
    assert read_store(tmp_path / "outdir/store.json")["customers"][0]["payment_period_days"] == 45

    monkeypatch.delenv("OUT")
    lost = run_job_spec(pickle.loads(travelling))
    assert lost.status == "error" and "environment variable OUT is not set" in lost.line


def test_an_input_a_worker_cannot_see_is_a_clear_error(tmp_path):
    from etl.batch_jobs import JobSpec, run_job_spec

    summary = run_job_spec(JobSpec("j", str(tmp_path / "elsewhere.csv"), str(tmp_path), {}))
    assert summary.status == "error" and summary.exit_code == 2
    assert "elsewhere.csv: not found on " in summary.line and "every worker sees" in summary.line


def test_workers_with_another_etl_version_are_refused():
    from etl.executor_backends import _check_versions
    from etl.errors import UsageError

    import etl
    _check_versions({"tcp://127.0.0.1:1": etl.__version__})
    with pytest.raises(UsageError, match=r"worker tcp://127.0.0.1:2 has etl 0.0.1, this machine etl .*1 of 2"):
        _check_versions({"tcp://127.0.0.1:1": etl.__version__, "tcp://127.0.0.1:2": "0.0.1"})


@pytest.mark.parametrize("args, config, message", [
    (["--executor", "nope"], "", "unknown executor 'nope' (available: "),
    (["--executor", "processes", "--scheduler", "tcp://127.0.0.1:1"], "", "unknown processes executor option "
                                                                          "'scheduler' (valid: none)"),
    (["--executor", "local", "--workers", "3"], "", "the local executor runs one job at a time"),
    ([], '[executor]\nname = "processes"\nworkers = 0\n', "executor.workers: must be a whole number of 1 or more"),
    ([], '[executor]\nname = "processes"\nthreads = 2\n', "unknown processes executor option 'threads' (valid: none)"),
    ([], '[executor]\nname = "dask"\ntimeout = 0\n', "dask executor option timeout='0': Must be greater than 0."),
    ([], '[executor]\nname = "dask"\ntimeot = 5\n', "unknown dask executor option 'timeot' (did you mean "
                                                     "'timeout'? valid: scheduler, timeout)"),
])
def test_a_wrong_executor_choice_is_one_clear_line(tmp_path, args, config, message):
    write_csv(tmp_path / "a.csv", [{"Customer ID": "C1", "Customer name": "One"}])
    (tmp_path / "jobs.toml").write_text(config + '[[jobs]]\nname = "j"\ninput = "a.csv"\n')
    result = etl_process("batch", "jobs.toml", *args, cwd=tmp_path)
    assert result.code == 2 and message in result.err, result.err
    assert len(result.err.strip().splitlines()) == 1 and not (tmp_path / "etl-db.json").exists()


THREADS_EXECUTOR = '''
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import etl
from etl.components import ExecutorSpec, Workers


@contextmanager
def threads(workers, options):
    with ThreadPoolExecutor(max_workers=workers or 2) as pool:
        yield Workers(pool, workers or 2)


@etl.hookimpl
def register_executors():
    return [ExecutorSpec("threads", threads, "threads of this process")]
'''


def test_a_plugin_adds_an_executor(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    install_fake_distribution(site, "etl-executor-threads", "etl_executor_threads", THREADS_EXECUTOR)
    (tmp_path / "in").mkdir()
    for n in range(4):
        write_csv(tmp_path / f"in/{n}.csv", [{"Customer ID": f"C{n}", "Customer name": f"N{n}"}])
    (tmp_path / "jobs.toml").write_text('[executor]\nname = "threads"\nworkers = 3\n'
                                        '[[jobs]]\nname = "j"\ninput = "in/*.csv"\ntarget = "s-{stem}.json"\n')
    listing = json.loads(etl_process("plugins", "--json", env=env_with(site)).out)
    assert {p["name"]: p.get("executor") for p in listing["plugins"]}["etl-executor-threads"] == ["threads"]
    result = etl_process("batch", "jobs.toml", cwd=tmp_path, env=env_with(site))
    assert result.code == 0, result.err
    assert len(list(tmp_path.glob("s-*.json"))) == 4


CLUSTER = """
import sys
from distributed import LocalCluster

with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                  dashboard_address=None) as cluster:
    print(cluster.scheduler_address, flush=True)
    sys.stdin.read()  # until the test closes it
"""


@needs_dask
def test_a_batch_runs_on_a_running_dask_scheduler_named_in_the_config(tmp_path):
    (tmp_path / "in").mkdir()
    for n in range(6):
        write_csv(tmp_path / f"in/{n}.csv", [{"Customer ID": f"C{n}", "Customer name": f"N{n}"}])
    # the cluster runs in a process of its own, as a real one would (and leaves no thread in this one)
    cluster = subprocess.Popen([sys.executable, "-c", CLUSTER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    try:
        address = cluster.stdout.readline().strip()
        assert address.startswith("tcp://127.0.0.1:"), address
        (tmp_path / "jobs.toml").write_text(f'[executor]\nname = "dask"\nscheduler = "{address}"\n'
                                            '[[jobs]]\nname = "j"\ninput = "in/*.csv"\ntarget = "store.json"\n')
        result = etl_process("batch", "jobs.toml", cwd=tmp_path, timeout=300)
    finally:
        cluster.communicate(timeout=60)
    assert result.code == 0, result.err
    assert sorted(c["external_id"] for c in read_store(tmp_path / "store.json")["customers"]) == \
        [f"C{n}" for n in range(6)]
    assert [line.split()[2] for line in result.out.splitlines()[1:]] == ["success"] * 6


@needs_dask
def test_an_unreachable_dask_scheduler_is_one_clear_line(tmp_path):
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    write_csv(tmp_path / "a.csv", [{"Customer ID": "C1", "Customer name": "One"}])
    (tmp_path / "jobs.toml").write_text('[executor]\ntimeout = 1\n[[jobs]]\nname = "j"\ninput = "a.csv"\n')
    result = etl_process("batch", "jobs.toml", "--executor", "dask", "--scheduler", f"tcp://127.0.0.1:{port}",
                         cwd=tmp_path, timeout=300)
    assert result.code == 2 and "cannot reach the Dask scheduler tcp://127.0.0.1:" in result.err, result.err
    assert "Traceback" not in result.err


def test_small_jobs_go_to_a_cluster_in_groups_that_keep_each_stores_order_and_shrink_at_the_end():
    from concurrent.futures import Executor, Future
    from contextlib import contextmanager

    from etl.batch_jobs import JobSpec, JobSummary, run_job_specs
    from etl.components import ExecutorSpec, Workers
    from etl.scheduler import Scheduler

    calls: list[list[str]] = []

    class Recording(Executor):  # answers at once, as if each job had run
        def submit(self, fn, /, *args, **kwargs):
            specs = args[0] if fn is run_job_specs else [args[0]]
            calls.append([spec.input for spec in specs])
            summaries = [JobSummary(spec.job, spec.input, "success", 0) for spec in specs]
            future: Future = Future()
            future.set_result(summaries if fn is run_job_specs else summaries[0])
            return future

    @contextmanager
    def open_workers(workers, options):
        yield Workers(Recording(), 2, queued=2, jobs_per_task=5)

    specs = [JobSpec("j", f"{n:03d}.csv", "/", {}) for n in range(100)]
    stores = ["tinydb:/shared.json" if n % 10 == 0 else None for n in range(100)]  # every tenth on one store
    done = []
    summaries = Scheduler(specs, stores, ExecutorSpec("recording", open_workers), None, {}, False,
                          lambda summary, n, total: done.append(n)).run()
    assert [s.input for s in summaries] == [s.input for s in specs] and done == list(range(1, 101))
    assert sorted(sum(calls, [])) == [s.input for s in specs]  # each job handed over once
    assert max(map(len, calls)) == 5 and len(calls[-1]) == 1  # 5 at a time while many are left, then fewer
    shared = [name for call in calls for name in call if int(name[:3]) % 10 == 0]
    assert shared == sorted(shared)  # the jobs of one store in config order
