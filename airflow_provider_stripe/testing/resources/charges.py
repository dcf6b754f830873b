"""Charges: create against a test source or a customer's card, retrieve, list, and list a charge's refunds."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from airflow_provider_stripe.limits import DESCRIPTION_MAX_LENGTH, STATEMENT_DESCRIPTOR_MAX_LENGTH
from airflow_provider_stripe.testing import currencies, settlement
from airflow_provider_stripe.testing.cards import KnownCard, payment_method_details
from airflow_provider_stripe.testing.endpoint import ApiContext, Endpoint
from airflow_provider_stripe.testing.errors import StripeAPIError, invalid
from airflow_provider_stripe.testing.ids import new_id
from airflow_provider_stripe.testing.listing import LIST_SCHEMA, field_filter, list_page
from airflow_provider_stripe.testing.params import (
    ADDRESS,
    Schema,
    email,
    flag,
    integer,
    metadata,
    nested,
    required,
    statement_descriptor,
    text,
    texts,
)
from airflow_provider_stripe.testing.resources import shapes
from airflow_provider_stripe.testing.resources.account import (
    STATEMENT_DESCRIPTOR,
    STATEMENT_DESCRIPTOR_PREFIX,
)
from airflow_provider_stripe.testing.resources.instruments import (
    customer_instrument,
    declined,
    new_instrument,
)
from airflow_provider_stripe.testing.settlement import AccountSettings
from airflow_provider_stripe.testing.store import Instrument

# API reference, "Create a charge": shipping needs a name and an address; every address line is optional.
_SHIPPING: Schema = {
    "name": required(text()),
    "address": required(nested(ADDRESS)),
    "carrier": text(),
    "phone": text(),
    "tracking_number": text(),
}


CREATE: Schema = {
    "amount": required(integer()),
    "currency": required(text()),
    "customer": text(),
    "source": text(),
    "description": text(DESCRIPTION_MAX_LENGTH),
    "capture": flag(),
    "receipt_email": email(),
    # On a card charge Stripe uses statement_descriptor as the suffix when none is given.
    "statement_descriptor": statement_descriptor(complete=False),
    "statement_descriptor_suffix": statement_descriptor(complete=False),
    "metadata": metadata(),
    "shipping": nested(_SHIPPING),
    "application_fee_amount": integer(minimum=0),
    "on_behalf_of": text(),
    "transfer_group": text(),
    "expand": texts(),
}

LIST: Schema = {**LIST_SCHEMA, "customer": text(), "payment_intent": text(), "transfer_group": text()}
RETRIEVE: Schema = {"expand": texts()}
REFUNDS: Schema = {name: field for name, field in LIST_SCHEMA.items() if name != "created"}


def check(params: dict[str, Any], settings: AccountSettings) -> None:
    """The currency's rules for the amount (https://docs.stripe.com/currencies), and something to charge.

    The minimum is the account's settlement currency's (:mod:`~airflow_provider_stripe.testing.settlement`).
    """
    currency, amount = params["currency"].lower(), params["amount"]
    if currency not in currencies.SUPPORTED:
        raise invalid(
            "currency",
            f"Invalid currency: {currency}. Stripe currently supports these currencies: "
            + ", ".join(sorted(currencies.SUPPORTED)),
        )
    settlement.check_minimum(amount, currency, settings.settlement_currency)
    if amount > currencies.MAXIMUM_AMOUNT:
        raise invalid(
            "amount",
            f"Amount must be no more than {currencies.format_amount(currencies.MAXIMUM_AMOUNT, currency)}",
            "amount_too_large",
        )
    if currency in currencies.THREE_DECIMAL and amount % 10:
        raise invalid(
            "amount",
            f"Invalid amount: {currency} is a three-decimal currency, so its amounts must end in 0 "
            f"(https://docs.stripe.com/currencies#three-decimal), not {amount}.",
        )
    currencies.check_whole_units(amount, currency)
    if params.get("customer") is None and params.get("source") is None:
        raise invalid(None, "Must provide source or customer.", "parameter_missing")


def _instrument(ctx: ApiContext, params: dict[str, Any]) -> Instrument:
    customer, source = params.get("customer"), params.get("source")
    if customer is None:
        assert source is not None  # check() made sure
        return new_instrument(ctx, source, customer=None, param="source")
    instrument = customer_instrument(ctx, ctx.find("customer", customer, param="customer"), source)
    if instrument is None:
        raise StripeAPIError(
            402,
            "Cannot charge a customer that has no active card",
            type="card_error",
            code="missing",
            param="card",
        )
    return instrument


def create(ctx: ApiContext, params: dict[str, Any], _: Mapping[str, str]) -> dict[str, Any]:
    currency = params["currency"].lower()
    amount: int = params["amount"]
    instrument = _instrument(ctx, params)
    decline = instrument.card.decline
    captured = decline is None and params.get("capture") is not False
    charge_id = new_id("ch")
    suffix = params.get("statement_descriptor_suffix")
    charge = {
        "id": charge_id,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount if captured else 0,
        "amount_refunded": 0,
        "application": None,
        "application_fee": None,
        "application_fee_amount": params.get("application_fee_amount"),
        "balance_transaction": new_id("txn") if captured else None,
        "billing_details": {
            "address": shapes.address({}),
            "email": None,
            "name": None,
            "phone": None,
            "tax_id": None,
        },
        "calculated_statement_descriptor": calculated_statement_descriptor(params),
        "captured": captured,
        "created": ctx.created,
        "currency": currency,
        "customer": params.get("customer"),
        "description": params.get("description"),
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": decline.code if decline else None,
        "failure_message": decline.message if decline else None,
        "fraud_details": {},
        "livemode": ctx.livemode,
        "metadata": params.get("metadata") or {},
        "on_behalf_of": params.get("on_behalf_of"),
        "outcome": _outcome(instrument.card),
        "paid": decline is None,
        "payment_intent": None,  # Charges-API charges have none; PaymentIntents make their own charges
        "payment_method": instrument.id,
        "payment_method_details": payment_method_details(instrument.card, amount, decline is not None),
        "receipt_email": params.get("receipt_email"),
        "receipt_number": None,
        "receipt_url": f"https://pay.stripe.com/receipts/payment/{secrets.token_urlsafe(48)}",
        "refunded": False,
        "review": None,
        "shipping": shapes.shipping(params.get("shipping"), "carrier", "tracking_number"),
        "source": instrument.card_object,
        "source_transfer": None,
        "statement_descriptor": params.get("statement_descriptor"),
        "statement_descriptor_suffix": suffix,
        "status": "failed" if decline else "succeeded",
        "transfer_data": None,
        "transfer_group": params.get("transfer_group"),
    }
    ctx.save("charge", charge)
    if decline is not None:  # Stripe keeps the failed charge, then answers 402 naming it
        raise declined(decline, charge_id)
    return charge


def calculated_statement_descriptor(params: Mapping[str, Any]) -> str:
    """What the card statement shows (https://docs.stripe.com/get-started/account/statement-descriptors):
    the account's static descriptor, or, with a dynamic suffix, its shortened descriptor (prefix),
    ``*``, a space and the suffix, 22 characters at most. On a card charge ``statement_descriptor``
    is the suffix when ``statement_descriptor_suffix`` is not given."""
    suffix = params.get("statement_descriptor_suffix") or params.get("statement_descriptor")
    if not suffix:
        return STATEMENT_DESCRIPTOR
    combined: str = f"{STATEMENT_DESCRIPTOR_PREFIX}* {suffix}"
    return combined[:STATEMENT_DESCRIPTOR_MAX_LENGTH]


_RISK_SCORES = {"normal": 20, "elevated": 65}


def _outcome(card: KnownCard) -> dict[str, Any]:
    """Radar's verdict: the issuer's decline, or an authorisation at the card's risk level."""
    decline = card.decline
    approved = decline is None
    return {
        "advice_code": None if approved else "try_again_later",
        "network_advice_code": None,
        "network_decline_code": None,
        "network_status": "approved_by_network" if approved else "declined_by_network",
        "reason": None if decline is None else decline.decline_code,
        "risk_level": card.risk_level,
        "risk_score": _RISK_SCORES[card.risk_level],
        "seller_message": "Payment complete."
        if approved
        else "The bank did not return any further details with this decline.",
        "type": "authorized" if approved else "issuer_declined",
    }


def retrieve(ctx: ApiContext, _: dict[str, Any], path: Mapping[str, str]) -> dict[str, Any]:
    return ctx.find("charge", path["id"], param="id", status=404).obj


def list_(ctx: ApiContext, params: dict[str, Any], _: Mapping[str, str]) -> dict[str, Any]:
    matches = field_filter(params, ("customer", "payment_intent", "transfer_group"))
    return list_page(ctx.ledger["charge"], params, "/v1/charges", lambda r: ctx.listable(r) and matches(r))


def list_refunds(ctx: ApiContext, params: dict[str, Any], path: Mapping[str, str]) -> dict[str, Any]:
    charge_id = ctx.find("charge", path["id"], param="id", status=404).id
    return list_page(
        ctx.ledger["refund"],
        params,
        f"/v1/charges/{charge_id}/refunds",
        lambda record: ctx.listable(record) and record.obj["charge"] == charge_id,
    )


ENDPOINTS = (
    Endpoint("POST", "/v1/charges", "charge", "write", "ChargeCreateParams", CREATE, create, check),
    Endpoint("GET", "/v1/charges", "charge", "read", "ChargeListParams", LIST, list_),
    Endpoint("GET", "/v1/charges/{id}", "charge", "read", "ChargeRetrieveParams", RETRIEVE, retrieve),
    Endpoint(
        "GET", "/v1/charges/{id}/refunds", "refund", "read", "ChargeListRefundsParams", REFUNDS, list_refunds
    ),
)
