"""Contacts: identified by email, never moved between customers, one main contact per customer."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from etl.components import Document
from etl.errors import RowError

from .fields import CONTACT_DOCUMENT, CONTACT_FIELD_NAMES
from .model import EMAIL, IS_MAIN, ContactLine, Customer, same_value
from .store_index import StoreIndex, name_key

DOCUMENT_BATCH = 5000
CONTACT_KEYS = tuple(CONTACT_DOCUMENT)
assert tuple(CONTACT_DOCUMENT.values()) == CONTACT_FIELD_NAMES


class Contact:
    """One contact of the file, gathered from all the lines that give its email."""

    __slots__ = ("customer", "values", "lines", "ref")

    def __init__(self, customer: Customer, values: tuple, line: int, ref: Any) -> None:
        self.customer = customer
        self.values: tuple | list = values
        self.lines = [line]
        self.ref = ref

    def take(self, values: tuple, line: int) -> None:
        """Complete the contact with the values of a later line (the main flag is decided apart)."""
        merged = list(self.values)
        for index, value in enumerate(values):
            if value is not None and merged[index] is None and index != IS_MAIN:
                merged[index] = value
        self.values = merged
        self.lines.append(line)


def belongs_to(stored_contact: dict, customer: Customer) -> bool:
    """Whether a stored contact is linked to ``customer`` (by Customer ID, else by name)."""
    stored_id = stored_contact.get("customer_external_id")
    if stored_id:
        return stored_id == customer.external_id
    return name_key(stored_contact.get("customer_name") or "") == name_key(customer.name or "")


def _conflict(contact: Contact, line: int, values: tuple) -> RowError | None:
    for index, value in enumerate(values):
        old = contact.values[index]
        if index != IS_MAIN and value is not None and old is not None and not same_value(old, value):
            return RowError(line, f"conflicts with {old!r} given on line {contact.lines[0]} for the same contact",
                            CONTACT_FIELD_NAMES[index], str(value))
    return None


def _refusal(line: int, email: str, values: tuple, customer: Customer, known: Contact | None,
             store: StoreIndex) -> RowError | None:
    """Why the contact of a line cannot be taken, if it cannot."""
    if known is not None and known.customer is not customer:
        return RowError(line, f"{email} is already a contact of customer {known.customer.label()} "
                        f"(line {known.lines[0]}): a contact is never moved between customers", "contact_email", email)
    if known is not None:
        return _conflict(known, line, values)
    stored = store.contacts.get(email)
    if stored is not None and not belongs_to(stored[1], customer):
        owner = stored[1].get("customer_name") or stored[1].get("customer_external_id")
        return RowError(line, f"{email} is a contact of customer {owner!r} in the store: "
                        "a contact is never moved between customers", "contact_email", email)
    return None


def decide_contacts(lines: list[ContactLine], store: StoreIndex
                    ) -> tuple[Iterator[list[Document]], list[RowError], int]:
    """The contact documents (in batches), the errors of contact lines, and how many lines were rejected."""
    contacts: dict[str, Contact] = {}
    main_of: dict[int, str] = {}
    errors: list[RowError] = []
    rejected = 0
    for line, owner, values, line_errors in lines:
        customer = owner.final()
        if line_errors or customer.rejected:
            errors.extend(line_errors or ())
            rejected += 1
            continue
        email = values[EMAIL]
        known = contacts.get(email)
        refusal = _refusal(line, email, values, customer, known, store)
        if refusal is not None:
            errors.append(refusal)
            rejected += 1
            continue
        if known is None:
            stored = store.contacts.get(email)
            contacts[email] = Contact(customer, values, line, stored[0] if stored else None)
        else:
            known.take(values, line)
        flag = values[IS_MAIN]
        if flag:
            main_of[id(customer)] = email
        elif flag is False and main_of.get(id(customer)) == email:
            del main_of[id(customer)]
    return _batches(contacts, main_of, store), errors, rejected


def _batches(contacts: dict[str, Contact], main_of: dict[int, str], store: StoreIndex) -> Iterator[list[Document]]:
    batch: list[Document] = []
    for contact in contacts.values():
        batch.append(_document(contact, main_of.get(id(contact.customer))))
        if len(batch) == DOCUMENT_BATCH:
            yield batch
            batch = []
    batch.extend(_dethroned(contacts, main_of, store))
    if batch:
        yield batch


def _document(contact: Contact, main_email: str | None) -> Document:
    data = dict(zip(CONTACT_KEYS, contact.values))
    if main_email is not None:
        data["is_main"] = data["email"] == main_email
    elif data["is_main"] is None and contact.ref is None:
        data["is_main"] = False
    customer = contact.customer.final()
    data["customer_external_id"] = customer.external_id
    data["customer_name"] = customer.name
    return Document("contacts", data["email"], data, tuple(contact.lines), contact.ref)


def _dethroned(contacts: dict[str, Contact], main_of: dict[int, str], store: StoreIndex) -> list[Document]:
    """Stored main contacts, absent from the file, of customers the file gives a new main contact."""
    if not store.main_contacts:
        return []
    customers = {id(c.customer): c.customer for c in contacts.values()}
    documents = []
    for customer_id, main_email in main_of.items():
        customer = customers[customer_id]
        keys = [("id", customer.external_id), ("name", name_key(customer.name or ""))]
        for ref, doc in (pair for key in keys for pair in store.main_contacts.get(key, [])):
            email = (doc.get("email") or "").lower()
            if email != main_email and email not in contacts and belongs_to(doc, customer):
                data = dict.fromkeys(CONTACT_KEYS) | {"email": email, "is_main": False,
                                                      "customer_external_id": None, "customer_name": None}
                documents.append(Document("contacts", email, data, (), ref))
    return documents
