"""Everything the server thread reads and the test thread steers, behind one lock.

Request handling runs on the emulator's event-loop thread while a test calls ``objects()``,
``fail_next()`` or ``reset()`` from its own; both sides take :attr:`EmulatorState.lock` around any use
of the store, the idempotency cache, the fault queue and the rate limiter.
"""

from __future__ import annotations

import threading

from airflow_provider_stripe.testing.auth import KeyRing
from airflow_provider_stripe.testing.clock import Clock
from airflow_provider_stripe.testing.faults import FaultQueue
from airflow_provider_stripe.testing.idempotency import IdempotencyCache
from airflow_provider_stripe.testing.ids import new_id
from airflow_provider_stripe.testing.ratelimit import LIVE_PER_SECOND, SANDBOX_PER_SECOND, RateLimiter
from airflow_provider_stripe.testing.requestlog import RequestLog
from airflow_provider_stripe.testing.settlement import AccountSettings
from airflow_provider_stripe.testing.store import ObjectStore


class EmulatorState:
    def __init__(
        self,
        api_key: str | None = None,
        *,
        rate_limit: int | None = SANDBOX_PER_SECOND,
        live_rate_limit: int | None = LIVE_PER_SECOND,
        latency: float = 0.0,
    ) -> None:
        self.lock = threading.RLock()
        self.clock = Clock()
        self.keys = KeyRing(api_key)
        self.account_id = new_id("acct")
        self.log = RequestLog()
        self.store = ObjectStore()
        self.idempotency = IdempotencyCache()
        self.faults = FaultQueue()
        self.rate_limiter = RateLimiter(rate_limit, live_rate_limit)
        #: What :meth:`reset` goes back to: the limits and latency the emulator was started with.
        self._started_with = (rate_limit, live_rate_limit, latency)
        self.visibility_delay = 0.0
        self.latency = latency
        self.processing_time = 0.0
        self.settings = AccountSettings()
        self.in_flight = 0  # requests received and not yet logged

    def reset(self) -> None:
        """Back to as-started (limits and latency too), keeping the account and its API keys."""
        with self.lock:
            self.store = ObjectStore()
            self.idempotency.clear()
            self.faults.clear()
            rate_limit, live_rate_limit, self.latency = self._started_with
            self.rate_limiter.set(rate_limit, live_rate_limit)
            self.visibility_delay = 0.0
            self.processing_time = 0.0
            self.settings = AccountSettings()
            self.clock.reset()
            self.log.clear()
