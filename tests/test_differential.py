"""The product's rules give byte for byte what the oracle (the frozen row engine) gives, on a fixed
sample of mutated files (``tests/differential.py``; a longer run: ``python tests/differential.py --runs 2000``)."""
from __future__ import annotations

import pytest

from differential import differences, make_case

SAMPLE = range(0, 100)
CHUNK = 20


@pytest.mark.parametrize("first", range(SAMPLE.start, SAMPLE.stop, CHUNK))
def test_the_rules_give_what_the_oracle_gives(first):
    found = [line for seed in range(first, first + CHUNK) for line in differences(seed)]
    assert found == [], "\n".join(found[:20]) + "\n(replay: python tests/differential.py --seed N --runs 1 --keep DIR)"


def test_the_cases_are_the_same_for_a_seed_and_differ_between_seeds():
    assert make_case(7) == make_case(7)
    assert make_case(7) != make_case(8)
