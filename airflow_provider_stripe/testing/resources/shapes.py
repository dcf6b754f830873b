"""Sub-objects several resources share: addresses and shipping details with every key present."""

from __future__ import annotations

from typing import Any

from airflow_provider_stripe.testing.params import ADDRESS


def address(given: dict[str, Any] | None) -> dict[str, Any] | None:
    """An address object: every field present, ``None`` where not given."""
    if given is None:
        return None
    return {key: given.get(key) for key in ADDRESS}


def shipping(given: dict[str, Any] | None, *extra_fields: str) -> dict[str, Any] | None:
    """Shipping details (customers have address/name/phone; charges add carrier and tracking number)."""
    if given is None:
        return None
    fields = {
        "address": address(given.get("address")),
        "name": given.get("name"),
        "phone": given.get("phone"),
    }
    fields.update({name: given.get(name) for name in extra_fields})
    return dict(sorted(fields.items()))
