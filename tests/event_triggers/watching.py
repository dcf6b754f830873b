"""What the end-to-end AssetWatcher tests share: a real Airflow 3.3 running one watcher DAG from
``dag_files``, batches of Stripe objects that show up at one instant, and the checks that each batch
comes in exactly one asset event and one DAG run, across triggerer restarts.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from airflow import __version__ as airflow_version

from airflow_provider_stripe.testing import StripeEmulator
from airflow_provider_stripe.triggers.stripe_events import EVENT_CURSOR_KEY
from airflow_provider_stripe.version_compat import AIRFLOW_V_3_3_PLUS
from tests.airflow_cluster import AirflowCluster
from tests.waiting import wait_for

#: The mark of the end-to-end tests.
NEEDS_ASSET_STATE_STORE = pytest.mark.skipif(
    not AIRFLOW_V_3_3_PLUS,
    reason=f"AssetWatcher triggers with an asset state store need Airflow 3.3+ (this is {airflow_version})",
)
DAG_FILES = Path(__file__).parent / "dag_files"
#: The module the DAG files import their task from.
TASK_RECORDS = DAG_FILES / "task_records.py"
#: Polls after a batch's run during which a second, wrong DAG run would show up (counted in polls,
#: not seconds: a loaded machine polls less often, and gets as many chances).
SETTLE_POLLS = 3


class HiddenBatch:
    """What ``make`` creates (it returns the ids of the batch) stays out of Stripe's lists until
    :meth:`reveal`, then all of it shows up at the same instant: no poll can see only a part of it,
    so it is one batch by construction."""

    def __init__(self, emulator: StripeEmulator, make: Callable[[], list[str]]) -> None:
        self.emulator = emulator
        emulator.clock.freeze()
        emulator.visibility_delay = 0.5
        try:
            self.ids = make()
        finally:
            emulator.visibility_delay = 0

    def reveal(self) -> list[str]:
        self.emulator.clock.advance(1.0)
        self.emulator.clock.unfreeze()
        return self.ids


def object_ids(run: dict[str, Any]) -> list[list[str]]:
    """The object ids (sorted) of each asset event that triggered ``run``."""
    return [sorted(obj["id"] for obj in event["extra"]["payload"]["objects"]) for event in run["events"]]


def saved_ids(cluster: AirflowCluster, asset: str) -> set[str]:
    """The object ids in the trigger's saved cursor (the asset state store)."""
    stored = cluster.asset_state(asset, EVENT_CURSOR_KEY)
    return {obj_id for ids in json.loads(stored)["delivered"].values() for obj_id in ids} if stored else set()


def fired_ids(cluster: AirflowCluster, asset: str) -> set[str]:
    """The object ids in the asset's stored events."""
    rows = cluster.query(
        "SELECT e.extra FROM asset_event e JOIN asset a ON a.id = e.asset_id WHERE a.name = ?", (asset,)
    )
    return {obj["id"] for (extra,) in rows for obj in json.loads(extra)["payload"]["objects"]}


class CursorAudit(threading.Thread):
    """Samples the metadata DB all along: the saved cursor must never hold an object whose asset event
    is not stored yet, or a triggerer that stops at that moment loses the batch for good."""

    def __init__(self, cluster: AirflowCluster, asset: str) -> None:
        super().__init__(name="cursor-audit", daemon=True)
        self.cluster = cluster
        self.asset = asset
        self.stopping = threading.Event()
        self.samples = 0
        self.violations: list[str] = []

    def run(self) -> None:
        while not self.stopping.wait(0.05):
            saved = saved_ids(self.cluster, self.asset)
            # Read after the cursor: events are only ever added, so this cannot report a false gap.
            unfired = saved - fired_ids(self.cluster, self.asset)
            self.samples += 1
            violation = f"cursor saved {sorted(unfired)} before their asset event"
            if unfired and violation not in self.violations:
                self.violations.append(violation)

    def stop(self) -> None:
        self.stopping.set()
        self.join()

    def assert_clean(self) -> None:
        """Stop sampling; it must have sampled and found nothing wrong."""
        self.stop()
        assert self.samples > 0
        assert self.violations == []


@contextmanager
def cursor_audit(cluster: AirflowCluster, asset: str) -> Iterator[CursorAudit]:
    """A :class:`CursorAudit` for the block (the test starts it); if the block fails, the processes'
    logs and what the audit saw are printed."""
    audit = CursorAudit(cluster, asset)
    try:
        yield audit
    except BaseException:
        print(cluster.diagnostics())
        print("cursor audit:", audit.violations or "no violation", f"({audit.samples} samples)")
        raise
    finally:
        audit.stopping.set()


@contextmanager
def watcher_cluster(home: Path, emulator: StripeEmulator, dag_file: Path) -> Iterator[AirflowCluster]:
    """Airflow 3.3 (api-server, dag-processor, scheduler with LocalExecutor, triggerer) running
    ``dag_file``."""
    cluster = AirflowCluster(home, {"AIRFLOW_CONN_STRIPE_DEFAULT": emulator.connection_json()})
    for source in (dag_file, TASK_RECORDS):
        shutil.copy(source, cluster.dags_folder / source.name)
    try:
        cluster.migrate()
        for name in ("api-server", "dag-processor", "scheduler", "triggerer"):
            cluster.start(name)
        yield cluster
    finally:
        cluster.stop_all()


class WatchedRuns:
    """The DAG runs of one watcher DAG against the batches the test made, in order."""

    def __init__(
        self, cluster: AirflowCluster, emulator: StripeEmulator, dag_id: str, asset: str, polled_path: str
    ) -> None:
        self.cluster = cluster
        self.emulator = emulator
        self.dag_id = dag_id
        self.asset = asset
        self.polled_path = polled_path
        self.batches: list[list[str]] = []  # what each DAG run must have got, in order
        self.started = time.monotonic()

    def timeline(self, step: str) -> None:
        print(f"[{time.monotonic() - self.started:5.1f} s] {step}", time.strftime("%H:%M:%S", time.gmtime()))

    def runs(self) -> list[dict[str, Any]]:
        self.cluster.assert_running()
        return self.cluster.dag_runs(self.dag_id)

    def polls(self) -> int:
        return self.emulator.count("GET", self.polled_path)

    def wait_until_polling(self) -> None:
        """The DAG processor registers the watcher's trigger once the DAG is parsed and unpaused; the
        trigger saves its starting cursor ("now") and starts polling."""
        wait_for("the watcher's trigger in the DB", lambda: self.cluster.watcher_triggers(self.asset), 120)
        wait_for(
            "the trigger's first cursor", lambda: self.cluster.asset_state(self.asset, EVENT_CURSOR_KEY), 60
        )
        wait_for("the trigger's first poll", self.polls, 30)
        self.timeline("the watcher's trigger polls")

    def expect_one_more_run(self, batch: list[str], timeout: float = 60) -> None:
        """Exactly one new DAG run, triggered by exactly one asset event that carries ``batch``."""
        self.batches.append(sorted(batch))
        wait_for(f"DAG run #{len(self.batches)}", lambda: len(self.runs()) >= len(self.batches), timeout)
        self.timeline(f"DAG run #{len(self.batches)} ({len(batch)} objects)")
        self.wait_for_polls(SETTLE_POLLS)
        self.assert_one_run_per_batch()

    def assert_one_run_per_batch(self) -> None:
        assert [object_ids(run) for run in self.runs()] == [[batch] for batch in self.batches]

    def triggerer_job(self) -> int | None:
        ((_, _, job_id),) = self.cluster.watcher_triggers(self.asset)
        return job_id

    def start_new_triggerer(self, old_job: int | None) -> None:
        self.cluster.start("triggerer")
        wait_for("the new triggerer to take the trigger over", lambda: self.triggerer_job() != old_job, 60)
        self.timeline("new triggerer took over")

    def wait_for_polls(self, count: int) -> None:
        """Until the trigger has polled ``count`` more times (each a chance to emit a run too many)."""
        before = self.polls()
        wait_for(f"{count} more polls", lambda: self.polls() >= before + count)

    def assert_quiet(self) -> None:
        """Nothing new for several polls: no more runs."""
        self.wait_for_polls(3)
        self.assert_one_run_per_batch()

    def assert_each_run_got_its_batch(self) -> None:
        """Each run ran its task, which got its batch from ``triggering_asset_events``."""
        wait_for(
            "every run to finish",
            lambda: all(r["state"] not in ("queued", "running") for r in self.runs()),
            90,
        )
        finished = self.runs()
        assert [run["state"] for run in finished] == ["success"] * len(self.batches)
        assert {run["run_type"] for run in finished} == {"asset_triggered"}
        records = self.cluster.home / "task_records"
        assert [
            sorted(json.loads((records / f"{run['run_id']}.json").read_text())) for run in finished
        ] == self.batches
        self.timeline("all runs succeeded with their batch")
