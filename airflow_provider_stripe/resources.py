"""Where each kind of Stripe object lives: one row per kind, the one home of these paths.

A row holds Stripe's ``object`` type (what a log line calls one) and its list's path. The hook
turns the rows it has typed calls for into ``hook.<list>.create/retrieve/list``
(:class:`~airflow_provider_stripe.hooks.stripe.ResourceCalls`); each create operator names its row;
the events poll retrieves an event's object by its ``object`` type from :data:`RETRIEVABLE`.
This module imports nothing heavy, so operators read it at DAG-parse time.
"""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import quote


class StripeResource(NamedTuple):
    """A kind of Stripe object: what Stripe calls one, and where its list lives."""

    object_type: str
    """Stripe's ``object`` value of one of them, e.g. ``customer``; also what a log line calls it."""
    path: str
    """The list's API path, e.g. ``/v1/customers``; objects live under it by id."""

    def object_path(self, object_id: str) -> str:
        """The path of one object (the id percent-encoded, as stripe-python does, so it stays one segment)."""
        return f"{self.path}/{quote(object_id, safe='')}"


ACCOUNTS = StripeResource("account", "/v1/accounts")
"""The platform's connected accounts (Stripe Connect)."""
CHARGES = StripeResource("charge", "/v1/charges")
CUSTOMERS = StripeResource("customer", "/v1/customers")
PRODUCTS = StripeResource("product", "/v1/products")
REFUNDS = StripeResource("refund", "/v1/refunds")

#: The kinds of object the provider can retrieve by id (an event's object, to refetch it), by ``object`` type.
RETRIEVABLE: dict[str, StripeResource] = {
    resource.object_type: resource
    for resource in (
        CHARGES,
        CUSTOMERS,
        REFUNDS,
        PRODUCTS,
        StripeResource("price", "/v1/prices"),
        StripeResource("payment_intent", "/v1/payment_intents"),
        StripeResource("setup_intent", "/v1/setup_intents"),
        StripeResource("payment_method", "/v1/payment_methods"),
        StripeResource("invoice", "/v1/invoices"),
        StripeResource("subscription", "/v1/subscriptions"),
        StripeResource("checkout.session", "/v1/checkout/sessions"),
        StripeResource("dispute", "/v1/disputes"),
        StripeResource("payout", "/v1/payouts"),
        StripeResource("transfer", "/v1/transfers"),
        StripeResource("coupon", "/v1/coupons"),
        StripeResource("plan", "/v1/plans"),
    )
}
