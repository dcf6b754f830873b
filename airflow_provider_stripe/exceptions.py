"""The errors the provider raises, one class per way a Stripe call can fail.

Errors that a retry cannot fix (bad input, 400, 401, 402, 403, 404, an idempotency key reused with
other parameters) derive from ``AirflowFailException`` so that Airflow does not spend task retries
on them. Transient errors (409, 424, 429, 5xx, connection failures that outlived the hook's own
retries) derive from ``AirflowException`` only, so that the task's ``retries`` apply.

The mapping follows stripe-python 16.1.0 (``_api_requestor.specific_v1_api_error`` and
``_http_client._should_retry``): ``idempotency_error`` is its own error only with a 400 or 404; a
409 (another request with the same key is still in flight) is retried whatever its type.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException


class StripeError(AirflowException):
    """Root of every error this provider raises.

    :param message: what went wrong, for the person on call.
    :param http_status: the HTTP status Stripe answered, or None when no answer came.
    :param type: Stripe's ``error.type`` (``card_error``, ``invalid_request_error``, ...).
    :param code: Stripe's ``error.code`` (``amount_too_small``, ``resource_missing``, ...).
    :param param: the request parameter Stripe (or the local validation) blames.
    :param request_id: Stripe's ``Request-Id``, to quote to Stripe support.
    :param should_retry: Stripe's ``Stripe-Should-Retry`` header, when it sent one.
    """

    transient: ClassVar[bool] = False
    #: What the person on call can do about it, appended to Stripe's own message.
    hint: ClassVar[str] = ""

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        type: str | None = None,
        code: str | None = None,
        param: str | None = None,
        request_id: str | None = None,
        decline_code: str | None = None,
        doc_url: str | None = None,
        should_retry: bool | None = None,
    ) -> None:
        self.message = message
        self.http_status = http_status
        self.type = type
        self.code = code
        self.param = param
        self.request_id = request_id
        self.decline_code = decline_code
        self.doc_url = doc_url
        self.should_retry = should_retry
        super().__init__(self._describe())

    def _describe(self) -> str:
        details = ", ".join(
            f"{name}={value}"
            for name, value in (
                ("status", self.http_status),
                ("type", self.type),
                ("code", self.code),
                ("decline_code", self.decline_code),
                ("param", self.param),
                ("request_id", self.request_id),
            )
            if value is not None
        )
        return f"{self.message} ({details})" if details else self.message

    @property
    def retryable(self) -> bool:
        """Whether the hook may send the same request again: Stripe's header wins over the class."""
        return self.transient if self.should_retry is None else self.should_retry


class StripeValidationError(StripeError, AirflowFailException):
    """Bad input found locally, before anything was sent to Stripe."""


class StripeExportFolderError(StripeError, AirflowFailException):
    """An export folder read back is incomplete (no manifest yet) or differs from its manifest."""


class StripeInvalidRequestError(StripeError, AirflowFailException):
    """Stripe refused the request's parameters (HTTP 400, or 404 for an unknown URL)."""


class StripeNotFoundError(StripeInvalidRequestError):
    """The object asked for does not exist (HTTP 404 ``resource_missing``)."""


class StripeIdempotencyError(StripeError, AirflowFailException):
    """The idempotency key was already used with other parameters or on another endpoint
    (HTTP 400 or 404 ``idempotency_error``)."""

    hint = (
        "An earlier request used this idempotency key with different parameters (keys live 24 h): "
        "restore the original parameters to get the original object back, or pass a new "
        "idempotency_key to really create another one."
    )


class StripeAuthenticationError(StripeError, AirflowFailException):
    """The API key is missing, malformed, revoked or unknown (HTTP 401)."""

    hint = "Check the API key (the password) of the Stripe connection."


class StripeCardError(StripeError, AirflowFailException):
    """The card was declined or could not be charged (HTTP 402)."""


class StripePermissionError(StripeError, AirflowFailException):
    """A restricted key lacks the permission the call needs (HTTP 403)."""

    hint = "Grant the restricted key the permission Stripe names, or use a key that has it."


class StripeConflictError(StripeError):
    """Another request with the same idempotency key, or on the same object, is in flight (HTTP 409,
    whether typed ``idempotency_error`` or ``invalid_request_error``): trying again once it is done
    gets its result."""

    transient = True


class StripeRateLimitError(StripeError):
    """Too many requests (HTTP 429)."""

    transient = True


class StripeAPIError(StripeError):
    """Stripe failed on its side (HTTP 5xx), a service it depends on failed (HTTP 424 "External
    Dependency Failed", https://docs.stripe.com/error-codes), or the answer was not Stripe JSON."""

    transient = True


class StripeConnectionError(StripeError):
    """No answer: the connection failed, dropped or timed out."""

    transient = True


class StripeTLSError(StripeConnectionError, AirflowFailException):
    """No answer because the TLS handshake failed, most often an unverifiable certificate.

    Not transient (stripe-python does not retry it either): a proxy that intercepts TLS, or a CA
    bundle without the issuer, fails the same way every time.
    """

    transient = False
    hint = (
        "The server's TLS certificate could not be verified (a proxy or firewall that intercepts TLS, "
        "or a host with a self-signed certificate?). If that certificate is expected, set "
        "REQUESTS_CA_BUNDLE to a CA bundle (PEM) that contains its CA, for the workers and the "
        "triggerer alike; otherwise check the host of the Stripe connection."
    )


_CLASS_BY_STATUS: dict[int, type[StripeError]] = {
    401: StripeAuthenticationError,
    402: StripeCardError,
    403: StripePermissionError,
    404: StripeNotFoundError,
    409: StripeConflictError,
    424: StripeAPIError,
    429: StripeRateLimitError,
}


def _class_for(http_status: int, error_type: str | None) -> type[StripeError]:
    if error_type == "idempotency_error" and http_status in (400, 404):
        return StripeIdempotencyError
    if http_status in _CLASS_BY_STATUS:
        return _CLASS_BY_STATUS[http_status]
    return StripeAPIError if http_status >= 500 else StripeInvalidRequestError


def error_from_response(
    http_status: int,
    body: Mapping[str, Any] | None,
    *,
    request_id: str | None,
    should_retry: bool | None,
    context: str,
) -> StripeError:
    """Turn one Stripe error answer into the matching exception.

    :param context: what was being done, e.g. ``"POST /v1/charges"``; it leads the message.
    """
    error = (body or {}).get("error")
    fields: Mapping[str, Any] = error if isinstance(error, Mapping) else {}
    error_type = fields.get("type")
    cls = _class_for(http_status, error_type)
    if cls is StripeNotFoundError and fields.get("code") != "resource_missing":
        cls = StripeInvalidRequestError
    stripe_message = fields.get("message") or f"Stripe answered HTTP {http_status} without an error body"
    hint = f" {cls.hint}" if cls.hint else ""
    return cls(
        f"Stripe refused {context}: {stripe_message}{hint}",
        http_status=http_status,
        type=error_type,
        code=fields.get("code"),
        param=fields.get("param"),
        request_id=request_id,
        decline_code=fields.get("decline_code"),
        doc_url=fields.get("doc_url"),
        should_retry=should_retry,
    )
