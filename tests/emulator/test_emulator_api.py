"""The emulator's own surface: lifecycle, connection helpers, clock, the pytest plugin and the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import requests

from airflow_provider_stripe.testing import StripeEmulator


def test_lifecycle_and_free_ports() -> None:
    emulator = StripeEmulator()
    with pytest.raises(RuntimeError, match="not running"):
        _ = emulator.base_url
    with emulator, StripeEmulator() as other:
        assert emulator.base_url.startswith("http://127.0.0.1:")
        assert emulator.base_url != other.base_url
        assert emulator.api_key != other.api_key
        with pytest.raises(RuntimeError, match="already running"):
            emulator.start()
        url = f"{emulator.base_url}/v1/balance"
        assert requests.get(url, auth=(emulator.api_key, ""), timeout=5).status_code == 200
    with pytest.raises(requests.ConnectionError):
        requests.get(url, auth=(emulator.api_key, ""), timeout=5)
    emulator.stop()  # stopping twice is harmless


def test_a_request_takes_milliseconds(stripe_emulator: StripeEmulator) -> None:
    with requests.Session() as session:
        session.auth = (stripe_emulator.api_key, "")
        url = f"{stripe_emulator.base_url}/v1/customers"
        session.post(url, timeout=5)
        durations = []
        for _ in range(50):
            started = time.perf_counter()
            session.post(url, data={"email": "a@example.com"}, timeout=5)
            durations.append(time.perf_counter() - started)
    # Without TCP_NODELAY every loopback request waits ~40 ms for a delayed ACK. The fastest of 50
    # shows that floor whatever else the machine is doing (the mean grew past 20 ms under a CPU hog).
    assert min(durations) < 0.02


def test_fixed_api_key() -> None:
    with StripeEmulator(api_key="sk_test_fixed_for_the_demo_0001") as emulator:
        assert emulator.api_key == "sk_test_fixed_for_the_demo_0001"
    with pytest.raises(ValueError, match="sk_test_"):
        StripeEmulator(api_key="sk_live_nope")


def test_connection_json_and_env(stripe_emulator: StripeEmulator) -> None:
    assert json.loads(stripe_emulator.connection_json()) == {
        "conn_type": "stripe",
        "password": stripe_emulator.api_key,
        "host": stripe_emulator.base_url,
    }
    live = json.loads(stripe_emulator.connection_json(stripe_emulator.live_api_key, extra={"max_retries": 0}))
    assert (live["password"], live["extra"]) == (stripe_emulator.live_api_key, {"max_retries": 0})
    assert stripe_emulator.env() == {"AIRFLOW_CONN_STRIPE_DEFAULT": stripe_emulator.connection_json()}
    assert list(stripe_emulator.env("my_stripe")) == ["AIRFLOW_CONN_MY_STRIPE"]


def test_connection_uri_parses_back_in_airflow(stripe_emulator: StripeEmulator) -> None:
    from airflow.models.connection import Connection

    key = stripe_emulator.restricted_key({"rak_charge_read"})
    connection = Connection(conn_id="s", uri=stripe_emulator.connection_uri(key, extra={"timeout": 5}))
    assert (connection.conn_type, connection.host, connection.password) == (
        "stripe",
        stripe_emulator.base_url,
        key,
    )
    assert connection.port is None
    assert connection.extra_dejson == {"timeout": 5}


def test_stripe_connection_fixture(stripe_connection: str, stripe_emulator: StripeEmulator) -> None:
    assert stripe_connection == "stripe_default"
    assert os.environ["AIRFLOW_CONN_STRIPE_DEFAULT"] == stripe_emulator.connection_json()


def test_clock_controls(stripe_emulator: StripeEmulator) -> None:
    clock = stripe_emulator.clock
    assert abs(clock.now() - time.time()) < 2
    clock.freeze(1_700_000_000)
    time.sleep(0.01)
    assert clock.now() == 1_700_000_000
    clock.advance(30)
    clock.set(clock.now() + 5)
    assert clock.now() == 1_700_000_035
    clock.unfreeze()
    time.sleep(0.05)
    assert 1_700_000_035 <= clock.time() < 1_700_000_040
    clock.reset()
    assert abs(clock.now() - time.time()) < 2


def test_knob_validation(stripe_emulator: StripeEmulator) -> None:
    with pytest.raises(ValueError, match="visibility_delay"):
        stripe_emulator.visibility_delay = -1
    with pytest.raises(ValueError, match="latency"):
        stripe_emulator.latency = -0.1
    with pytest.raises(ValueError, match="status"):
        stripe_emulator.fail_next(1, status=302)
    with pytest.raises(ValueError, match="rate_limit"):
        stripe_emulator.rate_limit(0)


def test_plugin_and_package_import_nothing_heavy() -> None:
    probe = (
        "import sys, airflow_provider_stripe.testing.pytest_plugin, airflow_provider_stripe.testing; "
        "print(sorted(m for m in ('aiohttp', 'airflow', 'stripe') if m in sys.modules))"
    )
    output = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"


def test_command_line_runs_until_sigterm() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "airflow_provider_stripe.testing",
            "--port",
            "0",
            "--api-key",
            "sk_test_cli_0001",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline().strip() for _ in range(3)]
        base_url = lines[0].rsplit(" ", 1)[-1]
        assert lines[1] == "Test API key: sk_test_cli_0001"
        assert lines[2].startswith("export AIRFLOW_CONN_STRIPE_DEFAULT='")
        exported = json.loads(lines[2].split("=", 1)[1].strip("'"))
        assert exported == {"conn_type": "stripe", "password": "sk_test_cli_0001", "host": base_url}
        response = requests.get(f"{base_url}/v1/account", auth=("sk_test_cli_0001", ""), timeout=5)
        assert response.json()["object"] == "account"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
