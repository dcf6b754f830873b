"""Form encoding equals stripe-python's on everything Stripe accepts (property-based)."""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

from hypothesis import given
from hypothesis import strategies as st
from stripe._encode import _api_encode

from airflow_provider_stripe.api.encoding import encode_params

keys = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="[]"), min_size=1, max_size=12)
scalars = st.one_of(
    st.text(max_size=20),  # includes "" (which unsets a field) and non-ASCII
    st.integers(min_value=-(10**12), max_value=10**12),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False),
)
list_items = st.one_of(st.text(max_size=10), st.integers())
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.dictionaries(keys, children, max_size=4),
        st.lists(st.one_of(list_items, st.dictionaries(keys, children, max_size=3)), max_size=4),
    ),
    max_leaves=20,
)


def stripe_python(params: dict[str, object]) -> str:
    return urlencode(list(_api_encode(params)))


@given(st.dictionaries(keys, values, max_size=6))
def test_matches_stripe_python(params: dict[str, object]) -> None:
    assert encode_params(params) == stripe_python(params)


def test_examples() -> None:
    params = {
        "amount": 2000,
        "capture": False,
        "description": "",
        "receipt_email": None,
        "metadata": {"order": "6735", "note": "a&b=c"},
        "expand": ["customer", "balance_transaction"],
        "shipping": {"name": "Jenny", "address": {"line1": "1 Main St", "city": "Berlin"}},
        "items": [{"price": "price_1", "quantity": 2}],
    }
    assert encode_params(params) == (
        "amount=2000&capture=false&description="
        "&metadata%5Border%5D=6735&metadata%5Bnote%5D=a%26b%3Dc"
        "&expand%5B0%5D=customer&expand%5B1%5D=balance_transaction"
        "&shipping%5Bname%5D=Jenny&shipping%5Baddress%5D%5Bline1%5D=1+Main+St"
        "&shipping%5Baddress%5D%5Bcity%5D=Berlin"
        "&items%5B0%5D%5Bprice%5D=price_1&items%5B0%5D%5Bquantity%5D=2"
    )
    assert encode_params(params) == stripe_python(params)


def test_datetimes_become_epoch_seconds() -> None:
    moment = datetime.datetime(2026, 11, 27, 12, 0, tzinfo=datetime.timezone.utc)
    assert encode_params({"created": {"gte": moment}}) == "created%5Bgte%5D=1795780800"
    assert encode_params({"created": {"gte": moment}}) == stripe_python({"created": {"gte": moment}})


def test_booleans_inside_lists_are_lowercase_unlike_stripe_python() -> None:
    # stripe-python sends "True" here, which Stripe rejects; this is the one intended difference.
    assert encode_params({"flags": [True, False]}) == "flags%5B0%5D=true&flags%5B1%5D=false"
