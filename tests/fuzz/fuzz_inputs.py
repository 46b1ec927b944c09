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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    files = seeds()
    contents = [p.read_bytes() for p in files]
    crashes = Path(__file__).parent / "crashes"
    signal.signal(signal.SIGALRM, on_alarm)
    deadline = time.monotonic() + args.minutes * 60
    tried = failed = 0
    with tempfile.TemporaryDirectory() as work:
        while time.monotonic() < deadline:
            index = rng.randrange(len(files))
            data = mutate(contents[index], rng, contents)
            path = Path(work) / f"input{files[index].suffix}"
            path.write_bytes(data)
            tried += 1
            signal.alarm(PER_INPUT_SECONDS)
            try:
                etl.run(path, sink="json", target=Path(work) / "out.json", dry_run=True)
            except EtlError as exc:
                if "\n" in str(exc):
                    raise AssertionError(f"multi-line error message: {exc!r}") from None
            except Exception as exc:  # a crash: keep the input
                failed += 1
                crashes.mkdir(exist_ok=True)
                kept = crashes / f"crash-{tried}{files[index].suffix}"
                kept.write_bytes(data)
                print(f"CRASH on {kept}: {type(exc).__name__}: {exc}", file=sys.stderr)
                traceback.print_exc()
            except Hang:
                failed += 1
                crashes.mkdir(exist_ok=True)
                (crashes / f"hang-{tried}{files[index].suffix}").write_bytes(data)
                print(f"HANG over {PER_INPUT_SECONDS} s on input {tried}", file=sys.stderr)
            finally:
                signal.alarm(0)
    print(f"{tried} inputs tried in {args.minutes:g} minutes, {failed} crashes or hangs")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
