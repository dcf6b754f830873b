"""Everything a Stripe call needs to know about where and how to talk, read from a connection."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_stripe.api.defaults import (
    DEFAULT_BACKOFF_INITIAL,
    DEFAULT_BACKOFF_MAX,
    DEFAULT_BASE_URL,
    DEFAULT_MAX_RETRIES,
    DEFAULT_STRIPE_VERSION,
    DEFAULT_TIMEOUT,
    EXTRA_BOUNDS,
    STRIPE_VERSION_PATTERN,
)
from airflow_provider_stripe.api.keys import ApiKey
from airflow_provider_stripe.exceptions import StripeValidationError
from airflow_provider_stripe.validation import Field, number, text


@dataclass(frozen=True)
class ClientSettings:
    """Validated settings of one Stripe connection (plus the hook's own overrides)."""

    api_key: ApiKey
    base_url: str = DEFAULT_BASE_URL
    stripe_version: str = DEFAULT_STRIPE_VERSION
    stripe_account: str | None = None
    max_retries: int = DEFAULT_MAX_RETRIES
    timeout: float = DEFAULT_TIMEOUT
    backoff_initial: float = DEFAULT_BACKOFF_INITIAL
    backoff_max: float = DEFAULT_BACKOFF_MAX

    @classmethod
    def from_connection(
        cls, password: str | None, host: str | None, extras: Mapping[str, Any], **overrides: Any
    ) -> ClientSettings:
        """Build settings from a connection's password, host and extras; ``overrides`` win if not None.

        :raises StripeValidationError: for a bad key, a non-HTTPS URL or a malformed extra, naming
            it, before any request.
        """
        chosen = {name: _extra(extras, name) for name in _EXTRAS}
        chosen.update({name: value for name, value in overrides.items() if value is not None})
        checked = {
            name: field.check(name, chosen[name])
            for name, field in _EXTRAS.items()
            if chosen[name] is not None
        }
        return cls(
            api_key=ApiKey.parse(password), base_url=checked_base_url(host or DEFAULT_BASE_URL), **checked
        )


_HINT = "a Stripe connection extra"

#: A connected account to act as (Stripe Connect), sent as ``Stripe-Account``: the connection's
#: extra and every operator's, sensor's and trigger's ``stripe_account`` are checked by this one rule.
STRIPE_ACCOUNT = text(
    pattern=r"acct_[A-Za-z0-9]+", expected="a connected account id like acct_1032D82eZvKYlo2C"
)
_EXTRAS: dict[str, Field] = {
    # Checked here, not only by Stripe: a typo would otherwise pass every test against the local
    # emulator and then fail every call in production.
    "stripe_version": text(
        pattern=STRIPE_VERSION_PATTERN,
        expected=f"a Stripe API version like {DEFAULT_STRIPE_VERSION} or 2024-06-20 ({_HINT})",
    ),
    "stripe_account": STRIPE_ACCOUNT,
    **{
        name: number(bounds.minimum, bounds.maximum, whole=bounds.whole, hint=_HINT)
        for name, bounds in EXTRA_BOUNDS.items()
    },
}


def connected_account(value: Any) -> str | None:
    """A task's ``stripe_account``, checked: ``None`` for none (``None`` or a blank string, what an
    empty template renders to), else the ``acct_...`` id.

    :raises StripeValidationError: naming ``stripe_account``, before anything is sent.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    checked: str = STRIPE_ACCOUNT.check("stripe_account", value)
    return checked


def _extra(extras: Mapping[str, Any], name: str) -> Any:
    # Airflow 2.x forms may save custom fields under the old prefixed name.
    value = extras.get(name, extras.get(f"extra__stripe__{name}"))
    return None if value == "" else value


def checked_base_url(url: str) -> str:
    """Return ``url`` without a trailing slash if it is HTTPS, or plain HTTP to a loopback host.

    :raises StripeValidationError: for any other scheme or host, before anything is sent.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise StripeValidationError(
            f"The Stripe connection host must be a URL like {DEFAULT_BASE_URL}, got {url!r}.", param="host"
        )
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise StripeValidationError(
            f"Refusing to send a Stripe API key over plain HTTP to {parts.hostname}: use https:// "
            "(plain http:// is allowed only to a loopback address such as the local emulator).",
            param="host",
        )
    return url.strip().rstrip("/")


def _is_loopback(hostname: str) -> bool:
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False
