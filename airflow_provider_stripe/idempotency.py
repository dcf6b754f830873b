"""The Idempotency-Key a create sends: the same for every try of one task instance, nothing else.

Stripe stores the answer to a POST under its ``Idempotency-Key`` for 24 hours and replays it for a
request with the same key and parameters. Deriving the key from the task instance's identity
(dag_id, task_id, run_id, map_index) and *not* from its try number makes an Airflow retry, or a
task cleared and run again within those 24 hours, get the object the first try created instead
of creating a second charge.
"""

from __future__ import annotations

import hashlib
import json

PREFIX = "airflow-"


def task_idempotency_key(dag_id: str, task_id: str, run_id: str, map_index: int | None = -1) -> str:
    """A stable key for one task instance: ``airflow-`` and a SHA-256 of its identity (72 characters).

    Every part is hashed unambiguously (as a JSON list), so ``("a_b", "c")`` and ``("a", "b_c")``
    never collide, and the key reveals no DAG or run names to whoever reads Stripe's request logs.
    A ``map_index`` of None is an unmapped task, like -1.
    """
    index = -1 if map_index is None else map_index
    identity = json.dumps([dag_id, task_id, run_id, index], separators=(",", ":"))
    return PREFIX + hashlib.sha256(identity.encode()).hexdigest()
