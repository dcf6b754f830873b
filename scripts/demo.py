"""The main job: the example DAGs end to end against a local Stripe, then a report of what happened.

Run it through ``scripts/demo``, which first builds the pinned Airflow virtualenv; this file runs
inside that virtualenv. It:

1. makes a throw-away AIRFLOW_HOME (a temp dir, kept afterwards for its logs) whose dags folder
   holds copies of ``example_dags/``, and runs ``airflow db migrate`` there;
2. starts the local Stripe emulator (``StripeEmulator``, in this process, on a free port) and
   points the connection ``stripe_default`` at it (``AIRFLOW_CONN_STRIPE_DEFAULT``);
3. runs, with ``dag.test()``: ``stripe_scheduled_checkout`` (product, customer, charge, refund),
   then ``stripe_new_charges`` and ``stripe_new_refunds``, whose sensors must deliver exactly the
   charge and the refund the checkout made,
   all on the emulator's clock set back one day; then, on today's clock, ``stripe_export_nightly``
   exports yesterday's charges, refunds and customers into files under the AIRFLOW_HOME;
   then a current copy: ``stripe_current_copy_snapshot`` exports every object of four lists
   (``window="all"``), an update, a refund and a delete happen in the next hour, and
   ``stripe_current_copy`` exports that hour's changes (``capture="changes"``);
4. prints the objects, what each sensor saw, the files the export wrote, the API calls the
   emulator served and where the logs are. It exits non-zero if any step fails.

Airflow's own output goes to one log file per step, not to the terminal.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_DAGS = ROOT / "example_dags"
CHECKOUT, NEW_CHARGES, NEW_REFUNDS = "stripe_scheduled_checkout", "stripe_new_charges", "stripe_new_refunds"
EXPORT = "stripe_export_nightly"
SNAPSHOT, CHANGES = "stripe_current_copy_snapshot", "stripe_current_copy"
COPIED = ("customers", "charges", "refunds")  # of the copy's lists, the ones the report shows
HOUR = 3600
_STRIPE_ID = re.compile(r"/[a-z]+_[A-Za-z0-9]+")


class DemoFailed(Exception):
    """A step failed; the message says which, and where its log is."""


class Console:
    """The terminal, kept aside while file descriptors 1 and 2 go to the log files."""

    def __init__(self) -> None:
        self.out: TextIO = open(os.dup(sys.stdout.fileno()), "w", buffering=1)  # noqa: SIM115

    def say(self, text: str = "") -> None:
        self.out.write(text + "\n")

    @contextlib.contextmanager
    def step(self, title: str) -> Iterator[None]:
        """``==> title ....... done in 12 s``: a dot every 2 s, so a slow step shows it is alive."""
        self.out.write(f"==> {title} ")
        started = time.monotonic()
        stop = threading.Event()

        def dots() -> None:
            while not stop.wait(2):
                self.out.write(".")

        ticker = threading.Thread(target=dots, daemon=True)
        ticker.start()
        try:
            yield
        except BaseException:
            stop.set()
            ticker.join()
            self.out.write(f" FAILED after {time.monotonic() - started:.0f} s\n")
            raise
        stop.set()
        ticker.join()
        self.out.write(f" done in {time.monotonic() - started:.0f} s\n")


@contextlib.contextmanager
def output_to(log: Path) -> Iterator[None]:
    """Send everything written to stdout/stderr (Airflow's logs, task prints) to ``log``."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(log, "a") as file:
        os.dup2(file.fileno(), 1)
        os.dup2(file.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def watchdog(console: Console, seconds: float, logs: Path) -> None:
    """Fail the demo instead of hanging if a sensor never sees what it waits for."""

    def expire() -> None:
        console.say(f"\nDEMO FAILED: it did not finish within {seconds:.0f} s. All logs: {logs}")
        os._exit(3)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()


def make_airflow_home() -> Path:
    home = Path(tempfile.mkdtemp(prefix="stripe-demo-"))
    (home / "dags").mkdir()
    for dag_file in sorted(EXAMPLE_DAGS.glob("*.py")):
        shutil.copy(dag_file, home / "dags")
    (home / "demo-logs").mkdir()
    os.environ.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(home / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
    )
    return home


def migrate(home: Path) -> None:
    airflow = Path(sys.executable).with_name("airflow")
    with open(home / "demo-logs" / "db-migrate.log", "w") as log:
        done = subprocess.run([str(airflow), "db", "migrate"], stdout=log, stderr=log, timeout=600)
    if done.returncode != 0:
        raise DemoFailed(f"airflow db migrate failed (exit {done.returncode}); see {log.name}")


@dataclass
class Run:
    """What one DAG run left in the metadata DB."""

    dag_id: str
    log: Path
    state: str = ""
    seconds: float = 0.0
    task_states: dict[tuple[str, int], str] = field(default_factory=dict)
    xcoms: dict[tuple[str, int], Any] = field(default_factory=dict)

    def xcom(self, task_id: str, map_index: int = -1) -> Any:
        return self.xcoms.get((task_id, map_index))

    def mapped(self, task_id: str) -> list[Any]:
        indexes = sorted(index for (task, index) in self.xcoms if task == task_id and index >= 0)
        return [self.xcoms[(task_id, index)] for index in indexes]


class Airflow:
    """The few Airflow calls the demo needs, on Airflow 3 and 2.11 alike (imported once the home is set)."""

    def __init__(self, home: Path) -> None:
        from airflow import __version__

        self.version = __version__
        self.is_3 = int(__version__.split(".")[0]) >= 3
        if self.is_3:
            from airflow.dag_processing.dagbag import DagBag

            bag = DagBag(str(home / "dags"))
        else:
            from airflow.models.dagbag import DagBag

            bag = DagBag(str(home / "dags"), include_examples=False)
        if bag.import_errors:
            raise DemoFailed(f"The example DAGs did not parse: {bag.import_errors}")
        self.bag = bag

    def run(self, run: Run, conf: dict[str, Any] | None = None, *, at: datetime | None = None) -> Run:
        """Run the DAG once with ``dag.test()``: now, or for the data interval that ends ``at``."""
        dag = self.bag.get_dag(run.dag_id)
        when = at or datetime.now(timezone.utc)
        started = time.monotonic()
        with output_to(run.log):
            if self.is_3:
                dag_run = dag.test(logical_date=when, run_after=when, run_conf=conf)
            else:
                dag_run = dag.test(execution_date=when, run_conf=conf)
        run.seconds = time.monotonic() - started
        self._collect(run, dag_run.run_id)
        return run

    def _collect(self, run: Run, run_id: str) -> None:
        from airflow.models import DagRun, TaskInstance
        from airflow.utils.session import create_session

        if self.is_3:
            from airflow.models.xcom import XComModel as XCom

            def value(row: Any) -> Any:
                return XCom.deserialize_value(row)
        else:
            from airflow.models import XCom

            def value(row: Any) -> Any:
                return row.value

        with create_session() as session:
            dag_run = session.query(DagRun).filter_by(dag_id=run.dag_id, run_id=run_id).one()
            run.state = str(dag_run.state)
            for ti in session.query(TaskInstance).filter_by(dag_id=run.dag_id, run_id=run_id):
                run.task_states[(ti.task_id, ti.map_index)] = str(ti.state)
            for row in session.query(XCom).filter_by(dag_id=run.dag_id, run_id=run_id, key="return_value"):
                run.xcoms[(row.task_id, row.map_index)] = value(row)


def money(amount: int, currency: str) -> str:
    return f"{amount / 100:.2f} {currency.upper()}"


def check_succeeded(run: Run) -> None:
    if run.state != "success":
        tasks = [
            f"{task}[{index}] {state}" if index >= 0 else f"{task} {state}"
            for (task, index), state in sorted(run.task_states.items())
            if state != "success"
        ]
        raise DemoFailed(f"{run.dag_id} ended {run.state} ({', '.join(tasks)}); see {run.log}")


def check_saw(run: Run, sensor: str, expected: str) -> list[str]:
    """The ids ``sensor`` delivered, which must include ``expected``."""
    check_succeeded(run)
    seen = [obj["id"] for obj in run.xcom(sensor) or []]
    if expected not in seen:
        raise DemoFailed(f"{run.dag_id}: {sensor} did not deliver {expected} (it saw {seen}); see {run.log}")
    return seen


def endpoint_counts(requests: list[Any]) -> Counter[tuple[str, str, int]]:
    """Requests by method, path (ids replaced by ``{id}``) and HTTP status."""
    counts: Counter[tuple[str, str, int]] = Counter()
    for request in requests:
        path = request.path if request.path.count("/") < 3 else _STRIPE_ID.sub("/{id}", request.path, count=2)
        counts[(request.method, path, request.status)] += 1
    return counts


@dataclass
class Results:
    """Everything the report shows."""

    home: Path
    airflow: Airflow
    base_url: str
    start_from: int
    checkout: Run
    charges: Run
    refunds: Run
    charges_seen: list[str]
    refunds_seen: list[str]
    export: Run
    export_root: Path
    copy: Copy
    served: list[Any]


@dataclass
class Copy:
    """The current copy's two runs and what happened between them."""

    snapshot: Run
    changes: Run
    root: Path
    changed: list[str]


def make_a_copy(console: Console, airflow: Airflow, stripe: Any, logs: Path, root: Path) -> Copy:
    """A snapshot of customers and charges, then an hour with an update, a refund and a delete, and
    that hour's changes, all on the emulator's clock two hours back."""
    from airflow_provider_stripe.hooks.stripe import StripeHook

    hook = StripeHook("stripe_default")
    workload = logs / "stripe_copy_workload.log"  # the hook's log lines
    hour = (int(time.time()) // HOUR - 2) * HOUR  # the hour whose changes are copied
    stripe.clock.set(hour - 600)
    with output_to(workload):
        ada = hook.customers.create({"email": "ada@example.com", "source": "tok_visa"}).object["id"]
        bob = hook.customers.create({"email": "bob@example.com"}).object["id"]
        charge = hook.charges.create({"amount": 2000, "currency": "usd", "customer": ada}).object["id"]
    with console.step(f"Running {SNAPSHOT} (every customer, product, charge and refund)"):
        snapshot = airflow.run(Run(SNAPSHOT, logs / f"{SNAPSHOT}.log"))
        check_succeeded(snapshot)
    stripe.clock.set(hour + 600)
    with output_to(workload):
        hook.request("POST", f"/v1/customers/{ada}", {"email": "ada.lovelace@example.com"})
        hook.refunds.create({"charge": charge, "amount": 500})
        hook.request("DELETE", f"/v1/customers/{bob}")
    stripe.clock.set(hour + HOUR + 600)  # past the hour and the export's lookback
    with console.step(f"Running {CHANGES} (that hour's changes: an update, a refund, a delete)"):
        changes = airflow.run(
            Run(CHANGES, logs / f"{CHANGES}.log"), at=datetime.fromtimestamp(hour + HOUR, timezone.utc)
        )
        check_succeeded(changes)
    changed = [
        f"{ada}'s email changed",
        f"{charge} refunded 5.00 USD of 20.00 USD",
        f"{bob} deleted",
    ]
    return Copy(snapshot, changes, root, changed)


def folder_lines(folder: Path) -> list[str]:
    """What an export folder holds: its files, then one line per object."""
    files = ", ".join(f"{file.name} ({file.stat().st_size} B)" for file in sorted(folder.iterdir()))
    lines = [f"{folder}/: {files}"]
    for part in sorted(folder.glob("part-*")):
        for line in part.read_text().splitlines():
            lines.append(f"  {_summary(json.loads(line), line)}")
    return lines


def _summary(obj: dict[str, Any], line: str) -> str:
    if obj.get("deleted"):
        return f"{obj['id']}  deleted (Stripe's stub: {line})"
    if obj["object"] == "customer":
        return f"{obj['id']}  {obj['email']}"
    amount = money(obj["amount"], obj["currency"])
    if obj["object"] == "refund":
        return f"{obj['id']}  {amount} of {obj['charge']}"
    return f"{obj['id']}  {amount}, refunded {money(obj['amount_refunded'], obj['currency'])}"


def run_the_dags(console: Console, home: Path) -> Results:
    """Steps 2 and 3 of the module docstring; raises DemoFailed (or anything unexpected) on failure."""
    from airflow_provider_stripe.testing import StripeEmulator

    logs = home / "demo-logs"
    with StripeEmulator() as stripe:
        os.environ.update(stripe.env("stripe_default"))
        export_root = home / "exports"
        os.environ["STRIPE_EXPORT_ROOT"] = export_root.as_uri()  # read when the example DAG is parsed
        os.environ["STRIPE_COPY_ROOT"] = (home / "copy").as_uri()
        console.say(f"==> Local Stripe emulator on {stripe.base_url} (connection stripe_default)")
        with console.step("Loading Airflow and parsing the example DAGs"), output_to(logs / "parse.log"):
            airflow = Airflow(home)

        # Deployed, the sensor DAGs would already be waiting when the checkout happens, and their first
        # run counts only what is created after it starts. Here they run after the checkout, so their
        # first run is told to start from the moment the checkout began.
        # It all happens "yesterday" (the emulator's clock one day back), so that the nightly export,
        # run afterwards on today's clock, has a finished day of data to export.
        stripe.clock.set(time.time() - 86_400)
        start_from = stripe.clock.now() - 1
        with console.step(f"Running {CHECKOUT} (product, customer, charge, refund)"):
            checkout = airflow.run(Run(CHECKOUT, logs / f"{CHECKOUT}.log"))
            check_succeeded(checkout)
        first_run = {"start_from": start_from}
        with console.step(f"Running {NEW_CHARGES} (sensor, then one mapped task per charge)"):
            charges = airflow.run(Run(NEW_CHARGES, logs / f"{NEW_CHARGES}.log"), first_run)
            charges_seen = check_saw(charges, "wait_for_new_charges", checkout.xcom("charge_customer")["id"])
        with console.step(f"Running {NEW_REFUNDS} (sensor, then one mapped task per refund)"):
            refunds = airflow.run(Run(NEW_REFUNDS, logs / f"{NEW_REFUNDS}.log"), first_run)
            refunds_seen = check_saw(refunds, "wait_for_new_refunds", checkout.xcom("refund_part")["id"])
        stripe.clock.reset()
        with console.step(f"Running {EXPORT} (yesterday's charges, refunds and customers to files)"):
            export = airflow.run(Run(EXPORT, logs / f"{EXPORT}.log"))
            check_succeeded(export)
        copy = make_a_copy(console, airflow, stripe, logs, home / "copy")
        stripe.clock.reset()
        return Results(
            home=home,
            airflow=airflow,
            base_url=stripe.base_url,
            start_from=start_from,
            checkout=checkout,
            charges=charges,
            refunds=refunds,
            charges_seen=charges_seen,
            refunds_seen=refunds_seen,
            export=export,
            export_root=export_root,
            copy=copy,
            served=stripe.requests,
        )


def report(say: Any, results: Results, seconds: float) -> None:
    checkout, charges, refunds = results.checkout, results.charges, results.refunds
    product, customer = checkout.xcom("create_product"), checkout.xcom("create_customer")
    charge, refund = checkout.xcom("charge_customer"), checkout.xcom("refund_part")
    conf = json.dumps({"start_from": results.start_from})
    logs = results.home / "demo-logs"
    say()
    say(
        f"Stripe provider demo: Airflow {results.airflow.version}, local Stripe at {results.base_url}, "
        f"{seconds:.0f} s in all"
    )
    say()
    say(f"1. {CHECKOUT} (schedule: every 15 min; run once now)  {checkout.state} in {checkout.seconds:.0f} s")
    say(f"   product   {product['id']}  {product['name']!r}")
    say(f"   customer  {customer['id']}  {customer['email']}, card {customer['default_source']}")
    say(
        f"   charge    {charge['id']}  {money(charge['amount'], charge['currency'])} "
        f"from {charge['customer']}, status {charge['status']}"
    )
    say(
        f"   refund    {refund['id']}  {money(refund['amount'], refund['currency'])} "
        f"of {refund['charge']}, status {refund['status']}"
    )
    say()
    say(f"2. {NEW_CHARGES} (sensor: a new charge)  {charges.state} in {charges.seconds:.0f} s")
    say(f"   wait_for_new_charges saw {len(results.charges_seen)}: {', '.join(results.charges_seen)}")
    for index, line in enumerate(charges.mapped("book_charge")):
        say(f"   book_charge[{index}]    booked {line['charge']}: {money(line['amount'], line['currency'])}")
    say()
    say(f"3. {NEW_REFUNDS} (sensor: a new refund)  {refunds.state} in {refunds.seconds:.0f} s")
    say(f"   wait_for_new_refunds saw {len(results.refunds_seen)}: {', '.join(results.refunds_seen)}")
    for index, line in enumerate(refunds.mapped("record_refund")):
        say(
            f"   record_refund[{index}]  recorded {line['refund']}: {money(line['amount'], line['currency'])}"
            f" of {line['charge']}"
        )
    say()
    say("   Why the sensors saw them: deployed, the sensor DAGs run continuously, so a sensor is")
    say("   already waiting when a charge is made; a first run counts only what is created after it")
    say("   starts. Here they ran after the checkout, so their first run got the config")
    say(f"   {conf} (when the checkout began, in epoch seconds), as with")
    say(f"   airflow dags test {NEW_CHARGES} --conf '{conf}'")
    say()
    export = results.export
    say(f"4. {EXPORT} (yesterday's data interval, to files)  {export.state} in {export.seconds:.0f} s")
    for resource in ("charges", "refunds", "customers"):
        manifest = export.xcom(f"export_{resource}")
        folder = results.export_root / resource / manifest["window"]["start"][:10]
        files = ", ".join(f"{file.name} ({file.stat().st_size} B)" for file in sorted(folder.iterdir()))
        say(f"   {resource:<9} {manifest['objects']} exported to {folder}/: {files}")
    say()
    copy = results.copy
    say(f"5. A current copy: {SNAPSHOT}, then {CHANGES} for the hour after it")
    say(f"   {SNAPSHOT} (window='all': every object Stripe holds now)  {copy.snapshot.state}")
    for resource in COPIED:
        for line in folder_lines(copy.root / resource / "snapshot"):
            say(f"   {line}")
    say("   In the next hour:")
    for change in copy.changed:
        say(f"     {change}")
    say(f"   {CHANGES} (capture='changes': each object changed in the hour, now)  {copy.changes.state}")
    for resource in COPIED:
        [folder] = (copy.root / resource / "changes").iterdir()
        for line in folder_lines(folder):
            say(f"   {line}")
    say("   Applying the snapshot, then each hour's folder (upsert by id, delete on a stub), gives what")
    say("   Stripe holds (docs/current-copy.md); example_dags/stripe_mirror_postgres.py does it in")
    say("   PostgreSQL for the platform and every connected account.")
    say()
    say(f"Stripe API calls served by the emulator: {len(results.served)}")
    for (method, path, status), count in sorted(endpoint_counts(results.served).items()):
        say(f"   {count:3d}  {method:<6} {path:<18} -> {status}")
    say()
    say(f"Task logs (one file per DAG run): {logs}/")
    for log in sorted(logs.iterdir()):
        say(f"   {log.name}")
    say(f"AIRFLOW_HOME, kept for a look: {results.home}   (rm -rf it when done)")
    if results.airflow.is_3:
        airflow_bin = Path(sys.executable).with_name("airflow")
        shown = airflow_bin.relative_to(ROOT) if airflow_bin.is_relative_to(ROOT) else airflow_bin
        say("Browse the runs, their XComs and rendered templates in the UI (http://127.0.0.1:8080):")
        say(f"   AIRFLOW_HOME={results.home} AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS=True \\")
        say(f"   {shown} api-server --host 127.0.0.1")
    say(
        "stripe_event_driven (Airflow 3.3+) needs a running triggerer and scheduler: "
        "see docs/event-driven-dags.md."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=300, help="give up after this many seconds")
    args = parser.parse_args(argv)

    console = Console()
    began = time.monotonic()
    home = make_airflow_home()
    watchdog(console, args.timeout, home / "demo-logs")
    try:
        with console.step(f"Creating a throw-away AIRFLOW_HOME and its database ({home})"):
            migrate(home)
        results = run_the_dags(console, home)
    except DemoFailed as failure:
        console.say(f"\nDEMO FAILED: {failure}\nAll logs: {home / 'demo-logs'}")
        return 1
    report(console.say, results, time.monotonic() - began)
    return 0


if __name__ == "__main__":
    sys.exit(main())
