"""Parsing and checking single cell values. Each parser takes a stripped, non-empty text and
returns the stored value, or raises ValueError with a message for the user."""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from etl.mapping import normalise

from .fields import POSITIONS

EMAIL = re.compile(r"[^@\s<>(),;:\"\[\]]+@[^@\s<>(),;:\"\[\]]+\.[^@\s<>(),;:\"\[\].]+")
WHOLE_DAYS = re.compile(r"\d+(?:\.0*)?")

POSITION_WORDS = {
    **{normalise(p): p for p in POSITIONS},
    "buyer": "PURCHASER",
    "comptabilite": "ACCOUNTING",
    "comptable": "ACCOUNTING",
    "vente": "SALES",
    "ventes": "SALES",
    "commercial": "SALES",
    "acheteur": "PURCHASER",
    "achat": "PURCHASER",
    "achats": "PURCHASER",
    "payeur": "PAYER",
}
TRUE_WORDS = frozenset({"1", "yes", "y", "oui", "o", "x", "true", "vrai"})
FALSE_WORDS = frozenset({"0", "no", "n", "non", "false", "faux"})


def email(text: str) -> str:
    """A valid email address, in lower case (emails identify contacts case-insensitively)."""
    if len(text) > 254 or not EMAIL.fullmatch(text) or text.index("@") > 64:
        raise ValueError("not a valid email address")
    return text.lower()


def payment_period(text: str) -> int:
    """Whole days >= 0: "30", or "45.0" as Excel writes 45."""
    if not WHOLE_DAYS.fullmatch(text):
        raise ValueError("the default payment period must be a whole number of days (e.g. 30)")
    return int(float(text))


def position(text: str) -> str:
    """ACCOUNTING, SALES, PURCHASER or PAYER, in English or French, any case."""
    try:
        return POSITION_WORDS[normalise(text)]
    except KeyError:
        raise ValueError(f"unknown position: use one of {', '.join(POSITIONS)}") from None


def main_flag(text: str) -> bool:
    """"1" (or yes, oui, x, true) marks the main contact; "0" (or no, non, false) does not."""
    word = text.casefold()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError('main contact must be "1" (main) or "0"/empty (not main)')


def one_of(known: Iterable[str], what: str) -> Callable[[str], str]:
    """A parser accepting only ``known`` values, case-insensitively, in their canonical spelling."""
    canonical = {k.casefold(): k for k in known}

    def parse(text: str) -> str:
        try:
            return canonical[text.casefold()]
        except KeyError:
            raise ValueError(f"unknown {what}: use one of {', '.join(sorted(canonical.values()))}") from None

    return parse
