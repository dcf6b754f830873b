"""How an export splits its window into ``created`` slices that can be listed side by side.

Pure functions: no clock, no I/O. A range is split after its first page (its newest objects, at most
100): the page's objects newer than its oldest second are the range's own, and the rest of the range
is cut into slices sized by the page's density. A slice whose own first page shows it much denser
than its share is split the same way, so a window of uneven density ends up in slices of a few full
pages each. The splits depend only on the ranges and on their first pages, so a re-run over the same
objects cuts the same slices and writes the same parts. Each slice is a whole number of seconds
(``created`` has 1-second resolution): every object falls in exactly one slice.

A snapshot's range has no lower bound: its rest is cut into slices that double in width toward the
past, the oldest one open, since how far back the list goes is not known until it is listed.
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
#: The most slices one split cuts: a page's density says little about a range much wider than it,
#: so a wide range is cut coarsely and its slices split again after their own first pages.
MAX_SLICES_A_SPLIT = 128
#: A rest estimated at no more than this many objects is walked on, page after page, not split:
#: its pages are fewer than one more round trip of splitting would save.
WALK_AT_MOST = 2 * OBJECTS_PER_SLICE

#: A slice of ``created`` seconds: ``(gte, lt)``, ``gte`` None for "from the list's oldest object".
Slice = tuple[int | None, int]


def split_after_page(
    gte: int | None, lt: int | None, page_created: Sequence[int]
) -> tuple[int, list[Slice]] | None:
    """How to go on after a range's first page, when the page says there is more.

    :param gte: the range's lower bound (None: open, a snapshot's oldest slice).
    :param lt: its upper bound (None: open, a snapshot's newest).
    :param page_created: the ``created`` of the page's objects, newest first (a full page).
    :returns: None to walk on page after page; else ``(own_from, slices)``: the page's objects with
        ``created >= own_from`` are the range's own, and ``slices`` (newest first) hold the rest,
        the page's other objects included.
    """
    if not page_created:
        return None
    top = lt if lt is not None else max(page_created) + 1
    oldest = min(page_created)
    if oldest + 1 >= top:  # a burst: the page is all one second, which says nothing of the rest
        rest: list[Slice] = [(gte, top - 1)] if gte is None or gte < top - 1 else []
        return top, [(top - 1, top), *rest]
    span = top - oldest  # the seconds the page covers
    if gte is None:
        return oldest + 1, doubling_slices(oldest + 1, _seconds_per_slice(len(page_created), span))
    seconds = oldest + 1 - gte
    estimate = len(page_created) * seconds / span
    count = min(math.ceil(estimate / OBJECTS_PER_SLICE), MAX_SLICES_A_SPLIT, seconds)
    if count <= 1 or estimate <= WALK_AT_MOST:
        return None
    return oldest + 1, created_slices(gte, oldest + 1, count)


def doubling_slices(created_lt: int, first_width: int) -> list[Slice]:
    """Slices below ``created_lt`` that double in width toward the past, newest first, the oldest open."""
    slices: list[Slice] = []
    lt, width = created_lt, max(1, first_width)
    while lt - width > 0 and len(slices) < MAX_SLICES_A_SPLIT - 1:
        slices.append((lt - width, lt))
        lt, width = lt - width, width * 2
    slices.append((None, lt))
    return slices


def _seconds_per_slice(objects: int, seconds: int) -> int:
    """Seconds that hold about :data:`OBJECTS_PER_SLICE` objects at ``objects`` per ``seconds``."""
    return max(1, math.ceil(OBJECTS_PER_SLICE * seconds / max(1, objects)))


def created_slices(created_gte: int, created_lt: int, count: int) -> list[Slice]:
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
