"""``python -m airflow_provider_stripe.testing``: run the Stripe emulator until SIGINT/SIGTERM.

Prints the base URL, the test key and an ``export AIRFLOW_CONN_STRIPE_DEFAULT=...`` line to paste
into the shell that runs Airflow.
"""

from __future__ import annotations

import argparse
import shlex
import signal
import threading
from collections.abc import Sequence
from types import FrameType

from airflow_provider_stripe.testing.emulator import StripeEmulator
from airflow_provider_stripe.testing.ratelimit import LIVE_PER_SECOND, SANDBOX_PER_SECOND


def _per_second(text: str) -> int | None:
    """A ``--rate-limit`` value: a whole number >= 1, or ``none`` for no limit."""
    if text.strip().lower() == "none":
        return None
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1 or 'none', got {text!r}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m airflow_provider_stripe.testing", description="Run a local, in-memory Stripe API."
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: %(default)s)")
    parser.add_argument(
        "--port", type=int, default=12111, help="TCP port, 0 for any free one (default: %(default)s)"
    )
    parser.add_argument(
        "--api-key", default=None, help="test secret key to accept (default: a random sk_test_ key)"
    )
    parser.add_argument(
        "--rate-limit",
        type=_per_second,
        default=SANDBOX_PER_SECOND,
        metavar="N|none",
        help="test-mode requests a second (reads and writes each) before Stripe's 429, as a Stripe "
        "sandbox; 'none' lifts it (default: %(default)s)",
    )
    parser.add_argument(
        "--live-rate-limit",
        type=_per_second,
        default=LIVE_PER_SECOND,
        metavar="N|none",
        help="the same for live-mode keys (default: %(default)s)",
    )
    parser.add_argument(
        "--latency",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="seconds added to every answer, as Stripe's round trip (default: %(default)s)",
    )
    args = parser.parse_args(argv)

    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    emulator = StripeEmulator(
        args.host,
        args.port,
        api_key=args.api_key,
        rate_limit=args.rate_limit,
        live_rate_limit=args.live_rate_limit,
        latency=args.latency,
    )
    with emulator:
        ((env_name, env_value),) = emulator.env().items()
        print(f"Stripe emulator listening on {emulator.base_url}", flush=True)
        print(f"Test API key: {emulator.api_key}", flush=True)
        print(f"export {env_name}={shlex.quote(env_value)}", flush=True)
        print(
            f"Rate limits (requests a second, test / live): {args.rate_limit} / {args.live_rate_limit}",
            flush=True,
        )
        while not stopping.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
