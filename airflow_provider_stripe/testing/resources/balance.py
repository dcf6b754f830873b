"""The balance: what this mode's charges brought in, net of refunds.

Funds from a captured charge are ``pending`` for two days (by the emulator clock), then
``available``, roughly like a standard Stripe payout schedule.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from airflow_provider_stripe.testing.endpoint import ApiContext, Endpoint
from airflow_provider_stripe.testing.params import texts

PENDING_SECONDS = 2 * 86_400


def retrieve(ctx: ApiContext, _: dict[str, Any], __: Mapping[str, str]) -> dict[str, Any]:
    available: dict[str, int] = defaultdict(int)
    pending: dict[str, int] = defaultdict(int)
    for record in ctx.ledger["charge"].newest_first():
        charge = record.obj
        if not charge["captured"]:
            continue
        bucket = available if charge["created"] + PENDING_SECONDS <= ctx.now else pending
        bucket[charge["currency"]] += charge["amount"] - charge["amount_refunded"]
    currencies = sorted(set(available) | set(pending)) or ["usd"]
    return {
        "object": "balance",
        "available": [_funds(available[currency], currency) for currency in currencies],
        "connect_reserved": [{"amount": 0, "currency": currency} for currency in currencies],
        "livemode": ctx.livemode,
        "pending": [_funds(pending[currency], currency) for currency in currencies],
    }


def _funds(amount: int, currency: str) -> dict[str, Any]:
    return {"amount": amount, "currency": currency, "source_types": {"card": amount}}


ENDPOINTS = (
    Endpoint("GET", "/v1/balance", "balance", "read", "BalanceRetrieveParams", {"expand": texts()}, retrieve),
)
