"""Stripe-shaped object ids: a type prefix and random base62 characters.

Ids are random rather than sequential, as on Stripe, so that nothing (a test, a cursor) can come to
rely on ids sorting in creation order; list order comes from ``created`` and the creation sequence.
"""

from __future__ import annotations

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits

# Prefixes whose random part is 14 characters (``cus_QXg1o8vcGmoR32``); others have 24.
_SHORT = {"cus", "prod", "req", "acct"}


def new_id(prefix: str) -> str:
    """Return a fresh id such as ``ch_3Pq...``; collisions are astronomically unlikely."""
    length = 14 if prefix in _SHORT else 24
    return f"{prefix}_" + "".join(secrets.choice(_ALPHABET) for _ in range(length))
