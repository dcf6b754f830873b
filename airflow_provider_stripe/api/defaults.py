"""Connection defaults. No Airflow import here: get_provider_info() reads this while Airflow
itself is still starting up (provider discovery runs inside ``import airflow``)."""

from __future__ import annotations

from typing import NamedTuple

DEFAULT_BASE_URL = "https://api.stripe.com"
#: The Stripe API version every request pins, so that a change of the account's default version
#: in the Dashboard cannot change what the provider receives. Override with the ``stripe_version`` extra.
DEFAULT_STRIPE_VERSION = "2026-10-28.endive"
#: What a Stripe API version looks like: a release date, and since 2024-09-30 the name of its major
#: release (``2024-06-20``, ``2025-03-31.basil``; https://docs.stripe.com/api/versioning).
STRIPE_VERSION_PATTERN = r"20\d\d-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(\.[a-z]+)?"
DEFAULT_MAX_RETRIES = 3
DEFAULT_TIMEOUT = 30.0
DEFAULT_BACKOFF_INITIAL = 0.5
DEFAULT_BACKOFF_MAX = 8.0


class Bounds(NamedTuple):
    """The range a numeric connection extra must fall in."""

    minimum: float
    maximum: float
    whole: bool = False


#: One home for the numeric extras' ranges: the connection form's schema and the settings' checks.
EXTRA_BOUNDS = {
    "max_retries": Bounds(0, 10, whole=True),
    "timeout": Bounds(0.1, 600),
    "backoff_initial": Bounds(0, 60),
    "backoff_max": Bounds(0, 600),
}
