"""What a test can see of the resources the provider holds: open connections to Stripe."""

from __future__ import annotations

import contextlib
import gc
import logging
import os
from pathlib import Path

from airflow_provider_stripe.testing import StripeEmulator


def connections_to(stripe: StripeEmulator) -> int:
    """How many TCP connections this process holds open to the emulator (the client ends)."""
    gc.collect()  # a finished task's hook (and its keep-alive session) is garbage
    port = int(stripe.base_url.rsplit(":", 1)[1])
    ours = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            ours.add(os.readlink(f"/proc/self/fd/{fd}"))
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        remote_port, state, inode = int(fields[2].rsplit(":", 1)[1], 16), fields[3], fields[9]
        if remote_port == port and state == "01" and f"socket:[{inode}]" in ours:  # 01: established
            count += 1
    return count


def release_captured_log_records() -> None:
    """Drop the log records pytest captured so far in this test.

    Records of failed task tries carry their tracebacks, whose frames hold the tasks and their
    hooks: kept alive, each hook's keep-alive connection would look like a leak.
    """
    from _pytest.logging import LogCaptureHandler

    for handler in logging.getLogger().handlers:
        if isinstance(handler, LogCaptureHandler):
            handler.reset()
