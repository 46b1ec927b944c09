"""Lookups into the customers and contacts already in the store.

From either source: every stored document (``existing(kind)``: tinydb, json, http), or, when the
sink finds documents by their lookup keys (``StoreAccess.find``), only those the import touches:
the rules prefetch them in batches of keys (the file's IDs and names, its emails, the owners of
its main contacts), and a key asked for later (a group of a stored group) is looked up on demand.
The documents the rules write carry their lookup keys (:meth:`StoreIndex.keyed`), so that later
imports find them.

Indexes by name cost a normalisation per stored customer: they are built on first use only.
"""
from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from functools import lru_cache
from typing import Any

from etl import Document, StoreAccess, StoredDocument, normalise

from .matching import vat_key

ID_KEY, NAME_KEY, EMAIL_KEY, MAIN_OF_KEY = "external_id", "name", "email", "main_of"
"""The lookup keys of the documents: customers by ID and by folded name, contacts by email and, for a
main contact, by its customer (``id:<Customer ID>``, else ``name:<folded name>``)."""
VAT_KEY, REFERENCE_KEY = "vat_number", "reference"
"""And for the match rules: customers by folded VAT number, contacts by their reference (``external_id``)."""


@lru_cache(maxsize=1 << 16)
def name_key(name: str) -> str:
    """How customer names are compared: case, accents and punctuation do not count."""
    return normalise(name)


def owner_keys(external_id: str | None, name: str | None, fold: Callable[[str], str] = name_key) -> list[str]:
    """The ``main_of`` keys under which a customer's stored main contacts are found."""
    return [*([f"id:{external_id}"] if external_id else []), *([f"name:{fold(name)}"] if name else [])]


def lookup_keys(kind: str, data: dict[str, Any], fold: Callable[[str], str] = name_key) -> dict[str, str] | None:
    """The lookup keys of a document whose stored data (once written) is ``data``."""
    if kind == "customers":
        return {**({ID_KEY: data["external_id"]} if data.get("external_id") else {}),
                **({NAME_KEY: fold(data["name"])} if data.get("name") else {}),
                **({VAT_KEY: vat_key(data["vat_number"])} if data.get("vat_number") else {})}
    if kind == "contacts":
        keys = {EMAIL_KEY: (data.get("email") or "").lower(),
                **({REFERENCE_KEY: data["external_id"]} if data.get("external_id") else {})}
        if data.get("is_main"):  # by its customer's ID, else by its name, as it is linked
            owner = owner_keys(data.get("customer_external_id"), data.get("customer_name"), fold)
            if owner:
                keys[MAIN_OF_KEY] = owner[0]
        return keys
    return None


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

    def __init__(self, existing: StoreAccess) -> None:
        self._find: Callable[[str, str, Collection[str]], Iterable[StoredDocument]] | None = existing.find
        self._wrapped: dict[Any, StoredCustomer] = {}
        self._by_name: dict[str, list[StoredCustomer]] | None = None
        self._found: dict[tuple[str, Any], dict] = {}
        """(kind, ref) -> the documents found by key, to give the documents written their keys."""
        self._folded: dict[str, str] = {}
        """name -> name_key(name), for the names of the file, folded once (too many for name_key's cache)."""
        self._by_vat: dict[str, list[StoredCustomer]] | None = None
        self._by_reference: dict[str, list[StoredDocument]] | None = None
        if self._find is not None:
            self._customers: list[StoredDocument] = []
            self._by_id: dict[str, StoredDocument | None] = {}
            self._by_name = {}
            self._by_vat = {}
            self._by_reference = {}
            self.has_customers_without_id = False
            self._contacts: list[StoredDocument] = []
            self.contacts: dict[str, StoredDocument] = {}
            self.main_contacts: list[StoredDocument] = []
            self.mains_by_name = False
            return
        # each (ref, doc) pair is kept as the sink gave it: a store may hold millions of them
        self._customers = list(existing("customers"))
        self._by_id = {stored[1].get("external_id"): stored for stored in self._customers}
        self._by_id.pop(None, None)
        self._by_id.pop("", None)
        self.has_customers_without_id = len(self._by_id) < len(self._customers)
        contacts = self._contacts = list(existing("contacts"))
        self.contacts = {(stored[1].get("email") or "").lower(): stored for stored in contacts}
        self.contacts.pop("", None)
        self.main_contacts = [stored for stored in contacts if stored[1].get("is_main")]
        self.mains_by_name = any(not doc.get("customer_external_id") for _, doc in self.main_contacts)
        """Whether some stored main contact is linked to its customer by name only."""

    def fold(self, name: str) -> str:
        """``name_key(name)``, computed once per name of the run when the store is read by key."""
        folded = self._folded.get(name)
        if folded is None:
            folded = self._folded[name] = name_key(name)
        return folded

    @property
    def by_lookup(self) -> bool:
        """Whether the store is read by key (what the import touches) rather than whole."""
        return self._find is not None

    def _fetch(self, kind: str, key_name: str, keys: Collection[str]) -> list[StoredDocument]:
        """The documents of ``kind`` whose key ``key_name`` is one of ``keys``, kept for :meth:`keyed`."""
        if self._find is None or not keys:
            return []
        found = list(self._find(kind, key_name, keys))
        for ref, doc in found:
            self._found[kind, ref] = doc
        return found

    def prefetch_customers(self, ids: Collection[str], names: Collection[str]) -> None:
        """Look up, in batches, the stored customers of these IDs and these name keys."""
        by_name = self._by_name if self._by_name is not None else {}
        ids = [i for i in ids if i not in self._by_id]
        names = [n for n in names if n not in by_name]
        for ref, doc in self._fetch("customers", ID_KEY, ids):
            self._by_id[doc["external_id"]] = (ref, doc)
        for external_id in ids:
            self._by_id.setdefault(external_id, None)
        for ref, doc in self._fetch("customers", NAME_KEY, names):
            stored = self._wrap(ref, doc)
            by_name.setdefault(name_key(doc.get("name") or ""), []).append(stored)
            if stored.external_id:
                self._by_id.setdefault(stored.external_id, (ref, doc))
            else:
                self.has_customers_without_id = True
        for key in names:
            by_name.setdefault(key, [])

    def prefetch_vat_numbers(self, keys: Collection[str]) -> None:
        """Look up, in batches, the stored customers of these folded VAT numbers."""
        by_vat = self._by_vat if self._by_vat is not None else {}
        keys = [key for key in keys if key not in by_vat]
        for ref, doc in self._fetch("customers", VAT_KEY, keys):
            by_vat.setdefault(vat_key(doc.get("vat_number") or ""), []).append(self._wrap(ref, doc))
        for key in keys:
            by_vat.setdefault(key, [])

    def prefetch_contacts(self, emails: Collection[str], owners: Iterable[tuple[str | None, str | None]],
                          references: Collection[str] = ()) -> None:
        """Look up, in batches, the stored contacts of these emails (and of these references) and the stored
        main contacts of these customers (Customer ID, name)."""
        for stored in self._fetch("contacts", EMAIL_KEY, [e for e in emails if e not in self.contacts]):
            self.contacts[(stored[1].get("email") or "").lower()] = stored
        by_reference = self._by_reference if self._by_reference is not None else {}
        references = [r for r in references if r not in by_reference]
        for stored in self._fetch("contacts", REFERENCE_KEY, references):
            by_reference.setdefault(stored[1].get("external_id") or "", []).append(stored)
        for reference in references:
            by_reference.setdefault(reference, [])
        keys = {key for external_id, name in owners for key in owner_keys(external_id, name, self.fold)}
        known = {ref for ref, _ in self.main_contacts}
        self.main_contacts += [stored for stored in self._fetch("contacts", MAIN_OF_KEY, keys)
                               if stored[0] not in known]
        self.mains_by_name = any(not doc.get("customer_external_id") for _, doc in self.main_contacts)

    def keyed(self, batches: Iterable[list[Document]]) -> Iterator[list[Document]]:
        """The documents, each with its lookup keys (from its data over the stored one) when the store is
        read by key."""
        for documents in batches:
            if self._find is not None:
                for doc in documents:
                    data = doc.data
                    if doc.ref is not None:
                        data = {**self._found.get((doc.kind, doc.ref), {}),
                                **{k: v for k, v in data.items() if v is not None}}
                    doc.keys = lookup_keys(doc.kind, data, self.fold)
            yield documents

    def _wrap(self, ref: Any, doc: dict) -> StoredCustomer:
        """One StoredCustomer per stored document, made when first needed."""
        stored = self._wrapped.get(ref)
        if stored is None:
            stored = self._wrapped[ref] = StoredCustomer(ref, doc)
        return stored

    def by_id(self, external_id: str) -> StoredCustomer | None:
        """The stored customer with this Customer ID."""
        if self._find is not None and external_id not in self._by_id:
            self.prefetch_customers([external_id], [])
        found = self._by_id.get(external_id)
        return self._wrap(*found) if found is not None else None

    def named(self, key: str) -> list[StoredCustomer]:
        """The stored customers whose name has this key."""
        if self._by_name is None:
            self._by_name = {}
            for ref, doc in self._customers:
                if doc.get("name"):
                    self._by_name.setdefault(name_key(doc["name"]), []).append(self._wrap(ref, doc))
        elif self._find is not None and key not in self._by_name:
            self.prefetch_customers([], [key])
        return self._by_name.get(key, [])

    def with_vat(self, key: str) -> list[StoredCustomer]:
        """The stored customers whose VAT number has this key (see :func:`vat_key`)."""
        if self._by_vat is None:
            self._by_vat = {}
            for ref, doc in self._customers:
                if doc.get("vat_number"):
                    self._by_vat.setdefault(vat_key(doc["vat_number"]), []).append(self._wrap(ref, doc))
        elif self._find is not None and key not in self._by_vat:
            self.prefetch_vat_numbers([key])
        return self._by_vat.get(key, [])

    def with_reference(self, reference: str) -> list[StoredDocument]:
        """The stored contacts whose reference (``external_id``) is this one."""
        if self._by_reference is None:
            self._by_reference = {}
            for stored in self._contacts:
                if stored[1].get("external_id"):
                    self._by_reference.setdefault(stored[1]["external_id"], []).append(stored)
        elif self._find is not None and reference not in self._by_reference:
            self.prefetch_contacts((), (), [reference])
        return self._by_reference.get(reference, [])

    def without_id(self, key: str) -> list[StoredCustomer]:
        """The stored customers without a Customer ID whose name has this key."""
        if not self.has_customers_without_id:
            return []
        return [c for c in self.named(key) if not c.external_id]
