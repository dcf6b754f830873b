"""What a resource module declares (an :class:`Endpoint`) and what its handlers receive (:class:`ApiContext`).

Handlers are plain synchronous functions of (context, validated params, path params) returning the
object to send, or raising :class:`~airflow_provider_stripe.testing.errors.StripeAPIError`. Everything
HTTP (auth, idempotency, faults, logging) stays in the server, so a handler holds only Stripe's rules.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from airflow_provider_stripe.testing import accepted
from airflow_provider_stripe.testing.errors import resource_missing
from airflow_provider_stripe.testing.params import Schema
from airflow_provider_stripe.testing.settlement import AccountSettings
from airflow_provider_stripe.testing.store import Ledger, Record

Access = Literal["read", "write"]


@dataclass
class ApiContext:
    """The request's view of the emulator: its mode's objects and the time it arrived."""

    ledger: Ledger
    livemode: bool
    now: float
    visibility_delay: float
    account_id: str
    next_seq: Callable[[], int]
    request_id: str | None = None
    idempotency_key: str | None = None
    connected_account: str | None = None
    """The ``Stripe-Account`` a platform acts as, if any (its objects live in their own ledger)."""
    settings: AccountSettings = field(default_factory=AccountSettings)
    """The account's country and settlement currency."""

    @property
    def created(self) -> int:
        """``created`` stamp for objects made by this request."""
        return int(self.now)

    def save(self, kind: str, obj: dict[str, Any]) -> Record:
        """Store a new object; lists will show it once the visibility delay in force now has passed."""
        return self.ledger[kind].add(Record(obj, self.next_seq(), self.now + self.visibility_delay))

    def listable(self, record: Record) -> bool:
        return not record.deleted and record.visible_at <= self.now

    def find(
        self, kind: str, object_id: str, *, param: str, status: int = 400, deleted_ok: bool = False
    ) -> Record:
        """The record, or Stripe's ``No such ...`` (404 for an id in the path, 400 in a parameter).

        A deleted customer is "no such customer" everywhere except its own retrieval (``deleted_ok``).
        """
        collection = self.ledger[kind]
        record = collection.get(object_id)
        if record is None or (record.deleted and not deleted_ok):
            raise resource_missing(collection.noun, object_id, param=param, status=status)
        return record


Handler = Callable[[ApiContext, dict[str, Any], Mapping[str, str]], dict[str, Any]]
Check = Callable[[dict[str, Any], AccountSettings], None]
"""Rules across an endpoint's parsed parameters (some depend on the account's settings), run with
validation (before the endpoint executes)."""


def no_check(params: dict[str, Any], settings: AccountSettings) -> None:
    """For endpoints whose parameters need no rule beyond their own fields."""


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    """An aiohttp route pattern, e.g. ``/v1/charges/{id}``."""
    resource: str
    """The noun in the restricted-key permission this endpoint needs (``rak_<resource>_<access>``)."""
    access: Access
    params: str
    """The stripe-python TypedDict listing the parameters Stripe accepts (``ChargeCreateParams``)."""
    modelled: Schema
    """The fields for the parameters the emulator models; the others are accepted as generated."""
    handler: Handler
    check: Check = no_check

    @functools.cached_property
    def schema(self) -> Schema:
        return accepted.schema(self.params, self.modelled)

    @property
    def lists(self) -> bool:
        """Whether the endpoint answers with a list object (of ``resource`` objects)."""
        return "List" in self.params  # ChargeListParams, ChargeListRefundsParams...

    @property
    def permission(self) -> str:
        return f"rak_{self.resource}_{self.access}"
