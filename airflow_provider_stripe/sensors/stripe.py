"""Sensors that start a flow when Stripe has new charges, new refunds or new events."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.providers.common.compat.sdk import (
    AirflowSensorTimeout,
    BaseSensorOperator,
    PokeReturnValue,
    conf,
)

from airflow_provider_stripe.api.settings import connected_account
from airflow_provider_stripe.exceptions import StripeError, StripeValidationError
from airflow_provider_stripe.lineage import stripe_lineage
from airflow_provider_stripe.polling.cursor import CURSOR_KEY, Cursor
from airflow_provider_stripe.polling.events import EventWatch, event_type_filters, run_event_poll
from airflow_provider_stripe.polling.poll import PollResult, run_poll
from airflow_provider_stripe.polling.watch import (
    DEFAULT_LOOKBACK,
    DEFAULT_MAX_BATCH,
    DEFAULT_POLL_INTERVAL,
    Watch,
    ends_the_wait,
)
from airflow_provider_stripe.validation import is_unrendered, number

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context
    from airflow.triggers.base import BaseTrigger

    from airflow_provider_stripe.hooks.stripe import StripeHook
    from airflow_provider_stripe.lineage import StripeLineage

CURSOR_XCOM_KEY = CURSOR_KEY
DEFAULT_POKE_INTERVAL = DEFAULT_POLL_INTERVAL
#: Checks ``poke_interval``, a timedelta or seconds: Stripe allows about 100 reads a second.
POKE_INTERVAL = number(
    0.1, 7 * 24 * 3600, strings=False, durations=True, hint="seconds or a timedelta, 0.1 s to 7 days"
)


#: The templated parameters every Stripe sensor has, after its filters.
_SENSOR_TEMPLATE_FIELDS = ("start_from", "stripe_account")
#: A deferred sensor's trigger ends itself at the sensor's timeout, handing back its cursor; Airflow's
#: own deferral timeout, this much later, only backs it up (a trigger that never answered).
_DEFERRAL_TIMEOUT_MARGIN = timedelta(minutes=5)


@dataclass(frozen=True)
class _Progress:
    """What the pokes of one task try learned: the cursor the next poke polls from; the one the next
    run would read from XCom (None: unknown, or nothing stored); the one in the run's task state
    store (reschedule mode on Airflow 3.3+; None: nothing there)."""

    of_try: tuple[Any, ...]
    cursor: Cursor
    in_xcom: Cursor | None
    in_run: Cursor | None = None


class _StripeNewObjectsSensor(BaseSensorOperator):
    """Wait until Stripe lists objects created after the sensor's cursor, then return them.

    Subclasses name the list (``path``), what its objects are called, and its filters, and list
    :data:`_SENSOR_TEMPLATE_FIELDS` in their ``template_fields``. ``stripe_account`` (a connected
    account, ``Stripe-Account``) is this class's: the hook, the trigger and the lineage use it.
    """

    path: ClassVar[str]
    noun: ClassVar[str]
    filter_names: ClassVar[tuple[str, ...]]
    ui_color = "#635bff"  # Stripe's blurple

    def __init__(
        self,
        *,
        stripe_conn_id: str = "stripe_default",
        stripe_account: str | None = None,
        lookback: timedelta | float = DEFAULT_LOOKBACK,
        max_batch: int = DEFAULT_MAX_BATCH,
        start_from: datetime | float | str | None = None,
        poke_interval: timedelta | float = DEFAULT_POKE_INTERVAL,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        **kwargs: Any,
    ) -> None:
        interval = POKE_INTERVAL.check("poke_interval", poke_interval)
        super().__init__(poke_interval=interval, **kwargs)
        self.stripe_conn_id = stripe_conn_id
        self.stripe_account = stripe_account
        self.lookback = lookback
        self.max_batch = max_batch
        self.start_from = start_from
        self.deferrable = deferrable
        # The cursor the last poke left, for the next poke of the same try (poke mode): after an
        # idle poke too, its floor follows Stripe's clock, so the next poke does not list again
        # what this one listed.
        self._progress: _Progress | None = None

    def check_known_values(self) -> None:
        """Fail the DAG file at parse time for a value that is already wrong.

        Subclasses call it once their filters are set. Templates and XCom references wait: they are
        checked once rendered, by :attr:`watch` and :meth:`cursor`.
        """
        known = {name: value for name, value in self._filters().items() if not is_unrendered(value)}
        Watch.checked(self.path, known, self.max_batch, self.lookback)
        start = self.start_from
        if not _not_given(start) and start != "data_interval_start" and not is_unrendered(start):
            _epoch_seconds(start, "start_from")
        if not is_unrendered(self.stripe_account):
            connected_account(self.stripe_account)

    def _filters(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.filter_names}

    @cached_property
    def hook(self) -> StripeHook:
        """Built at the first poke; a rendered ``stripe_account`` that is no account id fails here,
        before any request."""
        from airflow_provider_stripe.hooks.stripe import StripeHook

        return StripeHook(self.stripe_conn_id, stripe_account=connected_account(self.stripe_account))

    @cached_property
    def watch(self) -> Watch:
        return Watch.checked(self.path, self._filters(), self.max_batch, self.lookback)

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        found = self.poke(context)
        if isinstance(found, PokeReturnValue):
            return found.xcom_value
        timeout = timedelta(seconds=self.timeout) if self.timeout else None
        self.defer(
            trigger=self._trigger(
                self.cursor(context), end_at=time.time() + timeout.total_seconds() if timeout else None
            ),
            method_name="execute_complete",
            timeout=timeout + _DEFERRAL_TIMEOUT_MARGIN if timeout else None,
        )

    def _trigger(self, cursor: Cursor, end_at: float | None) -> BaseTrigger:
        """The trigger that waits from ``cursor`` on the triggerer, until ``end_at`` (epoch seconds)."""
        from airflow_provider_stripe.triggers.stripe import StripeNewObjectsTrigger

        return StripeNewObjectsTrigger(
            path=self.watch.path,
            cursor=cursor.to_json(),
            filters=dict(self.watch.filters),
            **self._polling_settings(end_at),
        )

    def _polling_settings(self, end_at: float | None) -> dict[str, Any]:
        """What the trigger polls with (:class:`~airflow_provider_stripe.triggers.polls.PollsStripe`),
        and until when."""
        return {
            "stripe_conn_id": self.stripe_conn_id,
            "stripe_account": connected_account(self.stripe_account),
            "max_batch": self.watch.max_batch,
            "lookback_seconds": self.watch.lookback_seconds,
            "poll_interval": self.poke_interval,
            "end_at": end_at,
        }

    def poke(self, context: Context) -> bool | PokeReturnValue:
        try:
            result = self._poll(self.cursor(context))
        except StripeError as error:
            if ends_the_wait(error):
                raise
            self.log.warning("Stripe poll failed; the next poke tries again: %s", error)
            return False
        self.log.info(self.watch.describe(result, self.noun))
        if not result.objects:
            self._keep_progress(context, result.cursor)
            return False
        return self._deliver(context, result)

    def _keep_progress(self, context: Context, cursor: Cursor) -> None:
        """Keep what polls that delivered nothing learned (the floor on Stripe's clock, the ids still
        kept): in memory for this try's next poke, and in the ``stripe_cursor`` XCom when it is worth
        a write (:meth:`Cursor.worth_saving`), so that a run that ends without delivering (timeout,
        soft fail) leaves it to the next run. It never marks an object delivered, so a retry or a
        clear, which wipes it with the run's XComs, only goes back to the previous run's cursor."""
        progress = self._progress_of(context)
        in_xcom, in_run = (progress.in_xcom, progress.in_run) if progress else (None, None)
        if cursor.worth_saving(in_xcom):
            context["ti"].xcom_push(key=CURSOR_XCOM_KEY, value=cursor.to_json())
            in_xcom = cursor
        run_state = self._run_state(context)
        if run_state is not None and cursor.worth_saving(in_run):
            run_state.set(CURSOR_XCOM_KEY, cursor.to_json())
            in_run = cursor
        self._progress = _Progress(_try_of(context), cursor, in_xcom, in_run)

    def _run_state(self, context: Context) -> Any:
        """Where reschedule mode keeps an idle poke's progress for the run's next poke: Airflow
        clears a run's XComs each time it starts the task again, but not its task state store
        (Airflow 3.3+; on older Airflow None, and each poke starts from the previous run's cursor)."""
        return context.get("task_state_store") if self.reschedule else None

    def _progress_of(self, context: Context) -> _Progress | None:
        """This try's progress; an earlier try's (a retry in the same process) does not count."""
        progress = self._progress
        return progress if progress is not None and progress.of_try == _try_of(context) else None

    def _poll(self, cursor: Cursor) -> PollResult:
        """One poll from ``cursor`` through the hook."""
        return run_poll(self.watch.poll(cursor), partial(self.hook.list_page, self.path))

    def execute_complete(self, context: Context, event: dict[str, Any]) -> list[dict[str, Any]]:
        """Resume after the trigger fired: store its cursor and return its objects; or, when it
        reached the sensor's timeout, store how far it looked and time out."""
        from airflow_provider_stripe.triggers.stripe import error_from_event

        if event.get("status") == "timeout":
            # Airflow's resume_execution turns it into a skip under soft_fail / never_fail.
            self._keep_progress(context, Cursor.from_json(event["cursor"]))
            raise AirflowSensorTimeout(
                f"Sensor has timed out: nothing new in {self.timeout} s; how far it looked is saved."
            )
        if event.get("status") != "success":
            raise error_from_event(event)
        result = PollResult(objects=event["objects"], cursor=Cursor.from_json(event["cursor"]), pages=0)
        self.log.info("The trigger found %d new %s.", len(result.objects), self.noun)
        self._deliver(context, result)
        return result.objects

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> StripeLineage:
        """OpenLineage: this task read its Stripe list (see :mod:`airflow_provider_stripe.lineage`)."""
        return stripe_lineage(self.hook, read=[self.path])

    def _deliver(self, context: Context, result: PollResult) -> PokeReturnValue:
        context["ti"].xcom_push(key=CURSOR_XCOM_KEY, value=result.cursor.to_json())
        progress = self._progress_of(context)
        in_run = progress.in_run if progress is not None else None
        self._progress = _Progress(_try_of(context), result.cursor, result.cursor, in_run)
        return PokeReturnValue(is_done=True, xcom_value=result.objects)

    def cursor(self, context: Context) -> Cursor:
        """The cursor an earlier poke of this try left, else (reschedule mode, Airflow 3.3+) the one
        an earlier poke of this run kept, else the one the latest earlier run of this task (same map
        index) left, else the start."""
        progress = self._progress_of(context)
        if progress is not None:
            return progress.cursor
        run_state = self._run_state(context)
        kept = run_state.get(CURSOR_XCOM_KEY) if run_state is not None else None
        if kept:
            # An earlier poke of this run (before a reschedule) got this far without delivering.
            cursor = Cursor.from_json(kept)
            self._progress = _Progress(_try_of(context), cursor, in_xcom=None, in_run=cursor)
            return cursor
        ti = context["ti"]
        stored = ti.xcom_pull(
            task_ids=ti.task_id, key=CURSOR_XCOM_KEY, include_prior_dates=True, map_indexes=ti.map_index
        )
        if not stored:
            return Cursor.starting_at(self._start(context))
        cursor = Cursor.from_json(stored)
        self._progress = _Progress(_try_of(context), cursor, in_xcom=cursor)
        return cursor

    def _start(self, context: Context) -> int:
        """Epoch seconds from which objects count as new when there is no cursor yet."""
        start = self.start_from
        if _not_given(start):
            # "Now" for this run, stable across its pokes, reschedules and retries.
            dag_run = context.get("dag_run")
            start = getattr(dag_run, "start_date", None) or datetime.now(timezone.utc)
        elif start == "data_interval_start":
            start = context.get("data_interval_start")
        return _epoch_seconds(start, "start_from")


def _try_of(context: Context) -> tuple[Any, ...]:
    """Which task try ``context`` belongs to: an idle poke's cursor is for that try's next pokes only
    (another run, or a retry after a clear, starts from the stored cursor)."""
    ti = context["ti"]
    return tuple(
        getattr(ti, name, None) for name in ("dag_id", "task_id", "run_id", "map_index", "try_number")
    )


def _not_given(value: Any) -> bool:
    """None or a blank string (what an empty template renders to) means "not given", as in the operators."""
    return value is None or (isinstance(value, str) and not value.strip())


def _epoch_seconds(value: Any, name: str) -> int:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return int(moment.timestamp())
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < math.inf:
        return int(value)
    if isinstance(value, str) and value.strip():
        text = value.strip()
        if text.isdigit():
            return int(text)
        try:
            return _epoch_seconds(datetime.fromisoformat(text.replace("Z", "+00:00")), name)
        except ValueError:
            pass
    raise StripeValidationError(
        f"{name} must be a datetime, epoch seconds, an ISO-8601 string or 'data_interval_start', "
        f"got {value!r}.",
        param=name,
    )


class StripeNewChargeSensor(_StripeNewObjectsSensor):
    """Wait for new Stripe charges; return them oldest first (at most ``max_batch`` per run).

    Each charge is delivered once across consecutive successful runs: the cursor is stored in this
    task's XCom ``stripe_cursor`` and read back by the next run (per map index). Charges sharing
    one ``created`` second, charges that show up in Stripe's list late (within ``lookback``) and
    backlogs larger than a page are all delivered; a retried or cleared run re-delivers its batch.
    A run that ends without delivering (its ``timeout``, a ``soft_fail`` skip) stores how far it
    looked, so the next run neither lists a settled burst again nor misses what came in between.

    :param stripe_conn_id: the Stripe connection.
    :param stripe_account: watch this connected account (``acct_...``, Stripe Connect), sent as
        ``Stripe-Account`` and overriding the connection's extra; empty means none. With
        ``.partial(...).expand(stripe_account=[...])`` each map index keeps its own cursor. (templated)
    :param customer: only charges of this customer (``cus_...``). (templated)
    :param lookback: how late a charge may appear in Stripe's list and still be delivered.
    :param max_batch: the most charges one run returns (1-1000); the rest come next run.
    :param start_from: with no cursor yet, deliver charges created since then: a datetime, epoch
        seconds, an ISO string or ``"data_interval_start"``. Default: the run's start ("now").
        (templated)
    :param poke_interval: seconds between polls (default 15: 5,760 calls a day when idle).
    :param deferrable: wait on the triggerer instead of a worker slot.
    """

    path = "/v1/charges"
    noun = "charges"
    filter_names = ("customer",)
    template_fields: Sequence[str] = (*filter_names, *_SENSOR_TEMPLATE_FIELDS)

    def __init__(self, *, customer: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.customer = customer
        self.check_known_values()


class StripeNewRefundSensor(_StripeNewObjectsSensor):
    """Wait for new Stripe refunds; return them oldest first (at most ``max_batch`` per run).

    Same delivery guarantees and parameters as :class:`StripeNewChargeSensor`.

    :param charge: only refunds of this charge (``ch_...``). (templated)
    :param payment_intent: only refunds of this PaymentIntent (``pi_...``). (templated)
    :param start_from: with no cursor yet, deliver refunds created since then. (templated)
    :param stripe_conn_id: the Stripe connection.
    :param stripe_account: watch this connected account (``acct_...``), as for
        :class:`StripeNewChargeSensor`. (templated)
    :param lookback: how late a refund may appear in Stripe's list and still be delivered.
    :param max_batch: the most refunds one run returns (1-1000).
    :param poke_interval: seconds between polls.
    :param deferrable: wait on the triggerer instead of a worker slot.
    """

    path = "/v1/refunds"
    noun = "refunds"
    filter_names = ("charge", "payment_intent")
    template_fields: Sequence[str] = (*filter_names, *_SENSOR_TEMPLATE_FIELDS)

    def __init__(
        self, *, charge: str | None = None, payment_intent: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.charge = charge
        self.payment_intent = payment_intent
        self.check_known_values()


class StripeNewEventSensor(_StripeNewObjectsSensor):
    """Wait for new Stripe Events of the given types; return them oldest first (at most ``max_batch``).

    The change feed: ``customer.updated``, ``charge.refunded``, ``product.deleted``... Same delivery
    guarantees, modes and ``stripe_cursor`` XCom as :class:`StripeNewChargeSensor`. Stripe keeps
    events 30 days: a cursor older than that (on Stripe's clock) fails the task naming the gap and
    how to fill it, instead of skipping it. See ``docs/change-feed.md``.

    :param event_types: 1 to 20 exact event types, or one type with a ``*`` wildcard (``"charge.*"``).
        (templated)
    :param refetch: replace each event's ``data.object`` (rendered in the account's API version when
        the event happened) with the object as it is now, at the connection's pinned API version; a
        deleted object as ``{"id", "object", "deleted": True}``. One extra request per object.
    :param stripe_account: a connected account (``acct_...``) to watch, as for
        :class:`StripeNewChargeSensor`. (templated)
    :param start_from: with no cursor yet, deliver events created since then, as for
        :class:`StripeNewChargeSensor`; at most 30 days back on Stripe's clock. (templated)
    """

    path = "/v1/events"
    noun = "events"
    filter_names = ()
    template_fields: Sequence[str] = ("event_types", *_SENSOR_TEMPLATE_FIELDS)

    def __init__(self, *, event_types: str | Sequence[str], refetch: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.event_types = event_types
        self.refetch = refetch
        self.check_known_values()
        if not is_unrendered(event_types):
            event_type_filters(event_types)

    @cached_property
    def events(self) -> EventWatch:
        return EventWatch.checked(self.event_types, self.max_batch, self.lookback, self.refetch)

    @cached_property
    def watch(self) -> Watch:
        return self.events.watch

    def _poll(self, cursor: Cursor) -> PollResult:
        return run_event_poll(self.events.poll(cursor), self.hook.list_page)

    def _trigger(self, cursor: Cursor, end_at: float | None) -> BaseTrigger:
        from airflow_provider_stripe.triggers.stripe import StripeNewEventsTrigger

        return StripeNewEventsTrigger(
            cursor=cursor.to_json(),
            event_types=self.event_types,
            refetch=self.refetch,
            **self._polling_settings(end_at),
        )
