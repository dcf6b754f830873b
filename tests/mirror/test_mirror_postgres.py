"""The example DAG ``stripe_mirror_postgres``, unchanged, on a real PostgreSQL (the throw-away cluster
of the deployment tests) against the emulator, for the platform and two connected accounts.

A workload of creates, updates, refunds and deletes runs over several hours between the DAG's hourly
runs (the first run snapshots each account, the later ones apply each hour's changes); afterwards
every table equals what Stripe holds for every account, object for object, compared as JSON with the
official SDK's listing. Re-running an hour and a folder read back against its manifest are checked too.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import stripe

from airflow_provider_stripe.exceptions import StripeExportFolderError
from airflow_provider_stripe.testing import StripeEmulator
from airflow_provider_stripe.transfers.export_folder import ExportFolder
from tests.dag_runs import RunResult, run_dag
from tests.deployment.services import PostgresServer, missing_binaries
from tests.example_dags.flows import example_dag
from tests.mirror.conftest import query

pytestmark = pytest.mark.skipif(
    bool(missing_binaries()),
    reason=f"missing {missing_binaries()} (scripts/test installs them when run as root)",
)

HOUR = 3600
#: The first hour the DAG covers: a whole hour a few hours back (the hours after it must be past too).
START = (int(datetime.now(timezone.utc).timestamp()) // HOUR - 8) * HOUR
#: Past an hour's end by more than the export's lookback (5 minutes), so no run waits for Stripe's clock.
SETTLED = 10 * 60


def table(postgres: PostgresServer, name: str) -> dict[str, dict[str, Any]]:
    """``{account: {id: object}}`` of one mirrored table."""
    rows: dict[str, dict[str, Any]] = {}
    for account, object_id, obj in query(postgres, f"SELECT account, id, object FROM {name}"):
        rows.setdefault(account, {})[object_id] = obj
    return rows


class Workload:
    """Creates, updates, refunds and deletes through the official SDK, on the emulator's clock."""

    def __init__(self, emulator: StripeEmulator) -> None:
        self.emulator = emulator
        self.client = stripe.StripeClient(
            emulator.api_key, base_addresses={"api": emulator.base_url}, max_network_retries=0
        )

    def at(self, moment: int) -> Workload:
        self.emulator.clock.set(moment)
        return self

    def options(self, account: str) -> Any:
        return {"stripe_account": account} if account else {}

    def customer(self, account: str, email: str) -> str:
        return self.client.v1.customers.create({"email": email}, self.options(account)).id

    def charge(self, account: str, amount: int) -> str:
        params: Any = {"amount": amount, "currency": "usd", "source": "tok_visa"}
        return self.client.v1.charges.create(params, self.options(account)).id

    def update_customer(self, account: str, customer: str, email: str) -> None:
        self.client.v1.customers.update(customer, {"email": email}, self.options(account))

    def describe_charge(self, account: str, charge: str, description: str) -> None:
        self.client.v1.charges.update(charge, {"description": description}, self.options(account))

    def refund(self, account: str, charge: str, amount: int) -> None:
        self.client.v1.refunds.create({"charge": charge, "amount": amount}, self.options(account))

    def delete_customer(self, account: str, customer: str) -> None:
        self.client.v1.customers.delete(customer, options=self.options(account))

    def held(self, resource: str, account: str) -> dict[str, dict[str, Any]]:
        """What Stripe lists now for ``account``: ``{id: object}`` as JSON."""
        lister = getattr(self.client.v1, resource)
        listing = lister.list({"limit": 100}, self.options(account)).auto_paging_iter()
        return {obj.id: json.loads(json.dumps(obj.to_dict())) for obj in listing}


def run_hour(end: int) -> RunResult:
    """The DAG's run for the hour ending at ``end`` (dag.test names a run after its interval's end)."""
    result = run_dag(example_dag("stripe_mirror_postgres"), datetime.fromtimestamp(end, timezone.utc))
    assert result.state == "success", result.task_states
    return result


def test_the_tables_equal_stripe_for_every_account_after_snapshots_and_hours_of_changes(
    mirror: PostgresServer, stripe_env: StripeEmulator
) -> None:
    work = Workload(stripe_env).at(START - 1800)
    a = work.client.v1.accounts.create({"type": "express"}).id  # type: ignore[typeddict-item]
    b = work.client.v1.accounts.create({"type": "custom"}).id  # type: ignore[typeddict-item]
    accounts = ["", a, b]  # "" is the platform
    customers = {
        account: [work.customer(account, f"c{i}@example.com") for i in range(3)] for account in accounts
    }
    charges = {account: [work.charge(account, 1000 + i) for i in range(3)] for account in accounts}

    # Hour 1: the first run snapshots every account (nothing of the hour to capture besides).
    work.at(START + HOUR + SETTLED)
    first = run_hour(START + HOUR)
    assert [export["window"] for export in first.xcom("customers.plan")] == ["all"] * 3

    # Hour 2: an update, a refund, a delete, a customer created and deleted, several changes of one
    # customer in one second, in every account.
    for offset, account in enumerate(accounts):
        work.at(START + HOUR + 20 * 60 + offset)
        work.update_customer(account, customers[account][0], "new@example.com")
        work.update_customer(account, customers[account][0], "newer@example.com")
        work.refund(account, charges[account][0], 300)
        work.describe_charge(account, charges[account][1], "gift")
        work.delete_customer(account, customers[account][1])
        short_lived = work.customer(account, "brief@example.com")
        work.at(START + HOUR + 40 * 60 + offset).delete_customer(account, short_lived)
        charges[account].append(work.charge(account, 5000))
    work.at(START + 2 * HOUR + SETTLED)
    second = run_hour(START + 2 * HOUR)
    assert [export["capture"] for export in second.xcom("charges.plan")] == ["changes"] * 3

    # Hour 3: the rest of a refund, and a delete on the hour's last second.
    for account in accounts:
        work.at(START + 2 * HOUR + 600).refund(account, charges[account][0], 700)
        work.at(START + 3 * HOUR - 1).delete_customer(account, customers[account][2])
    work.at(START + 3 * HOUR + SETTLED)
    run_hour(START + 3 * HOUR)

    for resource in ("customers", "charges"):
        mirrored = table(mirror, resource)
        for account in accounts:
            assert mirrored.get(account, {}) == work.held(resource, account), (resource, account)
    assert set(table(mirror, "customers")[a]) == {customers[a][0]}

    # Re-running an hour applies the same changes again: nothing changes.
    before = {resource: table(mirror, resource) for resource in ("customers", "charges")}
    run_hour(START + 2 * HOUR)
    assert {resource: table(mirror, resource) for resource in ("customers", "charges")} == before


def test_an_hour_after_a_gap_is_refused_and_a_new_account_gets_a_snapshot(
    mirror: PostgresServer, stripe_env: StripeEmulator
) -> None:
    work = Workload(stripe_env).at(START - 60)
    work.customer("", "platform@example.com")
    work.at(START + HOUR + SETTLED)
    run_hour(START + HOUR)

    late = work.client.v1.accounts.create({"type": "standard"}).id  # type: ignore[typeddict-item]
    work.customer(late, "late@example.com")
    work.at(START + 3 * HOUR + SETTLED)
    skipped = run_dag(
        example_dag("stripe_mirror_postgres"), datetime.fromtimestamp(START + 3 * HOUR, timezone.utc)
    )
    assert skipped.state == "failed"
    assert skipped.state_of("customers.plan") == "failed"  # the platform missed hour 2

    run_hour(START + 2 * HOUR)  # the missing hour: the late account's first load is its snapshot
    assert set(table(mirror, "customers")[late]) == set(work.held("customers", late))
    run_hour(START + 3 * HOUR)
    for account in ("", late):
        assert table(mirror, "customers")[account] == work.held("customers", account)


def test_a_folder_that_differs_from_its_manifest_is_not_applied(
    mirror: PostgresServer, stripe_env: StripeEmulator, tmp_path: Path
) -> None:
    work = Workload(stripe_env).at(START - 60)
    work.customer("", "one@example.com")
    work.at(START + HOUR + SETTLED)
    run_hour(START + HOUR)
    [folder] = (tmp_path / "customers" / "platform").iterdir()
    export = ExportFolder.open(f"file://{folder}")
    assert [obj["email"] for obj in export.objects()] == ["one@example.com"]

    part = folder / export.manifest["parts"][0]["name"]
    part.write_bytes(part.read_bytes()[:-5])
    with pytest.raises(StripeExportFolderError, match="differs from its manifest"):
        list(ExportFolder.open(f"file://{folder}").objects())
    (folder / "manifest.json").unlink()
    with pytest.raises(StripeExportFolderError, match="has not finished"):
        ExportFolder.open(f"file://{folder}")
