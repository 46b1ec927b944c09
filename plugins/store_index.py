"""Lookups into the customers and contacts already in the store."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from etl.components import StoredDocument
from etl.mapping import normalise


def name_key(name: str) -> str:
    """How customer names are compared: case, accents and punctuation do not count."""
    return normalise(name)


@dataclass(eq=False)
class StoredCustomer:
    ref: Any
    doc: dict

    @property
    def external_id(self) -> str | None:
        return self.doc.get("external_id") or None

    @property
    def name(self) -> str | None:
        return self.doc.get("name") or None


def customer_identity(external_id: str | None, name: str | None) -> tuple[str, str]:
    """What links a contact to its customer: the Customer ID, else the name."""
    return ("id", external_id) if external_id else ("name", name_key(name or ""))


@dataclass
class StoreIndex:
    """The stored customers by ID and by name, and the stored contacts by email."""

    by_id: dict[str, StoredCustomer] = field(default_factory=dict)
    by_name: dict[str, list[StoredCustomer]] = field(default_factory=dict)
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
                index.by_name.setdefault(name_key(stored.name), []).append(stored)
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
