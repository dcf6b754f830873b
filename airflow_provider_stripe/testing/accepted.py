"""Which parameters each endpoint accepts: stripe-python 16.1.0's, generated into ``data/stripe_params.json``.

The SDK is generated from Stripe's OpenAPI spec for the API version this provider pins, so its
``*CreateParams`` / ``*ListParams`` / ``*RetrieveParams`` TypedDicts are the list of what Stripe
accepts; ``scripts/generate_stripe_params.py`` writes them to the data file. An endpoint's schema is
that list, with the emulator's own :class:`~airflow_provider_stripe.testing.params.Field` for the
parameters it models (checks, stored values) and a field read from the generated types for the rest
(accepted, type-checked, then ignored by the handler). Anything else is ``parameter_unknown``.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from airflow_provider_stripe.testing.params import (
    Field,
    Schema,
    choice,
    flag,
    integer,
    items,
    nested,
    opaque,
    required,
    text,
)

DATA_FILE = Path(__file__).parent / "data" / "stripe_params.json"


@functools.cache
def generated() -> dict[str, Any]:
    """The data file: SDK and API versions, published versions, and ``params``: {class: {param: spec}}."""
    data: dict[str, Any] = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    return data


def api_versions() -> frozenset[str]:
    """Every published API version (the enum of a webhook endpoint's ``api_version`` in the SDK)."""
    return frozenset(generated()["api_versions"])


def schema(params_class: str, modelled: Schema) -> Schema:
    """The SDK's parameters for ``params_class``, each read by ``modelled``'s field if it has one."""
    specs: dict[str, Any] = generated()["params"][params_class]
    strays = sorted(set(modelled) - set(specs))
    if strays:
        raise ValueError(f"{params_class} has no parameter(s) {strays}: the emulator must not accept them")
    return {name: modelled.get(name) or field_of(spec) for name, spec in specs.items()}


def field_of(spec: dict[str, Any]) -> Field:
    """A field that checks the generated type of a parameter the emulator does not model."""
    field = _field(spec)
    return required(field) if spec.get("required") else field


def _field(spec: dict[str, Any]) -> Field:
    kind = spec["type"]
    if kind == "string":
        return text()
    if kind == "integer":
        return integer()
    if kind == "boolean":
        return flag()
    if kind == "enum":
        return choice(*spec["enum"])
    if kind == "array":
        return items(_field(spec["items"]))
    if kind == "hash" and "fields" in spec:
        return nested({name: field_of(child) for name, child in spec["fields"].items()})
    return opaque()  # free-form hashes (metadata-like), numbers sent as strings, unions of shapes
