"""The customer and contact rules of the import method.

Reading is column-wise per batch (strip, parse, check each distinct value once), then one
light pass over the rows gathers customers and contact lines; everything that needs the
whole file (identities, groups, main contacts) is decided in ``finish``.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from etl.components import Batch, Document, RulesOutcome, StoredDocument
from etl.errors import RowError
from etl.plugins.documents import CUSTOMER_DOCUMENT
from etl.plugins.fields import CONTACT_FIELD_NAMES, CUSTOMER_FIELD_NAMES, FIELDS
from etl.rejects import restore

from . import values as parse
from .contacts import decide_contacts
from .email_lists import one_email_per_row
from .groups import resolve_groups
from .model import EMAIL, ID, NAME, PERIOD, ContactLine, Customer
from .store_index import StoreIndex, StoredCustomer, name_key

DOCUMENT_BATCH = 5000
CUSTOMER_KEYS = tuple(CUSTOMER_DOCUMENT)
"""Customer document keys, in the order of the first customer fields."""
assert tuple(CUSTOMER_DOCUMENT.values()) == CUSTOMER_FIELD_NAMES[: len(CUSTOMER_KEYS)]
NO_CUSTOMER = "the line names no customer: give the Customer ID or the Customer name"
NO_EMAIL = "a contact needs an email: this contact is not imported"


def texts_of(column: list[str]) -> list[str]:
    """The cells stripped of spaces, and of a rejects file's apostrophe before a formula
    (looked for in the whole column at once: a column without any costs no second pass)."""
    texts = list(map(str.strip, column))
    if "\x1f'" in "\x1f" + "\x1f".join(texts):
        texts = [restore(t).strip() for t in texts]
    return texts


class Problem:
    """Why a value was refused (a plain message: no exception, no traceback kept alive)."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


class CustomerRules:
    """Builds customer and contact documents from a file's lines (one instance per run)."""

    kinds = ("customers", "contacts")
    fields = FIELDS
    short_path = True
    """Take the common line (Customer ID, no bad value, a contact) by the short path; tests
    turn it off to check that both paths give the same results."""

    def __init__(self) -> None:
        self.shared: dict[str, str] = {}
        """One copy of each value of the columns whose values repeat."""
        self.by_id: dict[str, Customer] = {}
        self.by_name_only: dict[str, Customer] = {}
        self.contact_lines: list[ContactLine] = []
        self.found: list[RowError] = []
        """Errors final as soon as their line is read, handed back by ``add_batch``."""
        self.contacts_refused = 0
        """Contact lines rejected for their own values, as soon as read."""
        self.warnings: list[RowError] = []

    def missing_fields(self, mapped: set[str]) -> list[str]:
        missing = []
        if not {"customer_id", "customer_name"} & mapped:
            missing.append("no column for the Customer ID or the Customer name: at least one of them is required")
        if "contact_email" not in mapped and mapped & set(CONTACT_FIELD_NAMES):
            missing.append("the file has contact columns but no Contact email column: every contact needs an email")
        return missing

    def start(self, settings: Mapping[str, Any], existing: Callable[[str], Iterable[StoredDocument]]) -> None:
        self.settings = settings
        self.existing = existing
        self.parsers: dict[str, Callable[[str], Any]] = {
            "account_manager_email": (
                parse.known_email(settings["known_account_managers"], "account manager")
                if settings.get("known_account_managers") else parse.email
            ),
            "payment_period": parse.payment_period,
            "contact_email": parse.email,
            "contact_position": parse.position,
            "main_contact": parse.main_flag,
        }
        known_workflows = settings.get("known_workflows")
        if known_workflows:
            self.parsers["workflow"] = parse.one_of(known_workflows, "workflow")
        self.workflow_warns = bool(known_workflows) and settings.get("unknown_workflow") == "warning"
        self.last_wins = settings.get("duplicates") == "last"

    # -- reading the lines -------------------------------------------------------------------

    def _parsed_column(self, batch: Batch, field_name: str) -> tuple[list[Any], dict[int, str]]:
        """Parsed values of one column (None when blank), and the problems by row index."""
        texts = texts_of(batch.columns[field_name])
        distinct = set(texts)
        if len(distinct) * 2 < len(texts):  # repeated values (towns, countries...): keep one copy of each
            texts = list(map(self.shared.setdefault, texts, texts))
        parser = self.parsers.get(field_name)
        if parser is None:
            return [t or None for t in texts], {}
        cache: dict[str, Any] = {"": None}
        problems: dict[int, str] = {}
        for text in distinct - {""}:
            try:
                cache[text] = parser(text)
            except ValueError as exc:
                cache[text] = Problem(str(exc))
        parsed = [cache[t] for t in texts]
        if not any(isinstance(value, Problem) for value in cache.values()):
            return parsed, problems
        for i, value in enumerate(parsed):
            if isinstance(value, Problem):
                if field_name == "workflow" and self.workflow_warns:
                    self.warnings.append(RowError(batch.lines[i], "unknown workflow (kept as given)", field_name,
                                                  texts[i]))
                    parsed[i] = texts[i]
                else:
                    problems[i] = value.message
                    parsed[i] = None
        return parsed, problems

    def _columns(self, batch: Batch, names: tuple[str, ...]) -> tuple[list[tuple], dict[int, dict[int, str]]]:
        """The rows of these fields as tuples (None for unmapped fields), and problems by row and field."""
        empty = [None] * len(batch)
        columns, problems = [], {}
        for index, name in enumerate(names):
            if name not in batch.columns:
                columns.append(empty)
                continue
            parsed, found = self._parsed_column(batch, name)
            columns.append(parsed)
            for row, message in found.items():
                problems.setdefault(row, {})[index] = message
        return list(zip(*columns)), problems

    def add_batch(self, batch: Batch) -> list[RowError]:
        batch, several = one_email_per_row(batch)
        self.warnings.extend(several)
        customer_rows, customer_problems = self._columns(batch, CUSTOMER_FIELD_NAMES)
        contact_rows, contact_problems = self._columns(batch, CONTACT_FIELD_NAMES)
        by_id, contact_lines = self.by_id, self.contact_lines
        for i, (line, row, contact) in enumerate(zip(batch.lines, customer_rows, contact_rows)):
            external_id = row[ID]
            if external_id and self.short_path and i not in customer_problems and i not in contact_problems:
                # the common case, kept short: a line with a Customer ID and no bad value
                customer = by_id.get(external_id)
                if customer is None:
                    customer = by_id[external_id] = Customer(line, list(row))
                else:
                    self._continue(customer, row, line, batch, i)
                if contact[EMAIL] is not None:
                    contact_lines.append((line, customer, contact))
                    continue
            else:
                customer = self._customer_of(row, line, batch, i)
            self._add_line(batch, i, line, row, contact, customer, customer_problems.get(i), contact_problems.get(i))
        found, self.found = self.found, []
        return found

    def _continue(self, customer: Customer, row: tuple, line: int, batch: Batch, i: int) -> None:
        """A further line of a known customer: it may give values the earlier lines did not."""
        customer.add_line(line)
        if len(row) - row.count(None) > 1:
            for index, value in enumerate(row):
                if value is not None and index != ID:
                    warning = customer.give(index, value, line, batch.columns[CUSTOMER_FIELD_NAMES[index]][i],
                                            self.last_wins)
                    if warning is not None:
                        self.warnings.append(warning)

    def _add_line(self, batch: Batch, i: int, line: int, row: tuple, contact: tuple, customer: Customer | None,
                  customer_problems: dict[int, str] | None, contact_problems: dict[int, str] | None) -> None:
        """The rest of any other line: no Customer ID, bad values, or no contact email."""
        has_contact = contact.count(None) != len(contact) or contact_problems is not None
        if customer is None:
            if has_contact or row.count(None) != len(row) or customer_problems:
                self.found.append(RowError(line, NO_CUSTOMER, "customer_name"))
            return
        if customer_problems:
            customer.add_errors(*_problems(customer_problems, CUSTOMER_FIELD_NAMES, batch, i, line))
        if has_contact:
            errors = _problems(contact_problems, CONTACT_FIELD_NAMES, batch, i, line) if contact_problems else []
            if contact[EMAIL] is None and not (contact_problems and EMAIL in contact_problems):
                errors.append(RowError(line, NO_EMAIL, "contact_email", ""))
            if errors:  # the contact is rejected whatever the rest of the file says: tell it now
                self.found.extend(errors)
                self.contacts_refused += 1
            else:
                self.contact_lines.append((line, customer, contact))

    def _customer_of(self, row: tuple, line: int, batch: Batch, i: int) -> Customer | None:
        """The customer a line belongs to: created on its first line, completed by the others."""
        external_id, name = row[ID], row[NAME]
        if external_id:
            table, key = self.by_id, external_id
        elif name:
            table, key = self.by_name_only, name_key(name)
        else:
            return None
        customer = table.get(key)
        if customer is None:
            customer = table[key] = Customer(line, list(row))
        else:
            self._continue(customer, row, line, batch, i)
        return customer

    # -- deciding once the whole file is read ---------------------------------------------------

    def finish(self) -> RulesOutcome:
        store = StoreIndex(self.existing)
        customers = self._identify(store)
        resolve_groups(customers, store)
        self._apply_default_payment_period(customers)
        rejected_customers = [c for c in customers if c.rejected]
        errors: list[RowError] = []
        for customer in rejected_customers:
            errors.extend(_rejection_errors(customer))
        contacts, contact_errors, contacts_rejected = decide_contacts(self.contact_lines, store)
        self.contact_lines = []
        errors.extend(contact_errors)
        accepted = [c for c in customers if not c.rejected]
        return RulesOutcome(
            documents=_documents(accepted, contacts),
            errors=errors,
            rejected={"customers": len(rejected_customers), "contacts": contacts_rejected + self.contacts_refused},
            warnings=self.warnings,
        )

    def _identify(self, store: StoreIndex) -> list[Customer]:
        """Link name-only lines to a customer of the file or the store; find stored customers."""
        for external_id, customer in self.by_id.items():
            stored = store.by_id(external_id)
            if stored is None and store.has_customers_without_id and customer.values[NAME]:
                stored = _adoptable(store.without_id(name_key(customer.values[NAME])))
            customer.stored = stored
        file_names: dict[str, list[Customer]] = {}
        if self.by_name_only:
            for customer in self.by_id.values():
                if customer.values[NAME]:
                    file_names.setdefault(name_key(customer.values[NAME]), []).append(customer)
        for key, customer in self.by_name_only.items():
            in_file = file_names.get(key, [])
            if len(in_file) == 1:
                self.warnings.extend(in_file[0].absorb(customer, self.last_wins))
                continue
            candidates: list[Customer] | list[StoredCustomer] = in_file or store.named(key)
            if len(candidates) > 1:
                ids = ", ".join(sorted(str(c.external_id) for c in candidates))
                name = customer.values[NAME]
                customer.add_errors(RowError(
                    customer.first_line, f"several customers are named {name!r} (IDs {ids}): give the Customer ID",
                    "customer_name", name))
            elif candidates:
                customer.stored = candidates[0]
        customers = [c for c in (*self.by_id.values(), *self.by_name_only.values()) if c.merged_into is None]
        for customer in customers:
            if customer.stored is None and not customer.values[NAME]:
                customer.add_errors(RowError(
                    customer.first_line, "Customer name is required for a new customer", "customer_name", ""))
        return customers

    def _apply_default_payment_period(self, customers: list[Customer]) -> None:
        default = self.settings.get("default_payment_period")
        if default is None:
            return
        for customer in customers:
            stored = customer.stored.doc.get("payment_period_days") if customer.stored else None
            if customer.values[PERIOD] is None and stored is None:
                customer.values[PERIOD] = default


def _problems(problems: dict[int, str], names: tuple[str, ...], batch: Batch, i: int, line: int) -> list[RowError]:
    return [RowError(line, message, names[index], batch.columns[names[index]][i])
            for index, message in problems.items()]


def _adoptable(without_id: Iterable[StoredCustomer]) -> StoredCustomer | None:
    """The one stored customer without an ID that a line with an ID and the same name takes over."""
    candidates = list(without_id)
    return candidates[0] if len(candidates) == 1 else None


def _rejection_errors(customer: Customer) -> list[RowError]:
    """The customer's own errors, and a pointer to them on its other lines."""
    own = {e.line for e in customer.errors}
    first = min(own)
    return customer.errors + [
        RowError(line, f"not imported: customer {customer.label()} has an error on line {first}")
        for line in dict.fromkeys(customer.lines) if line not in own  # a line of several contacts once
    ]


def _group_depth(customer: Customer) -> int:
    depth, node = 0, customer.parent
    while isinstance(node, Customer) and depth < 100:
        depth, node = depth + 1, node.parent
    return depth


def _customer_document(customer: Customer) -> Document:
    data = dict(zip(CUSTOMER_KEYS, customer.values))
    parent = customer.parent
    data["group_external_id"] = parent.external_id if parent else None
    data["group_name"] = parent.name if parent else None
    key = customer.external_id or customer.name or ""
    return Document("customers", key, data, tuple(customer.lines), customer.stored.ref if customer.stored else None)


def _documents(customers: list[Customer], contacts: Iterable[list[Document]]) -> Iterator[list[Document]]:
    """Customers first, groups before their subsidiaries, then the contacts; in batches."""
    if any(c.parent is not None for c in customers):
        customers.sort(key=_group_depth)
    for start in range(0, len(customers), DOCUMENT_BATCH):
        yield [_customer_document(c) for c in customers[start:start + DOCUMENT_BATCH]]
    yield from contacts
