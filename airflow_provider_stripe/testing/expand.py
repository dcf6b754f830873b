"""``expand[]``: replacing an id in a response with the object it names, as Stripe does on request.

Stripe's rules (API reference, "Expanding responses"): each expandable field is listed on its
object; ``a.b`` expands ``b`` inside the expanded ``a``; on a list, paths start with ``data.``; at most
four levels; anything else is a 400 "This property cannot be expanded (path)." Since API version
2022-11-15 (changelog "deprecates-charges-auto-expand") a Charge carries ``refunds`` only when
``expand[]=refunds`` asks for it.

The expandable fields are stripe-python 16.1.0's ``ExpandableField`` ones, generated into the data
file by ``scripts/generate_stripe_params.py`` (nested ones dotted: ``transfer_data.destination``),
plus the fields a response carries only when expanded (:data:`INCLUDED_WHEN_EXPANDED`).

Expansion works on a copy: stored objects keep their ids.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from airflow_provider_stripe.testing import accepted
from airflow_provider_stripe.testing.endpoint import ApiContext
from airflow_provider_stripe.testing.errors import StripeAPIError
from airflow_provider_stripe.testing.listing import DEFAULT_LIMIT, list_object
from airflow_provider_stripe.testing.store import ListWindow

MAX_LEVELS = 4

Expander = Callable[[ApiContext, dict[str, Any], str], Any]
"""Given the object holding the field and the field's name, the expanded value."""


def _stored(kind: str) -> Expander:
    """The stored ``kind`` object the field names (a deleted customer shows as deleted)."""

    def expander(ctx: ApiContext, owner: dict[str, Any], field: str) -> Any:
        record = ctx.ledger[kind].get(owner[field])
        return record.obj if record is not None else owner[field]

    return expander


def _default_source(ctx: ApiContext, owner: dict[str, Any], field: str) -> Any:
    instrument = ctx.ledger.instruments.get(owner["default_source"])
    return instrument.card_object if instrument is not None else owner["default_source"]


def _refunds(ctx: ApiContext, charge: dict[str, Any], field: str) -> dict[str, Any]:
    """The first page of the charge's refunds, as ``GET /v1/charges/{id}/refunds`` would give it."""
    window = ListWindow(DEFAULT_LIMIT, None, None, None, None)
    records, has_more = ctx.ledger["refund"].page(
        window, lambda record: record.obj["charge"] == charge["id"] and ctx.listable(record)
    )
    return list_object([record.obj for record in records], has_more, f"/v1/charges/{charge['id']}/refunds")


def _balance_transaction(ctx: ApiContext, owner: dict[str, Any], field: str) -> dict[str, Any]:
    """The ledger entry behind a captured charge (Stripe's US card pricing) or a refund."""
    is_charge = owner["object"] == "charge"
    amount = owner["amount"] if is_charge else -owner["amount"]
    fee = round(owner["amount"] * 0.029) + 30 if is_charge else 0
    kind = "charge" if is_charge else "refund"
    fee_detail = {
        "amount": fee,
        "application": None,
        "currency": owner["currency"],
        "description": "Stripe processing fees",
        "type": "stripe_fee",
    }
    return {
        "id": owner["balance_transaction"],
        "object": "balance_transaction",
        "amount": amount,
        "available_on": owner["created"] + 2 * 86400,
        "balance_type": "payments",
        "created": owner["created"],
        "currency": owner["currency"],
        "description": owner.get("description"),
        "exchange_rate": None,
        "fee": fee,
        "fee_details": [fee_detail] if fee else [],
        "net": amount - fee,
        "reporting_category": kind,
        "source": owner["id"],
        "status": "pending",
        "type": kind,
    }


def _unmodelled(ctx: ApiContext, owner: dict[str, Any], field: str) -> Any:
    """Expandable on Stripe, but the emulator has no such objects: the value stays as it is (null)."""
    return owner.get(field)


def _sources(ctx: ApiContext, customer: dict[str, Any], field: str) -> dict[str, Any]:
    """The customer's cards, as ``GET /v1/customers/{id}/sources`` would list them."""
    cards = [
        instrument.card_object
        for instrument in ctx.ledger.instruments.values()
        if instrument.customer == customer["id"] and instrument.card_object is not None
    ]
    return list_object(cards, False, f"/v1/customers/{customer['id']}/sources")


def _empty_list(path: str) -> Expander:
    """A list the emulator has nothing for (subscriptions, tax ids): empty, at Stripe's URL."""

    def expander(ctx: ApiContext, customer: dict[str, Any], field: str) -> dict[str, Any]:
        return list_object([], False, path.format(id=customer["id"]))

    return expander


def _tax(ctx: ApiContext, customer: dict[str, Any], field: str) -> dict[str, Any]:
    """No address and no IP address: Stripe cannot place the customer (API reference, Customer ``tax``)."""
    return {
        "automatic_tax": "unrecognized_location",
        "ip_address": None,
        "location": None,
        "provider": "stripe",
    }


def _cash_balance(ctx: ApiContext, customer: dict[str, Any], field: str) -> dict[str, Any]:
    return {
        "object": "cash_balance",
        "available": None,
        "customer": customer["id"],
        "customer_account": None,
        "livemode": customer["livemode"],
        "settings": {"reconciliation_mode": "automatic", "using_merchant_default": True},
    }


@dataclass(frozen=True)
class Expandable:
    expander: Expander
    kind: str | None
    """The object type the field expands to (for a list: of its items); None when not modelled."""
    is_list: bool = False


_MODELLED: dict[tuple[str, str], Expandable] = {
    ("card", "customer"): Expandable(_stored("customer"), "customer"),
    ("charge", "balance_transaction"): Expandable(_balance_transaction, "balance_transaction"),
    ("charge", "customer"): Expandable(_stored("customer"), "customer"),
    ("customer", "default_source"): Expandable(_default_source, "card"),
    ("refund", "balance_transaction"): Expandable(_balance_transaction, "balance_transaction"),
    ("refund", "charge"): Expandable(_stored("charge"), "charge"),
    ("refund", "customer"): Expandable(_stored("customer"), "customer"),
}
"""The expandable fields whose objects the emulator has."""

INCLUDED_WHEN_EXPANDED: dict[str, dict[str, Expandable]] = {
    # Changelog 2022-11-15, "deprecates-charges-auto-expand".
    "charge": {"refunds": Expandable(_refunds, "refund", is_list=True)},
    # Changelog 2020-08-27: sources, subscriptions and tax_ids are no longer included by default;
    # API reference, Customer object: tax and cash_balance are "not included by default".
    "customer": {
        "cash_balance": Expandable(_cash_balance, "cash_balance"),
        "sources": Expandable(_sources, "card", is_list=True),
        "subscriptions": Expandable(
            _empty_list("/v1/customers/{id}/subscriptions"), "subscription", is_list=True
        ),
        "tax": Expandable(_tax, None),
        "tax_ids": Expandable(_empty_list("/v1/customers/{id}/tax_ids"), "tax_id", is_list=True),
    },
}
"""Fields a response carries only when asked to expand them (not ``ExpandableField`` in the SDK)."""


def _expandable() -> dict[str, dict[str, Expandable]]:
    """stripe-python 16.1.0's ``ExpandableField`` fields (generated), with the emulator's expanders."""
    table: dict[str, dict[str, Expandable]] = {}
    for kind, fields in accepted.generated()["expandable"].items():
        table[kind] = {
            path: _MODELLED.get((kind, path))
            or Expandable(_unmodelled, targets[0] if len(targets) == 1 and targets[0] else None)
            for path, targets in fields.items()
        }
    for kind, fields in INCLUDED_WHEN_EXPANDED.items():
        table[kind] = {**table[kind], **fields}
    return table


EXPANDABLE = _expandable()
"""Per object type, its expandable fields (API reference: the fields marked "Expandable"), nested
ones as dotted paths (``invoice_settings.default_payment_method``)."""


def cannot_expand(path: str, hint: str | None = None) -> StripeAPIError:
    message = f"This property cannot be expanded ({path})."
    if hint:
        message += f" You may want to try expanding '{hint}' instead."
    return StripeAPIError(400, message)


def _field(kind: str | None, segments: Sequence[str]) -> tuple[str, Expandable] | None:
    """The expandable field of ``kind`` that ``segments`` start with (the longest dotted match)."""
    fields = EXPANDABLE.get(kind or "", {})
    for length in range(len(segments), 0, -1):
        name = ".".join(segments[:length])
        if name in fields:
            return name, fields[name]
    return None


def check(kind: str, is_list: bool, paths: Sequence[str]) -> None:
    """Refuse, before anything runs, a path that a ``kind`` response (or a list of them) cannot expand."""
    for path in paths:
        segments = path.split(".")
        if len(segments) > MAX_LEVELS:
            raise StripeAPIError(400, f"You cannot expand more than {MAX_LEVELS} levels of a property.")
        if is_list and segments[0] != "data":
            raise cannot_expand(path, f"data.{path}")
        current: str | None = kind
        inside_list = is_list
        while segments:
            if inside_list:
                if segments[0] != "data":
                    raise cannot_expand(path)
                inside_list, segments = False, segments[1:]
                continue
            found = _field(current, segments)
            if found is None:
                raise cannot_expand(path)
            name, field = found
            current, inside_list = field.kind, field.is_list
            segments = segments[name.count(".") + 1 :]


def expand(ctx: ApiContext, response: dict[str, Any], paths: Sequence[str]) -> dict[str, Any]:
    """``response`` with every (checked) path in ``paths`` expanded; a copy if there is anything to do."""
    if not paths:
        return response
    expanded = copy.deepcopy(response)
    for path in paths:
        _expand(ctx, expanded, path.split("."))
    return expanded


def _expand(ctx: ApiContext, node: Any, segments: list[str]) -> None:
    if not segments or not isinstance(node, dict):
        return
    if node.get("object") == "list":
        for item in node["data"]:
            _expand(ctx, item, segments[1:])
        return
    found = _field(node.get("object"), segments)
    if found is None:  # an unmodelled object shown as null or as an id: nothing to expand into
        return
    name, field = found
    *hashes, leaf = name.split(".")
    owner: Any = node
    for key in hashes:  # a nested field (transfer_data.destination): through its plain hashes
        owner = owner.get(key)
        if not isinstance(owner, dict):
            return
    value = owner.get(leaf)
    if isinstance(value, str) or leaf not in owner:  # an id, or a field shown only when expanded
        value = owner[leaf] = copy.deepcopy(field.expander(ctx, owner, leaf))
    _expand(ctx, value, segments[len(hashes) + 1 :])
