"""Groups and subsidiaries: each subsidiary names its group by Group ID and/or Group name."""
from __future__ import annotations

from etl import RowError

from .model import GROUP_ID, GROUP_NAME, Customer
from .store_index import StoreIndex, StoredCustomer, name_key

Node = Customer | StoredCustomer


class GroupFinder:
    """Finds a group among the file's customers first, then the store's."""

    def __init__(self, customers: list[Customer], store: StoreIndex) -> None:
        self.store = store
        self.customers = customers
        self.by_id = {c.external_id: c for c in customers if c.external_id}
        self.by_ref = {c.stored.ref: c for c in customers if c.stored is not None}
        self._by_name: dict[str, list[Customer]] | None = None

    @property
    def by_name(self) -> dict[str, list[Customer]]:
        """The file's customers by name, indexed on first use (only groups named by name need it)."""
        if self._by_name is None:
            self._by_name = {}
            for c in self.customers:
                if c.name:
                    self._by_name.setdefault(name_key(c.name), []).append(c)
        return self._by_name

    def _in_file(self, stored: StoredCustomer) -> Node:
        return self.by_ref.get(stored.ref, stored)

    def find(self, group_id: str | None, group_name: str | None) -> Node:
        """The group named; ValueError with the reason when unknown or ambiguous."""
        if group_id:
            stored = self.store.by_id(group_id)
            group = self.by_id.get(group_id) or (self._in_file(stored) if stored is not None else None)
            if group is None:
                raise ValueError(f"unknown group: no customer has the Customer ID {group_id!r}")
            if group_name and name_key(group.name or "") != name_key(group_name):
                raise ValueError(f"Group ID {group_id!r} is the customer {group.name!r}, not {group_name!r}")
            return group
        key = name_key(group_name or "")
        candidates: list[Node] = list(self.by_name.get(key, []))
        if not candidates:
            candidates = [self._in_file(s) for s in self.store.named(key)]
        if not candidates:
            raise ValueError(f"unknown group: no customer is named {group_name!r}")
        if len(candidates) > 1:
            raise ValueError(f"several customers are named {group_name!r}: give the Group ID")
        return candidates[0]

    def parent_of(self, node: Node) -> Node | None:
        """The group of a customer, as given in the file or, failing that, as stored."""
        if isinstance(node, Customer):
            if node.parent is not None or node.stored is None:
                return node.parent
            node = node.stored
        group_id, group_name = node.doc.get("group_external_id"), node.doc.get("group_name")
        if not group_id and not group_name:
            return None
        try:
            return self.find(group_id, None if group_id else group_name)
        except ValueError:
            return None


def resolve_groups(customers: list[Customer], store: StoreIndex) -> None:
    """Set each subsidiary's ``parent``; reject unknown groups, cycles and orphans of rejected groups."""
    if not any(c.values[GROUP_ID] or c.values[GROUP_NAME] for c in customers):
        return  # no subsidiary in the file: no group to resolve, no cycle to make
    finder = GroupFinder(customers, store)
    for customer in customers:
        group_id, group_name = customer.values[GROUP_ID], customer.values[GROUP_NAME]
        if not group_id and not group_name:
            continue
        field_name = "group_id" if group_id else "group_name"
        line = customer.given_on(GROUP_ID if group_id else GROUP_NAME)
        try:
            parent = finder.find(group_id, group_name)
        except ValueError as exc:
            customer.add_errors(RowError(line, str(exc), field_name, group_id or group_name))
            continue
        if parent is customer:
            customer.add_errors(RowError(line, "a customer cannot be its own group", field_name,
                                            group_id or group_name))
            continue
        customer.parent = parent
    for customer in customers:
        if customer.parent is not None and _in_cycle(customer, finder):
            index = GROUP_ID if customer.values[GROUP_ID] else GROUP_NAME
            customer.add_errors(RowError(
                customer.given_on(index), f"group cycle: {_cycle_text(customer, finder)}",
                "group_id" if index == GROUP_ID else "group_name", customer.values[index]))
    _reject_orphans(customers)


def _in_cycle(customer: Customer, finder: GroupFinder) -> bool:
    seen: set[int] = set()
    node = finder.parent_of(customer)
    while node is not None and id(node) not in seen:
        if node is customer:
            return True
        seen.add(id(node))
        node = finder.parent_of(node)
    return False


def _cycle_text(customer: Customer, finder: GroupFinder) -> str:
    names, node = [customer.label()], finder.parent_of(customer)
    while node is not None and node is not customer and len(names) < 10:
        names.append(repr(node.name or node.external_id))
        node = finder.parent_of(node)
    return " is in ".join([*names, customer.label()])


def _reject_orphans(customers: list[Customer]) -> None:
    """A subsidiary whose group is a new customer that is rejected cannot be imported either."""
    changed = True
    while changed:
        changed = False
        for customer in customers:
            parent = customer.parent
            if (isinstance(parent, Customer) and parent.rejected and parent.stored is None
                    and not customer.rejected):
                index = GROUP_ID if customer.values[GROUP_ID] else GROUP_NAME
                customer.add_errors(RowError(
                    customer.given_on(index), f"its group {parent.label()} is rejected",
                    "group_id" if index == GROUP_ID else "group_name", customer.values[index]))
                changed = True
