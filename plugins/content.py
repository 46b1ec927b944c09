"""What the values of some fields look like, so that a column's sample can confirm, refuse or
make its match (see ``etl.mapping``). Each check takes a stripped, non-empty text."""
from __future__ import annotations

import gettext
import re
from collections.abc import Callable
from functools import cache
from typing import Any

from etl import Content, normalise

from . import values as parse

PHONE = re.compile(r"\+?[\d\s().\-/]{6,24}(?:\s*(?:x|ext\.?|poste)\s*\d{1,6})?", re.IGNORECASE)
POSTAL_CODE = re.compile(r"(?=.*\d)[A-Za-z0-9][A-Za-z0-9 \-]{1,9}")
VAT_NUMBER = re.compile(r"(?:[A-Za-z]{2}[ .-]?)?(?=(?:[^\d]*\d){2})[0-9A-Za-z][0-9A-Za-z .-]{1,16}")
COUNTRY_LANGUAGES = ("fr", "de", "es", "it", "nl")
"""Languages of the country names recognised besides English (with the ISO codes)."""
COMPANY_FORMS = re.compile(r"\b(?:ltd|limited|llc|inc|corp|plc|gmbh|ag|kg|sa|sas|sasu|sarl|eurl|sci|bv|nv|spa|srl|sl"
                           r"|pvt|pty|co|company|group|groupe)\b\.?", re.IGNORECASE)


def _parses(parser: Callable[[str], Any]) -> Callable[[str], bool]:
    """Whether a parser of ``etl.plugins.values`` takes the text."""
    def accepts(text: str) -> bool:
        try:
            parser(text)
        except ValueError:
            return False
        return True
    return accepts


def _phone(text: str) -> bool:
    return PHONE.fullmatch(text) is not None and sum(c.isdigit() for c in text) >= 6


@cache
def _country_names() -> frozenset[str]:
    """Every country's ISO codes and names, in English and the ``COUNTRY_LANGUAGES``, normalised
    (from pycountry, imported only when a column's values are looked at)."""
    import pycountry

    translations = [gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang], fallback=True)
                    for lang in COUNTRY_LANGUAGES]
    names = set()
    for country in pycountry.countries:
        names |= {country.alpha_2, country.alpha_3}
        for name in filter(None, (country.name, getattr(country, "common_name", None),
                                  getattr(country, "official_name", None))):
            names |= {name, *(t.gettext(name) for t in translations)}
    return frozenset(map(normalise, names))


def _country(text: str) -> bool:
    return normalise(text) in _country_names()


def _person_name(text: str) -> bool:
    """Not a company's name (no legal form such as Ltd, GmbH, SARL) nor an address."""
    return COMPANY_FORMS.search(text) is None and "@" not in text


EMAILS = Content("email addresses", _parses(parse.email), alone=True)
MANAGER_EMAILS = Content("email addresses", _parses(parse.email))
PHONES = Content("phone numbers", _phone)
POSTAL_CODES = Content("postal codes", lambda text: POSTAL_CODE.fullmatch(text) is not None)
DAYS = Content("numbers of days", _parses(parse.payment_period))
POSITIONS = Content("positions (" + ", ".join(parse.POSITIONS) + ")", _parses(parse.position))
FLAGS = Content("main contact flags (1 or 0)", _parses(parse.main_flag))
VAT_NUMBERS = Content("VAT numbers", lambda text: VAT_NUMBER.fullmatch(text) is not None)
COUNTRIES = Content("countries (names or ISO codes)", _country, alone=True)
PERSON_NAMES = Content("people's names", _person_name)
