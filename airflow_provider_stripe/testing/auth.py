"""API keys: which ones the emulator accepts, their mode, and what restricted keys may do.

Stripe reads the key from HTTP Basic (key as user name, empty password) or a Bearer token. Secret
keys (``sk_test_``/``sk_live_``) may do everything; restricted keys (``rk_...``) only what their
permissions (``rak_<resource>_<read|write>``, write implying read) allow; publishable keys
(``pk_...``) are refused. Error messages quote keys masked, never whole.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import string
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from airflow_provider_stripe.testing.errors import StripeAPIError

KeyKind = Literal["secret", "restricted", "publishable", "unknown"]

RESOURCES = ("charge", "customer", "refund", "product", "balance", "account")
PERMISSIONS = frozenset(f"rak_{resource}_{access}" for resource in RESOURCES for access in ("read", "write"))

_PREFIXES: dict[str, KeyKind] = {"sk_": "secret", "rk_": "restricted", "pk_": "publishable"}
_MODE_PREFIX = re.compile(r"[spr]k_(?:test|live)_")
_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True)
class ApiKey:
    secret: str
    livemode: bool
    permissions: frozenset[str] | None = None
    """None for a secret key (everything allowed)."""

    @property
    def kind(self) -> KeyKind:
        return kind_of(self.secret)

    def allows(self, permission: str) -> bool:
        if self.permissions is None or permission in self.permissions:
            return True
        return permission.endswith("_read") and permission[: -len("read")] + "write" in self.permissions


def kind_of(key: str) -> KeyKind:
    return next((kind for prefix, kind in _PREFIXES.items() if key.startswith(prefix)), "unknown")


def mask(key: str) -> str:
    """``sk_test_****abcd``: the prefix and, for a long enough key, its last four characters."""
    match = _MODE_PREFIX.match(key)
    prefix = match.group(0) if match else ""
    rest = key[len(prefix) :]
    shown = rest[-4:] if len(rest) > 8 else ""
    return prefix + "*" * (len(rest) - len(shown)) + shown


def new_key(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(99))


def key_from_header(authorization: str | None) -> str | None:
    """The key from ``Authorization: Bearer <key>`` or ``Basic base64(<key>:)``, or None."""
    if not authorization:
        return None
    scheme, _, credentials = authorization.strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer":
        return credentials or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[0] or None
    return None


class KeyRing:
    """The keys this emulator accepts."""

    def __init__(self, test_key: str | None = None) -> None:
        if test_key is not None and not test_key.startswith("sk_test_"):
            raise ValueError("The emulator's test key must start with 'sk_test_'")
        self.test_key = test_key or new_key("sk_test_")
        self.live_key = new_key("sk_live_")
        self._keys = {
            self.test_key: ApiKey(self.test_key, livemode=False),
            self.live_key: ApiKey(self.live_key, livemode=True),
        }

    def add_restricted(self, permissions: Iterable[str], *, livemode: bool = False) -> str:
        wanted = frozenset(permissions)
        unknown = wanted - PERMISSIONS
        if unknown:
            raise ValueError(
                f"Unknown permission(s) {sorted(unknown)}; known: {', '.join(sorted(PERMISSIONS))}"
            )
        key = new_key("rk_live_" if livemode else "rk_test_")
        self._keys[key] = ApiKey(key, livemode, wanted)
        return key

    def authenticate(self, authorization: str | None) -> ApiKey:
        key = key_from_header(authorization)
        if key is None:
            raise StripeAPIError(
                401,
                "You did not provide an API key. You need to provide your API key in the Authorization "
                "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
                "https://stripe.com/docs/api#authentication for details, or we can help at "
                "https://support.stripe.com/.",
            )
        if kind_of(key) == "publishable":
            raise StripeAPIError(
                401,
                "This API call cannot be made with a publishable API key. Please use a secret API key. "
                "You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys.",
            )
        found = self._keys.get(key)
        if found is None:
            raise StripeAPIError(401, f"Invalid API Key provided: {mask(key)}")
        return found


def permission_denied(key: ApiKey, permission: str, account_id: str) -> StripeAPIError:
    return StripeAPIError(
        403,
        f"The provided key '{mask(key.secret)}' does not have the required permissions for this endpoint "
        f"on account '{account_id}'. Having the '{permission}' permission would allow this request to "
        "continue.",
    )
