"""The customer and contact rules of the import method."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from etl.components import Batch, Document, RulesOutcome, StoredDocument
from etl.errors import RowError

from . import values as parse
from .contacts import decide_contacts
from .fields import CONTACT_DOCUMENT, CONTACT_FIELD_NAMES, CUSTOMER_DOCUMENT, CUSTOMER_FIELD_NAMES, FIELDS
from .groups import resolve_groups
from .model import ContactLine, Customer
from .store_index import StoreIndex, StoredCustomer, name_key

DOCUMENT_BATCH = 5000
FORMULA_QUOTES = ("'=", "'+", "'-", "'@")


def unquote_formula(text: str) -> str:
    """Undo the apostrophe a rejects file puts before a formula-like value ("'+33 1" -> "+33 1")."""
    return text[1:] if text.startswith(FORMULA_QUOTES) else text
CONTACT_FIELD_TO_KEY = {f: k for k, f in CONTACT_DOCUMENT.items()}


class CustomerRules:
    """Builds customer and contact documents from a file's lines (one instance per run)."""

    kinds = ("customers", "contacts")
    fields = FIELDS

    def __init__(self) -> None:
        self.by_id: dict[str, Customer] = {}
        self.by_name_only: dict[str, Customer] = {}
        self.contact_lines: list[ContactLine] = []
        self.line_errors: list[RowError] = []
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
                parse.one_of(settings["known_account_managers"], "account manager")
                if settings.get("known_account_managers") else parse.email
            ),
            "payment_period": parse.payment_period,
            "contact_email": parse.email,
            "contact_position": parse.position,
            "main_contact": parse.main_flag,
        }
        if settings.get("known_workflows") and settings.get("unknown_workflow", "error") == "error":
            self.parsers["workflow"] = parse.one_of(settings["known_workflows"], "workflow")
        self.known_workflows = {w.casefold(): w for w in settings.get("known_workflows") or ()}

    # -- reading the lines -------------------------------------------------------------------

    def _parsed_column(self, batch: Batch, field_name: str) -> tuple[list[Any], dict[int, str]]:
        """Stripped and parsed values of one column (None when blank), and messages by row index."""
        texts = [v.strip() for v in batch.columns[field_name]]
        if "\x1f'" in "\x1f" + "\x1f".join(texts):
            texts = [unquote_formula(t) for t in texts]
        parser = self.parsers.get(field_name)
        if parser is None:
            return [t or None for t in texts], {}
        parsed: list[Any] = []
        problems: dict[int, str] = {}
        cache: dict[str, Any] = {}
        for i, text in enumerate(texts):
            if not text:
                parsed.append(None)
                continue
            try:
                value = cache[text] if text in cache else cache.setdefault(text, parser(text))
            except ValueError as exc:
                problems[i] = str(exc)
                value = None
            parsed.append(value)
        return parsed, problems

    def add_batch(self, batch: Batch) -> list[RowError]:
        customer_columns = [f for f in CUSTOMER_FIELD_NAMES if f in batch.columns]
        contact_columns = [f for f in CONTACT_FIELD_NAMES if f in batch.columns]
        parsed = {f: self._parsed_column(batch, f) for f in customer_columns + contact_columns}
        raw = batch.columns
        none = [None] * len(batch)
        ids = parsed["customer_id"][0] if "customer_id" in parsed else none
        names = parsed["customer_name"][0] if "customer_name" in parsed else none
        for i, line in enumerate(batch.lines):
            customer = self._customer_of(ids[i], names[i])
            has_contact = any(parsed[f][0][i] is not None or i in parsed[f][1] for f in contact_columns)
            if customer is None:
                if has_contact or any(parsed[f][0][i] is not None for f in customer_columns):
                    self.line_errors.append(RowError(
                        line, "the line names no customer: give the Customer ID or the Customer name", "customer_name"))
                continue
            customer.lines.append(line)
            for f in customer_columns:
                value, problems = parsed[f][0][i], parsed[f][1]
                if i in problems:
                    customer.errors.append(RowError(line, problems[i], f, raw[f][i]))
                elif value is not None:
                    self._give(customer, f, value, line, raw[f][i])
            if has_contact:
                self._add_contact(line, customer, i, parsed, raw, contact_columns)
        return []

    def _customer_of(self, external_id: str | None, name: str | None) -> Customer | None:
        if external_id:
            return self.by_id.setdefault(external_id, Customer())
        if name:
            return self.by_name_only.setdefault(name_key(name), Customer())
        return None

    def _give(self, customer: Customer, field_name: str, value: Any, line: int, text: str) -> None:
        if field_name == "workflow" and self.known_workflows:
            canonical = self.known_workflows.get(value.casefold())
            if canonical is None:
                self.warnings.append(RowError(line, "unknown workflow (kept as given)", field_name, text))
            value = canonical or value
        customer.give(field_name, value, line, text)

    def _add_contact(self, line: int, customer: Customer, i: int, parsed: dict, raw: Mapping[str, list[str]],
                     columns: list[str]) -> None:
        contact = ContactLine(line, customer, {})
        for f in columns:
            value, problems = parsed[f][0][i], parsed[f][1]
            if i in problems:
                contact.errors.append(RowError(line, problems[i], f, raw[f][i]))
            contact.values[CONTACT_FIELD_TO_KEY[f]] = value
        if contact.email is None and "contact_email" not in {e.field for e in contact.errors}:
            contact.errors.append(RowError(line, "a contact needs an email: this contact is not imported",
                                           "contact_email", ""))
        self.contact_lines.append(contact)

    # -- deciding once the whole file is read ---------------------------------------------------

    def finish(self) -> RulesOutcome:
        store = StoreIndex.load(self.existing)
        customers = self._identify(store)
        resolve_groups(customers, store)
        self._apply_default_payment_period(customers)
        rejected_customers = [c for c in customers if c.rejected]
        errors = list(self.line_errors)
        for customer in rejected_customers:
            errors.extend(_rejection_errors(customer))
        contacts, contact_errors, contacts_rejected = decide_contacts(self.contact_lines, store)
        errors.extend(contact_errors)
        accepted = [c for c in customers if not c.rejected]
        return RulesOutcome(
            documents=self._documents(accepted, contacts),
            errors=errors,
            rejected={"customers": len(rejected_customers), "contacts": contacts_rejected},
            warnings=self.warnings,
        )

    def _identify(self, store: StoreIndex) -> list[Customer]:
        """Link name-only lines to a customer of the file or the store; find stored customers."""
        file_names: dict[str, list[Customer]] = {}
        for customer in self.by_id.values():
            if customer.values.get("customer_name"):
                file_names.setdefault(name_key(customer.values["customer_name"]), []).append(customer)
        for external_id, customer in self.by_id.items():
            customer.stored = store.by_id.get(external_id) or _adoptable(store.named(
                name_key(customer.values.get("customer_name") or "")))
        for key, customer in self.by_name_only.items():
            in_file = file_names.get(key, [])
            if len(in_file) == 1:
                in_file[0].absorb(customer)
                continue
            candidates = in_file or store.named(key)
            if len(candidates) > 1:
                ids = ", ".join(sorted(str(c.external_id) for c in candidates))
                customer.errors.append(RowError(
                    customer.lines[0],
                    f"several customers are named {customer.values['customer_name']!r} (IDs {ids}): "
                    "give the Customer ID", "customer_name", customer.values["customer_name"]))
            elif candidates:
                customer.stored = candidates[0]
        customers = [c for c in (*self.by_id.values(), *self.by_name_only.values()) if c.merged_into is None]
        for customer in customers:
            if customer.stored is None and not customer.values.get("customer_name"):
                customer.errors.append(RowError(
                    customer.lines[0], "Customer name is required for a new customer", "customer_name", ""))
        return customers

    def _apply_default_payment_period(self, customers: list[Customer]) -> None:
        default = self.settings.get("default_payment_period")
        if default is None:
            return
        for customer in customers:
            stored = customer.stored.doc.get("payment_period_days") if customer.stored else None
            if customer.values.get("payment_period") is None and stored is None:
                customer.values["payment_period"] = default

    def _documents(self, customers: list[Customer], contacts: list[Document]) -> Iterator[list[Document]]:
        ordered = sorted(customers, key=_group_depth)
        for start in range(0, len(ordered), DOCUMENT_BATCH):
            yield [_customer_document(c) for c in ordered[start:start + DOCUMENT_BATCH]]
        for start in range(0, len(contacts), DOCUMENT_BATCH):
            yield contacts[start:start + DOCUMENT_BATCH]


def _adoptable(named: list[StoredCustomer]) -> StoredCustomer | None:
    """A stored customer without an ID that a line with an ID and the same name takes over."""
    without_id = [s for s in named if not s.external_id]
    return without_id[0] if len(without_id) == 1 else None


def _rejection_errors(customer: Customer) -> list[RowError]:
    """The customer's own errors, and a pointer to them on its other lines."""
    own = {e.line for e in customer.errors}
    first = min(own)
    return customer.errors + [
        RowError(line, f"not imported: customer {customer.label()} has an error on line {first}")
        for line in customer.lines if line not in own
    ]


def _group_depth(customer: Customer) -> int:
    depth, node = 0, customer.parent
    while isinstance(node, Customer) and depth < 100:
        depth, node = depth + 1, node.parent
    return depth


def _customer_document(customer: Customer) -> Document:
    data = {key: customer.values.get(f) for key, f in CUSTOMER_DOCUMENT.items()}
    parent = customer.parent
    data["group_external_id"] = parent.external_id if parent else None
    data["group_name"] = parent.name if parent else None
    key = customer.external_id or customer.name or ""
    return Document("customers", key, data, tuple(customer.lines), customer.stored.ref if customer.stored else None)

