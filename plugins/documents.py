"""The documents the default rules store: the field each key is filled from (a mapping may name the key
instead of the field), and the type of each key's values, which the rules declare
(``RulesSpec.stored_types``) so that a document edited elsewhere is refused before they read it. Light:
imported when the rules are registered."""
from __future__ import annotations

CUSTOMER_DOCUMENT = {
    # document key -> field
    "external_id": "customer_id",
    "name": "customer_name",
    "accounting_code": "accounting_code",
    "vat_number": "vat_number",
    "street": "address",
    "postal_code": "postal_code",
    "city": "town",
    "state": "state",
    "country": "country",
    "account_manager_email": "account_manager_email",
    "workflow": "workflow",
    "payment_period_days": "payment_period",
}
"""Customer document keys filled straight from a field; group_external_id and group_name come from the group."""

CONTACT_DOCUMENT = {
    "email": "contact_email",
    "first_name": "contact_first_name",
    "last_name": "contact_last_name",
    "phone": "contact_phone",
    "external_id": "contact_reference",
    "position": "contact_position",
    "is_main": "main_contact",
}
"""Contact document keys filled from a field; customer_external_id and customer_name come from the customer."""

GROUP_DOCUMENT = {"group_name": "group_name", "group_external_id": "group_id"}
"""A customer's keys naming its group, filled from the group it resolves to (else from these fields)."""

DOCUMENT_KEYS = tuple((key, field) for key, field in {**CUSTOMER_DOCUMENT, **GROUP_DOCUMENT, **CONTACT_DOCUMENT}.items()
                      if key != "external_id")
"""The document keys a mapping may name instead of a field (``external_id`` names both documents' own IDs:
the fields ``customer_id`` and ``contact_reference`` are the only names of those)."""

STORED_TYPES = {
    "customers": {**dict.fromkeys((*CUSTOMER_DOCUMENT, *GROUP_DOCUMENT), str), "payment_period_days": int},
    "contacts": {**dict.fromkeys((*CONTACT_DOCUMENT, "customer_external_id", "customer_name"), str), "is_main": bool},
}
"""The type of each key of the stored customers and contacts (None is always allowed)."""
