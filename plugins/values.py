"""Parsing and checking single cell values. Each parser takes a stripped, non-empty text and
returns the stored value, or raises ValueError with a message for the user."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from etl import normalise

POSITIONS = ("ACCOUNTING", "SALES", "PURCHASER", "PAYER")

PLAIN_EMAIL = re.compile(
    r"(?=.{1,254}\Z)"  # the library's length limit (it allows a local part longer than 64)
    r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@"  # a dot-atom local part
    r"(?:(?=[a-z0-9-]{1,63}\.)[a-z0-9]+(?:-[a-z0-9]+)*\.)+[a-z]{1,63}",  # no "--": Punycode goes to the library
    re.ASCII,
)
SPECIAL_USE_DOMAINS = tuple(f".{name}" for name in SPECIAL_USE_DOMAIN_NAMES)
DAY_WORDS = ("days?|d"  # en
             "|jours?|j"  # fr
             "|tage?|t"  # de
             "|dias?"  # es (accents are removed first)
             "|giorni|giorno|gg"  # it
             "|dagen|dag")  # nl
NET_WORDS = "net|netto|neto"
PAYMENT_TERMS = re.compile(rf"(?:a )?(?:(?:{NET_WORDS}) ?)?(\d+)(?:\.0*)?(?: ?(?:{DAY_WORDS})\.?)?(?: (?:{NET_WORDS}))?")
"""Payment terms as exports write them, once accents and case are gone: "30", "45.0" (Excel),
"30 jours", "Net 30", "NET30", "30 days", "à 30 jours", "30 Tage netto", "30 días"."""

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
    "accounts": "ACCOUNTING",
    "accounts payable": "ACCOUNTING",
    "finance": "ACCOUNTING",
    "purchasing": "PURCHASER",
    "procurement": "PURCHASER",
    "billing": "PAYER",
    "facturation": "PAYER",
}
TRUE_WORDS = frozenset({"1", "yes", "y", "oui", "o", "x", "true", "vrai"})
FALSE_WORDS = frozenset({"0", "no", "n", "non", "false", "faux"})


def shown(text: str, limit: int = 40) -> str:
    """A cell's text as a message shows it: on one line, a long one cut."""
    text = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def plain_email(address: str) -> bool:
    """A lower-case ASCII address that email-validator surely accepts as it is (tested against it):
    the fast path of the common addresses, since the library costs some 20 µs each."""
    return address.isascii() and PLAIN_EMAIL.fullmatch(address) is not None \
        and not address.endswith(SPECIAL_USE_DOMAINS)


def email(text: str) -> str:
    """A valid email address as email-validator sees it, in lower case (emails identify contacts
    case-insensitively). An internationalised domain is stored in Unicode, however it was
    written ("bücher.de", not "xn--bcher-kva.de")."""
    address = text.lower()
    if plain_email(address):
        return address
    try:
        return validate_email(text, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        reason = str(exc)  # the library shows unsafe characters by name or code point: one line
        raise ValueError(f"not a valid email address: {reason[:1].lower()}{reason[1:]}") from None


def payment_period(text: str) -> int:
    """Whole days >= 0, alone or in the words of payment terms (see ``PAYMENT_TERMS``); terms
    that are not a number of days ("45 jours fin de mois", "à réception") are refused."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    terms = PAYMENT_TERMS.fullmatch(" ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split()))
    if terms is None:
        raise ValueError(f'"{shown(text)}" is not a number of days: give whole days, e.g. 30')
    return int(terms.group(1))


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


def known_email(known: Iterable[str], what: str) -> Callable[[str], str]:
    """A valid email address that is one of ``known`` (addresses as ``email`` returns them)."""
    check = one_of(known, what)
    return lambda text: check(email(text))
