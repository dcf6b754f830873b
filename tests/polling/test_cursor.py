"""Cursor arithmetic and JSON form."""

from __future__ import annotations

import json

import pytest

from airflow_provider_stripe.exceptions import StripeValidationError
from airflow_provider_stripe.polling.cursor import MAX_REMEMBERED_IDS, SAVE_FLOOR_EVERY_SECONDS, Cursor


def objs(*pairs: tuple[str, int]) -> list[dict[str, object]]:
    return [{"id": obj_id, "created": created} for obj_id, created in pairs]


def test_starting_cursor_has_no_lookback_before_the_start() -> None:
    cursor = Cursor.starting_at(1000)
    assert (cursor.watermark, cursor.floor, dict(cursor.delivered), cursor.walk_from) == (
        1000,
        1000,
        {},
        None,
    )
    assert cursor.is_new({"id": "ch_a", "created": 1000})
    assert not cursor.is_new({"id": "ch_a", "created": 999})


def test_after_moves_watermark_and_keeps_ids_above_the_floor() -> None:
    cursor = Cursor.starting_at(1000).after(
        objs(("a", 1000), ("b", 1100), ("c", 1400)), floor=1100, walk_from=None
    )
    assert (cursor.watermark, cursor.floor) == (1400, 1100)
    assert dict(cursor.delivered) == {"b": 1100, "c": 1400}
    assert not cursor.is_new({"id": "b", "created": 1100})
    assert cursor.is_new({"id": "late", "created": 1200})


def test_the_floor_never_goes_down() -> None:
    cursor = Cursor.starting_at(1000).after([], floor=900, walk_from=None)
    assert cursor == Cursor.starting_at(1000)


def test_a_backlog_listed_in_one_go_moves_the_floor_past_it() -> None:
    cursor = Cursor.starting_at(0).after(objs(("a", 500), ("b", 900)), floor=400, walk_from=None)
    listed = cursor.listed_until(800, newest=799)
    assert (listed.watermark, listed.floor, dict(listed.delivered), listed.walk_from) == (
        900,
        800,
        {"b": 900},
        None,
    )
    assert not listed.is_new({"id": "late", "created": 799})  # the listing delivered it
    assert listed.is_new({"id": "c", "created": 800})
    assert cursor.listed_until(300, newest=None) == cursor  # the floor never goes down


def test_a_walk_ahead_of_the_listed_backlog_goes_on_and_one_behind_it_is_over() -> None:
    walking = Cursor(watermark=900, floor=400, delivered={"a": 500, "b": 900}, walk_from="b")
    assert walking.listed_until(800, newest=None).walk_from == "b"
    assert walking.listed_until(950, newest=None).walk_from is None


def test_late_object_older_than_watermark_does_not_move_it_back() -> None:
    cursor = Cursor.starting_at(0).after(objs(("a", 500)), floor=200, walk_from=None)
    cursor = cursor.after(objs(("late", 450)), floor=200, walk_from=None)
    assert cursor.watermark == 500
    assert set(cursor.delivered) == {"a", "late"}


def test_json_round_trip_and_compact_form() -> None:
    cursor = Cursor.starting_at(0).after(objs(("a", 10), ("b", 10), ("c", 11)), floor=0, walk_from=None)
    text = cursor.to_json()
    assert json.loads(text) == {
        "version": 1,
        "watermark": 11,
        "floor": 0,
        "delivered": {"10": ["a", "b"], "11": ["c"]},
    }
    assert Cursor.from_json(text) == cursor
    assert Cursor.from_json(json.loads(text)) == cursor


def test_a_walking_cursor_is_version_2_and_a_caught_up_one_stays_version_1() -> None:
    """Caught up, the cursor is written in release one's format, so that a downgrade still reads it."""
    walking = Cursor.starting_at(0).after(objs(("a", 10)), floor=0, walk_from={"id": "a", "created": 10})
    assert json.loads(walking.to_json())["version"] == 2
    assert json.loads(walking.to_json())["walk_from"] == "a"
    assert Cursor.from_json(walking.to_json()) == walking
    assert "walk_from" not in json.loads(walking.after([], floor=5, walk_from=None).to_json())


def test_a_cursor_of_release_one_reads_as_caught_up() -> None:
    """The exact string release one stored in the ``stripe_cursor`` XCom (json.dumps, compact)."""
    stored = (
        '{"version":1,"watermark":1400,"floor":1100,"delivered":{"1100":["ch_b"],"1400":["ch_c","ch_d"]}}'
    )
    cursor = Cursor.from_json(stored)
    assert cursor == Cursor(1400, 1100, {"ch_b": 1100, "ch_c": 1400, "ch_d": 1400}, walk_from=None)
    assert cursor.to_json() == stored


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "{",
        '{"version": 9}',
        '{"version": 1, "watermark": 1}',
        "[]",
        '{"version":2,"watermark":1,"floor":1,"delivered":{}}',
        '{"version":2,"watermark":1,"floor":1,"delivered":{},"walk_from":7}',
    ],
)
def test_unreadable_cursor_says_how_to_recover(bad: str) -> None:
    with pytest.raises(StripeValidationError, match="Delete it"):
        Cursor.from_json(bad)


def test_size_is_bounded_by_dropping_oldest_seconds() -> None:
    burst = objs(*[(f"old{i}", 100) for i in range(MAX_REMEMBERED_IDS)])
    cursor = Cursor.starting_at(0).after(burst, floor=0, walk_from=None)
    cursor = cursor.after(objs(("new", 101)), floor=0, walk_from=None)
    assert len(cursor.delivered) == 1
    assert cursor.floor == 101
    assert dict(cursor.delivered) == {"new": 101}


def test_the_watermark_second_is_never_dropped_even_if_huge() -> None:
    burst = objs(*[(f"x{i}", 100) for i in range(MAX_REMEMBERED_IDS + 10)])
    cursor = Cursor.starting_at(0).after(burst, floor=0, walk_from=None)
    assert len(cursor.delivered) == MAX_REMEMBERED_IDS + 10
    assert cursor.floor == 0


def test_ids_from_the_walk_position_on_are_never_dropped() -> None:
    """While walking, ids ahead of the walk's position are what stops the walk re-delivering them."""
    burst = objs(*[(f"x{i}", 100 + i % 3) for i in range(MAX_REMEMBERED_IDS + 30)])
    cursor = Cursor.starting_at(0).after(burst, floor=0, walk_from={"id": "x0", "created": 100})
    assert cursor.floor == 0
    assert len(cursor.delivered) == MAX_REMEMBERED_IDS + 30


def test_an_idle_cursor_is_worth_saving_when_what_the_next_poll_lists_changes() -> None:
    """Idle polls only raise the floor; a write is due when that drops kept ids (a burst settled),
    ends a walk, or has moved the floor an hour since the stored cursor (issue 21)."""
    stored = Cursor.starting_at(1000).after(objs(("a", 1001), ("b", 1002)), floor=1000, walk_from=None)
    assert Cursor.starting_at(1000).worth_saving(None)  # nothing stored yet: "now" is pinned
    assert not stored.after([], floor=1001, walk_from=None).worth_saving(stored)  # keeps a and b
    assert stored.after([], floor=1002, walk_from=None).worth_saving(stored)  # a dropped
    quiet = Cursor.starting_at(1000)
    assert not quiet.after([], floor=1000 + SAVE_FLOOR_EVERY_SECONDS - 1, walk_from=None).worth_saving(quiet)
    assert quiet.after([], floor=1000 + SAVE_FLOOR_EVERY_SECONDS, walk_from=None).worth_saving(quiet)
    walking = stored.after(objs(("c", 1002)), floor=1000, walk_from={"id": "c", "created": 1002})
    assert walking.after([], floor=1000, walk_from=None).worth_saving(walking)
