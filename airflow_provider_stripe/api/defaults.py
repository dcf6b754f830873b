"""Connection defaults. No Airflow import here: get_provider_info() reads this while Airflow
itself is still starting up (provider discovery runs inside ``import airflow``)."""

from __future__ import annotations

DEFAULT_BASE_URL = "https://api.stripe.com"
#: The Stripe API version every request pins, so that a change of the account's default version
#: in the Dashboard cannot change what the provider receives. Override with the ``stripe_version`` extra.
DEFAULT_STRIPE_VERSION = "2026-10-28.endive"
DEFAULT_MAX_RETRIES = 3
DEFAULT_TIMEOUT = 30.0
DEFAULT_BACKOFF_INITIAL = 0.5
DEFAULT_BACKOFF_MAX = 8.0
