"""How an export splits its window into ``created`` slices that can be listed side by side.

Pure functions: no clock, no I/O. The slices depend only on the window and on the first page of the
window's list (the newest 100 objects), so a re-run over the same objects cuts the same slices and
writes the same parts. Each slice is a whole number of seconds (``created`` has 1-second resolution):
every object falls in exactly one slice.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

#: A slice is cut to hold about this many objects: two pages, the second nearly full (a page of
#: 100 is what makes a request worth its place in the rate limit). A little under 200, so that a
#: slice a few objects denser than the estimate needs no third page for them. Few pages a slice
#: keep each slice's chain of round trips short, so slices finish together.
OBJECTS_PER_SLICE = 190
#: Never more slices than this in one window (each in-flight slice holds a page and an open part).
MAX_SLICES = 10_000


def estimated_objects(created_gte: int, created_lt: int, newest_page: Sequence[int]) -> int:
    """How many objects the window probably holds, from the ``created`` of its newest full page.

    The page's objects span ``[oldest created, created_lt)``; the window is assumed as dense as that.

    :param newest_page: the ``created`` of the objects of the window's first page, newest first.
    """
    if not newest_page:
        return 0
    span = max(1, created_lt - min(newest_page))
    return math.ceil(len(newest_page) * (created_lt - created_gte) / span)


def slice_count(created_gte: int, created_lt: int, objects: int) -> int:
    """How many slices for about ``objects`` objects: one per :data:`OBJECTS_PER_SLICE`, at most one
    per second of the window and at most :data:`MAX_SLICES`, at least one."""
    wanted = math.ceil(objects / OBJECTS_PER_SLICE)
    return max(1, min(wanted, created_lt - created_gte, MAX_SLICES))


def created_slices(created_gte: int, created_lt: int, count: int) -> list[tuple[int, int]]:
    """``count`` adjacent ``(gte, lt)`` slices of equal width (to the second), newest first.

    Newest first, as Stripe lists: reading the slices' parts in order gives the objects in the same
    order as one walk over the whole window.

    :raises ValueError: for an empty window or a count outside ``1..seconds in the window``.
    """
    seconds = created_lt - created_gte
    if seconds < 1 or not 1 <= count <= seconds:
        raise ValueError(f"cannot cut [{created_gte}, {created_lt}) into {count} slices of whole seconds")
    bounds = [created_gte + seconds * index // count for index in range(count + 1)]
    return [(bounds[index], bounds[index + 1]) for index in reversed(range(count))]
