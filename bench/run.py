#!/usr/bin/env python
"""Benchmark of ``etl`` against simple peers: speed (wall time) and memory (peak RSS).

    python bench/run.py                      # full sizes, 3 runs each (median); writes bench/RESULTS.md
    python bench/run.py --quick              # tiny sizes, 1 run each: a smoke test (< 30 s)
    python bench/run.py --only W1,W3         # some workloads only
    python bench/run.py --profile W1,W3      # cProfile of ours on W1/W3 (no timing), top 25 functions

Each command runs as a child process (ours: ``sys.executable -m etl run ...``), ours and
its peer alternately: wall time from spawn to exit, peak RSS of that one child from GNU
``/usr/bin/time -f %M`` (else ``os.wait4``). The data are generated deterministically (``--seed``) into the work dir
(``--workdir``, default ``$TMPDIR/etl-bench``) and cached there between runs. Only network
traffic to a server on 127.0.0.1 started by this script (W5).

Needs pandas (W1 peer) and openpyxl (W2) in the same environment; pandas is a bench-only
tool, never a dependency of etl.
"""
from __future__ import annotations

import argparse
import compileall
import datetime
import importlib.util
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

import datagen  # noqa: E402

PY = sys.executable
ETL = [PY, "-m", "etl"]
PEERS = BENCH / "peers"
GIB = 1 << 30
MB = 1 << 20
WORKLOADS = ("W1", "W2", "W3", "W4", "W5", "W6", "W7", "W8", "W9", "WM")

FULL = {"w1": 200_000, "w2": 100_000, "w3_store": 100_000, "w3": 100_000, "w4": 1_000_000, "w5": 1_000,
        "w7_files": 1_000, "w7_lines": 1_000, "w8_store": 1_000_000, "w8": 1_000, "runs": 3, "w6_runs": 5,
        "timeout": 1800.0}
QUICK = {"w1": 2_000, "w2": 1_000, "w3_store": 1_000, "w3": 1_000, "w4": 10_000, "w5": 200,
         "w7_files": 20, "w7_lines": 100, "w8_store": 2_000, "w8": 100, "runs": 1, "w6_runs": 1, "timeout": 120.0}
HTTP_LATENCY = 0.020

CHILD_ENV = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
CHILD_ENV.update(NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
CHILD_ENV.pop("ETL_DEBUG", None)
CHILD_ENV.pop("PYTHONDONTWRITEBYTECODE", None)  # as in an installation: no run compiles etl's modules again


def compile_etl() -> None:
    """Write etl's bytecode now, as pip does when it installs (an editable install writes it on
    first use), so that no timed run includes compiling the modules it imports."""
    for name in ("etl", "etl.plugins", "etl.connectors"):
        spec = importlib.util.find_spec(name)
        for folder in (spec.submodule_search_locations or []) if spec else []:
            compileall.compile_dir(folder, maxlevels=0, quiet=1)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- measuring one child -----------------------------------------------------------------------


@dataclass
class Sample:
    wall: float
    rss: int
    """Peak resident set size of the child, in bytes (ru_maxrss of os.wait4)."""
    code: int
    output: str = ""
    cpu: float = 0.0
    """User and system CPU seconds of the child and the processes it waited for (os.wait4)."""


class ChildFailed(Exception):
    pass


def _gnu_time() -> str | None:
    """/usr/bin/time if it is GNU time (its ``%M`` is the peak RSS of the command alone)."""
    path = "/usr/bin/time"
    try:
        version = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return path if "GNU" in version.stdout + version.stderr else None


GNU_TIME = _gnu_time()
RSS_METHOD = (
    "GNU `/usr/bin/time -f %M` around each child (the child's own peak RSS)" if GNU_TIME else
    "`os.wait4` of each child (Linux counts the bench's own RSS, at spawn, as a floor of the child's peak)"
)


def measure(cmd: list[str], cwd: Path, timeout: float, ok_codes: tuple[int, ...] = (0,)) -> Sample:
    """Run ``cmd`` once; its wall time, its own peak RSS, exit code and output tail.

    The peak RSS comes from GNU time when available: a child spawned straight from this
    process inherits this process's peak RSS as its own starting ru_maxrss (exec keeps the
    old address space's high-water mark), so os.wait4 alone is only exact for children
    bigger than the bench. Without GNU time, os.wait4 gives that child's ru_maxrss.
    """
    cwd.mkdir(parents=True, exist_ok=True)
    out_path, rss_path = cwd / ".child-output.txt", cwd / ".child-rss.txt"
    rss_path.unlink(missing_ok=True)
    full = [GNU_TIME, "-f", "%M", "-o", str(rss_path), *cmd] if GNU_TIME else cmd
    with open(out_path, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(full, cwd=cwd, env=CHILD_ENV, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                start_new_session=True)
        timer = threading.Timer(timeout, lambda: os.killpg(proc.pid, 9))
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - start
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    rss = usage.ru_maxrss * 1024
    if GNU_TIME:
        try:
            rss = int(rss_path.read_text().split()[-1]) * 1024
        except (OSError, ValueError, IndexError):
            rss = 0
    output = out_path.read_text(encoding="utf-8", errors="replace")
    sample = Sample(wall, rss, code, output[-2000:], usage.ru_utime + usage.ru_stime)
    if code not in ok_codes:
        shown = " ".join(shlex.quote(str(c)) for c in cmd)
        raise ChildFailed(f"exit code {code} from: {shown}\n{output[-1500:]}")
    return sample


def etl_summary(output: str) -> str:
    """The summary etl prints on stderr, on one line."""
    keep = [line.strip() for line in output.splitlines()
            if "lines read" in line or line.startswith(("customers:", "contacts:"))]
    if keep:
        return " ".join(keep)
    tail = output.strip().splitlines()
    return tail[-1] if tail else ""


# -- results -----------------------------------------------------------------------------------


@dataclass
class Result:
    key: str
    title: str
    ours: list[Sample] = field(default_factory=list)
    peer: list[Sample] = field(default_factory=list)
    ours_text: str = ""
    peer_text: str = ""
    ratio: str = ""
    target: str = ""
    verdict: str = ""
    notes: list[str] = field(default_factory=list)


def median_wall(samples: list[Sample]) -> float:
    return statistics.median(s.wall for s in samples)


def median_rss(samples: list[Sample]) -> int:
    return int(statistics.median(s.rss for s in samples))


def describe(samples: list[Sample]) -> str:
    if not samples:
        return "—"
    runs = f" (runs: {', '.join(f'{s.wall:.2f}' for s in samples)})" if len(samples) > 1 else ""
    return f"{median_wall(samples):.2f} s, {median_rss(samples) / MB:.0f} MB{runs}"


def alternate(runs: int, ours: Callable[[], Sample], peer: Callable[[], Sample], result: Result) -> None:
    """``runs`` rounds of ours and peer, the order swapped every round (AB BA AB ...)."""
    for round_ in range(runs):
        order = [("ours", ours), ("peer", peer)]
        if round_ % 2:
            order.reverse()
        for who, fn in order:
            sample = fn()
            getattr(result, who).append(sample)
            log(f"  {result.key} {who:4} run {round_ + 1}/{runs}: {sample.wall:7.2f} s  {sample.rss / MB:7.0f} MB"
                f"  exit {sample.code}")


def cpu_note(result: Result) -> str:
    """Median CPU time of ours and the peer: on this machine's cores, the least wall time ours could take."""
    ours = statistics.median(s.cpu for s in result.ours)
    peer = statistics.median(s.cpu for s in result.peer)
    cores = os.cpu_count() or 1
    return (f"CPU time (user + system, median): ours {ours:.2f} s, peer {peer:.2f} s; spread perfectly over "
            f"{cores} cores, ours would still take {ours / cores:.2f} s")


def judge_ratio(result: Result, limit: float) -> None:
    ratio = median_wall(result.ours) / median_wall(result.peer)
    result.ratio = f"{ratio:.2f}"
    result.target = f"ratio <= {limit:g}"
    result.verdict = "pass" if ratio <= limit else "FAIL"


# -- data ----------------------------------------------------------------------------------------


class Data:
    """Generated inputs, cached in the work dir by kind, size, seed and generator version."""

    def __init__(self, workdir: Path, seed: int) -> None:
        self.dir = workdir / "data"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.seed = seed

    def _cached(self, name: str, make: Callable[[Path], object]) -> Path:
        path = self.dir / (f"{Path(name).stem}-seed{self.seed}-v{datagen.GENERATOR_VERSION}{Path(name).suffix}")
        if not path.exists():
            log(f"  generating {path.name} ...")
            start = time.perf_counter()
            make(path)
            log(f"  generated {path.name} in {time.perf_counter() - start:.1f} s ({path.stat().st_size / MB:.1f} MB)")
        return path

    def csv(self, lines: int) -> Path:
        return self._cached(f"customers-{lines}.csv", lambda p: datagen.write_csv(
            p, datagen.generate_lines(self.seed, lines, datagen.consecutive())))

    def xlsx(self, rows: int) -> Path:
        return self._cached(f"customers-{rows}.xlsx", lambda p: datagen.write_xlsx(
            p, datagen.generate_lines(self.seed, rows, datagen.consecutive())))

    def store_source(self, customers: int) -> Path:
        """Every line of customers 0 .. customers-1 (about 2 lines each)."""
        return self._cached(f"store-source-{customers}.csv", lambda p: datagen.write_csv(
            p, datagen.generate_lines(self.seed, 10 * customers, ((i, 0) for i in range(customers)))))

    def clean_store_source(self, customers: int) -> Path:
        """Every line of customers 0 .. customers-1, none bad: a store of exactly ``customers`` customers."""
        return self._cached(f"store-source-clean-{customers}.csv", lambda p: datagen.write_csv(
            p, datagen.generate_lines(self.seed, 10 * customers, ((i, 0) for i in range(customers)), bad_rate=0)))

    def reimport(self, lines: int, known: int) -> Path:
        return self._cached(f"reimport-{lines}-of-{known}.csv", lambda p: datagen.write_csv(
            p, datagen.generate_lines(self.seed, lines, datagen.half_known(known))))

    def one_percent_changed(self, customers: int) -> Path:
        """The lines of the store ``sqlite_store(customers)`` was made of, with 1% of its customers changed."""
        return self._cached(f"store-source-clean-{customers}-1pc-changed.csv", lambda p: datagen.write_csv(
            p, datagen.one_in_changed(datagen.generate_lines(
                self.seed, 10 * customers, ((i, 0) for i in range(customers)), bad_rate=0))))

    def files(self, count: int, lines: int) -> Path:
        """A folder of ``count`` CSV files of ``lines`` lines, each of other customers."""
        def make(folder: Path) -> None:
            folder.mkdir()
            for n in range(count):
                datagen.write_csv(folder / f"{n:05d}.csv", datagen.generate_lines(
                    self.seed, lines, datagen.consecutive(start=n * lines)))
        return self._cached(f"files-{count}x{lines}", make)

    def documents(self, docs: int) -> Path:
        """About ``docs`` customers + contacts, no bad line."""
        return self._cached(f"documents-{docs}.csv", lambda p: datagen.write_csv(
            p, datagen.generate_lines(self.seed, 10 * docs, datagen.consecutive(), bad_rate=0, max_docs=docs)))

    def store(self, customers: int, timeout: float) -> Path:
        """A TinyDB store prepared by an etl import of ``customers`` customers (and their contacts)."""
        source = self.store_source(customers)

        def make(path: Path) -> None:
            work = self.dir / "prepare"
            shutil.rmtree(work, ignore_errors=True)
            sample = measure([*ETL, "run", str(source), "--sink", "tinydb", "--target", "store.json"], work,
                             timeout, ok_codes=(0, 1))
            log(f"  prepared the store in {sample.wall:.1f} s: {etl_summary(sample.output)}")
            os.replace(work / "store.json", path)
            shutil.rmtree(work, ignore_errors=True)

        return self._cached(f"store-{customers}.json", make)

    def sqlite_store(self, customers: int, timeout: float) -> Path:
        """A sqlite store prepared by one etl import of ``customers`` customers (and their contacts)."""
        source = self.clean_store_source(customers)

        def make(path: Path) -> None:
            work = self.dir / "prepare"
            shutil.rmtree(work, ignore_errors=True)
            sample = measure([*ETL, "run", str(source), "--sink", "sqlite", "--target", "store.sqlite"], work,
                             timeout, ok_codes=(0, 1))
            log(f"  prepared the sqlite store in {sample.wall:.1f} s, {sample.rss / MB:.0f} MB: "
                f"{etl_summary(sample.output)}")
            os.replace(work / "store.sqlite", path)
            shutil.rmtree(work, ignore_errors=True)

        return self._cached(f"store-{customers}.sqlite", make)

    def tinydb_copy(self, customers: int, timeout: float) -> Path:
        """The same store as ``sqlite_store(customers)`` in TinyDB's format: the same documents in the same
        order, numbered per kind as TinyDB numbers them (what an etl import into TinyDB writes, as
        tests/test_sqlite_store.py checks import after import)."""
        source = self.sqlite_store(customers, timeout)
        return self._cached(f"store-{customers}-from-sqlite.json", lambda path: sqlite_to_tinydb(source, path))


def copied(source: Path, path: Path) -> None:
    """Copy a store for a run, and flush the copy to disk first: else the run's first fsync of the
    file (a sqlite commit) would pay for writing the whole copy."""
    shutil.copyfile(source, path)
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sqlite_to_tinydb(source: Path, path: Path) -> None:
    """Write the documents of a sqlite store as a TinyDB file, one kind after the other, streamed."""
    import sqlite3

    db = sqlite3.connect(source)  # not read-only: closing it leaves no WAL files beside the store
    tmp = path.with_name(path.name + ".part")
    try:
        kinds = [kind for (kind,) in db.execute("SELECT DISTINCT kind FROM documents ORDER BY kind")]
        with open(tmp, "w", encoding="utf-8") as out:
            out.write("{")
            for n, kind in enumerate(kinds):
                out.write(("," if n else "") + json.dumps(kind) + ":{")
                rows = db.execute("SELECT data FROM documents WHERE kind = ? ORDER BY id", (kind,))
                for number, (data,) in enumerate(rows, start=1):
                    out.write(("," if number > 1 else "") + f'"{number}":' + data)
                out.write("}")
            out.write("}")
    finally:
        db.close()
    os.replace(tmp, path)


# -- the local HTTP server (W5) ----------------------------------------------------------------------


class SlowStore(BaseHTTPRequestHandler):
    """Sleeps HTTP_LATENCY per request; 201 for a path not written yet, else 200."""

    protocol_version = "HTTP/1.1"

    def _write(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        time.sleep(HTTP_LATENCY)
        server = self.server
        with server.lock:  # type: ignore[attr-defined]
            new = self.path not in server.seen  # type: ignore[attr-defined]
            server.seen.add(self.path)  # type: ignore[attr-defined]
            server.requests += 1  # type: ignore[attr-defined]
        self.send_response(201 if new else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_PUT = do_POST = do_PATCH = _write

    def log_message(self, format: str, *args: object) -> None:
        pass


class LocalServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), SlowStore)
        self.lock = threading.Lock()
        self.seen: set[str] = set()
        self.requests = 0

    def reset(self) -> None:
        with self.lock:
            self.seen.clear()
            self.requests = 0


# -- the workloads -------------------------------------------------------------------------------


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.size = QUICK if args.quick else FULL
        self.runs = args.runs or self.size["runs"]
        self.workdir = Path(args.workdir)
        self.data = Data(self.workdir, args.seed)
        self.timeout = self.size["timeout"]
        self.runs_given = args.runs is not None

    def rundir(self, key: str) -> Path:
        path = self.workdir / "run" / key
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    def etl(self, *args: str, cwd: Path) -> Sample:
        return measure([*ETL, *args], cwd, self.timeout, ok_codes=(0, 1))

    def excel_reader(self) -> bool:
        proc = subprocess.run([*ETL, "plugins", "--json"], capture_output=True, text=True, env=CHILD_ENV,
                              cwd=self.workdir, timeout=120)
        try:
            listing = json.loads(proc.stdout)
        except ValueError:
            return False
        return any("excel" in plugin.get("reader", []) for plugin in listing.get("plugins", []))

    def w1(self) -> Result:
        n = self.size["w1"]
        result = Result("W1", f"CSV {n:,} lines, `;` -> JSON sink")
        source, work = self.data.csv(n), self.rundir("W1")

        def ours() -> Sample:
            (work / "out.json").unlink(missing_ok=True)
            return self.etl("run", str(source), "--sink", "json", "--target", "out.json", cwd=work)

        def peer() -> Sample:
            (work / "peer.json").unlink(missing_ok=True)
            return measure([PY, str(PEERS / "w1_pandas.py"), str(source), "peer.json"], work, self.timeout)

        alternate(self.runs, ours, peer, result)
        judge_ratio(result, 1.0)
        result.notes += [f"ours: {etl_summary(result.ours[0].output)}", f"peer: {etl_summary(result.peer[0].output)}",
                         cpu_note(result)]
        return result

    def w2(self) -> Result:
        n = self.size["w2"]
        result = Result("W2", f"Excel {n:,} rows x 21 cols -> JSON sink", target="ratio <= 0.3")
        has_reader = self.excel_reader()
        source, work = self.data.xlsx(n), self.rundir("W2")

        def ours() -> Sample:
            (work / "out.json").unlink(missing_ok=True)
            return self.etl("run", str(source), "--reader", "excel", "--sink", "json", "--target", "out.json",
                            cwd=work)

        def peer() -> Sample:
            return measure([PY, str(PEERS / "w2_openpyxl.py"), str(source)], work, self.timeout)

        if not has_reader:
            for round_ in range(self.runs):
                result.peer.append(peer())
                log(f"  W2 peer run {round_ + 1}/{self.runs}: {result.peer[-1].wall:7.2f} s")
            result.ours_text, result.ratio, result.verdict = "n/a (no excel reader)", "—", "skip"
            result.notes.append(f"peer: {etl_summary(result.peer[0].output)}; "
                                "`etl plugins --json` lists no `excel` reader: ours not run")
            return result
        alternate(self.runs, ours, peer, result)
        judge_ratio(result, 0.3)
        result.notes += [f"ours: {etl_summary(result.ours[0].output)}", f"peer: {etl_summary(result.peer[0].output)}"]
        return result

    def w3(self) -> Result:
        n, known = self.size["w3"], self.size["w3_store"]
        result = Result("W3", f"re-import {n:,} lines (half of the customers known) into a TinyDB store of "
                              f"{known:,} customers")
        store = self.data.store(known, self.timeout)
        source, work = self.data.reimport(n, known), self.rundir("W3")

        def ours() -> Sample:
            shutil.copyfile(store, work / "store.json")
            (work / "store.json.lock").unlink(missing_ok=True)
            return self.etl("run", str(source), "--sink", "tinydb", "--target", "store.json", cwd=work)

        def peer() -> Sample:
            (work / "out.json").unlink(missing_ok=True)
            return self.etl("run", str(source), "--sink", "json", "--target", "out.json", cwd=work)

        alternate(self.runs, ours, peer, result)
        limit = 1.5
        judge_ratio(result, limit)
        floor = measure([PY, str(PEERS / "w3_store_round_trip.py"), str(store), "round-trip.json"], work,
                        self.timeout)
        allowed = (limit - 1) * median_wall(result.peer)
        result.notes += [f"store: {store.stat().st_size / MB:.0f} MB on disk",
                         f"the store's round trip alone (read, parse, write back with orjson and fsync; best of 3): "
                         f"{float(floor.output.split()[0]):.2f} s; the target leaves {allowed:.2f} s over the peer "
                         "for all that the store adds",
                         f"ours: {etl_summary(result.ours[0].output)}",
                         f"peer (json sink): {etl_summary(result.peer[0].output)}"]
        return result

    def w4(self) -> Result:
        n = self.size["w4"]
        result = Result("W4", f"CSV {n:,} lines -> TinyDB (fresh store)", peer_text="—", ratio="—",
                        target="peak RSS <= 1 GiB")
        source, work = self.data.csv(n), self.rundir("W4")
        for round_ in range(self.runs):
            for name in ("store.json", "store.json.lock"):
                (work / name).unlink(missing_ok=True)
            sample = self.etl("run", str(source), "--sink", "tinydb", "--target", "store.json", cwd=work)
            result.ours.append(sample)
            log(f"  W4 ours run {round_ + 1}/{self.runs}: {sample.wall:7.2f} s  {sample.rss / MB:7.0f} MB")
            if round_ == 0:
                result.notes.append(f"store written: {(work / 'store.json').stat().st_size / MB:.0f} MB")
        peak = max(s.rss for s in result.ours)
        walls = ", ".join(f"{s.wall:.2f}" for s in result.ours)
        result.ours_text = f"peak RSS {peak / MB:.0f} MB; wall {median_wall(result.ours):.2f} s (runs: {walls})"
        result.verdict = "pass" if peak <= GIB else "FAIL"
        result.notes.insert(0, f"ours: {etl_summary(result.ours[0].output)}")
        (work / "store.json").unlink(missing_ok=True)
        return result

    def w5(self) -> Result:
        docs = self.size["w5"]
        result = Result("W5", f"HTTP {docs:,} documents, local server with {HTTP_LATENCY * 1000:.0f} ms per request",
                        target="ours >= 5x faster")
        source, work = self.data.documents(docs), self.rundir("W5")
        exported = self.etl("run", str(source), "--sink", "json", "--target", "documents.json", cwd=work)
        documents = json.loads((work / "documents.json").read_text(encoding="utf-8"))
        count = sum(len(v) for v in documents.values())
        server = LocalServer()
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        sent: dict[str, list[int]] = {"ours": [], "peer": []}
        try:
            def run(who: str, cmd: list[str], ok: tuple[int, ...]) -> Sample:
                server.reset()
                sample = measure(cmd, work, self.timeout, ok_codes=ok)
                sent[who].append(server.requests)
                return sample

            alternate(
                self.runs,
                lambda: run("ours", [*ETL, "run", str(source), "--sink", "http", "--target", url], (0, 1)),
                lambda: run("peer", [PY, str(PEERS / "w5_sequential.py"), "documents.json", url], (0,)),
                result,
            )
        finally:
            server.shutdown()
            server.server_close()
        speedup = median_wall(result.peer) / median_wall(result.ours)
        result.ratio = f"{speedup:.1f}x faster"
        result.verdict = "pass" if speedup >= 5 else "FAIL"
        result.notes += [
            f"{count} documents ({etl_summary(exported.output)})",
            f"requests received per run: ours {sent['ours']}, peer {sent['peer']}",
            f"ours: {etl_summary(result.ours[0].output)}",
            f"ideal: peer >= {count * HTTP_LATENCY:.1f} s of latency alone; ours at the default concurrency 8 "
            f">= {count * HTTP_LATENCY / 8:.1f} s",
        ]
        if any(n != count for n in sent["ours"] + sent["peer"]):
            result.verdict = "error"
        return result

    def w6(self) -> list[Result]:
        runs = self.size["w6_runs"] if not self.runs_given else self.runs
        work = self.rundir("W6")
        small = work / "small.csv"
        datagen.write_csv(small, datagen.generate_lines(self.data.seed, 2, datagen.consecutive(), bad_rate=0))
        help_, small_run = Result("W6a", "start-up: `etl --help`"), Result("W6b", "start-up: `etl run` on a 3-line file")
        base: list[Sample] = []

        def run_small() -> Sample:
            for name in ("store.json", "store.json.lock"):
                (work / name).unlink(missing_ok=True)
            return self.etl("run", str(small), "--sink", "tinydb", "--target", "store.json", cwd=work)

        # warm the OS cache and Python's bytecode cache before timing
        measure([PY, "-c", "pass"], work, 60)
        measure([*ETL, "--help"], work, 60)
        run_small()
        for round_ in range(runs):
            order = [(base, lambda: measure([PY, "-c", "pass"], work, 60)),
                     (help_.ours, lambda: measure([*ETL, "--help"], work, 60)),
                     (small_run.ours, run_small)]
            if round_ % 2:
                order.reverse()
            for samples, fn in order:
                samples.append(fn())
        log(f"  W6 medians: python -c pass {median_wall(base):.3f} s, etl --help {median_wall(help_.ours):.3f} s, "
            f"etl run (3 lines) {median_wall(small_run.ours):.3f} s  ({runs} runs each)")
        for result in (help_, small_run):
            result.peer = base
            over = median_wall(result.ours) - median_wall(base)
            result.ours_text = f"{median_wall(result.ours):.3f} s, {median_rss(result.ours) / MB:.0f} MB"
            result.peer_text = f"{median_wall(base):.3f} s (`python -c pass`)"
            result.ratio = f"+{over:.3f} s"
            result.target = "<= +0.3 s"
            result.verdict = "pass" if over <= 0.3 else "FAIL"
        small_run.notes.append(f"ours: {etl_summary(small_run.ours[0].output)}; {runs} runs each, median")
        return [help_, small_run]


    def w7(self) -> list[Result]:
        count, lines = self.size["w7_files"], self.size["w7_lines"]
        title = f"batch of {count:,} files of {lines:,} lines -> {count:,} JSON targets,"
        pool = Result("W7a", f"{title} `--executor processes --workers 2` vs `local`")
        dask = Result("W7b", f"{title} `--executor dask --workers 2` (a local cluster) vs `local`")
        folder, work = self.data.files(count, lines), self.rundir("W7")
        (work / "jobs.toml").write_text(f'[[jobs]]\nname = "w7"\ninput = "{folder.as_posix()}/*.csv"\n'
                                        'sink = "json"\ntarget = "out/{stem}.json"\n')

        def batch(*executor: str) -> Callable[[], Sample]:
            def run() -> Sample:
                shutil.rmtree(work / "out", ignore_errors=True)
                (work / "out").mkdir()
                return measure([*ETL, "batch", "jobs.toml", "--keep-going", *executor], work, self.timeout,
                               ok_codes=(0, 1))
            return run

        commands = [("local", pool.peer, batch("--executor", "local")),
                    ("processes", pool.ours, batch("--executor", "processes", "--workers", "2"))]
        has_dask = importlib.util.find_spec("distributed") is not None
        if has_dask:
            commands.append(("dask", dask.ours, batch("--executor", "dask", "--workers", "2")))
        for round_ in range(self.runs):  # the order turns every round
            turn = round_ % len(commands)
            for name, samples, command in commands[turn:] + commands[:turn]:
                samples.append(command())
                log(f"  W7 {name:9} run {round_ + 1}/{self.runs}: {samples[-1].wall:7.2f} s  exit {samples[-1].code}")
        judge_ratio(pool, 0.6)
        if has_dask:
            dask.peer = pool.peer
            judge_ratio(dask, 0.7)
        else:
            dask.ours_text, dask.ratio, dask.verdict = "n/a (dask not installed: pip install 'etl[dask]')", "—", "skip"
        pool.notes.append(f"W7: the same `local` runs are the peer of W7a and W7b; per file: "
                          f"{median_wall(pool.peer) / count * 1000:.0f} ms with `local`")
        return [pool, dask]

    def w8(self) -> Result:
        n, known = self.size["w8"], self.size["w8_store"]
        result = Result("W8", f"{n:,} lines (half new customers, half updates) into a store of {known:,} "
                              "customers: sqlite (ours) and TinyDB (peer)", target="sqlite <= 1 s and <= 300 MB")
        sqlite_store = self.data.sqlite_store(known, self.timeout)
        tinydb_store = self.data.tinydb_copy(known, self.timeout)
        source, work = self.data.reimport(n, known), self.rundir("W8")

        def ours() -> Sample:
            for suffix in ("-wal", "-shm", "-journal"):
                (work / f"store.sqlite{suffix}").unlink(missing_ok=True)
            copied(sqlite_store, work / "store.sqlite")
            return self.etl("run", str(source), "--sink", "sqlite", "--target", "store.sqlite", cwd=work)

        def peer() -> Sample:
            copied(tinydb_store, work / "store.json")
            (work / "store.json.lock").unlink(missing_ok=True)
            return self.etl("run", str(source), "--sink", "tinydb", "--target", "store.json", cwd=work)

        alternate(self.runs, ours, peer, result)
        wall, rss = median_wall(result.ours), max(s.rss for s in result.ours)
        result.ratio = f"{wall / median_wall(result.peer):.3f}"
        result.verdict = "pass" if wall <= 1.0 and rss <= 300 * MB else "FAIL"
        result.notes += [f"stores: sqlite {sqlite_store.stat().st_size / MB:.0f} MB, TinyDB "
                         f"{tinydb_store.stat().st_size / MB:.0f} MB on disk (the same documents; the TinyDB one "
                         "written from the sqlite one); peak RSS of ours, worst run: "
                         f"{rss / MB:.0f} MB", cpu_note(result), f"ours: {etl_summary(result.ours[0].output)}",
                         f"peer (TinyDB): {etl_summary(result.peer[0].output)}"]
        for name in ("store.sqlite", "store.json"):
            (work / name).unlink(missing_ok=True)
        return result

    def without_before_images(self, *args: str, cwd: Path) -> Sample:
        """``etl ARGS`` keeping no before-images in the history (the peer of W9)."""
        return measure([PY, str(PEERS / "w9_without_before_images.py"), *args], cwd, self.timeout, ok_codes=(0, 1))

    def w9(self) -> list[Result]:
        """What keeping before-images (for ``etl history undo``) costs: on W3's re-import, in time; on a
        re-import that changes 1% of a store's customers, in the store's size (TinyDB and sqlite)."""
        n, known = self.size["w3"], self.size["w3_store"]
        timed = Result("W9a", f"W3 with before-images kept, against the same run keeping none ({n:,} lines into a "
                              f"TinyDB store of {known:,} customers)")
        store, source, work = self.data.store(known, self.timeout), self.data.reimport(n, known), self.rundir("W9")
        runs = {"ours": self.etl, "peer": self.without_before_images}

        def run(who: str, sink: str, name: str, store: Path, source: Path) -> Callable[[], Sample]:
            def go() -> Sample:
                for suffix in ("", ".lock", "-wal", "-shm", "-journal"):
                    (work / f"{name}{suffix}").unlink(missing_ok=True)
                copied(store, work / name)
                sample = runs[who]("run", str(source), "--sink", sink, "--target", name, cwd=work)
                sample.output += f"\nstore size: {(work / name).stat().st_size}"
                return sample
            return go

        alternate(self.runs, run("ours", "tinydb", "store.json", store, source),
                  run("peer", "tinydb", "store.json", store, source), timed)
        judge_ratio(timed, 1.2)
        timed.notes += [cpu_note(timed), f"ours: {etl_summary(timed.ours[0].output)}",
                        f"peer (no before-images): {etl_summary(timed.peer[0].output)}"]
        results = [timed]
        source = self.data.one_percent_changed(known)
        for sink, name, store in (("tinydb", "store.json", self.data.tinydb_copy(known, self.timeout)),
                                  ("sqlite", "store.sqlite", self.data.sqlite_store(known, self.timeout))):
            sized = Result(f"W9b-{sink}", f"store size after a re-import of its {known:,} customers, 1% of them "
                                          f"changed, into {sink}: with before-images against none")
            alternate(self.runs, run("ours", sink, name, store, source), run("peer", sink, name, store, source),
                      sized)
            with_, without = (int(s.output.rsplit("store size: ", 1)[1]) for s in (sized.ours[0], sized.peer[0]))
            sized.ours_text = f"{with_ / MB:.2f} MB ({median_wall(sized.ours):.2f} s)"
            sized.peer_text = f"{without / MB:.2f} MB ({median_wall(sized.peer):.2f} s)"
            sized.ratio, sized.target = f"{with_ / without:.4f}", "size ratio <= 1.1"
            sized.verdict = "pass" if with_ <= 1.1 * without else "FAIL"
            sized.notes += [f"before the re-import: {store.stat().st_size / MB:.2f} MB; time ratio "
                            f"{median_wall(sized.ours) / median_wall(sized.peer):.2f}",
                            f"ours: {etl_summary(sized.ours[0].output)}"]
            results.append(sized)
        for name in ("store.json", "store.sqlite"):
            (work / name).unlink(missing_ok=True)
        return results

    def wm(self) -> Result:
        result = Result("WM", "column matching: 21 export-style titles and a 200-line sample, in-process",
                        peer_text="—", ratio="—", target="median <= 50 ms")
        out = subprocess.run([PY, str(BENCH / "mapping_time.py")], capture_output=True, text=True, timeout=300,
                             cwd=REPO, env=CHILD_ENV)
        if out.returncode:
            raise ChildFailed(f"mapping_time.py exited {out.returncode}: {out.stderr.strip()[-300:]}")
        timing = json.loads(out.stdout)
        result.ours_text = f"{timing['median_ms']:.1f} ms (slowest {timing['max_ms']:.1f} ms)"
        result.verdict = "pass" if timing["median_ms"] <= 50 and timing["matched"] == timing["columns"] else "FAIL"
        result.notes.append(f"ours: {timing['matched']} of {timing['columns']} columns matched; median of the "
                            "repeats of bench/mapping_time.py")
        return result


# -- report ------------------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no", "--",
                                ".", ":(exclude)*.md"],  # this file's own results, the README quoting them
                               capture_output=True, text=True, timeout=10).stdout.strip()
        commit += " (with uncommitted changes to the code)" if dirty else ""
    except (OSError, subprocess.SubprocessError):
        commit = "?"
    return {
        "CPUs": f"{os.cpu_count()}" + (f" x {model}" if model else ""),
        "Python": f"{platform.python_implementation()} {platform.python_version()} ({sys.executable})",
        "OS": platform.platform(),
        "Date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "Load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "etl commit": commit,
        "Peak RSS by": RSS_METHOD,
        "Bytecode": "etl's modules compiled before the runs, as an installation has them "
                    "(PYTHONDONTWRITEBYTECODE is not passed on)",
    }


def table(results: list[Result]) -> str:
    rows = ["| workload | ours | peer | ratio | target | pass/fail |", "| --- | --- | --- | --- | --- | --- |"]
    for r in results:
        ours = r.ours_text or describe(r.ours)
        peer = r.peer_text or describe(r.peer)
        rows.append(f"| {r.key} {r.title} | {ours} | {peer} | {r.ratio} | {r.target} | {r.verdict} |")
    return "\n".join(rows)


PEER_DESCRIPTIONS = """\
Peers:
- W1: `bench/peers/w1_pandas.py`: pandas `read_csv(sep=";", dtype=str, keep_default_na=False)`, checks the
  email (regex), the position (allowed set), the payment period (whole days), `to_json(orient="records")`.
- W2: `bench/peers/w2_openpyxl.py`: `load_workbook(read_only=True, data_only=True)`, `iter_rows(values_only=True)`, no checks.
- W3: the same file with `etl run --sink json` (no store to read, match and rewrite).
- W4: none: the peak RSS of ours is the measure.
- W5: `bench/peers/w5_sequential.py`: one httpx client, one PUT per document, sequentially, same documents
  (exported beforehand by `etl run --sink json`, untimed).
- W6: `python -c pass`.
- W7: `etl batch --executor local` on the same files (the same runs for W7a and W7b).
- W8: the same file into the same store in TinyDB's format (`--sink tinydb`).
- W9: the same command through `bench/peers/w9_without_before_images.py`, which runs etl keeping no
  before-images in the history entry (all else the same): the difference is what keeping them costs.

Ours is always `python -m etl run ...` in a child process; times are wall clock from spawn to exit,
memory the child's peak RSS (see "Peak RSS by" above). Ratio = ours / peer (W5: peer / ours;
W6: ours - peer). Cells: median wall time, median peak RSS, and every run's time."""


def markdown(results: list[Result], info: dict[str, str], command: str, quick: bool, runs: int) -> str:
    lines = ["# etl benchmark results", ""]
    if quick:
        lines += ["**Quick (smoke-test) sizes: the numbers mean nothing against the targets.**", ""]
    lines += [f"- {k}: {v}" for k, v in info.items()]
    lines += [f"- Runs: {runs} of each command per workload (median), ours and peer alternately",
              f"- Reproduce: `{command}`", "", table(results), ""]
    notes = [f"- {r.key}: {note}" for r in results for note in r.notes]
    if notes:
        lines += ["Notes:", "", *notes, ""]
    lines += [PEER_DESCRIPTIONS, ""]
    return "\n".join(lines)


# -- profiling --------------------------------------------------------------------------------------


def profile(bench: Bench, keys: list[str], top: int) -> None:
    """Run ours under cProfile for each workload; print the top functions by cumulative and own time."""
    import pstats

    for key in keys:
        work = bench.rundir(f"profile-{key}")
        if key == "W1":
            source = bench.data.csv(bench.size["w1"])
            args = [str(source), "--sink", "json", "--target", "out.json"]
        elif key == "W3":
            store = bench.data.store(bench.size["w3_store"], bench.timeout)
            source = bench.data.reimport(bench.size["w3"], bench.size["w3_store"])
            shutil.copyfile(store, work / "store.json")
            args = [str(source), "--sink", "tinydb", "--target", "store.json"]
        elif key == "W4":
            source = bench.data.csv(bench.size["w4"])
            args = [str(source), "--sink", "tinydb", "--target", "store.json"]
        else:
            raise SystemExit(f"--profile supports W1, W3 and W4, not {key}")
        prof = bench.workdir / f"{key}.prof"
        cmd = [PY, "-m", "cProfile", "-o", str(prof), "-m", "etl", "run", *args]
        log(f"{key}: {' '.join(shlex.quote(c) for c in cmd)}")
        sample = measure(cmd, work, bench.timeout * 3, ok_codes=(0, 1))
        log(f"  {sample.wall:.1f} s under cProfile, {sample.rss / MB:.0f} MB: {etl_summary(sample.output)}")
        text_path = bench.workdir / f"{key}.profile.txt"
        with open(text_path, "w") as out:
            for sort in ("cumulative", "tottime"):
                out.write(f"\n===== {key}: top {top} by {sort} =====\n")
                stats = pstats.Stats(str(prof), stream=out)
                stats.strip_dirs().sort_stats(sort).print_stats(top)
        print(text_path.read_text())
        log(f"  profile: {prof} (text: {text_path})")


# -- main --------------------------------------------------------------------------------------------


def default_output(workdir: Path, quick: bool, keys: list[str]) -> Path:
    """bench/RESULTS.md holds full runs of every workload only: other runs never overwrite it."""
    if quick:
        return workdir / "RESULTS-quick.md"
    if set(keys) != set(WORKLOADS):
        return workdir / f"RESULTS-{'-'.join(keys)}.md"
    return BENCH / "RESULTS.md"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, 1 run each (smoke test)")
    parser.add_argument("--only", help="comma-separated workloads, e.g. W1,W3 (default: all)")
    parser.add_argument("--runs", type=int, help="runs of each command (default 3; --quick: 1)")
    parser.add_argument("--seed", type=int, default=20240601, help="seed of the generated data")
    parser.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "etl-bench"),
                        help="where data are generated and cached (default: %(default)s)")
    parser.add_argument("--output", help="markdown results file (default: bench/RESULTS.md for a full run of every "
                                         "workload; else WORKDIR/RESULTS-quick.md or WORKDIR/RESULTS-W1-W3.md...)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed, not only on errors")
    parser.add_argument("--profile", metavar="W1,W3", help="instead of timing: cProfile ours on these workloads")
    parser.add_argument("--top", type=int, default=25, help="functions shown per profile (default 25)")
    args = parser.parse_args()

    bench = Bench(args)
    bench.workdir.mkdir(parents=True, exist_ok=True)
    compile_etl()
    if args.profile:
        profile(bench, [k.strip().upper() for k in args.profile.split(",") if k.strip()], args.top)
        return 0

    keys = [k.strip().upper() for k in (args.only or ",".join(WORKLOADS)).split(",") if k.strip()]
    unknown = sorted(set(keys) - set(WORKLOADS))
    if unknown:
        parser.error(f"unknown workload {unknown[0]} (known: {', '.join(WORKLOADS)})")
    info = machine()
    log(f"etl bench ({'quick' if args.quick else 'full'}), work dir {bench.workdir}, load average "
        f"{info['Load average at start']}, {bench.runs} run(s) each")
    started = time.perf_counter()
    results: list[Result] = []
    errors = 0
    for key in WORKLOADS:
        if key not in keys:
            continue
        log(f"{key} ...")
        try:
            outcome = getattr(bench, key.lower())()
            results += outcome if isinstance(outcome, list) else [outcome]
        except (ChildFailed, OSError, ValueError, subprocess.SubprocessError) as exc:
            errors += 1
            log(f"  {key} FAILED: {exc}")
            results.append(Result(key, "", ours_text="error", verdict="error",
                                  notes=[str(exc).strip().splitlines()[0]]))
    info["Total bench time"] = f"{time.perf_counter() - started:.0f} s"
    info["Load average at end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())

    command = "python bench/run.py" + (" --quick" if args.quick else "") + (f" --only {args.only}" if args.only else "")
    command += f" --runs {args.runs}" if args.runs else ""
    text = markdown(results, info, command, args.quick, bench.runs)
    print(table(results))
    output = Path(args.output) if args.output else default_output(bench.workdir, args.quick, keys)
    output.write_text(text, encoding="utf-8")
    log(f"written {output} ({info['Total bench time']})")
    failed = any(r.verdict == "FAIL" for r in results)
    return 1 if errors or any(r.verdict == "error" for r in results) or (args.strict and failed) else 0


if __name__ == "__main__":
    sys.exit(main())
