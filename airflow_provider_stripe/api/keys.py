"""Stripe API keys: which kinds the provider accepts, and a form of them that is safe to show."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from airflow_provider_stripe.exceptions import StripeValidationError

Mode = Literal["test", "live"]
Kind = Literal["secret", "restricted"]

_KEY_PATTERN = re.compile(r"(?P<prefix>sk|rk)_(?P<mode>test|live)_[0-9A-Za-z]{8,}")
_KINDS: dict[str, Kind] = {"sk": "secret", "rk": "restricted"}


@dataclass(frozen=True)
class ApiKey:
    """A secret (``sk_``) or restricted (``rk_``) key, test or live, never shown in ``repr()``."""

    secret: str = field(repr=False)
    mode: Mode
    kind: Kind

    @classmethod
    def parse(cls, raw: str | None) -> ApiKey:
        """Accept ``sk_test_``, ``sk_live_``, ``rk_test_``, ``rk_live_`` keys; refuse anything else.

        :raises StripeValidationError: naming what is wrong, without echoing the key.
        """
        key = (raw or "").strip()
        if not key:
            raise StripeValidationError(
                "The Stripe connection has no API key: put a secret key (sk_test_... / sk_live_...) "
                "or a restricted key (rk_...) in its password field.",
                param="api_key",
            )
        if key.startswith("pk_"):
            raise StripeValidationError(
                "The Stripe connection holds a publishable key (pk_...), which can only be used in "
                "browsers and apps. Use a secret key (sk_...) or a restricted key (rk_...) instead.",
                param="api_key",
            )
        match = _KEY_PATTERN.fullmatch(key)
        if match is None:
            raise StripeValidationError(
                "The Stripe connection's API key is malformed: expected sk_test_, sk_live_, rk_test_ "
                "or rk_live_ followed by letters and digits (no spaces or quotes).",
                param="api_key",
            )
        mode: Mode = "live" if match["mode"] == "live" else "test"
        return cls(secret=key, mode=mode, kind=_KINDS[match["prefix"]])

    @property
    def hint(self) -> str:
        """A recognisable but harmless form of the key, like Stripe's dashboard shows it."""
        return f"{self.secret[:8]}...{self.secret[-4:]}"
