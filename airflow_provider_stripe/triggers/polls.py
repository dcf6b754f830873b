"""How a trigger reaches Stripe: the settings every trigger polls with, its hook, and one poll of
its watch.

The list triggers poll with :func:`~airflow_provider_stripe.polling.poll.poll`; the change-feed
triggers (``/v1/events``) poll with the event rules of
:mod:`airflow_provider_stripe.polling.events` (retention, refetching).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from airflow_provider_stripe.api.settings import connected_account
from airflow_provider_stripe.polling.events import EventWatch, event_type_filters, run_event_poll_async
from airflow_provider_stripe.polling.poll import PollResult, run_poll_async
from airflow_provider_stripe.polling.watch import (
    DEFAULT_LOOKBACK_SECONDS,
    DEFAULT_MAX_BATCH,
    DEFAULT_POLL_INTERVAL,
)

if TYPE_CHECKING:
    from airflow_provider_stripe.hooks.stripe import StripeHook
    from airflow_provider_stripe.polling.cursor import Cursor
    from airflow_provider_stripe.polling.watch import Watch


class PollsStripe:
    """A trigger that polls one Stripe list: the settings every Stripe trigger takes, declared once.

    :param stripe_conn_id: the Stripe connection, looked up on the triggerer (the key never travels
        with the trigger).
    :param stripe_account: act for this connected account (``acct_...``), sent as ``Stripe-Account``
        and overriding the connection's extra; ``None`` or empty for none.
    :param max_batch: the most objects one event carries.
    :param lookback_seconds: how late an object may show up in Stripe's list and still be delivered.
    :param poll_interval: seconds between polls.
    """

    def __init__(
        self,
        *,
        stripe_conn_id: str = "stripe_default",
        stripe_account: str | None = None,
        max_batch: int = DEFAULT_MAX_BATCH,
        lookback_seconds: int = DEFAULT_LOOKBACK_SECONDS,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.stripe_conn_id = stripe_conn_id
        self.stripe_account = connected_account(stripe_account)
        self.max_batch = max_batch
        self.lookback_seconds = lookback_seconds
        self.poll_interval = poll_interval

    def _polling_settings(self) -> dict[str, Any]:
        """The settings above, as :meth:`serialize` gives them back."""
        return {
            "stripe_conn_id": self.stripe_conn_id,
            "stripe_account": self.stripe_account,
            "max_batch": self.max_batch,
            "lookback_seconds": self.lookback_seconds,
            "poll_interval": self.poll_interval,
        }

    def _hook(self) -> StripeHook:
        from airflow_provider_stripe.hooks.stripe import StripeHook

        return StripeHook(self.stripe_conn_id, stripe_account=self.stripe_account)

    async def _poll_once(self, hook: StripeHook, watch: Watch, cursor: Cursor) -> PollResult:
        return await run_poll_async(watch.poll(cursor), partial(hook.alist_page, watch.path))


class PollsStripeEvents(PollsStripe):
    """A trigger that polls ``/v1/events``, refetching each event's object if asked.

    :param event_types: 1 to 20 event types, or one with a ``*`` wildcard (``"charge.*"``).
    :param refetch: replace each event's object with its current version at the pinned API version.
    """

    def __init__(self, *, event_types: str | Sequence[str], refetch: bool = False, **kwargs: Any) -> None:
        event_type_filters(event_types)  # a bad value fails naming event_types, before it is stored
        super().__init__(**kwargs)
        self.event_types = [event_types] if isinstance(event_types, str) else list(event_types)
        self.refetch = refetch

    def _polling_settings(self) -> dict[str, Any]:
        return {**super()._polling_settings(), "event_types": self.event_types, "refetch": self.refetch}

    async def _poll_once(self, hook: StripeHook, watch: Watch, cursor: Cursor) -> PollResult:
        return await run_event_poll_async(EventWatch(watch, self.refetch).poll(cursor), hook.alist_page)
