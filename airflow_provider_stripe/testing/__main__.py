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
    args = parser.parse_args(argv)

    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    with StripeEmulator(args.host, args.port, api_key=args.api_key) as emulator:
        ((env_name, env_value),) = emulator.env().items()
        print(f"Stripe emulator listening on {emulator.base_url}", flush=True)
        print(f"Test API key: {emulator.api_key}", flush=True)
        print(f"export {env_name}={shlex.quote(env_value)}", flush=True)
        while not stopping.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
