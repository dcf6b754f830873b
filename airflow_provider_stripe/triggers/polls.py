"""How a trigger reaches Stripe: its hook, and one poll of its watch.

The list triggers poll with :func:`~airflow_provider_stripe.polling.poll.poll`; the change-feed
triggers (``/v1/events``) act for a connected account and poll with the event rules of
:mod:`airflow_provider_stripe.polling.events` (retention, refetching).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from airflow_provider_stripe.polling.events import EventWatch, run_event_poll_async
from airflow_provider_stripe.polling.poll import PollResult, run_poll_async

if TYPE_CHECKING:
    from airflow_provider_stripe.hooks.stripe import StripeHook
    from airflow_provider_stripe.polling.cursor import Cursor
    from airflow_provider_stripe.polling.watch import Watch


class PollsStripe:
    """A trigger that polls one Stripe list through the connection ``stripe_conn_id``."""

    stripe_conn_id: str

    def _hook(self) -> StripeHook:
        from airflow_provider_stripe.hooks.stripe import StripeHook

        return StripeHook(self.stripe_conn_id)

    async def _poll_once(self, hook: StripeHook, watch: Watch, cursor: Cursor) -> PollResult:
        return await run_poll_async(watch.poll(cursor), partial(hook.alist_page, watch.path))


class PollsStripeEvents(PollsStripe):
    """A trigger that polls ``/v1/events`` as ``stripe_account`` (if set), refetching if asked."""

    stripe_account: str | None
    refetch: bool

    def _hook(self) -> StripeHook:
        from airflow_provider_stripe.hooks.stripe import StripeHook

        return StripeHook(self.stripe_conn_id, stripe_account=self.stripe_account)

    async def _poll_once(self, hook: StripeHook, watch: Watch, cursor: Cursor) -> PollResult:
        return await run_event_poll_async(EventWatch(watch, self.refetch).poll(cursor), hook.alist_page)
