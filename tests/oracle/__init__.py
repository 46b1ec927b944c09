"""The oracle: the row engine of the default rules, frozen as it was at commit 9cab8f7 (after the
main-contact fix), to check the product's rules against (``tests/differential.py``).

Its modules are copies of ``etl.plugins`` (rules, model, contacts, groups, store_index, values,
email_lists) with one change: they take the field definitions from ``etl.plugins.fields`` and the
documents' keys from ``etl.plugins.documents``, which the mapping and the store checks share. Beside
them, ``row_spool`` is the spool of the rows read as it was at 2332c96, before its rows were framed
one by one (``tests/test_row_spool.py``). Never edit them to follow the product: a difference is what the differential
test is for. It is registered as the rules ``customers-oracle`` only in the registry the tests
build (:func:`registry_with_oracle`), never in etl's own.
"""
from __future__ import annotations

import dataclasses

from etl.components import RulesSpec
from etl.plugins.settings import CustomerSettings
from etl.registry import Components, Registry, get_registry

ORACLE = "customers-oracle"


def _create():
    from .rules import CustomerRules

    return CustomerRules()


ORACLE_SPEC = RulesSpec(name=ORACLE, create=_create, description="the row engine, frozen (tests only)",
                        settings_schema=CustomerSettings)


def registry_with_oracle() -> Registry:
    """etl's registry with the oracle's rules added under ``customers-oracle``."""
    base = get_registry()
    rules: Components[RulesSpec] = Components("rules", dict(base.rules.specs), dict(base.rules.owners))
    rules.add(ORACLE_SPEC, "tests.oracle")
    return dataclasses.replace(base, rules=rules)
