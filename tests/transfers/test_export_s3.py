"""An export to S3 through Airflow's ObjectStoragePath and fsspec's s3fs, against moto's S3 server.

moto's server mode (what Airflow's Amazon provider tests use) is started on a loopback port; the
``s3`` scheme is attached to an s3fs filesystem pointed at it, as a deployment without the Amazon
provider would do (with the provider, ``s3://aws_default@bucket/...`` uses the connection).
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

from airflow_provider_stripe.testing import StripeEmulator
from tests.dag_runs import run_dag
from tests.transfers.conftest import create_at, export_dag

D1 = datetime(2026, 11, 21, tzinfo=timezone.utc)


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
    }.items():
        monkeypatch.setenv(name, value)
    import s3fs

    try:
        from airflow.sdk.io import attach
    except ImportError:  # Airflow 2.11
        from airflow.io.store import attach  # type: ignore[no-redef]

    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    attach("s3", alias="s3", fs=fs)
    fs.mkdir("exports")
    try:
        yield fs
    finally:
        server.stop()


def test_export_to_s3_writes_parts_and_manifest(stripe_env: StripeEmulator, s3: Any) -> None:
    charges = create_at(stripe_env, "charges", D1.timestamp() - 100, 5)
    stripe_env.clock.reset()
    dag = export_dag(
        "export_s3",
        'CronDataIntervalTimetable("@daily", timezone="UTC")',
        resource="charges",
        path="s3://exports/stripe/charges/{{ data_interval_start | ds }}/",
        format="jsonl.gz",
        objects_per_part=2,
        lookback=60,
    )
    manifest = run_dag(dag, D1).xcom("export")
    folder = "exports/stripe/charges/2026-11-20"
    assert json.loads(s3.cat_file(f"{folder}/manifest.json")) == manifest
    assert sorted(s3.ls(folder, detail=False)) == [
        f"{folder}/{name}"
        for name in ("manifest.json", "part-00000.jsonl.gz", "part-00001.jsonl.gz", "part-00002.jsonl.gz")
    ]
    ids = []
    for part in manifest["parts"]:
        raw = s3.cat_file(f"{folder}/{part['name']}")
        assert (len(raw), hashlib.sha256(raw).hexdigest()) == (part["bytes"], part["sha256"])
        ids += [json.loads(line)["id"] for line in gzip.decompress(raw).splitlines()]
    assert sorted(ids) == sorted(charges)
