"""Which Stripe answers end a call and which are retried: 409, 424 and ``idempotency_error``.

The rules follow stripe-python 16.1.0, Stripe's own client for the pinned API version
(``stripe/_api_requestor.py`` ``specific_v1_api_error``: an ``idempotency_error`` is an
``IdempotencyError`` only with HTTP 400 or 404; ``stripe/_http_client.py`` ``_should_retry``: a 409
is retried), and Stripe's error docs (https://docs.stripe.com/error-codes, "HTTP status code
summary": 424 External Dependency Failed, a failure outside Stripe). One deliberate difference:
stripe-python leaves a 424 and a 429 to the ``Stripe-Should-Retry`` header; the hook retries both.

Over real HTTP to the emulator where it can answer so; ``requests-mock`` only for a 409 or 404
typed ``idempotency_error``, which the emulator cannot produce.
"""

from __future__ import annotations

import json

import pytest
import requests_mock
from airflow.providers.common.compat.sdk import AirflowFailException
from stripe import _error as sdk_errors
from stripe._api_requestor import _APIRequestor
from stripe._http_client import RequestsClient

from airflow_provider_stripe.exceptions import (
    StripeAPIError,
    StripeConflictError,
    StripeError,
    StripeIdempotencyError,
    StripeInvalidRequestError,
    StripeNotFoundError,
    StripeRateLimitError,
    error_from_response,
)
from airflow_provider_stripe.hooks.stripe import StripeHook
from airflow_provider_stripe.testing import StripeEmulator
from tests.hooks.conftest import HookFactory


def sent_posts(emulator: StripeEmulator) -> list[tuple[int, str | None]]:
    return [(r.status, r.idempotency_key) for r in emulator.requests if r.method == "POST"]


@pytest.mark.parametrize("status", [409, 424])
def test_409_and_424_are_retried_with_the_same_key(
    hook: StripeHook, stripe_emulator: StripeEmulator, status: int
) -> None:
    stripe_emulator.fail_next(1, status=status)
    product = hook.products.create({"name": "Mug"}).object
    (first_status, first_key), (second_status, second_key) = sent_posts(stripe_emulator)
    assert (first_status, second_status) == (status, 200)
    assert first_key == second_key
    assert stripe_emulator.objects("product")[0]["id"] == product["id"]


@pytest.mark.parametrize(("status", "error_class"), [(409, StripeConflictError), (424, StripeAPIError)])
def test_409_and_424_that_outlast_the_retries_leave_the_task_retries_to_act(
    make_hook: HookFactory, stripe_emulator: StripeEmulator, status: int, error_class: type[StripeError]
) -> None:
    stripe_emulator.fail_next(3, status=status)
    with pytest.raises(error_class) as caught:
        make_hook(max_retries=2).products.create({"name": "Mug"})
    assert caught.value.http_status == status
    assert not isinstance(caught.value, AirflowFailException)
    assert len(sent_posts(stripe_emulator)) == 3


def test_a_key_reused_with_other_parameters_fails_at_once(
    hook: StripeHook, stripe_emulator: StripeEmulator
) -> None:
    hook.products.create({"name": "Mug"}, idempotency_key="order-42")
    with pytest.raises(StripeIdempotencyError) as caught:
        hook.products.create({"name": "Cup"}, idempotency_key="order-42")
    error = caught.value
    assert (error.http_status, error.type) == (400, "idempotency_error")
    assert isinstance(error, AirflowFailException)
    assert "new idempotency_key" in str(error)
    assert [status for status, _ in sent_posts(stripe_emulator)] == [200, 400]  # not retried


def _idempotency_error(status: int) -> dict[str, object]:
    message = "A request with this idempotency key is still being processed."
    return {"status_code": status, "json": {"error": {"type": "idempotency_error", "message": message}}}


@pytest.fixture
def mocked_hook(monkeypatch: pytest.MonkeyPatch) -> StripeHook:
    conn = {
        "conn_type": "stripe",
        "password": "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
        "extra": {"backoff_initial": 0.01},
    }
    monkeypatch.setenv("AIRFLOW_CONN_STRIPE_MOCKED", json.dumps(conn))
    return StripeHook("stripe_mocked")


def test_409_typed_idempotency_error_is_a_conflict_and_retried(mocked_hook: StripeHook) -> None:
    with requests_mock.Mocker() as stripe:
        stripe.post(
            "https://api.stripe.com/v1/products",
            [_idempotency_error(409), {"status_code": 200, "json": {"id": "prod_1", "object": "product"}}],
        )
        assert mocked_hook.products.create({"name": "Mug"}, idempotency_key="k1").object["id"] == "prod_1"
        keys = [request.headers["Idempotency-Key"] for request in stripe.request_history]
    assert keys == ["k1", "k1"]


def test_404_typed_idempotency_error_is_not_retried(mocked_hook: StripeHook) -> None:
    with requests_mock.Mocker() as stripe:
        stripe.post("https://api.stripe.com/v1/products", [_idempotency_error(404)])
        with pytest.raises(StripeIdempotencyError):
            mocked_hook.products.create({"name": "Mug"}, idempotency_key="k1")
        assert stripe.call_count == 1


ANSWERS = [
    (400, "invalid_request_error"),
    (400, "idempotency_error"),
    (402, "card_error"),
    (404, "invalid_request_error"),
    (404, "idempotency_error"),
    (409, "idempotency_error"),
    (409, "invalid_request_error"),
    (424, "api_error"),
    (500, "api_error"),
    (503, "api_error"),
]


@pytest.mark.parametrize(("status", "error_type"), ANSWERS)
def test_mapping_agrees_with_stripe_python(status: int, error_type: str) -> None:
    body = {"error": {"type": error_type, "message": "m", "code": "resource_missing"}}
    ours = error_from_response(status, body, request_id="req_1", should_retry=None, context="POST /v1/x")
    theirs = _APIRequestor().specific_v1_api_error(json.dumps(body), status, body, {}, body["error"])
    assert isinstance(ours, StripeIdempotencyError) == isinstance(theirs, sdk_errors.IdempotencyError)
    assert isinstance(ours, StripeInvalidRequestError) == isinstance(theirs, sdk_errors.InvalidRequestError)
    assert isinstance(ours, StripeNotFoundError) == (status == 404 and error_type != "idempotency_error")
    sdk_retries = RequestsClient()._should_retry((None, status, {}), None, 0, 1)
    assert ours.retryable == (sdk_retries or status == 424)  # 424: retried by the hook, see above
    assert isinstance(ours, AirflowFailException) == (not ours.retryable)


def test_stripe_should_retry_still_wins() -> None:
    body = {"error": {"type": "idempotency_error", "message": "m"}}
    assert not error_from_response(409, body, request_id=None, should_retry=False, context="x").retryable
    assert error_from_response(400, body, request_id=None, should_retry=True, context="x").retryable
    rate_limited = error_from_response(429, None, request_id=None, should_retry=None, context="x")
    assert isinstance(rate_limited, StripeRateLimitError)
    assert rate_limited.retryable
