"""The customers and contacts the rules build from the file's lines.

A customer's values are a list in the order of ``CUSTOMER_FIELD_NAMES`` and a contact's in
the order of ``CONTACT_FIELD_NAMES``: small and fast for files of millions of lines.
"""
from __future__ import annotations

from typing import Any

from etl import RowError

from .fields import CONTACT_FIELD_NAMES, CUSTOMER_FIELD_NAMES
from .store_index import StoredCustomer

CUSTOMER_INDEX = {name: i for i, name in enumerate(CUSTOMER_FIELD_NAMES)}
CONTACT_INDEX = {name: i for i, name in enumerate(CONTACT_FIELD_NAMES)}
ID, NAME = CUSTOMER_INDEX["customer_id"], CUSTOMER_INDEX["customer_name"]
PERIOD, VAT = CUSTOMER_INDEX["payment_period"], CUSTOMER_INDEX["vat_number"]
GROUP_ID, GROUP_NAME = CUSTOMER_INDEX["group_id"], CUSTOMER_INDEX["group_name"]
EMAIL, IS_MAIN = CONTACT_INDEX["contact_email"], CONTACT_INDEX["main_contact"]
REFERENCE = CONTACT_INDEX["contact_reference"]


def same_value(a: Any, b: Any) -> bool:
    """Two values of one field agree: texts compare without case and extra spaces."""
    if a == b:
        return True
    if isinstance(a, str) and isinstance(b, str):
        return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()
    return False


class Customer:
    """One customer of the file, gathered from all its lines."""

    __slots__ = ("values", "first_line", "given_later", "more_lines", "_errors", "stored", "matched_by", "merged_into",
                 "parent")

    def __init__(self, line: int, values: list[Any]) -> None:
        self.values = values
        self.first_line = line
        self.given_later: dict[int, int] | None = None
        """field index -> line, for values first given after the customer's first line."""
        self.more_lines: list[int] | None = None
        self._errors: list[RowError] | None = None
        self.stored: StoredCustomer | None = None
        self.matched_by: str | None = None
        """The match rule that found ``stored``."""
        self.merged_into: Customer | None = None
        self.parent: Customer | StoredCustomer | None = None

    @property
    def lines(self) -> list[int]:
        """Every line of this customer, in file order."""
        return [self.first_line, *(self.more_lines or ())]

    def add_line(self, line: int) -> None:
        if self.more_lines is None:
            self.more_lines = []
        self.more_lines.append(line)

    @property
    def errors(self) -> list[RowError]:
        """The errors in this customer's data (any of them rejects all its lines)."""
        return self._errors or []

    def add_errors(self, *errors: RowError) -> None:
        if not errors:
            return
        if self._errors is None:
            self._errors = []
        self._errors.extend(errors)

    def final(self) -> Customer:
        customer = self
        while customer.merged_into is not None:
            customer = customer.merged_into
        return customer

    def given_on(self, index: int) -> int:
        """The line where the value of field ``index`` was first given."""
        return (self.given_later or {}).get(index, self.first_line)

    def give(self, index: int, value: Any, line: int, text: str, last_wins: bool = False) -> RowError | None:
        """Record a value of a line. A value that differs from an earlier one is an error; with
        ``last_wins`` (``duplicates = "last"``), the value of the later line is kept instead, and the
        warning for the line whose value was dropped is returned."""
        old = self.values[index]
        if old is None:
            self.values[index] = value
            if line != self.first_line:
                if self.given_later is None:
                    self.given_later = {}
                self.given_later[index] = line
        elif not same_value(old, value):
            if not last_wins:
                self.add_errors(RowError(
                    line, f"conflicts with {old!r} given on line {self.given_on(index)} for the same customer",
                    CUSTOMER_FIELD_NAMES[index], text,
                ))
                return None
            earlier = self.given_on(index)
            if line < earlier:  # a line met later in the run but earlier in the file (a name-only line)
                return RowError(line, f"{value!r} not kept: line {earlier} gives {old!r} later "
                                      '(duplicates = "last")', CUSTOMER_FIELD_NAMES[index], text)
            self.values[index] = value
            if self.given_later is None:
                self.given_later = {}
            self.given_later[index] = line
            return RowError(earlier, f"{old!r} not kept: line {line} gives {value!r} later (duplicates = \"last\")",
                            CUSTOMER_FIELD_NAMES[index], str(old))
        return None

    def absorb(self, other: Customer, last_wins: bool = False) -> list[RowError]:
        """Take in the lines of ``other``, the same customer met under its name only; return the
        warnings of ``give``."""
        warnings = [warning for index, value in enumerate(other.values) if value is not None
                    if (warning := self.give(index, value, other.given_on(index), str(value), last_wins))]
        for line in other.lines:
            self.add_line(line)
        self.add_errors(*other.errors)
        other.merged_into = self
        return warnings

    @property
    def rejected(self) -> bool:
        return self._errors is not None

    @property
    def external_id(self) -> str | None:
        return self.values[ID] or (self.stored.external_id if self.stored else None)

    @property
    def name(self) -> str | None:
        return self.values[NAME] or (self.stored.name if self.stored else None)

    def label(self) -> str:
        return repr(self.name or self.external_id)


ContactLine = tuple[int, Customer, tuple]
"""A contact given on one line without a bad value: line, customer, values (CONTACT_FIELD_NAMES order)."""
