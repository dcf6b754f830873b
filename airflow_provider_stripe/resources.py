"""The Stripe objects the hook has typed calls for, and the operators create: one row each.

A row holds what the calls need (the list's path) and what a log line says (the noun). The hook
turns each row into ``hook.<list>.create/retrieve/list``
(:class:`~airflow_provider_stripe.hooks.stripe.ResourceCalls`); each create operator names its row.
This module imports nothing heavy, so operators read it at DAG-parse time.
"""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import quote


class StripeResource(NamedTuple):
    """A kind of Stripe object: where its list lives, and what one of them is called."""

    path: str
    """The list's API path, e.g. ``/v1/customers``; objects live under it by id."""
    noun: str
    """What one object is called in a log line, e.g. ``customer``."""

    def object_path(self, object_id: str) -> str:
        """The path of one object (the id percent-encoded, as stripe-python does, so it stays one segment)."""
        return f"{self.path}/{quote(object_id, safe='')}"


CHARGES = StripeResource("/v1/charges", "charge")
CUSTOMERS = StripeResource("/v1/customers", "customer")
PRODUCTS = StripeResource("/v1/products", "product")
REFUNDS = StripeResource("/v1/refunds", "refund")
