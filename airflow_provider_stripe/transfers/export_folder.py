"""An export folder read back, for a loader: its manifest, then its objects in order, each part checked.

A folder is complete once ``manifest.json`` is there (the export writes it last). The parts are
read in the manifest's order, streamed (a part is never held whole), and each must have the bytes,
sha256 and object count the manifest gives: a part a re-run is rewriting, or one truncated on the
way, fails the read. The failure comes once a part has been read, so a loader applies a folder in
one transaction (see ``example_dags/stripe_mirror_postgres.py``) and nothing of a bad folder stays.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from airflow.providers.common.compat.sdk import ObjectStoragePath

from airflow_provider_stripe.exceptions import StripeExportFolderError
from airflow_provider_stripe.transfers.destination import MANIFEST_NAME, MANIFEST_VERSION
from airflow_provider_stripe.transfers.jsonl import GZIP_WBITS

StripeObject = dict[str, Any]
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ExportFolder:
    """One complete export folder: where it is and its manifest."""

    folder: ObjectStoragePath
    manifest: Mapping[str, Any]

    @classmethod
    def open(cls, folder: ObjectStoragePath | str) -> ExportFolder:
        """Read the folder's manifest.

        :raises StripeExportFolderError: no manifest (the export has not finished, or failed), or
            one of another version.
        """
        path = folder if isinstance(folder, ObjectStoragePath) else ObjectStoragePath(folder)
        manifest_path = path / MANIFEST_NAME
        if not manifest_path.exists():
            raise StripeExportFolderError(
                f"{path} has no {MANIFEST_NAME}: the export into it has not finished (or failed); "
                "apply it once its export task has succeeded."
            )
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("manifest_version") != MANIFEST_VERSION:
            raise StripeExportFolderError(
                f"{manifest_path} has manifest_version {manifest.get('manifest_version')!r}; this "
                f"provider reads version {MANIFEST_VERSION}."
            )
        return cls(path, manifest)

    @property
    def is_snapshot(self) -> bool:
        """Whether the folder holds every object of the list (``window="all"``), not a window's."""
        return bool(self.manifest["window"]["kind"] == "all")

    @property
    def account(self) -> str | None:
        """The connected account exported (``acct_...``), None for the platform's own objects."""
        account: str | None = self.manifest.get("account")
        return account

    def objects(self) -> Iterator[StripeObject]:
        """Every object of the folder, part after part, in the order the export wrote them.

        :raises StripeExportFolderError: a part is missing or differs from the manifest.
        """
        for part in self.manifest["parts"]:
            yield from _part_objects(self.folder / part["name"], part)


def _part_objects(path: ObjectStoragePath, part: Mapping[str, Any]) -> Iterator[StripeObject]:
    if not path.exists():
        raise StripeExportFolderError(f"{path} is listed in the manifest but missing.")
    sha256 = hashlib.sha256()
    size = count = 0
    decompressor = zlib.decompressobj(wbits=GZIP_WBITS) if path.name.endswith(".gz") else None
    pending = b""
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(_CHUNK), b""):
            sha256.update(chunk)
            size += len(chunk)
            pending += decompressor.decompress(chunk) if decompressor else chunk
            *lines, pending = pending.split(b"\n")
            count += len(lines)
            yield from map(json.loads, lines)
    found = {"bytes": size, "sha256": sha256.hexdigest(), "objects": count}
    wanted = {name: part[name] for name in found}
    if pending or found != wanted:
        raise StripeExportFolderError(
            f"{path} differs from its manifest (manifest: {wanted}; file: {found}"
            f"{', and an unterminated last line' if pending else ''}): the folder is being "
            "rewritten or was damaged; apply it again once its export has succeeded."
        )
