"""Refunds: create against a charge, retrieve, list.

A refund updates its charge as on Stripe: ``amount_refunded`` grows and ``refunded`` turns true once
nothing is left (``charge.refunds`` is built on request, by ``expand[]=refunds``). The emulator has
no PaymentIntents, so ``payment_intent=`` names no such object.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_stripe.testing.currencies import check_whole_units, format_amount
from airflow_provider_stripe.testing.endpoint import ApiContext, Endpoint
from airflow_provider_stripe.testing.errors import invalid, resource_missing
from airflow_provider_stripe.testing.ids import new_id
from airflow_provider_stripe.testing.listing import LIST_SCHEMA, field_filter, list_page
from airflow_provider_stripe.testing.params import (
    Schema,
    choice,
    email,
    flag,
    integer,
    metadata,
    text,
    texts,
)
from airflow_provider_stripe.testing.store import Record

REASONS = ("duplicate", "fraudulent", "requested_by_customer")

CREATE: Schema = {
    "charge": text(),
    "payment_intent": text(),
    "amount": integer(minimum=1),
    "reason": choice(*REASONS),
    "metadata": metadata(),
    "refund_application_fee": flag(),
    "reverse_transfer": flag(),
    "instructions_email": email(),
    "origin": choice("customer_balance"),
    "currency": text(),
    "customer": text(),
    "expand": texts(),
}

LIST: Schema = {**LIST_SCHEMA, "charge": text(), "payment_intent": text()}
RETRIEVE: Schema = {"expand": texts()}


def _charge(ctx: ApiContext, params: dict[str, Any]) -> Record:
    charge_id, payment_intent = params.get("charge"), params.get("payment_intent")
    if charge_id and payment_intent:
        raise invalid(
            "payment_intent",
            "You may only specify one of these parameters: charge, payment_intent.",
            "parameters_exclusive",
        )
    if payment_intent:
        raise resource_missing("payment_intent", payment_intent, param="payment_intent")
    if not charge_id:
        raise invalid(
            "charge",
            "One of the following params should be provided for this request: payment_intent or charge.",
            "parameter_missing",
        )
    return ctx.find("charge", charge_id, param="charge")


def create(ctx: ApiContext, params: dict[str, Any], _: Mapping[str, str]) -> dict[str, Any]:
    record = _charge(ctx, params)
    charge = record.obj
    if charge["status"] == "failed":
        raise invalid("charge", f"Charge {charge['id']} has failed and cannot be refunded.")
    remaining = charge["amount"] - charge["amount_refunded"]
    if remaining <= 0:
        raise invalid(
            "charge", f"Charge {charge['id']} has already been refunded.", "charge_already_refunded"
        )
    amount = params.get("amount") or remaining
    if amount > remaining:
        currency = charge["currency"]
        what = "unrefunded amount on charge" if charge["amount_refunded"] else "charge amount"
        raise invalid(
            "amount",
            f"Refund amount ({format_amount(amount, currency)}) is greater than "
            f"{what} ({format_amount(remaining, currency)})",
        )
    check_whole_units(amount, charge["currency"])
    refund = {
        "id": new_id("re"),
        "object": "refund",
        "amount": amount,
        "balance_transaction": new_id("txn") if charge["captured"] else None,
        "charge": charge["id"],
        "created": ctx.created,
        "currency": charge["currency"],
        "customer": None,
        "customer_account": None,
        "destination_details": {
            "card": (
                {
                    "reference": None,
                    "reference_status": "pending",
                    "reference_type": "acquirer_reference_number",
                    "type": "refund",
                }
                if charge["captured"]
                else {"type": "reversal"}
            ),
            "type": "card",
        },
        "metadata": params.get("metadata") or {},
        "payment_intent": charge["payment_intent"],
        "payment_method": None,
        "reason": params.get("reason"),
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": "succeeded",
        "transfer_reversal": None,
    }
    ctx.save("refund", refund)
    charge["amount_refunded"] += amount
    charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
    return refund


def retrieve(ctx: ApiContext, _: dict[str, Any], path: Mapping[str, str]) -> dict[str, Any]:
    return ctx.find("refund", path["id"], param="id", status=404).obj


def list_(ctx: ApiContext, params: dict[str, Any], _: Mapping[str, str]) -> dict[str, Any]:
    matches = field_filter(params, ("charge", "payment_intent"))
    return list_page(ctx.ledger["refund"], params, "/v1/refunds", lambda r: ctx.listable(r) and matches(r))


ENDPOINTS = (
    Endpoint("POST", "/v1/refunds", "refund", "write", "RefundCreateParams", CREATE, create),
    Endpoint("GET", "/v1/refunds", "refund", "read", "RefundListParams", LIST, list_),
    Endpoint("GET", "/v1/refunds/{id}", "refund", "read", "RefundRetrieveParams", RETRIEVE, retrieve),
)
