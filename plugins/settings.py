"""The settings of the customer rules, validated with marshmallow."""
from __future__ import annotations

from marshmallow import Schema, fields, validate


class CommaList(fields.List):
    """A list, also given as one comma-separated string (``--rule-option known_workflows=A,B``)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        return super()._deserialize(value, attr, data, **kwargs)


class CustomerSettings(Schema):
    default_payment_period = fields.Integer(
        load_default=None, allow_none=True, strict=False, validate=validate.Range(min=0),
        metadata={"description": "Days used when a customer's payment period is empty."},
    )
    known_workflows = CommaList(fields.String(), load_default=list)
    known_account_managers = CommaList(fields.Email(), load_default=list)
    unknown_workflow = fields.String(load_default="error", validate=validate.OneOf(["error", "warning"]))
