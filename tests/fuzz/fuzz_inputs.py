"""Mutation fuzzing of the whole import (reader, mapping, rules, json sink in dry run); not run by CI.

    python tests/fuzz/fuzz_inputs.py --minutes 10 [--seed 1]

Each input is a seed file (tests/data, examples) with random byte flips, insertions,
deletions, truncations and splices; it must end in a report or an EtlError within 10 s.
Anything else is a crash: the input is saved under tests/fuzz/crashes/ and the run fails.
"""
from __future__ import annotations

import argparse
import random
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

import etl
from etl.errors import EtlError

ROOT = Path(__file__).resolve().parents[2]
SEED_GLOBS = ("examples/*.csv", "tests/data/**/*.csv", "tests/data/**/*.xlsx", "tests/data/**/*.xls*")
PER_INPUT_SECONDS = 10
CHUNK = 500
"""Inputs tried by one worker process."""


class Hang(Exception):
    pass


def seeds() -> list[Path]:
    found = sorted({p for pattern in SEED_GLOBS for p in ROOT.glob(pattern) if p.stat().st_size < 2_000_000})
    return found or [ROOT / "examples" / "customers.csv"]


def mutate(data: bytes, rng: random.Random, others: list[bytes]) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        choice = rng.random()
        position = rng.randrange(len(buf) + 1)
        if choice < 0.3 and buf:
            buf[min(position, len(buf) - 1)] = rng.randrange(256)
        elif choice < 0.5:
            buf[position:position] = rng.choice([b";", b",", b"|", b'"', b"\n", b"\r\n", b"\x00", b"\xff\xfe",
                                                 b"=1+1", b"\xc3", rng.randbytes(rng.randint(1, 16))])
        elif choice < 0.65 and buf:
            del buf[position:position + rng.randint(1, 64)]
        elif choice < 0.75:
            del buf[position:]
        elif choice < 0.85 and others:
            other = rng.choice(others)
            start = rng.randrange(len(other) + 1)
            buf[position:position] = other[start:start + rng.randint(1, 256)]
        else:
            start = rng.randrange(len(buf) + 1)
            buf[position:position] = buf[start:start + rng.randint(1, 512)] * rng.randint(1, 4)
    return bytes(buf)


def on_alarm(signum, frame):
    raise Hang()


def work(seed: int, count: int, current: Path) -> int:
    """Try ``count`` inputs in this process; each is first written to ``current``, so that
    if the process dies (a native crash, an abort) the parent knows which input did it."""
    rng = random.Random(seed)
    files = seeds()
    contents = [p.read_bytes() for p in files]
    signal.signal(signal.SIGALRM, on_alarm)
    failed = 0
    for tried in range(count):
        index = rng.randrange(len(files))
        data = mutate(contents[index], rng, contents)
        path = current.with_suffix(files[index].suffix)
        path.write_bytes(data)
        signal.alarm(PER_INPUT_SECONDS)
        try:
            etl.run(path, sink="json", target=current.with_suffix(".out.json"), dry_run=True)
        except EtlError as exc:
            if "\n" in str(exc):
                failed += keep(data, f"multiline-{seed}-{tried}{path.suffix}", f"multi-line error: {exc!r}")
        except Hang:
            failed += keep(data, f"hang-{seed}-{tried}{path.suffix}", f"over {PER_INPUT_SECONDS} s")
        except Exception as exc:  # a crash: keep the input
            failed += keep(data, f"crash-{seed}-{tried}{path.suffix}", f"{type(exc).__name__}: {exc}")
            traceback.print_exc()
        finally:
            signal.alarm(0)
        path.unlink()
    return failed


def keep(data: bytes, name: str, why: str) -> int:
    crashes = Path(__file__).parent / "crashes"
    crashes.mkdir(exist_ok=True)
    (crashes / name).write_bytes(data)
    print(f"FAILURE {crashes / name}: {why}", file=sys.stderr, flush=True)
    return 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--worker", nargs=3, metavar=("SEED", "COUNT", "CURRENT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        seed, count, current = args.worker
        return min(work(int(seed), int(count), Path(current)), 100)
    deadline = time.monotonic() + args.minutes * 60
    tried = failed = 0
    seed = args.seed * 1_000_000
    with tempfile.TemporaryDirectory() as folder:
        current = Path(folder) / "input"
        while time.monotonic() < deadline:
            seed += 1
            proc = subprocess.run([sys.executable, __file__, "--worker", str(seed), str(CHUNK), str(current)])
            tried += CHUNK
            if proc.returncode < 0:  # killed by a signal: the input it was on is the culprit
                leftover = next(Path(folder).glob("input.*"), None)
                failed += keep(leftover.read_bytes() if leftover else b"", f"died-{seed}{leftover.suffix if leftover else ''}",
                               f"worker killed by signal {-proc.returncode}")
            else:
                failed += proc.returncode
    print(f"{tried} inputs tried in {args.minutes:g} minutes, {failed} crashes, hangs or deaths")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
