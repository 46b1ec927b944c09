"""Lookups into the customers and contacts already in the store."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
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


@dataclass
class StoreIndex:
    """The stored customers by ID and by name, and the stored contacts by email."""

    by_id: dict[str, StoredCustomer] = field(default_factory=dict)
    by_name: dict[str, list[StoredCustomer]] = field(default_factory=dict)
    without_id: dict[str, list[StoredCustomer]] = field(default_factory=dict)
    """Stored customers that have no Customer ID, by name."""
    contacts: dict[str, tuple[Any, dict]] = field(default_factory=dict)
    main_contacts: dict[tuple[str, str], list[tuple[Any, dict]]] = field(default_factory=dict)

    @classmethod
    def load(cls, existing: Callable[[str], Iterable[StoredDocument]]) -> StoreIndex:
        index = cls()
        for ref, doc in existing("customers"):
            stored = StoredCustomer(ref, doc)
            if stored.external_id:
                index.by_id[stored.external_id] = stored
            if stored.name:
                key = name_key(stored.name)
                index.by_name.setdefault(key, []).append(stored)
                if not stored.external_id:
                    index.without_id.setdefault(key, []).append(stored)
        for ref, doc in existing("contacts"):
            email = (doc.get("email") or "").lower()
            if email:
                index.contacts[email] = (ref, doc)
            if doc.get("is_main"):
                owner = customer_identity(doc.get("customer_external_id"), doc.get("customer_name"))
                index.main_contacts.setdefault(owner, []).append((ref, doc))
        return index

    def named(self, key: str) -> list[StoredCustomer]:
        return self.by_name.get(key, [])
