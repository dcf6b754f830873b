"""The example flows against real Stripe, in test mode. Opt-in: set ``STRIPE_API_KEY=sk_test_...``.

    STRIPE_API_KEY=sk_test_... AIRFLOW_VERSIONS=3.3.2 scripts/test tests/system

Without the variable these tests are skipped. A live key (``sk_live_`` / ``rk_live_``) is refused
before anything is sent, and so is anything but a secret test key. The connection is built here
with its host pinned to ``https://api.stripe.com``, so nothing else in the environment can point
these tests elsewhere. The key is never printed: it lives only in the connection variable, is kept
out of test locals and failure messages, and the hook masks it in logs.

Each run creates, in the test account: a product and a customer (both deleted at the end), a
20.00 USD charge on Stripe's test card ``tok_visa`` and a 5.00 USD refund of it (charges and
refunds cannot be deleted; test-mode data can be wiped in the Dashboard).
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone

import pytest

from airflow_provider_stripe.exceptions import StripeError
from airflow_provider_stripe.hooks.stripe import StripeHook
from tests.dag_runs import RunResult
from tests.example_dags.flows import run_checkout, run_sensor_dags

STRIPE_API = "https://api.stripe.com"

pytestmark = [
    pytest.mark.real_stripe,
    pytest.mark.skipif(
        not os.environ.get("STRIPE_API_KEY"),
        reason="set STRIPE_API_KEY=sk_test_... to run the example flows against Stripe test mode",
    ),
]


def _refusal() -> str | None:
    """Why STRIPE_API_KEY cannot be used, without quoting any of it; None when it is a test secret key."""
    key = os.environ.get("STRIPE_API_KEY", "").strip()
    if key.startswith(("sk_live_", "rk_live_")):
        return "STRIPE_API_KEY is a live-mode key: these tests create charges. Use a test key (sk_test_...)."
    if not key.startswith("sk_test_"):
        return "STRIPE_API_KEY must be a secret test-mode key starting with sk_test_."
    return None


@pytest.fixture
def stripe_test_mode(monkeypatch: pytest.MonkeyPatch) -> StripeHook:
    """``stripe_default`` pointing at api.stripe.com with the test key; yields a hook to check with."""
    refusal = _refusal()
    if refusal:
        pytest.fail(refusal, pytrace=False)
    monkeypatch.setenv(
        "AIRFLOW_CONN_STRIPE_DEFAULT",
        json.dumps(
            {"conn_type": "stripe", "password": os.environ["STRIPE_API_KEY"].strip(), "host": STRIPE_API}
        ),
    )
    hook = StripeHook()
    base_url, mode = hook.settings.base_url, hook.mode
    if (base_url, mode) != (STRIPE_API, "test"):
        pytest.fail(f"Refusing to run: the connection resolved to {base_url} in {mode} mode.", pytrace=False)
    return hook


def delete_created(hook: StripeHook, checkout: RunResult) -> None:
    """Delete the customer and the product a checkout run created (best effort)."""
    for task_id, path in (("create_customer", "/v1/customers"), ("create_product", "/v1/products")):
        created = checkout.xcom(task_id)
        if created:
            try:
                hook.request("DELETE", f"{path}/{created['id']}")
            except StripeError as error:
                print(f"Could not delete {created['id']}: {error.message}")


def test_the_example_flows_in_stripe_test_mode(
    stripe_test_mode: StripeHook, request: pytest.FixtureRequest
) -> None:
    started = datetime.now(timezone.utc)
    checkout = run_checkout()
    request.addfinalizer(lambda: delete_created(stripe_test_mode, checkout))
    flow = run_sensor_dags(checkout, started)

    product = flow.created("create_product")
    customer = flow.created("create_customer")
    charge = stripe_test_mode.charges.retrieve(flow.created("charge_customer")["id"])
    refund = stripe_test_mode.refunds.retrieve(flow.created("refund_part")["id"])

    assert product["name"] == "Airflow mug"
    assert customer["default_source"]  # tok_visa, saved on the customer
    assert charge["livemode"] is False
    assert (charge["customer"], charge["amount"], charge["currency"]) == (customer["id"], 2000, "usd")
    assert charge["paid"] is True
    assert charge["amount_refunded"] == 500
    assert charge["metadata"] == {"product_id": product["id"]}
    assert (refund["charge"], refund["amount"]) == (charge["id"], 500)

    # The account may have other activity: the sensors must have delivered ours, maybe among others.
    assert charge["id"] in flow.charges_seen
    assert refund["id"] in flow.refunds_seen
