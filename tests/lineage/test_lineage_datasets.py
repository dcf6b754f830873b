"""Which dataset a Stripe call reads or writes: the namespace names the account acted for (Stripe
Connect's ``Stripe-Account``, https://docs.stripe.com/connect/authentication) or else the key's mode."""

from __future__ import annotations

import pytest

from airflow_provider_stripe.api.settings import ClientSettings
from airflow_provider_stripe.lineage import list_name, namespace

KEY = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"


@pytest.mark.parametrize(
    ("account", "expected"), [(None, "stripe://live"), ("acct_1Connected", "stripe://acct_1Connected")]
)
def test_namespace_is_the_connected_account_else_the_mode(account: str | None, expected: str) -> None:
    settings = ClientSettings.from_connection(KEY, None, {"stripe_account": account} if account else {})
    assert namespace(settings) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [("/v1/charges", "charges"), ("/v1/customers/cus_123", "customers"), ("/v1/refunds", "refunds")],
)
def test_a_path_belongs_to_its_list(path: str, expected: str) -> None:
    assert list_name(path) == expected
