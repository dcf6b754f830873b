"""An export folder read back (``ExportFolder``): the objects the export's own writer wrote, in order,
over several parts, plain and gzip; a part that differs from the manifest fails the read."""

from __future__ import annotations

from pathlib import Path

import pytest
from airflow.providers.common.compat.sdk import ObjectStoragePath

from airflow_provider_stripe.exceptions import StripeExportFolderError
from airflow_provider_stripe.transfers.destination import Destination
from airflow_provider_stripe.transfers.export_folder import ExportFolder
from airflow_provider_stripe.transfers.jsonl import PartWriter


def write_folder(folder: Path, fmt: str, objects: list[dict[str, object]]) -> None:
    destination = Destination(ObjectStoragePath(folder.as_uri()))
    destination.begin()
    with PartWriter(destination.open_part, fmt, objects_per_part=2) as writer:
        for obj in objects:
            writer.write(obj)
    destination.complete(writer.parts, {"window": {"kind": "all", "listed_from": 1}, "account": None})


@pytest.mark.parametrize("fmt", ["jsonl", "jsonl.gz"])
def test_the_objects_come_back_in_order_over_every_part(tmp_path: Path, fmt: str) -> None:
    objects = [{"id": f"cus_{i}", "object": "customer", "name": "Zoë " * i} for i in range(5)]
    write_folder(tmp_path, fmt, objects)
    export = ExportFolder.open(tmp_path.as_uri())
    assert len(export.manifest["parts"]) == 3
    assert export.is_snapshot
    assert export.account is None
    assert list(export.objects()) == objects


def test_a_part_rewritten_since_the_manifest_fails_the_read(tmp_path: Path) -> None:
    write_folder(tmp_path, "jsonl.gz", [{"id": "cus_1"}, {"id": "cus_2"}, {"id": "cus_3"}])
    write_folder(tmp_path / "other", "jsonl.gz", [{"id": "cus_9"}])
    (tmp_path / "part-00001.jsonl.gz").write_bytes((tmp_path / "other" / "part-00000.jsonl.gz").read_bytes())
    with pytest.raises(StripeExportFolderError, match=r"part-00001.jsonl.gz differs from its manifest"):
        list(ExportFolder.open(tmp_path.as_uri()).objects())
