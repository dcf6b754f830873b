"""One Stripe call described as data: how to send it, and what its answer means."""

from __future__ import annotations

import base64
import json
import logging
import platform
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata
from typing import Any

from airflow_provider_stripe import __version__
from airflow_provider_stripe.api.encoding import encode_params
from airflow_provider_stripe.api.settings import ClientSettings
from airflow_provider_stripe.exceptions import StripeAPIError, StripeError, error_from_response

log = logging.getLogger("airflow_provider_stripe")

DISTRIBUTION = "airflow-provider-stripe"


@dataclass(frozen=True)
class StripeCall:
    """A request ready for any HTTP client: method, URL, headers and form body."""

    method: str
    path: str
    url: str
    headers: Mapping[str, str] = field(repr=False)
    body: str | None
    idempotency_key: str | None

    @property
    def description(self) -> str:
        return f"{self.method} {self.path}"


def build_call(
    settings: ClientSettings,
    method: str,
    path: str,
    params: Mapping[str, Any] | None = None,
    *,
    http_library: str = "requests",
    idempotency_key: str | None = None,
) -> StripeCall:
    """Describe one request: auth, pinned version, account, encoding and idempotency key.

    :param http_library: the client that will send it (``requests``, the default, or ``aiohttp``),
        for Stripe's ``X-Stripe-Client-User-Agent``.

    A POST always carries an idempotency key (the caller's, else a fresh one), so a retry of it
    can never create a second object.
    """
    method = method.upper()
    if not path.startswith("/"):
        path = f"/{path}"
    encoded = encode_params(params)
    headers = client_headers(settings, http_library)
    url = f"{settings.base_url}{path}"
    body: str | None = None
    if method == "POST":
        idempotency_key = idempotency_key or str(uuid.uuid4())
        headers["Idempotency-Key"] = idempotency_key
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        body = encoded
    else:
        idempotency_key = None
        if encoded:
            url = f"{url}?{encoded}"
    return StripeCall(method, path, url, headers, body, idempotency_key)


def client_headers(settings: ClientSettings, http_library: str) -> dict[str, str]:
    """The headers every request of a connection carries: auth, pinned version, account, identity."""
    headers = {
        "Authorization": f"Basic {basic_token(settings.api_key.secret)}",
        "Stripe-Version": settings.stripe_version,
        "Accept": "application/json",
        **identity_headers(http_library),
    }
    if settings.stripe_account:
        headers["Stripe-Account"] = settings.stripe_account
    return headers


@cache
def application() -> dict[str, str | None]:
    """Who is calling, in the shape of stripe-python's ``set_app_info`` (name, partner_id, url,
    version), as Stripe asks plugin builders to report it. The URL is the package's ``Homepage``."""
    urls = dict(
        entry.split(", ", 1) for entry in metadata.metadata(DISTRIBUTION).get_all("Project-URL") or []
    )
    return {"name": DISTRIBUTION, "partner_id": None, "url": urls.get("Homepage"), "version": __version__}


@cache
def identity_headers(http_library: str) -> dict[str, str]:
    """``User-Agent`` and ``X-Stripe-Client-User-Agent``, built as stripe-python builds them
    (``_APIRequestor.request_headers``) from its app info, for a client that is not stripe-python."""
    app = application()
    user_agent = f"{app['name']}/{app['version']} ({app['url']}) Airflow/{metadata.version('apache-airflow')}"
    client = {
        "lang": "python",
        "lang_version": platform.python_version(),
        "httplib": http_library,
        "application": app,
    }
    return {"User-Agent": user_agent, "X-Stripe-Client-User-Agent": json.dumps(client)}


def basic_token(secret: str) -> str:
    """The HTTP Basic credentials Stripe documents: the key as the user name, an empty password.

    It is the key in another spelling, so the hook registers it with the secrets masker too.
    """
    return base64.b64encode(f"{secret}:".encode()).decode()


@dataclass(frozen=True)
class StripeAnswer:
    """What came back for one attempt of a call, independent of the HTTP client that got it."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def request_id(self) -> str | None:
        return self.headers.get("Request-Id")

    @property
    def replayed(self) -> bool:
        return self.headers.get("Idempotent-Replayed", "").lower() == "true"

    @property
    def should_retry(self) -> bool | None:
        value = self.headers.get("Stripe-Should-Retry", "").lower()
        return {"true": True, "false": False}.get(value)


def parse_answer(call: StripeCall, answer: StripeAnswer) -> dict[str, Any]:
    """Return the JSON object of a 2xx answer; raise the matching ``StripeError`` otherwise."""
    try:
        decoded = json.loads(answer.body) if answer.body else None
    except ValueError:
        decoded = None
    if 200 <= answer.status < 300 and isinstance(decoded, dict):
        return decoded
    if 200 <= answer.status < 300:
        raise StripeAPIError(
            f"Stripe answered {call.description} with something that is not a JSON object.",
            http_status=answer.status,
            request_id=answer.request_id,
        )
    raise error_from_response(
        answer.status,
        decoded if isinstance(decoded, dict) else None,
        request_id=answer.request_id,
        should_retry=answer.should_retry,
        context=call.description,
    )


def log_attempt(
    settings: ClientSettings,
    call: StripeCall,
    elapsed_seconds: float,
    answer: StripeAnswer | None = None,
    failure: StripeError | None = None,
) -> None:
    """Write the one log line every request gets (never the key)."""
    outcome = str(answer.status) if answer else f"no answer ({failure.message if failure else 'unknown'})"
    replay = " idempotent replay" if answer and answer.replayed else ""
    log.info(
        "Stripe %s %s -> %s%s request_id=%s %.0f ms (%s mode, %s key)",
        call.method,
        call.path,
        outcome,
        replay,
        answer.request_id if answer else None,
        elapsed_seconds * 1000,
        settings.api_key.mode,
        settings.api_key.kind,
    )
