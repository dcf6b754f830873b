"""The emulated Stripe resources; ``ENDPOINTS`` is the whole route table the server serves."""

from __future__ import annotations

from airflow_provider_stripe.testing.endpoint import Endpoint
from airflow_provider_stripe.testing.resources import (
    account,
    balance,
    charges,
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
        *updates.ENDPOINTS,
        *events.ENDPOINTS,
    )
)
