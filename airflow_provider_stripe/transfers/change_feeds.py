"""Which Stripe Events report a change to the objects of each list: the table behind ``capture="changes"``.

An event's ``data.object`` is the object that changed, and its type decides whether the event
belongs to a list: ``customer.updated`` carries a ``customer``, ``customer.subscription.updated`` a
``subscription``. Each row holds the ``object`` type of the list's objects and every event type
whose ``data.object`` has that type, from Stripe's "Types of events" reference
(https://docs.stripe.com/api/events/types; the same mapping is generated into stripe-node's
``types/EventTypes.d.ts``), checked against stripe-python 16.1.0's list of event types
(``tests/transfers/test_change_feeds.py``).

A list is here only when Stripe publishes an event for every way its objects change: a creation
event, an update event for any change of an attribute (``*.updated``, or an event per state change
for objects whose attributes change only with their state), and a deletion event where the API can
delete them. Lists without one are refused at parse time: PaymentIntents and SetupIntents publish
no event when their metadata or description changes, Checkout Sessions none when one is created,
invoice items and top-ups none when one is updated, balance transactions and events none at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from airflow_provider_stripe.exceptions import StripeValidationError
from airflow_provider_stripe.resources import StripeResource
from airflow_provider_stripe.validation import choice

CAPTURES = ("created", "changes")
#: Checks ``capture`` (``CAPTURE.check("capture", value)``).
CAPTURE = choice(*CAPTURES)
#: The one list parameter a change capture takes: what to expand in each retrieved object.
_CHANGE_LIST_PARAMS = ("expand",)


class ChangeFeed(NamedTuple):
    """The objects of one list and the event types that report a change to one of them."""

    resource: StripeResource
    event_types: tuple[str, ...]

    def events_filter(self) -> dict[str, Any]:
        """The ``/v1/events`` filter for these types (``types[]``: at most 20, which every row keeps to)."""
        return {"types": list(self.event_types)}


def _feed(object_type: str, path: str, *event_types: str) -> ChangeFeed:
    return ChangeFeed(StripeResource(object_type, path), event_types)


def _lifecycle(object_type: str, path: str, *more: str) -> ChangeFeed:
    """A list whose objects Stripe reports as ``<type>.created``, ``.updated`` and ``.deleted``."""
    changes = (f"{object_type}.created", f"{object_type}.updated", f"{object_type}.deleted")
    return _feed(object_type, path, *changes, *more)


#: Each list ``capture="changes"`` can export, by its name after ``/v1/``.
CHANGE_FEEDS: dict[str, ChangeFeed] = {
    "charges": _feed(
        "charge",
        "/v1/charges",
        "charge.captured",
        "charge.expired",
        "charge.failed",
        "charge.pending",
        "charge.refunded",  # a refund changes its charge's amount_refunded and refunded
        "charge.succeeded",
        "charge.updated",
    ),
    "coupons": _lifecycle("coupon", "/v1/coupons"),
    "credit_notes": _feed(
        "credit_note", "/v1/credit_notes", "credit_note.created", "credit_note.updated", "credit_note.voided"
    ),
    "customers": _lifecycle("customer", "/v1/customers"),
    "disputes": _feed(
        "dispute",
        "/v1/disputes",
        "charge.dispute.closed",
        "charge.dispute.created",
        "charge.dispute.funds_reinstated",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.updated",
    ),
    "invoices": _lifecycle(
        "invoice",
        "/v1/invoices",
        "invoice.finalization_failed",
        "invoice.finalized",
        "invoice.marked_uncollectible",
        "invoice.overdue",
        "invoice.overpaid",
        "invoice.paid",
        "invoice.payment_action_required",
        "invoice.payment_attempt_required",
        "invoice.payment_failed",
        "invoice.payment_succeeded",
        "invoice.sent",
        "invoice.voided",
        "invoice.will_be_due",
    ),
    "issuing/authorizations": _feed(
        "issuing.authorization",
        "/v1/issuing/authorizations",
        "issuing_authorization.created",
        "issuing_authorization.updated",
    ),
    "issuing/cardholders": _feed(
        "issuing.cardholder",
        "/v1/issuing/cardholders",
        "issuing_cardholder.created",
        "issuing_cardholder.updated",
    ),
    "issuing/cards": _feed(
        "issuing.card", "/v1/issuing/cards", "issuing_card.created", "issuing_card.updated"
    ),
    "issuing/disputes": _feed(
        "issuing.dispute",
        "/v1/issuing/disputes",
        "issuing_dispute.closed",
        "issuing_dispute.created",
        "issuing_dispute.funds_reinstated",
        "issuing_dispute.funds_rescinded",
        "issuing_dispute.submitted",
        "issuing_dispute.updated",
    ),
    "issuing/transactions": _feed(
        "issuing.transaction",
        "/v1/issuing/transactions",
        "issuing_transaction.created",
        "issuing_transaction.purchase_details_receipt_updated",
        "issuing_transaction.updated",
    ),
    "payouts": _feed(
        "payout",
        "/v1/payouts",
        "payout.canceled",
        "payout.created",
        "payout.failed",
        "payout.paid",
        "payout.reconciliation_completed",
        "payout.updated",
    ),
    "plans": _lifecycle("plan", "/v1/plans"),
    "prices": _lifecycle("price", "/v1/prices"),
    "products": _lifecycle("product", "/v1/products"),
    "promotion_codes": _feed(
        "promotion_code", "/v1/promotion_codes", "promotion_code.created", "promotion_code.updated"
    ),
    "radar/early_fraud_warnings": _feed(
        "radar.early_fraud_warning",
        "/v1/radar/early_fraud_warnings",
        "radar.early_fraud_warning.created",
        "radar.early_fraud_warning.updated",
    ),
    "refunds": _feed(
        "refund",
        "/v1/refunds",
        "charge.refund.updated",  # its data.object is the refund, not the charge
        "refund.created",
        "refund.failed",
        "refund.updated",
    ),
    "subscription_schedules": _feed(
        "subscription_schedule",
        "/v1/subscription_schedules",
        "subscription_schedule.aborted",
        "subscription_schedule.canceled",
        "subscription_schedule.completed",
        "subscription_schedule.created",
        "subscription_schedule.expiring",
        "subscription_schedule.released",
        "subscription_schedule.updated",
    ),
    "subscriptions": _feed(
        "subscription",
        "/v1/subscriptions",
        "customer.subscription.created",
        "customer.subscription.deleted",
        "customer.subscription.paused",
        "customer.subscription.pending_update_applied",
        "customer.subscription.pending_update_expired",
        "customer.subscription.resumed",
        "customer.subscription.trial_will_end",
        "customer.subscription.updated",
    ),
    "tax_rates": _feed("tax_rate", "/v1/tax_rates", "tax_rate.created", "tax_rate.updated"),
    "transfers": _feed(
        "transfer", "/v1/transfers", "transfer.created", "transfer.reversed", "transfer.updated"
    ),
}


def change_feed(capture: Any, window: str, resource: str, list_params: Any) -> ChangeFeed | None:
    """The change feed an export reads, or None for ``capture="created"`` (objects by ``created``).

    :param list_params: the export's list parameters, or None while they are still a template.
    :raises StripeValidationError: naming the field at fault: an unknown ``capture``; ``"changes"``
        with ``window="all"``; a list whose changes Stripe does not publish as events; a list
        parameter other than ``expand`` (events cannot be filtered by the list's filters).
    """
    CAPTURE.check("capture", capture)
    if capture == "created":
        return None
    if window == "all":
        raise StripeValidationError(
            "capture='changes' exports what changed within a window, and window='all' has none: take "
            "the snapshot with window='all' (capture='created'), then export changes with "
            "window='data_interval' or 'incremental'.",
            param="capture",
        )
    feed = CHANGE_FEEDS.get(resource)
    if feed is None:
        raise StripeValidationError(
            f"capture='changes' needs a Stripe list whose every change is published as an event, and "
            f"{resource!r} is not one (see airflow_provider_stripe.transfers.change_feeds). Export it "
            f"with window='all' snapshots instead; lists with change events: "
            f"{', '.join(sorted(CHANGE_FEEDS))}.",
            param="resource",
        )
    if isinstance(list_params, Mapping):
        for name in list_params:
            if name not in _CHANGE_LIST_PARAMS:
                raise StripeValidationError(
                    f"list_params.{name}: capture='changes' finds objects through Stripe Events, which "
                    "the list's filters do not apply to; only `expand` (for each retrieved object) is "
                    "taken. Filter the rows after loading them, or export with capture='created'.",
                    param=f"list_params.{name}",
                )
    return feed
