"""The settings of the customer rules, validated with marshmallow."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

from .matching import check_rules
from .values import email


class CommaList(fields.List):
    """A list, also given as one comma-separated string (``--rule-option known_workflows=A,B``)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        return super()._deserialize(value, attr, data, **kwargs)


class EmailAddress(fields.String):
    """An email address checked like the file's emails."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return email(super()._deserialize(value, attr, data, **kwargs).strip())
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class MatchRules(CommaList):
    """The ordered match rules of one kind of record (see :mod:`etl.plugins.matching`)."""

    def __init__(self, kind: str, description: str) -> None:
        super().__init__(fields.String(), load_default=None, allow_none=True, metadata={"description": description})
        self.kind = kind

    def _deserialize(self, value, attr, data, **kwargs):
        rules = super()._deserialize(value, attr, data, **kwargs)
        try:
            check_rules(self.kind, rules)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        return rules


class CustomerSettings(Schema):
    default_payment_period = fields.Integer(
        load_default=None, allow_none=True, strict=False, validate=validate.Range(min=0),
        metadata={"description": "Days used when a customer's payment period is empty."},
    )
    known_workflows = CommaList(fields.String(), load_default=list)
    known_account_managers = CommaList(EmailAddress(), load_default=list)
    unknown_workflow = fields.String(load_default="error", validate=validate.OneOf(["error", "warning"]))
    duplicates = fields.String(
        load_default="agree", validate=validate.OneOf(["agree", "last"]),
        metadata={"description": "Lines of one customer that give it different values: an error on the "
                                 "later line (agree), or the later line's value kept, with a warning (last)."},
    )
    clear_marker = fields.String(
        load_default="#CLEAR", validate=validate.Length(min=1),
        metadata={"description": "A cell holding it erases the stored field (a blank cell keeps it)."},
    )
    match_customers = MatchRules(
        "customers", "How a customer of the file finds the stored one it updates, rule after rule: "
                     "external_id, then any of name and vat_number (default: external_id, name).")
    match_contacts = MatchRules(
        "contacts", "How a contact of the file finds the stored one it updates: email, then external_id "
                    "(the Contact reference) when listed (default: email).")
