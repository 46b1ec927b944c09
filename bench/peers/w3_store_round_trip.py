"""W3 floor: what any run on a whole-file JSON store pays before doing anything else.

Usage: python w3_store_round_trip.py STORE.json OUTPUT.json
Reads the store, parses it and writes it back (orjson, fsync), three times, and prints the
best time on stdout: no index, no comparison, no rules. A TinyDB store is one JSON file, so
every import that changes it does at least this much.
"""
import os
import sys
import time

import orjson


def round_trip(source: str, target: str) -> float:
    start = time.perf_counter()
    with open(source, "rb") as handle:
        tables = orjson.loads(handle.read())
    with open(target, "wb") as handle:
        handle.write(orjson.dumps(tables))
        handle.flush()
        os.fsync(handle.fileno())
    return time.perf_counter() - start


def main(source: str, target: str) -> None:
    print(f"{min(round_trip(source, target) for _ in range(3)):.3f}")
    os.unlink(target)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
