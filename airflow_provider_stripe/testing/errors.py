"""Stripe's error responses: the exception handlers raise, and the body and status it becomes.

Stripe answers every failure with ``{"error": {...}}`` carrying ``type``, ``message`` and, when they
apply, ``code``, ``param``, ``decline_code`` and ``doc_url``, and always ``request_log_url`` (the
request in the Dashboard's logs); keys that do not apply are left out, as
Stripe does, so a client that indexes a missing key breaks here as it would in production.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_DOC_URL = "https://stripe.com/docs/error-codes/"


class StripeAPIError(Exception):
    """An API failure, raised anywhere below the server and rendered as Stripe's error body."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.decline_code = decline_code
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})

    def body(self, request_log_url: str) -> dict[str, Any]:
        """The JSON body Stripe sends, with its keys in Stripe's (alphabetical) order."""
        error: dict[str, Any] = {**self.extra, "request_log_url": request_log_url}
        if self.code is not None:
            error["code"] = self.code
            error["doc_url"] = _DOC_URL + self.code.replace("_", "-")
        if self.decline_code is not None:
            error["decline_code"] = self.decline_code
        error["message"] = self.message
        if self.param is not None:
            error["param"] = self.param
        error["type"] = self.type
        return {"error": dict(sorted(error.items()))}


def invalid(param: str | None, message: str, code: str | None = None) -> StripeAPIError:
    """A 400 about one parameter."""
    return StripeAPIError(400, message, code=code, param=param)


def parameter_missing(param: str) -> StripeAPIError:
    return invalid(param, f"Missing required param: {param}.", "parameter_missing")


def parameter_unknown(param: str) -> StripeAPIError:
    return invalid(param, f"Received unknown parameter: {param}", "parameter_unknown")


def parameter_empty(param: str) -> StripeAPIError:
    return invalid(
        param,
        f"You passed an empty string for '{param}'. We assume empty values are an attempt to unset a "
        f"parameter; however '{param}' cannot be unset. You should remove '{param}' from your request "
        "or supply a non-empty value.",
        "parameter_invalid_empty",
    )


def resource_missing(noun: str, object_id: str, *, param: str, status: int = 400) -> StripeAPIError:
    """``No such charge: 'ch_x'``: 404 when the id is in the path, 400 when a parameter names it."""
    return StripeAPIError(status, f"No such {noun}: '{object_id}'", code="resource_missing", param=param)


def unrecognized_url(method: str, path: str) -> StripeAPIError:
    return StripeAPIError(
        404,
        f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs "
        "or we can help at https://support.stripe.com/.",
    )


def rate_limited(reason: str = "global-rate") -> StripeAPIError:
    """Stripe's 429: an ``invalid_request_error`` with code ``rate_limit`` and the message
    of https://docs.stripe.com/error-codes#rate-limit, plus the ``Stripe-Rate-Limited-Reason`` header
    (https://docs.stripe.com/rate-limits: ``global-rate``, ``global-concurrency``, ``endpoint-rate``,
    ``endpoint-concurrency`` or ``resource-specific``)."""
    return StripeAPIError(
        429,
        "Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.",
        code="rate_limit",
        headers={"Stripe-Rate-Limited-Reason": reason},
    )


def api_error(message: str = "An unknown error occurred", status: int = 500) -> StripeAPIError:
    return StripeAPIError(status, message, type="api_error")
