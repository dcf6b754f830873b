"""Cursor arithmetic and JSON form."""

from __future__ import annotations

import json

import pytest

from airflow_provider_stripe.exceptions import StripeValidationError
from airflow_provider_stripe.polling.cursor import MAX_REMEMBERED_IDS, Cursor


def objs(*pairs: tuple[str, int]) -> list[dict[str, object]]:
    return [{"id": obj_id, "created": created} for obj_id, created in pairs]


def test_starting_cursor_has_no_lookback_before_the_start() -> None:
    cursor = Cursor.starting_at(1000)
    assert (cursor.watermark, cursor.floor, dict(cursor.delivered)) == (1000, 1000, {})
    assert cursor.is_new({"id": "ch_a", "created": 1000})
    assert not cursor.is_new({"id": "ch_a", "created": 999})


def test_advance_moves_watermark_and_keeps_ids_inside_the_lookback() -> None:
    cursor = Cursor.starting_at(1000).advance(
        objs(("a", 1000), ("b", 1100), ("c", 1400)), lookback_seconds=300
    )
    assert cursor.watermark == 1400
    assert cursor.floor == 1100
    assert dict(cursor.delivered) == {"b": 1100, "c": 1400}
    assert not cursor.is_new({"id": "b", "created": 1100})
    assert cursor.is_new({"id": "late", "created": 1200})


def test_advance_with_nothing_is_the_same_cursor() -> None:
    cursor = Cursor.starting_at(5)
    assert cursor.advance([], 300) is cursor


def test_late_object_older_than_watermark_does_not_move_it_back() -> None:
    cursor = Cursor.starting_at(0).advance(objs(("a", 500)), 300).advance(objs(("late", 450)), 300)
    assert cursor.watermark == 500
    assert set(cursor.delivered) == {"a", "late"}


def test_json_round_trip_and_compact_form() -> None:
    cursor = Cursor.starting_at(0).advance(objs(("a", 10), ("b", 10), ("c", 11)), 300)
    text = cursor.to_json()
    assert json.loads(text)["delivered"] == {"10": ["a", "b"], "11": ["c"]}
    assert Cursor.from_json(text) == cursor
    assert Cursor.from_json(json.loads(text)) == cursor


@pytest.mark.parametrize("bad", ["", "{", '{"version": 9}', '{"version": 1, "watermark": 1}', "[]"])
def test_unreadable_cursor_says_how_to_recover(bad: str) -> None:
    with pytest.raises(StripeValidationError, match="Delete it"):
        Cursor.from_json(bad)


def test_size_is_bounded_by_dropping_oldest_seconds() -> None:
    burst = objs(*[(f"old{i}", 100) for i in range(MAX_REMEMBERED_IDS)])
    cursor = Cursor.starting_at(0).advance(burst, 300).advance(objs(("new", 101)), 300)
    assert len(cursor.delivered) == 1
    assert cursor.floor == 101
    assert dict(cursor.delivered) == {"new": 101}


def test_the_watermark_second_is_never_dropped_even_if_huge() -> None:
    burst = objs(*[(f"x{i}", 100) for i in range(MAX_REMEMBERED_IDS + 10)])
    cursor = Cursor.starting_at(0).advance(burst, 300)
    assert len(cursor.delivered) == MAX_REMEMBERED_IDS + 10
    assert cursor.floor == 0
