"""Time etl's column matching on 21 columns: titles as exports write them (words, not the import's
own titles) and a sample of 200 lines of realistic values. Prints JSON: the median and the
slowest of the repeats, in milliseconds, and how many columns were matched."""
from __future__ import annotations

import json
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import datagen  # noqa: E402
from etl.mapping import SAMPLE_ROWS, Sample, propose  # noqa: E402
from etl.plugins.fields import FIELDS  # noqa: E402

REPEATS = 50


def export_titles(header: list[str]) -> list[str]:
    """The import's titles as an export might write them: "Billing" before each, in CamelCase."""
    return ["Billing" + "".join(word.capitalize() for word in re.findall(r"\w+", title)) for title in header]


def main() -> None:
    header = export_titles(datagen.HEADER)
    rows = list(enumerate(datagen.generate_lines(7, SAMPLE_ROWS, datagen.consecutive()), start=2))
    times, matched = [], 0
    for _ in range(REPEATS):
        started = time.perf_counter()
        mapping = propose(header, FIELDS, Sample.of(rows, len(header)))
        times.append((time.perf_counter() - started) * 1000)
        matched = len(mapping.field_columns())
    print(json.dumps({"median_ms": statistics.median(times), "max_ms": max(times), "columns": len(header),
                      "matched": matched}))


if __name__ == "__main__":
    main()
