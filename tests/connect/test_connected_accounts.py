"""The platform's connected accounts: the emulator's ``GET``/``POST /v1/accounts``, read through the
official SDK, and ``StripeListConnectedAccountsOperator`` feeding ``.expand(stripe_account=...)``.

Stripe's API reference: "List all connected accounts" (https://docs.stripe.com/api/accounts/list:
newest first, ``created`` and the cursors; "if you're not a platform, the list is empty") and
"Create an account" (https://docs.stripe.com/api/accounts/create: ``type`` ``custom``, ``express``
or ``standard``). A connected account cannot reach connected accounts of its own: "You cannot
access the connected accounts of your platform's connected accounts." (stripe/stripe-apps#846).
"""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from airflow_provider_stripe.exceptions import StripeValidationError
from airflow_provider_stripe.operators.stripe import StripeListConnectedAccountsOperator
from airflow_provider_stripe.testing import StripeEmulator
from tests.connect.conftest import ACCOUNT_A
from tests.connect.test_connect_operators import customers_of
from tests.operators.test_operator_dags import run, use_connection


def new_accounts(client: stripe.StripeClient, emulator: StripeEmulator, types: list[str]) -> list[str]:
    """One account of each type, a second apart (so ``created`` orders them), oldest first."""
    emulator.clock.freeze()
    made = []
    for account_type in types:
        made.append(
            client.v1.accounts.create({"type": account_type, "email": f"{account_type}@example.com"}).id
        )
        emulator.clock.advance(1)
    return made


def test_the_sdk_lists_the_accounts_newest_first_every_page_and_by_created(
    stripe_emulator: StripeEmulator, client: stripe.StripeClient
) -> None:
    assert client.v1.accounts.list().data == []  # not a platform yet: the list is empty
    made = new_accounts(client, stripe_emulator, ["custom", "express", "standard"])
    listed = client.v1.accounts.list()
    assert [account.id for account in listed.data] == made[::-1]
    assert [account.type for account in listed.data] == ["standard", "express", "custom"]
    assert all(account.object == "account" and account.id.startswith("acct_") for account in listed.data)

    paged = client.v1.accounts.list({"limit": 1})
    assert [account.id for account in paged.auto_paging_iter()] == made[::-1]
    middle = listed.data[1]
    since = client.v1.accounts.list({"created": {"gte": middle.created}})
    assert [account.id for account in since.data] == made[:0:-1]


def test_a_connected_account_has_no_connected_accounts_to_list(
    stripe_emulator: StripeEmulator, client: stripe.StripeClient
) -> None:
    new_accounts(client, stripe_emulator, ["custom"])
    with pytest.raises(stripe.PermissionError) as refused:
        client.v1.accounts.list(options={"stripe_account": ACCOUNT_A})
    assert "connected accounts of your platform's connected accounts" in str(refused.value.user_message)


def test_the_operator_returns_every_id_over_every_page(
    stripe_emulator: StripeEmulator, monkeypatch: pytest.MonkeyPatch, client: stripe.StripeClient
) -> None:
    use_connection(stripe_emulator, monkeypatch)
    made = {client.v1.accounts.create({"type": "express"}).id for _ in range(101)}
    stripe_emulator.clear_log()
    ids = StripeListConnectedAccountsOperator(task_id="accounts").execute({})  # type: ignore[arg-type]
    assert len(ids) == 101
    assert set(ids) == made
    assert [(r.method, r.path) for r in stripe_emulator.requests] == [("GET", "/v1/accounts")] * 2


def test_a_stripe_account_is_refused_at_parse_time_and_at_run_time_with_no_request(
    stripe_emulator: StripeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(StripeValidationError, match=r"Invalid stripe_account: .* has no connected accounts"):
        StripeListConnectedAccountsOperator(task_id="accounts", stripe_account=ACCOUNT_A)
    rendered = StripeListConnectedAccountsOperator(task_id="accounts", stripe_account="{{ params.account }}")
    rendered.stripe_account = ACCOUNT_A  # what the template rendered to
    use_connection(stripe_emulator, monkeypatch)
    context: Any = {}
    with pytest.raises(StripeValidationError, match=f"acts for {ACCOUNT_A}"):
        rendered.execute(context)
    use_connection(stripe_emulator, monkeypatch, stripe_account=ACCOUNT_A)  # the connection's extra
    with pytest.raises(StripeValidationError, match="stripe_account"):
        StripeListConnectedAccountsOperator(task_id="accounts").execute(context)
    assert stripe_emulator.requests == []


def test_exports_and_creates_expand_over_the_listed_accounts_in_a_dag(
    stripe_emulator: StripeEmulator, monkeypatch: pytest.MonkeyPatch, client: stripe.StripeClient
) -> None:
    use_connection(stripe_emulator, monkeypatch)
    made = new_accounts(client, stripe_emulator, ["custom", "express", "standard"])
    result = run(
        "connect_list_accounts",
        """
        from airflow_provider_stripe.operators.stripe import StripeListConnectedAccountsOperator

        accounts = StripeListConnectedAccountsOperator(task_id="accounts")
        StripeCreateCustomerOperator.partial(task_id="welcome", name="Ada").expand(
            stripe_account=accounts.output
        )
        """,
    )
    assert result.state == "success"
    assert result.xcom("accounts") == made[::-1]
    assert {result.state_of("welcome", i) for i in range(3)} == {"success"}
    for account in made:
        assert len(customers_of(client, account)) == 1
    assert customers_of(client, None) == []
