"""Testing support: a local Stripe API (:class:`StripeEmulator`) and its pytest plugin.

The emulator (and aiohttp) load only when first used: this package is imported by the pytest plugin
in every test run, where it must cost nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_stripe.testing.emulator import StripeEmulator
    from airflow_provider_stripe.testing.requestlog import RecordedRequest

__all__ = ["RecordedRequest", "StripeEmulator"]


def __getattr__(name: str) -> Any:
    if name == "StripeEmulator":
        from airflow_provider_stripe.testing.emulator import StripeEmulator

        return StripeEmulator
    if name == "RecordedRequest":
        from airflow_provider_stripe.testing.requestlog import RecordedRequest

        return RecordedRequest
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
