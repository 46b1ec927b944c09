"""What the rules ask a store that finds documents by key: the stored documents a file may touch, in a
few batched lookups, before the rules decide (see :class:`etl.plugins.store_index.StoreIndex`)."""
from __future__ import annotations

from collections.abc import Iterable

from .model import EMAIL, GROUP_ID, GROUP_NAME, ID, IS_MAIN, NAME, ContactLine, Customer
from .store_index import StoreIndex


def prefetch_customers(store: StoreIndex, customers: Iterable[Customer]) -> None:
    """The stored customers of the file's Customer IDs and names, and of its groups' IDs and names."""
    if not store.by_lookup:
        return
    ids: set[str] = set()
    names: set[str] = set()
    for customer in customers:
        values = customer.values
        ids.update(value for value in (values[ID], values[GROUP_ID]) if value)
        names.update(store.fold(value) for value in (values[NAME], values[GROUP_NAME]) if value)
    store.prefetch_customers(ids, names)


def prefetch_contacts(store: StoreIndex, lines: Iterable[ContactLine]) -> None:
    """The stored contacts of the file's emails, and the stored main contacts of the customers that the
    file gives a main contact (once their identities are known)."""
    if not store.by_lookup:
        return
    emails: set[str] = set()
    owners: set[tuple[str | None, str | None]] = set()
    for _, customer, values in lines:
        emails.add(values[EMAIL])
        if values[IS_MAIN]:
            final = customer.final()
            owners.add((final.external_id, final.name))
    store.prefetch_contacts(emails, owners)
