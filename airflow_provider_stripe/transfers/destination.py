"""An export's destination folder: part files, then a manifest written last.

A folder is complete when ``manifest.json`` is there. A run starts by removing the old manifest
(readers stop trusting the folder), writes its parts over the old ones, removes parts a previous,
larger run left behind, and only then writes the new manifest.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import IO, TYPE_CHECKING, Any

from airflow_provider_stripe.exceptions import StripeValidationError
from airflow_provider_stripe.transfers.jsonl import PART_PREFIX, Part

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import ObjectStoragePath

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


def checked_url(path: Any) -> None:
    """A destination given as text must be a URL (``file:///...``, ``s3://conn@bucket/...``).

    Text that starts with a template is checked once rendered.
    """
    if isinstance(path, str) and not path.lstrip().startswith(("{{", "{%")) and not _URL.match(path.strip()):
        raise StripeValidationError(
            "path must be a URL of Airflow's object storage, such as "
            "'file:///data/stripe/charges/{{ ds }}/' or 's3://aws_default@bucket/stripe/charges/{{ ds }}/', "
            f"got {path!r}.",
            param="path",
        )


def asset_uri(path: Any) -> str | None:
    """The URI downstream DAGs can schedule on: the destination up to its first template, without
    a connection id (``s3://conn@bucket/x/`` is the asset ``s3://bucket/x/``). None when unknown."""
    text = str(path).split("{{", 1)[0]
    match = _URL.match(text)
    if not match:
        return None
    scheme, rest = match.group(0), text[match.end() :]
    authority, slash, tail = rest.partition("/")
    authority = authority.rpartition("@")[2]
    tail = tail.rpartition("/")[0] + "/" if "/" in tail else ""
    return f"{scheme}{authority}{slash}{tail}" if (authority or slash) else None


class Destination:
    """The folder one export run writes."""

    def __init__(self, folder: ObjectStoragePath) -> None:
        self.folder = folder

    def begin(self) -> None:
        """Make the folder and withdraw a previous run's manifest, before any part is rewritten."""
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / MANIFEST_NAME).unlink(missing_ok=True)

    def open_part(self, name: str) -> IO[bytes]:
        file: IO[bytes] = (self.folder / name).open("wb")
        return file

    def complete(self, parts: Sequence[Part], description: Mapping[str, Any]) -> dict[str, Any]:
        """Remove stale parts, then write and return the manifest."""
        kept = {part.name for part in parts}
        for child in self.folder.iterdir():
            if child.name.startswith(PART_PREFIX) and child.name not in kept:
                child.unlink()
        manifest = {
            "manifest_version": MANIFEST_VERSION,
            **description,
            "objects": sum(part.objects for part in parts),
            "bytes": sum(part.bytes for part in parts),
            "parts": [asdict(part) for part in parts],
        }
        (self.folder / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        return manifest
