"""Lookups into the customers and contacts already in the store.

Indexes by name cost a normalisation per stored customer: they are built on first use only.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from etl.components import StoredDocument
from etl.mapping import normalise


@lru_cache(maxsize=1 << 16)
def name_key(name: str) -> str:
    """How customer names are compared: case, accents and punctuation do not count."""
    return normalise(name)


class StoredCustomer:
    """A customer document of the store, with the sink's reference to it."""

    __slots__ = ("ref", "doc", "external_id", "name")

    def __init__(self, ref: Any, doc: dict) -> None:
        self.ref = ref
        self.doc = doc
        self.external_id: str | None = doc.get("external_id") or None
        self.name: str | None = doc.get("name") or None


def customer_identity(external_id: str | None, name: str | None) -> tuple[str, str]:
    """What links a contact to its customer: the Customer ID, else the name."""
    return ("id", external_id) if external_id else ("name", name_key(name or ""))


class StoreIndex:
    """The stored customers by ID (and by name), the stored contacts by email (and the main ones)."""

    def __init__(self, existing: Callable[[str], Iterable[StoredDocument]]) -> None:
        self.customers = [StoredCustomer(ref, doc) for ref, doc in existing("customers")]
        self.by_id = {c.external_id: c for c in self.customers if c.external_id}
        self.has_customers_without_id = len(self.by_id) < len(self.customers)
        self.contacts: dict[str, tuple[Any, dict]] = {}
        self.main_contacts: list[tuple[Any, dict]] = []
        for ref, doc in existing("contacts"):
            email = (doc.get("email") or "").lower()
            if email:
                self.contacts[email] = (ref, doc)
            if doc.get("is_main"):
                self.main_contacts.append((ref, doc))
        self._by_name: dict[str, list[StoredCustomer]] | None = None
        self._main_by_owner: dict[tuple[str, str], list[tuple[Any, dict]]] | None = None
        self._mains_by_name = False

    def named(self, key: str) -> list[StoredCustomer]:
        """The stored customers whose name has this key."""
        if self._by_name is None:
            self._by_name = {}
            for customer in self.customers:
                if customer.name:
                    self._by_name.setdefault(name_key(customer.name), []).append(customer)
        return self._by_name.get(key, [])

    def without_id(self, key: str) -> list[StoredCustomer]:
        """The stored customers without a Customer ID whose name has this key."""
        if not self.has_customers_without_id:
            return []
        return [c for c in self.named(key) if not c.external_id]

    def main_contacts_of(self, external_id: str | None, name: str | None) -> list[tuple[Any, dict]]:
        """Stored main contacts linked to this customer's ID, or to its name (when stored without an ID)."""
        if self._main_by_owner is None:
            self._main_by_owner = {}
            for ref, doc in self.main_contacts:
                owner = customer_identity(doc.get("customer_external_id"), doc.get("customer_name"))
                self._main_by_owner.setdefault(owner, []).append((ref, doc))
                self._mains_by_name = self._mains_by_name or owner[0] == "name"
        found = list(self._main_by_owner.get(("id", external_id), ())) if external_id else []
        if self._mains_by_name and name:
            found += self._main_by_owner.get(("name", name_key(name)), ())
        return found
