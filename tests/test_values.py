"""Cell values: emails as strict as email-validator (with a fast path that agrees with it), payment terms."""
from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import find, given, settings
from hypothesis import strategies as st

from etl.plugins import values

ODD = "!#$%&*/=?^`{|}~\"(),:;<>[]\\ \t@"
LOCAL_WORD = st.text("abcxyzABCXYZ0123456789", min_size=1, max_size=8)
LOCAL_PIECE = st.one_of(LOCAL_WORD, st.sampled_from([".", "..", "-", "+", "_", "'", "o'neil", "+compta", "jean-luc"]),
                        st.sampled_from(ODD), st.integers(20, 70).map("x".__mul__))
LABEL = st.one_of(st.text("abcdefXYZ0123456789", min_size=1, max_size=10),
                  st.sampled_from(["-", "a-b", "sub-", "-sub", "ab--cd", "xn--bcher-kva", "a_b", "", "x y"]),
                  st.integers(55, 66).map("d".__mul__))
TLD = st.sampled_from(["fr", "com", "co.uk", "example", "c", "museum", "test", "local", "localhost", "onion", "1",
                       "c1", "123", "co-m", "xn--p1ai", "", "fr.", "a" * 64])


@st.composite
def addresses(draw: st.DrawFn) -> str:
    """ASCII addresses built from realistic parts, good and bad."""
    local = "".join(draw(st.lists(LOCAL_PIECE, min_size=1, max_size=5)))
    domain = ".".join([*draw(st.lists(LABEL, min_size=0, max_size=5)), draw(TLD)])
    at = draw(st.sampled_from(["@"] * 8 + ["@@", "", ",", " @"]))
    return local + at + domain


def library(address: str) -> str | None:
    """What email-validator makes of the address (lower-cased), None when it refuses it."""
    try:
        return validate_email(address, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


def parsed(address: str) -> str | None:
    try:
        return values.email(address)
    except ValueError:
        return None


@settings(max_examples=2000)
@given(addresses())
def test_the_fast_path_and_the_library_agree_on_ascii_addresses(address):
    expected = library(address)
    if values.plain_email(address.lower()):
        assert expected == address.lower()
    assert parsed(address) == expected


@pytest.mark.parametrize("side", ["fast", "library accepts", "library refuses"])
def test_the_generated_addresses_reach_every_side(side):
    def reaches(address: str) -> bool:
        fast = values.plain_email(address.lower())
        return {"fast": fast, "library accepts": not fast and library(address) is not None,
                "library refuses": library(address) is None}[side]

    find(addresses(), reaches, settings=settings(max_examples=5000, database=None))


@pytest.mark.parametrize("address", ["a@b..fr", "x@@y.fr", "a@b,fr", "a@b", "a.@b.fr", ".a@b.fr", "a@-b.fr",
                                     "a@b.test", "a b@c.fr", "\"quoted\"@c.fr", "a@b.c1", "a@" + "b" * 64 + ".fr"])
def test_bad_addresses_are_refused_with_the_library_reason_on_one_line(address):
    with pytest.raises(ValueError, match=r"^not a valid email address: \S") as refused:
        values.email(address)
    assert refused.value.args[0].isprintable()


def test_control_characters_never_reach_the_message():
    with pytest.raises(ValueError) as refused:
        values.email("a\x1bb\x07@c\x00.fr")
    assert refused.value.args[0].isprintable() and "U+001B" in refused.value.args[0]


@pytest.mark.parametrize("address, stored", [
    ("jean-luc.o'neil+compta@sub.example.co.uk", "jean-luc.o'neil+compta@sub.example.co.uk"),
    ("Claire.Martin@Example.COM", "claire.martin@example.com"),
    ("x_1{a}|b~c@mail-1.a-b.fr", "x_1{a}|b~c@mail-1.a-b.fr"),
    ("a@b.c", "a@b.c"),
    ("Élise@École.FR", "élise@école.fr"),
    ("a@xn--bcher-kva.de", "a@bücher.de"),  # an internationalised domain is stored in Unicode, however written
    ("a@B\u212a.fr", "a@bk.fr"),  # the Kelvin sign is not a plain "k" for the fast path: the library maps it
])
def test_good_addresses_are_stored_in_lower_case(address, stored):
    assert values.email(address) == stored


def test_a_long_or_multiline_payment_term_is_shown_on_one_short_line():
    with pytest.raises(ValueError) as refused:
        values.payment_period("30 jours\nfin de mois, " + "le 10 " * 20)
    message = refused.value.args[0]
    assert message.startswith('"30 jours fin de mois, le 10 le 10 le 10…" is not a number of days')
    assert message.isprintable()


DAY_WORD = st.sampled_from(["", "days", "day", "d", "jours", "jour", "j", "Tage", "Tag", "días", "dias", "giorni", "gg",
                            "dagen", "dag"])


@given(st.sampled_from(["", "à ", "a ", "À "]), st.sampled_from(["", "Net ", "NET", "netto ", "neto "]),
       st.integers(0, 400), st.sampled_from(["", ".0", ".00"]), st.sampled_from(["", " "]), DAY_WORD,
       st.sampled_from(["", " net", " NETTO"]), st.booleans())
def test_payment_terms_of_a_number_of_days_give_that_number(prefix, net, days, zeros, space, word, net_after, upper):
    terms = f"{prefix}{net}{days}{zeros}{space if word else ''}{word}{net_after}"
    assert values.payment_period(terms.upper() if upper else terms) == days


@given(st.text(max_size=30))
def test_any_payment_term_is_a_number_of_days_or_a_one_line_error(text):
    try:
        assert values.payment_period(text.strip()) >= 0
    except ValueError as refused:
        message = refused.args[0]
        assert message.isprintable() and message.endswith(" is not a number of days: give whole days, e.g. 30")
