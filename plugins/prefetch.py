"""What the rules ask a store that finds documents by key: the stored documents a file may touch, in a
few batched lookups, before the rules decide (see :class:`etl.plugins.store_index.StoreIndex`)."""
from __future__ import annotations

from collections.abc import Iterable

from .matching import vat_key
from .model import EMAIL, GROUP_ID, GROUP_NAME, ID, IS_MAIN, NAME, REFERENCE, VAT, ContactLine, Customer
from .store_index import StoreIndex


def prefetch_customers(store: StoreIndex, customers: Iterable[Customer], by_vat: bool = False) -> None:
    """The stored customers of the file's Customer IDs and names, and of its groups' IDs and names; with
    ``by_vat`` (the match rule ``vat_number``), of its VAT numbers too."""
    if not store.by_lookup:
        return
    ids: set[str] = set()
    names: set[str] = set()
    vats: set[str] = set()
    for customer in customers:
        values = customer.values
        ids.update(value for value in (values[ID], values[GROUP_ID]) if value)
        names.update(store.fold(value) for value in (values[NAME], values[GROUP_NAME]) if value)
        if by_vat and values[VAT]:
            vats.add(vat_key(values[VAT]))
    store.prefetch_customers(ids, names)
    if vats:
        store.prefetch_vat_numbers(vats)


def prefetch_contacts(store: StoreIndex, lines: Iterable[ContactLine], by_reference: bool = False) -> None:
    """The stored contacts of the file's emails (and with ``by_reference``, the match rule ``external_id``,
    of its references), and the stored main contacts of the customers that the file gives a main contact
    (once their identities are known)."""
    if not store.by_lookup:
        return
    emails: set[str] = set()
    references: set[str] = set()
    owners: set[tuple[str | None, str | None]] = set()
    for _, customer, values in lines:
        emails.add(values[EMAIL])
        if by_reference and values[REFERENCE]:
            references.add(values[REFERENCE])
        if values[IS_MAIN]:
            final = customer.final()
            owners.add((final.external_id, final.name))
    store.prefetch_contacts(emails, owners, references)
