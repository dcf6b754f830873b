"""Many objects at chosen ``created`` seconds, made by the endpoints' own handlers without HTTP.

A backfill test or benchmark needs a day of 10,000 or 100,000 charges; creating them over HTTP one
request at a time takes minutes. Here each object is made exactly as ``POST /v1/<resource>`` makes
it (same validation, same handler, same events), at the ``created`` second asked for, holding the
state lock once: no request log entry, no rate limit, no latency.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from airflow_provider_stripe.api.encoding import encode_params
from airflow_provider_stripe.testing.endpoint import ApiContext
from airflow_provider_stripe.testing.errors import StripeAPIError
from airflow_provider_stripe.testing.forms import decode
from airflow_provider_stripe.testing.params import parse
from airflow_provider_stripe.testing.resources import ENDPOINTS
from airflow_provider_stripe.testing.state import EmulatorState


def create_many(
    state: EmulatorState, path: str, params: Mapping[str, Any], created: Iterable[float], *, livemode: bool
) -> list[str]:
    """Create one object per entry of ``created`` with ``POST path`` and ``params``; their ids.

    :raises ValueError: for a path with no create endpoint, or parameters Stripe would refuse.
    """
    endpoint = next((e for e in ENDPOINTS if e.method == "POST" and e.path == path), None)
    if endpoint is None:
        creatable = sorted(e.path for e in ENDPOINTS if e.method == "POST" and "{" not in e.path)
        raise ValueError(f"path must be one of {', '.join(creatable)}; got {path!r}")
    try:
        # As the server reads them: form-encoded, then decoded into nested text.
        parsed = parse(decode(parse_qsl(encode_params(params), keep_blank_values=True)), endpoint.schema)
        endpoint.check(parsed, state.settings)
    except StripeAPIError as error:
        raise ValueError(f"POST {path} would be refused: {error.message}") from None
    ids: list[str] = []
    with state.lock:
        for moment in created:
            context = ApiContext(
                ledger=state.store.ledger(livemode),
                livemode=livemode,
                now=float(moment),
                visibility_delay=0.0,
                account_id=state.account_id,
                next_seq=state.store.next_seq,
                settings=state.settings,
            )
            ids.append(str(endpoint.handler(context, dict(parsed), {})["id"]))
    return ids
