"""The emulator decodes exactly what Stripe clients form-encode (this provider and stripe-python)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stripe._encode import _api_encode  # stripe-python's own encoder: the independent oracle

from airflow_provider_stripe.api.encoding import encode_params
from airflow_provider_stripe.testing.errors import StripeAPIError
from airflow_provider_stripe.testing.forms import decode

# Stripe parameter names: no brackets, and not all digits (a hash with only index keys is an array).
names = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True)
scalars = st.text(max_size=12)
params = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, min_size=1, max_size=4) | st.dictionaries(names, children, min_size=1, max_size=4)
    ),
    max_leaves=12,
)
top_level = st.dictionaries(names, params, max_size=5)


def roundtrip(encoded: str) -> dict[str, Any]:
    return decode(parse_qsl(encoded, keep_blank_values=True))


@given(top_level)
def test_provider_encoding_roundtrips(value: dict[str, Any]) -> None:
    assert roundtrip(encode_params(value)) == value


@given(top_level)
def test_stripe_python_encoding_roundtrips(value: dict[str, Any]) -> None:
    assert roundtrip(urlencode(list(_api_encode(value)))) == value


def test_nested_arrays_of_hashes() -> None:
    pairs = [("a[b][0][c]", "x"), ("a[b][1][c]", "y"), ("a[d]", "z")]
    assert decode(pairs) == {"a": {"b": [{"c": "x"}, {"c": "y"}], "d": "z"}}


def test_empty_brackets_append_and_indexes_order_numerically() -> None:
    assert decode([("expand[]", "a"), ("expand[]", "b")]) == {"expand": ["a", "b"]}
    assert decode([(f"images[{i}]", str(i)) for i in (10, 2, 1, 0, 3, 4, 5, 6, 7, 8, 9)]) == {
        "images": [str(i) for i in range(11)]
    }


def test_empty_value_is_kept_to_unset() -> None:
    assert decode([("description", "")]) == {"description": ""}


def test_value_and_hash_under_one_name_is_refused() -> None:
    with pytest.raises(StripeAPIError) as caught:
        decode([("shipping", "x"), ("shipping[name]", "y")])
    assert (caught.value.status, caught.value.param) == (400, "shipping")
