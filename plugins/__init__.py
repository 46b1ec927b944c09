"""The default import rules: customers and their contacts, as the import method defines them."""
from __future__ import annotations

from typing import Any

from etl import RulesSpec, hookimpl

from .documents import STORED_TYPES


def _create():
    from .rules import CustomerRules

    return CustomerRules()


def _settings_schema():
    from .settings import CustomerSettings

    return CustomerSettings


def _lookup_keys(kind: str, data: dict[str, Any]) -> dict[str, str] | None:
    from .store_index import lookup_keys

    return lookup_keys(kind, data)


@hookimpl
def register_rules() -> list[RulesSpec]:
    return [RulesSpec(
        name="customers",
        create=_create,
        description="customers identified by Customer ID or name, their contacts by email",
        settings_schema=_settings_schema(),
        default=True,
        lookup_keys=_lookup_keys,
        stored_types=STORED_TYPES,
    )]
