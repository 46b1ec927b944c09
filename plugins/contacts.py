"""Contacts: identified by email, never moved between customers, one main contact per customer."""
from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from etl import Document, RowError, StoredDocument

from .documents import CONTACT_DOCUMENT
from .fields import CONTACT_FIELD_NAMES
from .model import EMAIL, IS_MAIN, REFERENCE, ContactLine, Customer, same_value
from .store_index import StoreIndex, name_key

DOCUMENT_BATCH = 5000
CONTACT_KEYS = tuple(CONTACT_DOCUMENT)
assert tuple(CONTACT_DOCUMENT.values()) == CONTACT_FIELD_NAMES


class Contact:
    """A contact given on several lines of the file (most are on one: their line is enough)."""

    __slots__ = ("customer", "values", "lines")

    def __init__(self, first: ContactLine) -> None:
        self.customer = first[1]
        self.values = list(first[2])
        self.lines = [first[0]]

    def take(self, values: tuple, line: int) -> None:
        """Complete the contact with the values of a later line. Its own main flag is the last one
        given ("1" then "0": not main); which contact is the customer's main one is decided apart."""
        for index, value in enumerate(values):
            if value is not None and (self.values[index] is None or index == IS_MAIN):
                self.values[index] = value
        self.lines.append(line)


def _parts(contact: ContactLine | Contact) -> tuple[Customer, tuple | list, list[int]]:
    """customer, values, lines of a contact kept as its one line or gathered from several."""
    if isinstance(contact, Contact):
        return contact.customer, contact.values, contact.lines
    return contact[1], contact[2], [contact[0]]


def belongs_to(stored_contact: dict, customer: Customer) -> bool:
    """Whether a stored contact is linked to ``customer`` (by Customer ID, else by name)."""
    stored_id = stored_contact.get("customer_external_id")
    if stored_id:
        return stored_id == customer.external_id
    return name_key(stored_contact.get("customer_name") or "") == name_key(customer.name or "")


def _conflict(known: tuple | list, first_line: int, line: int, values: tuple) -> RowError | None:
    for index, value in enumerate(values):
        old = known[index]
        if index != IS_MAIN and value is not None and old is not None and not same_value(old, value):
            return RowError(line, f"conflicts with {old!r} given on line {first_line} for the same contact",
                            CONTACT_FIELD_NAMES[index], str(value))
    return None


def _refusal(line: int, email: str, values: tuple, customer: Customer, known: ContactLine | Contact | None,
             store: StoreIndex) -> RowError | None:
    """Why the contact of a line cannot be taken, if it cannot."""
    if known is not None:
        known_customer, known_values, known_lines = _parts(known)
        if known_customer.final() is not customer:
            return RowError(line, f"{email} is already a contact of customer {known_customer.final().label()} "
                            f"(line {known_lines[0]}): a contact is never moved between customers",
                            "contact_email", email)
        return _conflict(known_values, known_lines[0], line, values)
    stored = store.contacts.get(email)
    if stored is not None and not belongs_to(stored[1], customer):
        owner = stored[1].get("customer_name") or stored[1].get("customer_external_id")
        return RowError(line, f"{email} is a contact of customer {owner!r} in the store: "
                        "a contact is never moved between customers", "contact_email", email)
    return None


class ByReference:
    """The match rule ``external_id`` of contacts: a contact whose email the store lacks finds the stored
    contact of its reference (whose email it then changes)."""

    def __init__(self, lines: list[ContactLine], store: StoreIndex) -> None:
        self.store = store
        self.emails = {values[EMAIL] for _, _, values in lines}
        """The file's emails: a stored contact that one of them names is matched by its email."""
        self.found: dict[str, StoredDocument] = {}
        """email -> the stored contact its reference found."""
        self.taken: dict[object, str] = {}
        """ref of a stored contact found -> the email that found it."""

    def match(self, line: int, email: str, values: tuple, customer: Customer) -> RowError | None:
        """Find the stored contact of the line's reference, when its email is not stored; or say why not."""
        reference = values[REFERENCE]
        if email in self.found or not reference or email in self.store.contacts:
            return None
        candidates = self.store.with_reference(reference)
        if len(candidates) > 1:
            emails = ", ".join(sorted(doc.get("email") or "" for _, doc in candidates))
            return RowError(line, f"ambiguous: several contacts have the reference {reference!r}: {emails}",
                            "contact_reference", reference)
        if not candidates:
            return None
        ref, doc = candidates[0]
        stored_email = (doc.get("email") or "").lower()
        if stored_email in self.emails or ref in self.taken:
            why = "this file gives too" if stored_email in self.emails else f"{self.taken[ref]} found first"
            return RowError(line, f"the reference {reference!r} is that of the contact {stored_email}, which {why}: "
                            "a contact is found once", "contact_reference", reference)
        if not belongs_to(doc, customer):
            owner = doc.get("customer_name") or doc.get("customer_external_id")
            return RowError(line, f"the reference {reference!r} is the contact {stored_email} of customer "
                            f"{owner!r} in the store: a contact is never moved between customers",
                            "contact_reference", reference)
        self.found[email], self.taken[ref] = candidates[0], email
        return None


def decide_contacts(lines: list[ContactLine], store: StoreIndex, by_reference: bool = False
                    ) -> tuple[Iterator[list[Document]], list[RowError], int]:
    """The contact documents (in batches), the errors of contact lines, and how many lines were rejected;
    with ``by_reference``, contacts whose email the store lacks are found by their reference too."""
    contacts: dict[str, ContactLine | Contact] = {}
    main_of: dict[int, str] = {}
    errors: list[RowError] = []
    rejected = 0
    references = ByReference(lines, store) if by_reference else None
    for contact_line in lines:
        line, owner, values = contact_line
        customer = owner.final()
        if customer.rejected:
            rejected += 1
            continue
        email = values[EMAIL]
        known = contacts.get(email)
        if references is not None and known is None:
            refusal = references.match(line, email, values, customer)
            if refusal is not None:
                errors.append(refusal)
                rejected += 1
                continue
        if known is not None or store.contacts:
            refusal = _refusal(line, email, values, customer, known, store)
            if refusal is not None:
                errors.append(refusal)
                rejected += 1
                continue
        if known is None:
            contacts[email] = contact_line
        else:
            if not isinstance(known, Contact):
                known = contacts[email] = Contact(known)
            known.take(values, line)
        flag = values[IS_MAIN]
        if flag:
            main_of[id(customer)] = email
        elif flag is False and main_of.get(id(customer)) == email:
            del main_of[id(customer)]
    return _batches(contacts, main_of, store, references.found if references is not None else {}), errors, rejected


def _batches(contacts: dict[str, ContactLine | Contact], main_of: dict[int, str], store: StoreIndex,
             by_reference: dict[str, StoredDocument]) -> Iterator[list[Document]]:
    dethroned = _dethroned(contacts, main_of, store, {ref for ref, _ in by_reference.values()})
    pending = deque(contacts.values())
    contacts.clear()  # each contact is let go once it is a document: a large import's memory falls as it loads
    batch: list[Document] = []
    last: Customer | None = None  # a customer's contacts mostly follow each other: work out its owner once
    while pending:
        customer, values, lines = _parts(pending.popleft())
        if customer is not last:
            last, final = customer, customer.final()
            owner, main_email = (final.external_id, final.name), main_of.get(id(final))
        batch.append(_document(owner, values, lines, main_email, store, by_reference))
        if len(batch) == DOCUMENT_BATCH:
            yield batch
            batch = []
    batch.extend(dethroned)
    if batch:
        yield batch


def _document(owner: tuple[str | None, str | None], values: tuple | list, lines: list[int], main_email: str | None,
              store: StoreIndex, by_reference: dict[str, StoredDocument]) -> Document:
    data = dict(zip(CONTACT_KEYS, values))
    stored = store.contacts.get(data["email"]) if store.contacts else None
    matched_by = "email" if stored is not None else None
    if stored is None and by_reference:
        stored = by_reference.get(data["email"])
        matched_by = "external_id" if stored is not None else None
    if main_email is not None:
        data["is_main"] = data["email"] == main_email
    elif data["is_main"] is None and stored is None:
        data["is_main"] = False
    data["customer_external_id"], data["customer_name"] = owner
    return Document("contacts", data["email"], data, tuple(lines), *(stored or (None, None)), matched_by=matched_by)


def _dethroned(contacts: dict[str, ContactLine | Contact], main_of: dict[int, str], store: StoreIndex,
               found_by_reference: set[object]) -> list[Document]:
    """Stored main contacts, absent from the file (by email or by reference), of customers the file gives a
    new main contact."""
    if not store.main_contacts or not main_of:
        return []
    by_id: dict[str, tuple[Customer, str]] = {}  # who has a new main contact, by Customer ID
    by_name: dict[str, tuple[Customer, str]] = {}  # and by name, for mains stored without the ID
    for contact in contacts.values():
        customer = _parts(contact)[0].final()
        main_email = main_of.get(id(customer))
        if main_email is not None:
            if customer.external_id:
                by_id[customer.external_id] = (customer, main_email)
            if store.mains_by_name and customer.name:
                by_name[name_key(customer.name)] = (customer, main_email)
    documents = []
    for ref, doc in store.main_contacts:
        owner_id = doc.get("customer_external_id")
        found = by_id.get(owner_id) if owner_id else by_name.get(name_key(doc.get("customer_name") or ""))
        if found is None:
            continue
        customer, main_email = found
        email = (doc.get("email") or "").lower()
        if email != main_email and email not in contacts and ref not in found_by_reference \
                and belongs_to(doc, customer):
            data = dict.fromkeys(CONTACT_KEYS) | {"email": email, "is_main": False,
                                                  "customer_external_id": None, "customer_name": None}
            documents.append(Document("contacts", email, data, (), ref, doc))
    return documents
