"""Stripe objects streamed into JSON Lines part files (optionally gzip), one object at a time.

Memory stays constant whatever the volume: each line is encoded, compressed and written as it
comes, and hashed on the way so the manifest can carry each part's sha256 without reading it back.
Output is byte-for-byte reproducible (gzip without a timestamp or file name), so re-running a
window rewrites identical files.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import IO, Any

from airflow_provider_stripe.exceptions import StripeValidationError
from airflow_provider_stripe.validation import choice

FORMATS = ("jsonl", "jsonl.gz")
PART_PREFIX = "part-"
DEFAULT_OBJECTS_PER_PART = 100_000
#: zlib's gzip container (16 + 15-bit window): a header with mtime 0 and no file name.
GZIP_WBITS = 31


#: Checks ``format`` (``FORMAT.check("format", value)``).
FORMAT = choice(*FORMATS)


def checked_objects_per_part(count: Any) -> int:
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise StripeValidationError(
            f"objects_per_part must be a positive integer, got {count!r}.", param="objects_per_part"
        )
    return count


def part_name(index: int, fmt: str, series: str = "") -> str:
    """``part-00000.jsonl``, or in a series (one slice of a window) ``part-00003-00000.jsonl``."""
    return f"{PART_PREFIX}{series}{index:05d}.{fmt}"


@dataclass(frozen=True)
class Part:
    """One written part file, as the manifest lists it."""

    name: str
    objects: int
    bytes: int
    sha256: str


class _OpenPart:
    """A part being written: encoder, hash and byte count in front of the storage file."""

    def __init__(self, name: str, file: IO[bytes], gzip: bool) -> None:
        self.name = name
        self.objects = 0
        self._file = file
        self._compressor = zlib.compressobj(wbits=GZIP_WBITS) if gzip else None
        self._sha256 = hashlib.sha256()
        self._bytes = 0

    def write(self, obj: Mapping[str, Any]) -> None:
        line = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
        self._emit(self._compressor.compress(line) if self._compressor else line)
        self.objects += 1

    def close(self) -> Part:
        if self._compressor:
            self._emit(self._compressor.flush())
        self._file.close()
        return Part(self.name, self.objects, self._bytes, self._sha256.hexdigest())

    def abandon(self) -> None:
        self._file.close()

    def _emit(self, chunk: bytes) -> None:
        if chunk:
            self._file.write(chunk)
            self._sha256.update(chunk)
            self._bytes += len(chunk)


class PartWriter:
    """Write objects into numbered part files, ``objects_per_part`` at most in each.

    :param open_part: opens a part file (by name) for binary writing in the destination folder.
    :param on_part: called with each finished part (progress logging).
    :param series: a prefix for the part numbers (``"00003-"``), one per slice of a sliced export.
    """

    def __init__(
        self,
        open_part: Callable[[str], IO[bytes]],
        fmt: str,
        objects_per_part: int,
        on_part: Callable[[Part], None] = lambda part: None,
        series: str = "",
    ) -> None:
        self._series = series
        self._open_part = open_part
        self._fmt = fmt
        self._objects_per_part = objects_per_part
        self._on_part = on_part
        self._current: _OpenPart | None = None
        self.parts: list[Part] = []

    def write(self, obj: Mapping[str, Any]) -> None:
        if self._current is None:
            name = part_name(len(self.parts), self._fmt, self._series)
            self._current = _OpenPart(name, self._open_part(name), self._fmt.endswith(".gz"))
        self._current.write(obj)
        if self._current.objects >= self._objects_per_part:
            self._finish_part()

    def _finish_part(self) -> None:
        if self._current is not None:
            part = self._current.close()
            self._current = None
            self.parts.append(part)
            self._on_part(part)

    def __enter__(self) -> PartWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is None:
            self._finish_part()
        elif self._current is not None:
            self._current.abandon()
