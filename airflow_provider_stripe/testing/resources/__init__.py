"""The emulated Stripe resources; ``ENDPOINTS`` is the whole route table the server serves."""

from __future__ import annotations

from airflow_provider_stripe.testing.endpoint import Endpoint
from airflow_provider_stripe.testing.resources import (
    account,
    balance,
    charges,
    connected_accounts,
    customers,
    events,
    products,
    refunds,
    updates,
)

ENDPOINTS: tuple[Endpoint, ...] = events.recorded(
    (
        *customers.ENDPOINTS,
        *charges.ENDPOINTS,
        *refunds.ENDPOINTS,
        *products.ENDPOINTS,
        *balance.ENDPOINTS,
        *account.ENDPOINTS,
        *connected_accounts.ENDPOINTS,
        *updates.ENDPOINTS,
        *events.ENDPOINTS,
    )
)
