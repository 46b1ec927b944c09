"""Contacts: identified by email, never moved between customers, one main contact per customer."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from etl.components import Document
from etl.errors import RowError

from .fields import CONTACT_DOCUMENT
from .model import ContactLine, Customer, same_value
from .store_index import StoreIndex, name_key


@dataclass(eq=False)
class Contact:
    """One contact of the file, gathered from all the lines that give its email."""

    customer: Customer
    values: dict[str, Any]
    lines: list[int] = field(default_factory=list)
    ref: Any = None


def belongs_to(stored_contact: dict, customer: Customer) -> bool:
    """Whether a stored contact is linked to ``customer`` (by Customer ID, else by name)."""
    stored_id = stored_contact.get("customer_external_id")
    if stored_id:
        return stored_id == customer.external_id
    return name_key(stored_contact.get("customer_name") or "") == name_key(customer.name or "")


def _conflict(contact: Contact, line: ContactLine) -> RowError | None:
    for key, value in line.values.items():
        old = contact.values.get(key)
        if key != "is_main" and value is not None and old is not None and not same_value(old, value):
            return RowError(line.line, f"conflicts with {old!r} given on line {contact.lines[0]} for the same contact",
                            CONTACT_DOCUMENT[key], str(value))
    return None


def _refusal(line: ContactLine, customer: Customer, contacts: dict[str, Contact], store: StoreIndex) -> RowError | None:
    """Why the contact of ``line`` cannot be taken, if it cannot."""
    email = line.email
    known = contacts.get(email)
    if known is not None and known.customer is not customer:
        return RowError(line.line, f"{email} is already a contact of customer {known.customer.label()} "
                        f"(line {known.lines[0]}): a contact is never moved between customers", "contact_email", email)
    stored = store.contacts.get(email)
    if known is None and stored is not None and not belongs_to(stored[1], customer):
        owner = stored[1].get("customer_name") or stored[1].get("customer_external_id")
        return RowError(line.line, f"{email} is a contact of customer {owner!r} in the store: "
                        "a contact is never moved between customers", "contact_email", email)
    return _conflict(known, line) if known is not None else None


def decide_contacts(lines: list[ContactLine], store: StoreIndex) -> tuple[list[Document], list[RowError], int]:
    """The contact documents, the errors of contact lines, and how many contact lines were rejected."""
    contacts: dict[str, Contact] = {}
    main_of: dict[int, str] = {}
    errors: list[RowError] = []
    rejected = 0
    for line in lines:
        customer = line.customer.final()
        if customer.rejected:
            errors.extend(line.errors)
            rejected += 1
            continue
        refusal = line.errors or [_refusal(line, customer, contacts, store)]
        if refusal != [None]:
            errors.extend(refusal)
            rejected += 1
            continue
        contact = contacts.get(line.email)
        if contact is None:
            stored = store.contacts.get(line.email)
            contact = contacts[line.email] = Contact(customer, {}, ref=stored[0] if stored else None)
        for key, value in line.values.items():
            if value is not None and key != "is_main":
                contact.values.setdefault(key, value)
        contact.lines.append(line.line)
        flag = line.values.get("is_main")
        if flag:
            main_of[id(customer)] = line.email
        elif flag is False and main_of.get(id(customer)) == line.email:
            del main_of[id(customer)]
        contact.values["is_main"] = flag if flag is not None else contact.values.get("is_main")
    documents = [_document(c, main_of.get(id(c.customer))) for c in contacts.values()]
    documents.extend(_dethroned(contacts, main_of, store))
    return documents, errors, rejected


def _document(contact: Contact, main_email: str | None) -> Document:
    data = {key: contact.values.get(key) for key in CONTACT_DOCUMENT}
    if main_email is not None:
        data["is_main"] = data["email"] == main_email
    elif data["is_main"] is None and contact.ref is None:
        data["is_main"] = False
    data["customer_external_id"] = contact.customer.external_id
    data["customer_name"] = contact.customer.name
    return Document("contacts", data["email"], data, tuple(contact.lines), contact.ref)


def _dethroned(contacts: dict[str, Contact], main_of: dict[int, str], store: StoreIndex) -> list[Document]:
    """Stored main contacts, absent from the file, of customers the file gives a new main contact."""
    customers = {id(c.customer): c.customer for c in contacts.values()}
    documents = []
    for customer_id, main_email in main_of.items():
        customer = customers[customer_id]
        keys = [("id", customer.external_id), ("name", name_key(customer.name or ""))]
        for ref, doc in (pair for key in keys for pair in store.main_contacts.get(key, [])):
            email = (doc.get("email") or "").lower()
            if email != main_email and email not in contacts and belongs_to(doc, customer):
                data = dict.fromkeys(CONTACT_DOCUMENT) | {"email": email, "is_main": False,
                                                          "customer_external_id": None, "customer_name": None}
                documents.append(Document("contacts", email, data, (), ref))
    return documents
