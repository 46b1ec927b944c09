"""Ordered match rules: how a customer or a contact of the file finds the stored record it updates.

Each kind's rules are tried in the order of the settings (``match_customers``, ``match_contacts``): one
stored match is the record; none goes on to the next rule; several reject the line as ambiguous, naming
the candidates. The first rule is the record's identity (a customer's Customer ID, a contact's email): it
always comes first, so that no rule gives a stored record an identity another one has.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from .fields import FIELDS

CUSTOMER_RULES = {"external_id": "customer_id", "name": "customer_name", "vat_number": "vat_number"}
"""The rules that find stored customers, and the field each one reads."""
CONTACT_RULES = {"email": "contact_email", "external_id": "contact_reference"}
"""The rules that find stored contacts, and the field each one reads."""
DEFAULT_RULES = {"customers": ("external_id", "name"), "contacts": ("email",)}
"""Today's identification: customers by Customer ID, else by name; contacts by email."""
RULES = {"customers": CUSTOMER_RULES, "contacts": CONTACT_RULES}
SETTING = {"customers": "match_customers", "contacts": "match_contacts"}
TITLES = {field.name: field.labels["en"] for field in FIELDS}


def check_rules(kind: str, rules: Sequence[str]) -> None:
    """Refuse unknown, repeated or misplaced rules (ValueError with the reason)."""
    known = RULES[kind]
    for rule in rules:
        if rule not in known:
            raise ValueError(f"unknown match rule {rule!r} for {kind} (valid: {', '.join(known)})")
    repeated = sorted({rule for rule in rules if rules.count(rule) > 1})
    if repeated:
        raise ValueError(f"the match rule {repeated[0]!r} is listed twice")
    identity = DEFAULT_RULES[kind][0]
    if not rules or rules[0] != identity:
        raise ValueError(f"the rules must start with {identity!r}: it identifies the {kind[:-1]} "
                         "(no other rule may give a stored one an identity another one has)")


def match_rules(settings: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """The rules of each kind, in order: the settings' or the default ones."""
    return {kind: tuple(settings.get(SETTING[kind]) or DEFAULT_RULES[kind]) for kind in RULES}


def chosen(settings: Mapping[str, Any]) -> bool:
    """Whether the settings choose match rules (the success file and the report then say which matched)."""
    return any(settings.get(name) for name in SETTING.values())


def columns_missing(settings: Mapping[str, Any], mapped: set[str]) -> list[str]:
    """Messages for the rules chosen in the settings whose field no column of the file fills."""
    missing = []
    for kind, setting in SETTING.items():
        for rule in (settings.get(setting) or ())[1:]:
            field_name = RULES[kind][rule]
            if field_name not in mapped:
                missing.append(f"the match rule {rule!r} of {setting} needs a {TITLES[field_name]} column, "
                               "which the file lacks")
    return missing


def vat_key(vat: str) -> str:
    """How VAT numbers are compared: letters and digits only, in upper case ("fr 123" is "FR123")."""
    return re.sub(r"[^0-9A-Za-z]", "", vat).upper()
