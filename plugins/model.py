"""The customers and contacts the rules build from the file's lines."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from etl.errors import RowError

from .store_index import StoredCustomer, customer_identity


def same_value(a: Any, b: Any) -> bool:
    """Two values of one field agree: texts compare without case and extra spaces."""
    if isinstance(a, str) and isinstance(b, str):
        return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()
    return a == b


@dataclass(eq=False)
class Customer:
    """One customer of the file, gathered from all its lines."""

    values: dict[str, Any] = field(default_factory=dict)
    """field -> parsed value, as first given."""
    given_on: dict[str, int] = field(default_factory=dict)
    """field -> line where the value was first given."""
    lines: list[int] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    stored: StoredCustomer | None = None
    merged_into: Customer | None = None
    parent: Customer | StoredCustomer | None = None

    def final(self) -> Customer:
        customer = self
        while customer.merged_into is not None:
            customer = customer.merged_into
        return customer

    def give(self, field_name: str, value: Any, line: int, text: str) -> None:
        """Record a value of a line; a value that differs from an earlier one is an error."""
        old = self.values.get(field_name)
        if old is None:
            self.values[field_name] = value
            self.given_on[field_name] = line
        elif not same_value(old, value):
            self.errors.append(RowError(
                line, f"conflicts with {old!r} given on line {self.given_on[field_name]} for the same customer",
                field_name, text,
            ))

    def absorb(self, other: Customer) -> None:
        """Take in the lines of ``other``, the same customer met under its name only."""
        for field_name, value in other.values.items():
            self.give(field_name, value, other.given_on[field_name], str(value))
        self.lines.extend(other.lines)
        self.errors.extend(other.errors)
        other.merged_into = self

    @property
    def rejected(self) -> bool:
        return bool(self.errors)

    @property
    def external_id(self) -> str | None:
        return self.values.get("customer_id") or (self.stored.external_id if self.stored else None)

    @property
    def name(self) -> str | None:
        return self.values.get("customer_name") or (self.stored.name if self.stored else None)

    @property
    def identity(self) -> tuple[str, str]:
        return customer_identity(self.external_id, self.name)

    def label(self) -> str:
        return repr(self.name or self.external_id)


@dataclass(eq=False)
class ContactLine:
    """The contact given on one line."""

    line: int
    customer: Customer
    values: dict[str, Any]
    """contact document key -> parsed value (None when blank)."""
    errors: list[RowError] = field(default_factory=list)

    @property
    def email(self) -> str | None:
        return self.values.get("email")
