"""Recognisable ("canary") Stripe keys, a DAG that uses them in every way a task can fail, and the
search for those keys in whatever Airflow and the provider wrote.

Shared by ``test_secrets.py`` (``airflow tasks test`` on Airflow 3.3.2 and 2.11.2, and in-process
checks) and ``test_concurrency.py`` (the same DAG under a real scheduler with the LocalExecutor).
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack, closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airflow_provider_stripe.testing import StripeEmulator

#: In every canary key, so that a leak found in a log is easy to trace back to this test.
CANARY = "LeakCanary"


def canary_key(prefix: str = "sk_test_") -> str:
    """A well-formed, unguessable key that announces itself: ``sk_test_LeakCanary<40 hex>``."""
    return f"{prefix}{CANARY}{uuid.uuid4().hex}{uuid.uuid4().hex[:8]}"


def needles(key: str) -> dict[str, str]:
    """What a leak of ``key`` looks like: its secret part (all but the ``sk_test_`` prefix and the
    last 4 characters, which the hook's log line shows, as Stripe's dashboard does), and the HTTP
    Basic token carrying it (a logged ``Authorization`` header is a leak that no masker catches)."""
    return {
        "key": key[8:-4],
        "Basic token": base64.b64encode(f"{key}:".encode()).decode(),
    }


def find_leaks(keys: Mapping[str, str], texts: Mapping[str, str | bytes]) -> list[str]:
    """``"<where>: <which key> (<form>)"`` for every key found in any text (bytes are searched raw)."""
    found = []
    for where, text in texts.items():
        for name, key in keys.items():
            for form, needle in needles(key).items():
                hit = needle.encode() in text if isinstance(text, bytes) else needle in text
                if hit:
                    found.append(f"{where}: {name} ({form})")
    return found


def files_under(root: Path) -> dict[str, bytes]:
    """Every file below ``root`` (logs, the SQLite DB and its journal, config), by relative path."""
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.is_symlink()
    }


def decrypted_trigger_kwargs(db_path: Path, fernet_key: str) -> list[tuple[str, str]]:
    """(classpath, kwargs as JSON) of every row of the ``trigger`` table. Airflow (2.9+ and 3.x)
    stores the kwargs as a Fernet token, or as plain JSON when it has no Fernet key."""
    import sqlite3

    with closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)) as db:
        rows = db.execute("SELECT classpath, kwargs FROM trigger").fetchall()
    return decrypt_trigger_rows(rows, fernet_key)


def decrypt_trigger_rows(rows: Iterable[tuple[Any, ...]], fernet_key: str) -> list[tuple[str, str]]:
    """(classpath, kwargs as JSON) of rows of (classpath, kwargs) read from the ``trigger`` table."""
    from cryptography.fernet import Fernet

    fernet = Fernet(fernet_key.encode())
    return [
        (str(classpath), kwargs if kwargs.startswith("{") else fernet.decrypt(kwargs.encode()).decode())
        for classpath, kwargs in rows
    ]


# -- the DAG ---------------------------------------------------------------------------------------

SECRETS_DAG_ID = "stripe_key_leaks"
SENSOR_TASK = "new_charges_restricted_key"


@dataclass(frozen=True)
class Case:
    """One task of the secrets DAG: how it uses a key, and how it must end."""

    task_id: str
    #: The task's constructor call in the DAG file.
    source: str
    succeeds: bool
    #: The exception class the failure must show (its name in the output proves which path ran).
    error: str | None = None


_CHARGE = 'currency="usd", source="tok_visa"'

CASES = (
    Case(
        "product_secret_key",
        'StripeCreateProductOperator(task_id="product_secret_key", stripe_conn_id="stripe_canary", '
        'name="Canary product {{ ds }}")',
        succeeds=True,
    ),
    Case(
        "product_live_key",
        'StripeCreateProductOperator(task_id="product_live_key", stripe_conn_id="stripe_live", '
        'name="Live product {{ ds }}")',
        succeeds=True,
    ),
    Case(
        "padded_key",
        'StripeCreateProductOperator(task_id="padded_key", stripe_conn_id="stripe_padded", '
        'name="Padded key product")',
        succeeds=True,
    ),
    Case(
        "http_debug_output",
        'HttpDebuggingProductOperator(task_id="http_debug_output", stripe_conn_id="stripe_canary", '
        'name="Debugged product")',
        succeeds=True,
    ),
    Case(
        SENSOR_TASK,
        f'StripeNewChargeSensor(task_id="{SENSOR_TASK}", stripe_conn_id="stripe_restricted", '
        "deferrable=True, poke_interval=1, timeout=180, retries=1, retry_delay=timedelta(seconds=1))",
        succeeds=True,
    ),
    Case(
        "wrong_key_401",
        'StripeCreateProductOperator(task_id="wrong_key_401", stripe_conn_id="stripe_wrong_key", name="No")',
        succeeds=False,
        error="StripeAuthenticationError",
    ),
    Case(
        "restricted_key_403",
        'StripeCreateChargeOperator(task_id="restricted_key_403", stripe_conn_id="stripe_restricted", '
        f"amount=500, {_CHARGE})",
        succeeds=False,
        error="StripePermissionError",
    ),
    Case(
        "server_error_500",
        'StripeCreateChargeOperator(task_id="server_error_500", stripe_conn_id="stripe_broken", '
        f"amount=500, {_CHARGE})",
        succeeds=False,
        error="StripeAPIError",
    ),
    Case(
        "fractional_amount",
        'StripeCreateChargeOperator(task_id="fractional_amount", stripe_conn_id="stripe_canary", '
        f'amount="{{{{ 3 / 2 }}}}", {_CHARGE})',
        succeeds=False,
        error="StripeValidationError",
    ),
    Case(
        "plain_http_host",
        'StripeCreateProductOperator(task_id="plain_http_host", stripe_conn_id="stripe_plain_http", '
        'name="No")',
        succeeds=False,
        error="StripeValidationError",
    ),
    Case(
        "closed_port",
        'StripeCreateProductOperator(task_id="closed_port", stripe_conn_id="stripe_closed_port", name="No")',
        succeeds=False,
        error="StripeConnectionError",
    ),
)

_DAG_HEADER = """
from datetime import datetime, timedelta

from airflow.providers.common.compat.sdk import DAG

from airflow_provider_stripe.operators.stripe import StripeCreateChargeOperator, StripeCreateProductOperator
from airflow_provider_stripe.sensors.stripe import StripeNewChargeSensor



class HttpDebuggingProductOperator(StripeCreateProductOperator):
    '''Prints every HTTP exchange, headers included, as requests' docs suggest for debugging.'''

    def execute(self, context):
        import http.client

        http.client.HTTPConnection.debuglevel = 1
        try:
            return super().execute(context)
        finally:
            http.client.HTTPConnection.debuglevel = 0


with DAG({dag_id!r}, schedule={schedule!r}, start_date=datetime(2026, 1, 1), catchup=False):
"""


def secrets_dag_source(
    cases: Iterable[Case] = CASES, *, dag_id: str = SECRETS_DAG_ID, schedule: str | None = None
) -> str:
    """A DAG file with one task per case (Airflow 3.x and 2.11 alike)."""
    tasks = "".join(f"    {case.source}\n" for case in cases)
    return _DAG_HEADER.format(dag_id=dag_id, schedule=schedule) + tasks


class CanaryStripe:
    """The Stripe side of the secrets DAG: an emulator that accepts a canary key, one that answers
    every request with a 500, and the keys and connections of every :data:`CASES` entry.

    Used as a context manager: both emulators run until it exits.
    """

    def __init__(self) -> None:
        self.secret_key = canary_key()
        self.wrong_key = canary_key()
        self._stack = ExitStack()
        self.emulator = self._stack.enter_context(StripeEmulator(api_key=self.secret_key))
        self.broken = self._stack.enter_context(StripeEmulator(api_key=self.secret_key))
        self.broken.fail_next(10_000, 500)
        # Its sensor may read charges; its charge create must be refused (403 naming the permission).
        self.restricted_key = self.emulator.restricted_key(["rak_charge_read", "rak_product_write"])
        self.live_key = self.emulator.live_api_key
        # Pasted with the whitespace a copied key or a secrets file often carries; used nowhere else.
        self.padded_key = self.emulator.restricted_key(["rak_product_write"])
        self.closed_port = _closed_port()

    def __enter__(self) -> CanaryStripe:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stack.close()

    @property
    def keys(self) -> dict[str, str]:
        """Every key a task used, by name."""
        return {
            "secret test key": self.secret_key,
            "wrong key": self.wrong_key,
            "restricted key": self.restricted_key,
            "live key": self.live_key,
            "padded key": self.padded_key,
        }

    def connections(self) -> dict[str, dict[str, Any]]:
        """Airflow connections by id: each :data:`CASES` entry's ``conn_id``."""
        fast_failure = {"max_retries": 1, "backoff_initial": 0.05, "backoff_max": 0.1, "timeout": 5}
        url = self.emulator.base_url
        return {
            "stripe_canary": {"password": self.secret_key, "host": url},
            "stripe_live": {"password": self.live_key, "host": url},
            "stripe_restricted": {"password": self.restricted_key, "host": url},
            "stripe_padded": {"password": f"  {self.padded_key}\n", "host": url},
            "stripe_wrong_key": {"password": self.wrong_key, "host": url},
            "stripe_broken": {
                "password": self.secret_key,
                "host": self.broken.base_url,
                "extra": fast_failure,
            },
            "stripe_plain_http": {"password": self.secret_key, "host": "http://stripe.example.com"},
            "stripe_closed_port": {
                "password": self.secret_key,
                "host": f"http://127.0.0.1:{self.closed_port}",
                "extra": fast_failure,
            },
        }

    def env(self) -> dict[str, str]:
        """``AIRFLOW_CONN_<ID>`` variables for every connection."""
        return {
            f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps({"conn_type": "stripe", **conn})
            for conn_id, conn in self.connections().items()
        }

    def create_charge(self) -> str:
        """A new charge in the emulator, for the waiting sensor to find."""
        import requests

        response = requests.post(
            f"{self.emulator.base_url}/v1/charges",
            data={"amount": 700, "currency": "usd", "source": "tok_visa"},
            auth=(self.secret_key, ""),
            timeout=10,
        )
        response.raise_for_status()
        return str(response.json()["id"])


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    import socket

    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def lines_with(texts: Iterable[str], fragment: str) -> Iterator[str]:
    for text in texts:
        yield from (line for line in text.splitlines() if fragment in line)
