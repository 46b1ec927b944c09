"""The stored documents the rules read, checked against the field types the rules declare
(:attr:`etl.components.RulesSpec.stored_types`), whatever the store: a document edited by another tool
stops the run in one line naming the store, before the rules see it."""
from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping

from .components import StoreAccess, StoredDocument
from .errors import SinkError
from .history import TYPE_NAMES, described
from .terminal import printable

FieldTypes = Mapping[str, Mapping[str, type]]
"""kind -> field -> the type of its values (None is always allowed)."""


def typed_access(access: StoreAccess, types: FieldTypes, store: str) -> StoreAccess:
    """``access``, each document it gives checked against ``types``; ``store`` names the store in messages."""
    if not types:
        return access

    def existing(kind: str) -> Iterable[StoredDocument]:
        return _checked(access.existing(kind), kind, types.get(kind), store)

    def find(kind: str, key_name: str, keys: Collection[str]) -> Iterable[StoredDocument]:
        assert access.find is not None
        return _checked(access.find(kind, key_name, keys), kind, types.get(kind), store)

    return StoreAccess(existing, find if access.find is not None else None)


def _checked(documents: Iterable[StoredDocument], kind: str, types: Mapping[str, type] | None,
             store: str) -> Iterator[StoredDocument]:
    if not types:
        yield from documents
        return
    fields = tuple(types.items())
    for ref, data in documents:
        for field, expected in fields:
            value = data.get(field)
            if value is not None and type(value) is not expected:
                raise SinkError(f"{printable(store)}: not an etl store: {kind} document {printable(str(ref))}: "
                                f"{printable(repr(field))} is {described(value)}, not {TYPE_NAMES[expected]}")
        yield ref, data
