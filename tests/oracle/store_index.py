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


class StoreIndex:
    """The stored customers by ID (and by name), the stored contacts by email (and the main ones)."""

    def __init__(self, existing: Callable[[str], Iterable[StoredDocument]]) -> None:
        # each (ref, doc) pair is kept as the sink gave it: a store may hold millions of them
        self._customers = list(existing("customers"))
        self._by_id = {stored[1].get("external_id"): stored for stored in self._customers}
        self._by_id.pop(None, None)
        self._by_id.pop("", None)
        self.has_customers_without_id = len(self._by_id) < len(self._customers)
        self._wrapped: dict[Any, StoredCustomer] = {}
        contacts = list(existing("contacts"))
        self.contacts: dict[str, StoredDocument] = {
            (stored[1].get("email") or "").lower(): stored for stored in contacts}
        self.contacts.pop("", None)
        self.main_contacts = [stored for stored in contacts if stored[1].get("is_main")]
        self.mains_by_name = any(not doc.get("customer_external_id") for _, doc in self.main_contacts)
        """Whether some stored main contact is linked to its customer by name only."""
        self._by_name: dict[str, list[StoredCustomer]] | None = None

    def _wrap(self, ref: Any, doc: dict) -> StoredCustomer:
        """One StoredCustomer per stored document, made when first needed."""
        stored = self._wrapped.get(ref)
        if stored is None:
            stored = self._wrapped[ref] = StoredCustomer(ref, doc)
        return stored

    def by_id(self, external_id: str) -> StoredCustomer | None:
        """The stored customer with this Customer ID."""
        found = self._by_id.get(external_id)
        return self._wrap(*found) if found is not None else None

    def named(self, key: str) -> list[StoredCustomer]:
        """The stored customers whose name has this key."""
        if self._by_name is None:
            self._by_name = {}
            for ref, doc in self._customers:
                if doc.get("name"):
                    self._by_name.setdefault(name_key(doc["name"]), []).append(self._wrap(ref, doc))
        return self._by_name.get(key, [])

    def without_id(self, key: str) -> list[StoredCustomer]:
        """The stored customers without a Customer ID whose name has this key."""
        if not self.has_customers_without_id:
            return []
        return [c for c in self.named(key) if not c.external_id]
