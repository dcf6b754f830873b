"""The emulated Stripe resources; ``ENDPOINTS`` is the whole route table the server serves."""

from __future__ import annotations

from airflow_provider_stripe.testing.endpoint import Endpoint
from airflow_provider_stripe.testing.resources import account, balance, charges, customers, products, refunds

ENDPOINTS: tuple[Endpoint, ...] = (
    *customers.ENDPOINTS,
    *charges.ENDPOINTS,
    *refunds.ENDPOINTS,
    *products.ENDPOINTS,
    *balance.ENDPOINTS,
    *account.ENDPOINTS,
)
