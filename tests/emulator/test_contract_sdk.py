"""The emulator's contract, checked with the official ``stripe`` SDK (16.1.0) as an independent client.

Where the SDK and the emulator disagree, the emulator is wrong: every test here drives it through
stripe-python (or, for what the SDK cannot show, plain ``requests``) and asserts what Stripe does.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import pytest
import requests
import stripe

from airflow_provider_stripe.testing import StripeEmulator
from tests.emulator.conftest import charge, error_body, sdk_client
from tests.waiting import wait_for

# Top-level keys of Stripe's own OpenAPI fixtures (shared/stripe/objects.json): clients read these.
FIXTURE_KEYS = {
    "charge": """amount amount_captured amount_refunded application application_fee
        application_fee_amount balance_transaction billing_details calculated_statement_descriptor captured
        created currency customer description disputed failure_balance_transaction failure_code
        failure_message fraud_details id livemode metadata object on_behalf_of outcome paid payment_intent
        payment_method payment_method_details receipt_email receipt_number receipt_url refunded refunds
        review shipping source source_transfer statement_descriptor statement_descriptor_suffix status
        transfer_data transfer_group""",
    "customer": """address balance created currency default_source delinquent description discount email id
        invoice_prefix invoice_settings livemode metadata name next_invoice_sequence object phone
        preferred_locales shipping tax_exempt test_clock""",
    "refund": """amount balance_transaction charge created currency customer customer_account
        destination_details id metadata object payment_intent payment_method reason receipt_number
        source_transfer_reversal status transfer_reversal""",
    "product": """active created default_price description id images livemode marketing_features metadata name
        object package_dimensions shippable statement_descriptor tax_code type unit_label updated url""",
    "balance": "available connect_reserved livemode object pending",
    "account": """business_profile business_type capabilities charges_enabled controller country created
        default_currency details_submitted email external_accounts future_requirements id metadata object
        payouts_enabled requirements settings tos_acceptance type""",
}


def keys(kind: str) -> set[str]:
    return set(FIXTURE_KEYS[kind].split())


# -- resources: create, retrieve, list; shapes ------------------------------------------------------


def test_customer_create_retrieve_list(client: stripe.StripeClient) -> None:
    created = client.v1.customers.create(
        params={
            "name": "Jenny Rosen",
            "email": "jenny@example.com",
            "phone": "+15555550100",
            "description": "VIP",
            "address": {"line1": "1 Main St", "city": "Springfield", "country": "US"},
            "shipping": {"name": "Jenny", "address": {"line1": "2 Side St"}, "phone": "+15555550101"},
            "metadata": {"plan": "gold"},
        }
    )
    assert created.id.startswith("cus_")
    assert created.object == "customer"
    assert created.livemode is False
    assert created.address is not None
    assert created.address.line2 is None
    assert created.address.city == "Springfield"
    assert created.shipping is not None
    assert created.shipping.phone == "+15555550101"
    assert created.metadata.to_dict() == {"plan": "gold"}
    assert set(created.to_dict()) == keys("customer")
    fetched = client.v1.customers.retrieve(created.id)
    assert fetched.to_dict() == created.to_dict()
    assert [c.id for c in client.v1.customers.list().data] == [created.id]


def test_charge_create_retrieve_list(client: stripe.StripeClient) -> None:
    created = charge(
        client, description="Order 1", receipt_email="a@example.com", statement_descriptor="ORDER 1"
    )
    assert created.id.startswith("ch_")
    assert (created.amount, created.currency, created.status) == (1000, "usd", "succeeded")
    assert created.paid
    assert created.captured
    assert not created.refunded
    assert created.amount_captured == 1000
    assert created.amount_refunded == 0
    assert created.balance_transaction is not None
    assert str(created.balance_transaction).startswith("txn_")
    assert created.payment_method_details is not None
    card = created.payment_method_details.card
    assert card is not None
    assert (card.brand, card.last4) == ("visa", "4242")
    assert created.source is not None
    assert created.source["brand"] == "Visa"
    assert "refunds" not in created  # since 2022-11-15 only with expand[]=refunds (test_stripe_facts)
    assert set(created.to_dict()) == keys("charge") - {"refunds"}
    assert client.v1.charges.retrieve(created.id).id == created.id
    listed = client.v1.charges.list()
    assert listed.url == "/v1/charges"
    assert [c.id for c in listed.data] == [created.id]


@pytest.mark.parametrize(
    ("source", "brand", "last4"),
    [("tok_visa", "visa", "4242"), ("tok_mastercard", "mastercard", "4444"), ("tok_amex", "amex", "0005"),
     ("pm_card_visa", "visa", "4242")],
)  # fmt: skip
def test_test_sources_succeed_like_stripe_test_cards(
    client: stripe.StripeClient, source: str, brand: str, last4: str
) -> None:
    created = charge(client, source=source)
    assert created.status == "succeeded"
    card = created.payment_method_details.card
    assert card is not None
    assert (card.brand, card.last4) == (brand, last4)


def test_refund_create_retrieve_list(
    client: stripe.StripeClient, http: requests.Session, stripe_emulator: StripeEmulator
) -> None:
    paid = charge(client)
    refund = client.v1.refunds.create(params={"charge": paid.id, "reason": "requested_by_customer"})
    assert refund.id.startswith("re_")
    assert (refund.amount, refund.charge, refund.status, refund.reason) == (
        1000,
        paid.id,
        "succeeded",
        "requested_by_customer",
    )
    assert set(refund.to_dict()) == keys("refund")
    assert client.v1.refunds.retrieve(refund.id).amount == 1000
    assert [r.id for r in client.v1.refunds.list().data] == [refund.id]
    # The charge's own refunds list (charge.refunds.url); stripe-python 16 has no method for it.
    nested = http.get(f"{stripe_emulator.base_url}/v1/charges/{paid.id}/refunds", timeout=5).json()
    assert (nested["url"], [r["id"] for r in nested["data"]]) == (
        f"/v1/charges/{paid.id}/refunds",
        [refund.id],
    )


def test_product_create_retrieve_list(client: stripe.StripeClient) -> None:
    product = client.v1.products.create(
        params={
            "name": "T-shirt",
            "description": "Gray cotton",
            "images": ["https://example.com/a.png", "https://example.com/b.png"],
            "url": "https://example.com/t",
            "unit_label": "shirt",
            "shippable": True,
            "statement_descriptor": "TSHIRT",
            "tax_code": "txcd_99999999",
            "metadata": {"sku": "T1"},
        }
    )
    assert product.id.startswith("prod_")
    assert product.active is True
    assert product.shippable is True
    assert product.images == ["https://example.com/a.png", "https://example.com/b.png"]
    assert set(product.to_dict()) == keys("product")
    assert client.v1.products.retrieve(product.id).name == "T-shirt"
    assert [p.id for p in client.v1.products.list().data] == [product.id]


def test_product_with_own_id_once(client: stripe.StripeClient) -> None:
    assert client.v1.products.create(params={"id": "tshirt", "name": "T"}).id == "tshirt"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.products.create(params={"id": "tshirt", "name": "T"})
    assert caught.value.code == "resource_already_exists"


def test_product_list_filters(client: stripe.StripeClient) -> None:
    active = client.v1.products.create(params={"name": "A"})
    inactive = client.v1.products.create(params={"name": "B", "active": False})
    assert [p.id for p in client.v1.products.list(params={"active": False}).data] == [inactive.id]
    assert [p.id for p in client.v1.products.list(params={"ids": [active.id]}).data] == [active.id]


def test_balance_and_account(client: stripe.StripeClient, stripe_emulator: StripeEmulator) -> None:
    stripe_emulator.clock.freeze()
    charge(client, amount=1000)
    paid = charge(client, amount=500)
    client.v1.refunds.create(params={"charge": paid.id, "amount": 200})
    balance = client.v1.balance.retrieve()
    assert set(balance.to_dict()) == keys("balance")
    assert (balance.pending[0].amount, balance.pending[0].currency) == (1300, "usd")
    assert balance.available[0].amount == 0
    stripe_emulator.clock.advance(2 * 86_400)
    later = client.v1.balance.retrieve()
    assert (later.available[0].amount, later.pending[0].amount) == (1300, 0)
    account = client.v1.accounts.retrieve_current()
    assert account.id == stripe_emulator.account_id
    assert set(account.to_dict()) == keys("account")


def test_stripe_account_header_is_accepted(stripe_emulator: StripeEmulator) -> None:
    connected = stripe.StripeClient(
        stripe_emulator.api_key,
        base_addresses={"api": stripe_emulator.base_url},
        stripe_account="acct_1Connected0000",
        max_network_retries=0,
    )
    assert connected.v1.accounts.retrieve_current().id == "acct_1Connected0000"
    assert connected.v1.customers.create().id.startswith("cus_")


# -- lists: order, pagination, filters --------------------------------------------------------------


def test_same_second_objects_list_newest_first_in_creation_order(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator
) -> None:
    stripe_emulator.clock.freeze(1_700_000_000)
    made = [charge(client).id for _ in range(30)]
    listed = [c.id for c in client.v1.charges.list(params={"limit": 100}).data]
    assert listed == made[::-1]
    assert {c.created for c in client.v1.charges.list(params={"limit": 100}).data} == {1_700_000_000}


def test_auto_paging_forwards_yields_every_object_once(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator
) -> None:
    stripe_emulator.clock.freeze(1_700_000_000)
    made = []
    for index in range(25):
        if index % 4 == 0:
            stripe_emulator.clock.advance(1)
        made.append(charge(client).id)
    first = client.v1.charges.list(params={"limit": 10})
    assert first.has_more is True
    assert len(first.data) == 10
    walked = [c.id for c in first.auto_paging_iter()]
    assert walked == made[::-1]
    assert stripe_emulator.count("GET", "/v1/charges") == 3


def test_auto_paging_backwards_with_ending_before(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator
) -> None:
    stripe_emulator.clock.freeze(1_700_000_000)
    made = [charge(client).id for _ in range(23)]
    page = client.v1.charges.list(params={"ending_before": made[0], "limit": 5})
    # The five objects immediately newer than the cursor, still listed newest first.
    assert [c.id for c in page.data] == made[5:0:-1]
    assert page.has_more is True
    walked = [c.id for c in page.auto_paging_iter()]
    assert walked == made[1:]  # oldest first, every object once


def test_ending_before_last_page_has_no_more(client: stripe.StripeClient) -> None:
    made = [charge(client).id for _ in range(4)]
    page = client.v1.charges.list(params={"ending_before": made[1], "limit": 5})
    assert [c.id for c in page.data] == [made[3], made[2]]
    assert page.has_more is False


def test_starting_after_gives_older_objects(client: stripe.StripeClient) -> None:
    made = [charge(client).id for _ in range(5)]
    page = client.v1.charges.list(params={"starting_after": made[3], "limit": 2})
    assert [c.id for c in page.data] == [made[2], made[1]]
    assert page.has_more is True


def test_created_filters(client: stripe.StripeClient, stripe_emulator: StripeEmulator) -> None:
    stripe_emulator.clock.freeze(1_700_000_000)
    by_second: dict[int, str] = {}
    for offset in range(5):
        stripe_emulator.clock.set(1_700_000_000 + offset)
        by_second[1_700_000_000 + offset] = charge(client).id

    def ids(created: Any) -> list[str]:
        return [c.id for c in client.v1.charges.list(params={"created": created}).data]

    t = 1_700_000_000
    assert ids(t + 2) == [by_second[t + 2]]
    assert ids({"gt": t + 2}) == [by_second[t + 4], by_second[t + 3]]
    assert ids({"gte": t + 3}) == [by_second[t + 4], by_second[t + 3]]
    assert ids({"lt": t + 1}) == [by_second[t]]
    assert ids({"lte": t + 1}) == [by_second[t + 1], by_second[t]]
    assert ids({"gte": t + 1, "lt": t + 3}) == [by_second[t + 2], by_second[t + 1]]


def test_list_filters_by_customer_and_email(client: stripe.StripeClient) -> None:
    ann = client.v1.customers.create(params={"email": "ann@example.com", "source": "tok_visa"})
    client.v1.customers.create(params={"email": "bob@example.com"})
    client.v1.customers.create(params={"email": "Ann@example.com"})
    charge(client)
    mine = charge(client, customer=ann.id, source=None)
    assert [c.id for c in client.v1.charges.list(params={"customer": ann.id}).data] == [mine.id]
    found = client.v1.customers.list(params={"email": "ann@example.com"}).data
    assert [c.id for c in found] == [ann.id]  # exact and case-sensitive


@pytest.mark.parametrize("limit", [0, 101, -1])
def test_limit_out_of_bounds_is_400(client: stripe.StripeClient, limit: int) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.charges.list(params={"limit": limit})
    assert caught.value.http_status == 400
    assert caught.value.param == "limit"


def test_limit_bounds_and_default(client: stripe.StripeClient) -> None:
    for _ in range(12):
        client.v1.products.create(params={"name": "P"})
    assert len(client.v1.products.list().data) == 10
    assert len(client.v1.products.list(params={"limit": 1}).data) == 1
    assert len(client.v1.products.list(params={"limit": 100}).data) == 12


def test_both_cursors_is_400(client: stripe.StripeClient) -> None:
    made = [charge(client).id for _ in range(2)]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.charges.list(params={"starting_after": made[0], "ending_before": made[1]})
    assert caught.value.http_status == 400


def test_unknown_cursor_is_resource_missing(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.charges.list(params={"starting_after": "ch_doesnotexist"})
    assert caught.value.code == "resource_missing"
    assert caught.value.param == "starting_after"
    assert "No such charge: 'ch_doesnotexist'" in str(caught.value.user_message)


# -- auth -------------------------------------------------------------------------------------------


def test_basic_and_bearer_auth(stripe_emulator: StripeEmulator) -> None:
    url = f"{stripe_emulator.base_url}/v1/balance"
    assert requests.get(url, auth=(stripe_emulator.api_key, ""), timeout=5).status_code == 200
    bearer = {"Authorization": f"Bearer {stripe_emulator.api_key}"}
    assert requests.get(url, headers=bearer, timeout=5).status_code == 200


def test_missing_key_is_401(stripe_emulator: StripeEmulator) -> None:
    response = requests.get(f"{stripe_emulator.base_url}/v1/charges", timeout=5)
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert "You did not provide an API key" in response.json()["error"]["message"]


def test_unknown_key_is_401_and_masked(stripe_emulator: StripeEmulator) -> None:
    wrong = "sk_test_" + "x" * 40 + "abcd"
    with pytest.raises(stripe.AuthenticationError) as caught:
        sdk_client(stripe_emulator, wrong).v1.charges.list()
    message = error_body(caught.value)["message"]
    assert caught.value.http_status == 401
    assert message.startswith("Invalid API Key provided: sk_test_")
    assert message.endswith("abcd")
    assert wrong not in message


def test_publishable_key_is_refused(stripe_emulator: StripeEmulator) -> None:
    with pytest.raises(stripe.AuthenticationError) as caught:
        sdk_client(stripe_emulator, "pk_test_" + "y" * 40).v1.charges.list()
    assert "secret API key" in str(caught.value.user_message)


def test_restricted_key_needs_the_named_permission(stripe_emulator: StripeEmulator) -> None:
    key = stripe_emulator.restricted_key({"rak_charge_read"})
    assert key.startswith("rk_test_")
    limited = sdk_client(stripe_emulator, key)
    assert limited.v1.charges.list().data == []
    with pytest.raises(stripe.PermissionError) as caught:
        limited.v1.charges.create(params={"amount": 1000, "currency": "usd", "source": "tok_visa"})
    message = error_body(caught.value)["message"]
    assert caught.value.http_status == 403
    assert message.startswith("The provided key 'rk_test_")
    assert key not in message
    assert (
        "does not have the required permissions for this endpoint on account "
        f"'{stripe_emulator.account_id}'. Having the 'rak_charge_write' permission would allow this "
        "request to continue." in message
    )
    with pytest.raises(stripe.PermissionError, match="rak_customer_read"):
        limited.v1.customers.list()


def test_restricted_write_implies_read(stripe_emulator: StripeEmulator) -> None:
    writer = sdk_client(stripe_emulator, stripe_emulator.restricted_key(["rak_product_write"]))
    product = writer.v1.products.create(params={"name": "P"})
    assert writer.v1.products.retrieve(product.id).id == product.id


def test_restricted_key_rejects_unknown_permission_names(stripe_emulator: StripeEmulator) -> None:
    with pytest.raises(ValueError, match="rak_charges_read"):
        stripe_emulator.restricted_key({"rak_charges_read"})


def test_live_key_makes_livemode_objects_apart_from_test_mode(stripe_emulator: StripeEmulator) -> None:
    live = sdk_client(stripe_emulator, stripe_emulator.live_api_key)
    test = sdk_client(stripe_emulator)
    assert stripe_emulator.live_api_key.startswith("sk_live_")
    live_customer = live.v1.customers.create()
    assert live_customer.livemode is True
    assert charge(live).livemode is True
    assert live.v1.balance.retrieve().livemode is True
    assert test.v1.customers.list().data == []
    with pytest.raises(stripe.InvalidRequestError):
        test.v1.customers.retrieve(live_customer.id)


# -- errors, headers --------------------------------------------------------------------------------


def test_request_id_on_success_and_error(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator
) -> None:
    customer = client.v1.customers.create()
    response = customer.last_response
    assert response is not None
    assert response.request_id.startswith("req_")
    assert stripe_emulator.requests[-1].request_id == response.request_id
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.charges.retrieve("ch_missing")
    assert caught.value.request_id is not None
    assert caught.value.request_id.startswith("req_")


def test_retrieve_unknown_id_is_404_resource_missing(client: stripe.StripeClient) -> None:
    for retrieve, noun, object_id in [
        (client.v1.charges.retrieve, "charge", "ch_x"),
        (client.v1.customers.retrieve, "customer", "cus_x"),
        (client.v1.refunds.retrieve, "refund", "re_x"),
        (client.v1.products.retrieve, "product", "prod_x"),
    ]:
        with pytest.raises(stripe.InvalidRequestError) as caught:
            retrieve(object_id)
        assert caught.value.http_status == 404
        assert caught.value.code == "resource_missing"
        assert error_body(caught.value)["message"] == f"No such {noun}: '{object_id}'"
        assert error_body(caught.value)["doc_url"].startswith("https://stripe.com/docs/error-codes/")


def test_unrecognized_url_is_404(http: requests.Session, stripe_emulator: StripeEmulator) -> None:
    for method, path in [("GET", "/v1/nothing"), ("DELETE", "/v1/charges"), ("POST", "/v1/balance")]:
        response = http.request(method, f"{stripe_emulator.base_url}{path}", timeout=5)
        assert response.status_code == 404
        assert response.json()["error"]["message"].startswith(f"Unrecognized request URL ({method}: {path})")
        assert response.headers["Request-Id"].startswith("req_")


def test_stripe_version_is_echoed_and_checked(
    http: requests.Session, stripe_emulator: StripeEmulator
) -> None:
    url = f"{stripe_emulator.base_url}/v1/balance"
    assert http.get(url, headers={"Stripe-Version": "2024-06-20"}, timeout=5).headers["Stripe-Version"] == (
        "2024-06-20"
    )
    assert http.get(url, timeout=5).headers["Stripe-Version"]  # the account default
    assert http.get(url, headers={"Stripe-Version": "yesterday"}, timeout=5).status_code == 400


def test_unknown_parameter_is_rejected(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.create(params={"nmae": "typo"})
    assert (caught.value.code, caught.value.param) == ("parameter_unknown", "nmae")


# -- charges: validation and declines ---------------------------------------------------------------


# The minimum charge: tests/emulator/test_stripe_facts.py (per settlement currency).


def test_zero_decimal_currency_amounts_are_whole_units(client: stripe.StripeClient) -> None:
    yen = charge(client, amount=500, currency="JPY")
    assert (yen.amount, yen.currency) == (500, "jpy")
    with pytest.raises(stripe.InvalidRequestError, match="¥49 jpy converts to approximately"):
        charge(client, amount=49, currency="jpy")


@pytest.mark.parametrize(
    ("params", "code", "param"),
    [
        ({"amount": 100_000_000}, "amount_too_large", "amount"),
        ({"amount": "1.5"}, "parameter_invalid_integer", "amount"),
        ({"currency": "xyz"}, None, "currency"),
        ({"amount": None}, "parameter_missing", "amount"),
        ({"currency": None}, "parameter_missing", "currency"),
    ],
)
def test_charge_parameter_validation(
    client: stripe.StripeClient,
    stripe_emulator: StripeEmulator,
    params: dict[str, Any],
    code: str,
    param: str,
) -> None:
    body = {"amount": 1000, "currency": "usd", "source": "tok_visa", **params}
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.charges.create(params={k: v for k, v in body.items() if v is not None})
    assert (caught.value.code, caught.value.param) == (code, param)
    assert stripe_emulator.objects("charge") == []


def test_charge_needs_source_or_customer(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError, match="Must provide source or customer"):
        client.v1.charges.create(params={"amount": 1000, "currency": "usd"})


def test_shipping_needs_name_and_address(client: stripe.StripeClient) -> None:
    """API reference, "Create a charge": shipping.name and shipping.address are required, the
    address's lines are not (stripe-python 16.1.0's ChargeCreateParamsShippingAddress agrees)."""
    with pytest.raises(stripe.InvalidRequestError) as missing_name:
        charge(client, shipping={"address": {"line1": "1 Main St"}})
    assert (missing_name.value.code, missing_name.value.param) == ("parameter_missing", "shipping[name]")
    with pytest.raises(stripe.InvalidRequestError) as missing_address:
        charge(client, shipping={"name": "Jenny"})
    assert missing_address.value.param == "shipping[address]"
    city_only = charge(client, shipping={"name": "Jenny", "address": {"city": "Paris"}})
    assert city_only.shipping is not None
    assert city_only.shipping.address.line1 is None
    shipped = charge(client, shipping={"name": "Jenny", "address": {"line1": "1 Main St"}, "carrier": "UPS"})
    assert shipped.shipping is not None
    assert (shipped.shipping.name, shipped.shipping.address.line1, shipped.shipping.carrier) == (
        "Jenny",
        "1 Main St",
        "UPS",
    )


def test_customer_shipping_needs_name_and_address(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.create(params={"shipping": {"name": "Jenny"}})
    assert caught.value.param == "shipping[address]"


@pytest.mark.parametrize(
    ("metadata", "ok"),
    [
        ({f"k{i}": "v" for i in range(50)}, True),
        ({f"k{i}": "v" for i in range(51)}, False),
        ({"k" * 40: "v"}, True),
        ({"k" * 41: "v"}, False),
        ({"k": "v" * 500}, True),
        ({"k": "v" * 501}, False),
    ],
)
def test_metadata_limits(client: stripe.StripeClient, metadata: dict[str, str], ok: bool) -> None:
    if ok:
        assert charge(client, metadata=metadata).metadata.to_dict() == metadata
    else:
        with pytest.raises(stripe.InvalidRequestError) as caught:
            charge(client, metadata=metadata)
        assert caught.value.param == "metadata"


def test_capture_false_authorises_only(client: stripe.StripeClient) -> None:
    held = charge(client, capture=False)
    assert (held.status, held.captured, held.paid, held.amount_captured) == ("succeeded", False, True, 0)
    assert held.balance_transaction is None


@pytest.mark.parametrize(
    ("source", "code", "decline_code"),
    [
        ("tok_chargeDeclined", "card_declined", "generic_decline"),
        ("tok_chargeDeclinedInsufficientFunds", "card_declined", "insufficient_funds"),
        ("pm_card_chargeDeclinedExpiredCard", "expired_card", "expired_card"),
    ],
)
def test_declines_are_402_card_errors_and_keep_a_failed_charge(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator, source: str, code: str, decline_code: str
) -> None:
    with pytest.raises(stripe.CardError) as caught:
        charge(client, source=source)
    error = caught.value
    assert (error.http_status, error.code, error.error.decline_code) == (402, code, decline_code)
    failed_id = error_body(error)["charge"]
    failed = client.v1.charges.retrieve(failed_id)
    assert (failed.status, failed.paid, failed.failure_code) == ("failed", False, code)
    assert [c["id"] for c in stripe_emulator.objects("charge")] == [failed_id]
    assert client.v1.charges.list().data[0].id == failed_id  # failed charges are listed too


def test_customer_charges_use_the_default_source(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"source": "tok_mastercard"})
    assert customer.default_source is not None
    assert str(customer.default_source).startswith("card_")
    paid = charge(client, customer=customer.id, source=None)
    assert paid.customer == customer.id
    assert paid.source is not None
    assert paid.source["id"] == customer.default_source
    assert paid.payment_method_details.card.last4 == "4444"
    again = charge(client, customer=customer.id, source=customer.default_source)
    assert again.status == "succeeded"


def test_customer_created_with_a_source_can_be_charged(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"source": "tok_visa"})
    paid = charge(client, customer=customer.id, source=None)
    assert (paid.status, paid.payment_method, paid.payment_intent) == (
        "succeeded",
        customer.default_source,
        None,
    )


def test_customer_without_a_card_cannot_be_charged(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create()
    with pytest.raises(stripe.CardError) as caught:
        charge(client, customer=customer.id, source=None)
    assert (caught.value.code, caught.value.param) == ("missing", "card")


def test_charge_for_unknown_customer_is_resource_missing(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        charge(client, customer="cus_nope", source=None)
    assert (caught.value.code, caught.value.param) == ("resource_missing", "customer")


def test_card_source_needs_its_customer(client: stripe.StripeClient) -> None:
    owner = client.v1.customers.create(params={"source": "tok_visa"})
    other = client.v1.customers.create(params={"source": "tok_visa"})
    with pytest.raises(stripe.InvalidRequestError) as without_customer:
        charge(client, source=owner.default_source)
    assert without_customer.value.param == "source"
    with pytest.raises(stripe.InvalidRequestError) as wrong_customer:
        charge(client, source=owner.default_source, customer=other.id)
    assert wrong_customer.value.param == "source"


def test_declining_card_fails_when_attached_but_customer_fail_card_attaches(
    client: stripe.StripeClient,
) -> None:
    with pytest.raises(stripe.CardError):
        client.v1.customers.create(params={"source": "tok_chargeDeclined"})
    customer = client.v1.customers.create(params={"source": "tok_chargeCustomerFail"})
    with pytest.raises(stripe.CardError) as caught:
        charge(client, customer=customer.id, source=None)
    assert caught.value.code == "card_declined"


def test_unknown_token_is_resource_missing(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        charge(client, source="tok_nonsense")
    assert (caught.value.code, caught.value.param) == ("resource_missing", "source")


# -- refunds ----------------------------------------------------------------------------------------


def test_partial_refunds_then_the_rest(client: stripe.StripeClient) -> None:
    paid = charge(client, amount=1000)
    first = client.v1.refunds.create(params={"charge": paid.id, "amount": 300})
    after_first = client.v1.charges.retrieve(paid.id)
    assert (after_first.amount_refunded, after_first.refunded) == (300, False)
    rest = client.v1.refunds.create(params={"charge": paid.id})
    assert rest.amount == 700
    done = client.v1.charges.retrieve(paid.id, params={"expand": ["refunds"]})
    assert (done.amount_refunded, done.refunded) == (1000, True)
    assert [r.id for r in done.refunds.data] == [rest.id, first.id]


def test_refund_more_than_left_is_400(client: stripe.StripeClient) -> None:
    paid = charge(client, amount=1000)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"charge": paid.id, "amount": 1001})
    assert caught.value.param == "amount"
    assert "Refund amount ($10.01) is greater than charge amount ($10.00)" in str(caught.value.user_message)
    client.v1.refunds.create(params={"charge": paid.id, "amount": 600})
    with pytest.raises(
        stripe.InvalidRequestError, match=r"greater than unrefunded amount on charge \(\$4.00\)"
    ):
        client.v1.refunds.create(params={"charge": paid.id, "amount": 500})


def test_refund_of_fully_refunded_charge(client: stripe.StripeClient) -> None:
    paid = charge(client)
    client.v1.refunds.create(params={"charge": paid.id})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"charge": paid.id})
    assert caught.value.code == "charge_already_refunded"


def test_refund_validation(client: stripe.StripeClient) -> None:
    paid = charge(client)
    with pytest.raises(stripe.InvalidRequestError) as no_target:
        client.v1.refunds.create(params={"amount": 100})
    assert no_target.value.http_status == 400
    with pytest.raises(stripe.InvalidRequestError) as bad_reason:
        client.v1.refunds.create(params={"charge": paid.id, "reason": "changed_mind"})
    assert bad_reason.value.param == "reason"
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.refunds.create(params={"charge": "ch_nope"})
    assert (missing.value.code, missing.value.param) == ("resource_missing", "charge")


def test_refund_list_filters(client: stripe.StripeClient) -> None:
    by_pm = charge(client, source="pm_card_visa")
    by_token = charge(client)
    first = client.v1.refunds.create(params={"charge": by_pm.id, "amount": 100})
    other = client.v1.refunds.create(params={"charge": by_token.id})
    assert [r.id for r in client.v1.refunds.list(params={"charge": by_token.id}).data] == [other.id]
    assert client.v1.refunds.list(params={"payment_intent": "pi_none"}).data == []
    assert [r.id for r in client.v1.refunds.list().data] == [other.id, first.id]


def test_charges_api_charges_have_no_payment_intent(client: stripe.StripeClient) -> None:
    """API reference, Charge object: payment_intent is "ID of the PaymentIntent associated with this
    charge, if one exists"; the Charges API makes none, so refunding by payment_intent finds nothing."""
    paid = charge(client, source="pm_card_visa")
    assert paid.payment_intent is None
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"payment_intent": "pi_made_up"})
    assert (caught.value.code, caught.value.param) == ("resource_missing", "payment_intent")


def test_refunds_list_created_filter(client: stripe.StripeClient, stripe_emulator: StripeEmulator) -> None:
    stripe_emulator.clock.freeze(1_700_000_000)
    paid = charge(client, amount=1000)
    old = client.v1.refunds.create(params={"charge": paid.id, "amount": 100})
    stripe_emulator.clock.advance(60)
    new = client.v1.refunds.create(params={"charge": paid.id, "amount": 100})
    assert [r.id for r in client.v1.refunds.list(params={"created": {"gte": 1_700_000_030}}).data] == [new.id]
    assert [r.id for r in client.v1.refunds.list(params={"created": {"lt": 1_700_000_030}}).data] == [old.id]


# -- customers and products -------------------------------------------------------------------------


def test_deleted_customers(client: stripe.StripeClient, stripe_emulator: StripeEmulator) -> None:
    customer = client.v1.customers.create(params={"email": "gone@example.com", "source": "tok_visa"})
    deleted = client.v1.customers.delete(customer.id)
    assert deleted.to_dict() == {"id": customer.id, "object": "customer", "deleted": True}
    again = client.v1.customers.retrieve(customer.id)
    assert again.to_dict() == {"id": customer.id, "object": "customer", "deleted": True}
    assert client.v1.customers.list().data == []
    assert client.v1.customers.list(params={"email": "gone@example.com"}).data == []
    with pytest.raises(stripe.InvalidRequestError) as charge_gone:
        charge(client, customer=customer.id, source=None)
    assert charge_gone.value.param == "customer"
    with pytest.raises(stripe.InvalidRequestError) as delete_twice:
        client.v1.customers.delete(customer.id)
    assert delete_twice.value.http_status == 404
    assert stripe_emulator.objects("customer") == [{"id": customer.id, "object": "customer", "deleted": True}]


def test_invalid_email_is_rejected(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.create(params={"email": "not-an-email"})
    assert (caught.value.code, caught.value.param) == ("email_invalid", "email")


def test_product_name_rules(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.products.create(params={"description": "no name"})
    assert (missing.value.code, missing.value.param) == ("parameter_missing", "name")
    with pytest.raises(stripe.InvalidRequestError) as empty:
        client.v1.products.create(params={"name": ""})
    assert (empty.value.code, empty.value.param) == ("parameter_invalid_empty", "name")
    with pytest.raises(stripe.InvalidRequestError) as blank:
        client.v1.products.create(params={"name": "   "})
    assert blank.value.param == "name"


def test_product_at_most_eight_images(client: stripe.StripeClient) -> None:
    images = [f"https://example.com/{i}.png" for i in range(9)]
    assert len(client.v1.products.create(params={"name": "P", "images": images[:8]}).images) == 8
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.products.create(params={"name": "P", "images": images})
    assert caught.value.param == "images"


# -- idempotency ------------------------------------------------------------------------------------


def test_idempotent_replay(client: stripe.StripeClient, stripe_emulator: StripeEmulator) -> None:
    options: Any = {"idempotency_key": "order-42"}
    first = client.v1.customers.create(params={"email": "a@example.com"}, options=options)
    second = client.v1.customers.create(params={"email": "a@example.com"}, options=options)
    assert second.id == first.id
    assert first.last_response is not None
    assert "Idempotent-Replayed" not in first.last_response.headers
    assert second.last_response is not None
    assert second.last_response.headers["Idempotent-Replayed"] == "true"
    assert second.last_response.headers["Original-Request"] == first.last_response.request_id
    assert len(stripe_emulator.objects("customer")) == 1
    assert [r.replayed for r in stripe_emulator.requests] == [False, True]
    assert stripe_emulator.requests[1].idempotency_key == "order-42"


def test_same_key_other_params_or_path_is_idempotency_error(client: stripe.StripeClient) -> None:
    options: Any = {"idempotency_key": "k-1"}
    client.v1.customers.create(params={"email": "a@example.com"}, options=options)
    with pytest.raises(stripe.IdempotencyError) as other_params:
        client.v1.customers.create(params={"email": "b@example.com"}, options=options)
    assert other_params.value.http_status == 400
    assert error_body(other_params.value)["type"] == "idempotency_error"
    with pytest.raises(stripe.IdempotencyError, match="same endpoint"):
        client.v1.products.create(params={"name": "P"}, options=options)


def test_validation_failure_saves_no_idempotent_result(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator
) -> None:
    options: Any = {"idempotency_key": "fix-and-retry"}
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.charges.create(
            params={"amount": 10, "currency": "usd", "source": "tok_visa"}, options=options
        )
    fixed = client.v1.charges.create(
        params={"amount": 1000, "currency": "usd", "source": "tok_visa"}, options=options
    )
    assert fixed.status == "succeeded"
    assert stripe_emulator.requests[-1].replayed is False


def test_declines_are_replayed(client: stripe.StripeClient, stripe_emulator: StripeEmulator) -> None:
    options: Any = {"idempotency_key": "declined-once"}
    params: Any = {"amount": 1000, "currency": "usd", "source": "tok_chargeDeclined"}
    with pytest.raises(stripe.CardError) as first:
        client.v1.charges.create(params=params, options=options)
    with pytest.raises(stripe.CardError) as second:
        client.v1.charges.create(params=params, options=options)
    assert error_body(second.value)["charge"] == error_body(first.value)["charge"]
    assert second.value.headers is not None
    assert second.value.headers["Idempotent-Replayed"] == "true"
    assert len(stripe_emulator.objects("charge")) == 1


def test_idempotency_keys_are_scoped_per_mode(stripe_emulator: StripeEmulator) -> None:
    options: Any = {"idempotency_key": "same-key"}
    test = sdk_client(stripe_emulator).v1.customers.create(options=options)
    live = sdk_client(stripe_emulator, stripe_emulator.live_api_key).v1.customers.create(options=options)
    assert test.id != live.id


def test_idempotency_keys_expire_after_24_hours(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator
) -> None:
    options: Any = {"idempotency_key": "daily"}
    first = client.v1.customers.create(options=options)
    stripe_emulator.clock.advance(24 * 3600 + 1)
    assert client.v1.customers.create(options=options).id != first.id


# -- faults, latency, rate limit, visibility --------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error_class", "error_type"),
    [
        (500, stripe.APIError, "api_error"),
        (503, stripe.APIError, "api_error"),
        (429, stripe.RateLimitError, "invalid_request_error"),
        (400, stripe.InvalidRequestError, "invalid_request_error"),
    ],
)
def test_fail_next_answers_with_stripe_errors(
    client: stripe.StripeClient,
    stripe_emulator: StripeEmulator,
    status: int,
    error_class: type[stripe.StripeError],
    error_type: str,
) -> None:
    stripe_emulator.fail_next(2, status=status)
    for _ in range(2):
        with pytest.raises(error_class) as caught:
            client.v1.customers.create()
        assert caught.value.http_status == status
        assert error_body(caught.value)["type"] == error_type
        assert caught.value.headers is not None
        assert "Stripe-Should-Retry" not in caught.value.headers
    assert client.v1.customers.create().id.startswith("cus_")
    assert len(stripe_emulator.objects("customer")) == 1  # faults before the handler create nothing


def test_fail_next_queues_up_and_can_wait(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator
) -> None:
    stripe_emulator.fail_next(1, status=429, after=1)
    stripe_emulator.fail_next(1, status=500)
    for _ in range(4):
        with contextlib.suppress(stripe.RateLimitError, stripe.APIError):
            client.v1.balance.retrieve()
    assert [r.status for r in stripe_emulator.requests] == [200, 429, 500, 200]


def test_faults_keyed_to_a_method_and_path_strike_only_those_requests(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator
) -> None:
    stripe_emulator.fail_next(1, status=500, method="GET", path="/v1/charges", after=1)
    stripe_emulator.fail_next(1, status=429, method="post")  # any path, method case-insensitive
    with contextlib.suppress(stripe.RateLimitError):
        client.v1.customers.create()
    client.v1.charges.list()  # the one let through
    client.v1.balance.retrieve()  # another path: passes by, and is not counted
    with pytest.raises(stripe.APIError):
        client.v1.charges.list()
    client.v1.charges.list()
    client.v1.customers.create()
    statuses = [(r.method, r.path, r.status) for r in stripe_emulator.requests]
    assert statuses == [
        ("POST", "/v1/customers", 429),
        ("GET", "/v1/charges", 200),
        ("GET", "/v1/balance", 200),
        ("GET", "/v1/charges", 500),
        ("GET", "/v1/charges", 200),
        ("POST", "/v1/customers", 200),
    ]


def test_a_late_answer_strikes_exactly_the_requests_it_names(stripe_emulator: StripeEmulator) -> None:
    """The create is carried out at once and answered after the client gave up; nothing else waits."""
    stripe_emulator.slow_next(1, 1.0, method="POST", path="/v1/customers")
    auth = (stripe_emulator.api_key, "")
    assert requests.get(f"{stripe_emulator.base_url}/v1/balance", auth=auth, timeout=30).ok
    with pytest.raises(requests.Timeout):
        requests.post(f"{stripe_emulator.base_url}/v1/customers", auth=auth, timeout=0.2)
    assert len(stripe_emulator.objects("customer")) == 1  # made before the late answer
    wait_for("the late answer", lambda: stripe_emulator.in_flight == 0)
    assert requests.post(f"{stripe_emulator.base_url}/v1/customers", auth=auth, timeout=30).ok
    assert [r.status for r in stripe_emulator.requests] == [200, 200, 200]
    assert stripe_emulator.in_flight == 0


def test_faults_that_meet_on_one_request_and_late_answers_count_requests_carried_out(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator
) -> None:
    stripe_emulator.slow_next(1, 0.05, path="/v1/balance")
    stripe_emulator.fail_next(1, status=503)
    stripe_emulator.clear_faults()
    stripe_emulator.fail_next(1, status=503)
    stripe_emulator.slow_next(1, 0.05, path="/v1/balance")
    stripe_emulator.fail_next(1, status=429, path="/v1/balance")
    with pytest.raises(stripe.APIError):  # the first armed error; not carried out: answered at once
        client.v1.balance.retrieve()
    with pytest.raises(stripe.InvalidRequestError):  # a refused parameter: not carried out either
        client.v1.balance.retrieve(params={"bogus": "1"})  # type: ignore[typeddict-unknown-key]
    client.v1.balance.retrieve()  # carried out: the late answer strikes this one
    assert [r.status for r in stripe_emulator.requests] == [503, 400, 200]
    assert stripe_emulator.in_flight == 0
    with pytest.raises(ValueError, match="delay"):
        stripe_emulator.slow_next(1, -1)
    with pytest.raises(ValueError, match="status"):
        stripe_emulator.fail_next(1, status=302, path="/v1/charges")


def test_dropped_connection(client: stripe.StripeClient, stripe_emulator: StripeEmulator) -> None:
    stripe_emulator.fail_next(1, status="drop")
    with pytest.raises(stripe.APIConnectionError):
        client.v1.customers.list()
    assert stripe_emulator.requests[-1].status == 0
    assert client.v1.customers.list().data == []


def test_should_retry_false_stops_sdk_retries(stripe_emulator: StripeEmulator) -> None:
    retrying = sdk_client(stripe_emulator, retries=2)
    stripe_emulator.fail_next(1, status=500, should_retry=False)
    with pytest.raises(stripe.APIError) as caught:
        retrying.v1.customers.list()
    assert caught.value.headers is not None
    assert caught.value.headers["Stripe-Should-Retry"] == "false"
    assert stripe_emulator.count() == 1


def test_should_retry_true_makes_sdk_retry_a_429(stripe_emulator: StripeEmulator) -> None:
    retrying = sdk_client(stripe_emulator, retries=2)
    stripe_emulator.fail_next(1, status=429, should_retry=True)
    assert retrying.v1.customers.list().data == []
    assert [r.status for r in stripe_emulator.requests] == [429, 200]


@pytest.mark.parametrize("status", [500, "drop"])
def test_fault_after_handler_creates_then_retry_replays(stripe_emulator: StripeEmulator, status: Any) -> None:
    retrying = sdk_client(stripe_emulator, retries=1)
    stripe_emulator.fail_next(1, status=status, after_handler=True)
    customer = retrying.v1.customers.create(params={"email": "once@example.com"})
    assert [c["id"] for c in stripe_emulator.objects("customer")] == [customer.id]
    first, second = stripe_emulator.requests
    assert first.idempotency_key == second.idempotency_key
    assert (first.status, second.replayed) == ((0 if status == "drop" else 500), True)


def test_after_handler_fault_without_retry_still_created(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator
) -> None:
    stripe_emulator.fail_next(1, status=500, after_handler=True)
    with pytest.raises(stripe.APIError):
        client.v1.products.create(params={"name": "lost answer"})
    assert [p["name"] for p in stripe_emulator.objects("product")] == ["lost answer"]


def test_latency_is_added(client: stripe.StripeClient, stripe_emulator: StripeEmulator) -> None:
    client.v1.balance.retrieve()
    stripe_emulator.latency = 0.2
    started = time.perf_counter()
    client.v1.balance.retrieve()
    assert time.perf_counter() - started >= 0.2


def test_visibility_delay_hides_new_objects_from_lists_only(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator
) -> None:
    stripe_emulator.clock.freeze(1_700_000_000)
    stripe_emulator.visibility_delay = 5.0
    late = charge(client)
    assert client.v1.charges.list().data == []
    assert client.v1.charges.retrieve(late.id).id == late.id
    stripe_emulator.clock.advance(4.9)
    assert client.v1.charges.list().data == []
    stripe_emulator.clock.advance(0.1)
    assert [c.id for c in client.v1.charges.list().data] == [late.id]


def test_visibility_delay_sticks_to_objects_made_under_it(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator
) -> None:
    stripe_emulator.clock.freeze(1_700_000_000)
    stripe_emulator.visibility_delay = 30
    late = charge(client)
    stripe_emulator.visibility_delay = 0
    on_time = charge(client)
    assert [c.id for c in client.v1.charges.list().data] == [on_time.id]
    stripe_emulator.clock.advance(30)
    assert [c.id for c in client.v1.charges.list().data] == [on_time.id, late.id]


def test_visibility_delay_counts_in_has_more(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator
) -> None:
    stripe_emulator.clock.freeze(1_700_000_000)
    visible = charge(client)
    stripe_emulator.visibility_delay = 10
    stripe_emulator.clock.advance(10)
    charge(client)  # created now: hidden for 10 s
    page = client.v1.charges.list(params={"limit": 1})
    assert ([c.id for c in page.data], page.has_more) == ([visible.id], False)


# -- the emulator's own API -------------------------------------------------------------------------


def test_request_log(http: requests.Session, stripe_emulator: StripeEmulator) -> None:
    http.post(
        f"{stripe_emulator.base_url}/v1/products",
        data={"name": "P", "images[0]": "a", "images[1]": "b", "metadata[k]": "v"},
        headers={"Idempotency-Key": "log-1"},
        timeout=5,
    )
    http.get(f"{stripe_emulator.base_url}/v1/products", params={"limit": 3, "created[gte]": 1}, timeout=5)
    requests.get(f"{stripe_emulator.base_url}/v1/products", timeout=5)
    post, listing, anonymous = stripe_emulator.requests
    assert (post.method, post.path, post.status, post.idempotency_key) == (
        "POST",
        "/v1/products",
        200,
        "log-1",
    )
    assert post.form == {"name": "P", "images": ["a", "b"], "metadata": {"k": "v"}}
    assert post.api_key_kind == "secret"
    assert listing.query == {"limit": "3", "created": {"gte": "1"}}
    assert (anonymous.api_key_kind, anonymous.status) == (None, 401)
    assert stripe_emulator.count() == 3
    assert stripe_emulator.count("GET") == 2
    assert stripe_emulator.count("POST", "/v1/products") == 1
    assert stripe_emulator.count(path_prefix="/v1/charges") == 0
    stripe_emulator.clear_log()
    assert stripe_emulator.requests == []


def test_objects_are_copies_newest_first(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator
) -> None:
    first, second = charge(client), charge(client)
    stored = stripe_emulator.objects("charge")
    assert [c["id"] for c in stored] == [second.id, first.id]
    stored[0]["amount"] = 1
    assert stripe_emulator.objects("charge")[0]["amount"] == 1000
    with pytest.raises(ValueError, match="Unknown kind"):
        stripe_emulator.objects("invoice")


def test_reset_drops_state_but_keeps_keys(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator
) -> None:
    charge(client)
    stripe_emulator.fail_next(5)
    stripe_emulator.clock.freeze(1)
    stripe_emulator.reset()
    assert stripe_emulator.objects("charge") == []
    assert stripe_emulator.requests == []
    assert abs(stripe_emulator.clock.now() - time.time()) < 5
    assert client.v1.charges.list().data == []  # same key still valid, no pending fault
