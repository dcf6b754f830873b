"""``expand[]``: replacing an id in a response with the object it names, as Stripe does on request.

Stripe's rules (API reference, "Expanding responses"): each expandable field is listed on its
object; ``a.b`` expands ``b`` inside the expanded ``a``; on a list, paths start with ``data.``; at most
four levels; anything else is a 400 "This property cannot be expanded (path)." Since API version
2022-11-15 (changelog "deprecates-charges-auto-expand") a Charge carries ``refunds`` only when
``expand[]=refunds`` asks for it.

Expansion works on a copy: stored objects keep their ids.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

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
    return owner[field]


@dataclass(frozen=True)
class Expandable:
    expander: Expander
    kind: str | None
    """The object type the field expands to (for a list: of its items); None when not modelled."""
    is_list: bool = False


_UNMODELLED = Expandable(_unmodelled, None)

EXPANDABLE: dict[str, dict[str, Expandable]] = {
    "charge": {
        **dict.fromkeys(
            ("application", "application_fee", "failure_balance_transaction", "on_behalf_of",
             "payment_intent", "review", "source_transfer", "transfer"),
            _UNMODELLED,
        ),
        "balance_transaction": Expandable(_balance_transaction, "balance_transaction"),
        "customer": Expandable(_stored("customer"), "customer"),
        "refunds": Expandable(_refunds, "refund", is_list=True),
    },
    "refund": {
        **dict.fromkeys(
            ("failure_balance_transaction", "payment_intent", "source_transfer_reversal",
             "transfer_reversal"),
            _UNMODELLED,
        ),
        "balance_transaction": Expandable(_balance_transaction, "balance_transaction"),
        "charge": Expandable(_stored("charge"), "charge"),
    },
    "customer": {"default_source": Expandable(_default_source, "card"), "test_clock": _UNMODELLED},
    "product": {"default_price": _UNMODELLED, "tax_code": _UNMODELLED},
}  # fmt: skip
"""Per object type, its expandable fields (API reference: the fields marked "Expandable")."""


def cannot_expand(path: str, hint: str | None = None) -> StripeAPIError:
    message = f"This property cannot be expanded ({path})."
    if hint:
        message += f" You may want to try expanding '{hint}' instead."
    return StripeAPIError(400, message)


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
        for segment in segments:
            if inside_list:
                if segment != "data":
                    raise cannot_expand(path)
                inside_list = False
                continue
            field = EXPANDABLE.get(current or "", {}).get(segment)
            if field is None:
                raise cannot_expand(path)
            current, inside_list = field.kind, field.is_list


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
    head, rest = segments[0], segments[1:]
    if node.get("object") == "list":
        for item in node["data"]:
            _expand(ctx, item, rest)
        return
    field = EXPANDABLE[node["object"]][head]
    value = node.get(head)
    if isinstance(value, str) or head not in node:  # an id, or a field shown only when expanded
        value = node[head] = copy.deepcopy(field.expander(ctx, node, head))
    _expand(ctx, value, rest)
