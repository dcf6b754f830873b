"""The emulator's clock: real time by default, frozen or shifted on demand.

Tests of "many objects in one second" or "an object appears in lists five seconds late" cannot wait
for wall time, so every ``created`` stamp and every visibility check reads this clock instead.
"""

from __future__ import annotations

import threading
import time


class Clock:
    """A thread-safe clock that the test thread steers while the server thread reads it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frozen_at: float | None = None
        self._offset = 0.0

    def time(self) -> float:
        """Current emulated time in fractional epoch seconds (visibility needs sub-second precision)."""
        with self._lock:
            if self._frozen_at is not None:
                return self._frozen_at
            return time.time() + self._offset

    def now(self) -> int:
        """Current emulated time in whole epoch seconds, the unit of Stripe's ``created``."""
        return int(self.time())

    def freeze(self, at: float | None = None) -> None:
        """Stop the clock at ``at`` (default: the current emulated time)."""
        moment = self.time() if at is None else float(at)
        with self._lock:
            self._frozen_at = moment

    def set(self, ts: float) -> None:
        """Jump to ``ts``; a frozen clock stays frozen there, a running one keeps ticking from it."""
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at = float(ts)
            else:
                self._offset = float(ts) - time.time()

    def advance(self, seconds: float) -> None:
        """Move the clock forward (or back, with a negative value) by ``seconds``."""
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += seconds
            else:
                self._offset += seconds

    def unfreeze(self) -> None:
        """Let a frozen clock tick again, continuing from where it stood."""
        with self._lock:
            if self._frozen_at is not None:
                self._offset = self._frozen_at - time.time()
                self._frozen_at = None

    def reset(self) -> None:
        """Back to plain real time."""
        with self._lock:
            self._frozen_at = None
            self._offset = 0.0

    @property
    def frozen(self) -> bool:
        """Whether the clock is stopped."""
        with self._lock:
            return self._frozen_at is not None
