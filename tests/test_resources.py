"""The one table of where Stripe objects live, checked against stripe-python 16.1.0, an independent
source: each class's ``OBJECT_NAME`` (Stripe's ``object`` value) and ``class_url()`` (its list's path)."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from airflow_provider_stripe.resources import ACCOUNTS, RETRIEVABLE, StripeResource


def _sdk_class(object_type: str) -> Any:
    """stripe-python's class for an ``object`` type: ``payment_intent`` -> ``stripe.PaymentIntent``,
    ``checkout.session`` -> ``stripe.checkout.Session``."""
    *namespaces, name = object_type.split(".")
    where: Any = stripe
    for namespace in namespaces:
        where = getattr(where, namespace)
    return getattr(where, "".join(word.capitalize() for word in name.split("_")))


@pytest.mark.parametrize(
    "resource", [*RETRIEVABLE.values(), ACCOUNTS], ids=lambda resource: resource.object_type
)
def test_each_row_is_where_stripe_python_finds_that_object(resource: StripeResource) -> None:
    sdk_class = _sdk_class(resource.object_type)
    assert resource.object_type == sdk_class.OBJECT_NAME
    assert sdk_class.class_url() == resource.path


def test_an_id_stays_one_path_segment() -> None:
    # stripe-python's sanitize_id percent-encodes ids the same way in its instance URLs.
    assert RETRIEVABLE["customer"].object_path("cus_1/../x") == "/v1/customers/cus_1%2F..%2Fx"
