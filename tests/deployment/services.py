"""The services a production-shaped Airflow needs, each a throw-away process owned by the test.

- :class:`PostgresServer`: a PostgreSQL 15 cluster made by ``initdb`` in a temporary directory and run
  by ``pg_ctl`` on a free loopback port (no system service, nothing left behind). PostgreSQL refuses
  to run as root, so when the tests run as root (as CI does) the cluster belongs to, and runs as,
  the unprivileged ``nobody`` user (through ``setpriv``).
- :class:`RedisServer`: ``redis-server`` on a free loopback port, without persistence, as the Celery
  broker.

Both are context managers; the binaries come from Debian's ``postgresql-15`` and ``redis-server``
packages, which ``.ci/run`` installs when they are missing.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from contextlib import suppress
from pathlib import Path
from types import TracebackType

from typing_extensions import Self

from tests.airflow_cluster import free_port
from tests.waiting import wait_for

POSTGRES_BIN = Path(os.environ.get("POSTGRES_BIN", "/usr/lib/postgresql/15/bin"))
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
UNPRIVILEGED_USER = "nobody"

# Durability is worthless for a database thrown away after the test; speed is not.
POSTGRES_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "max_connections": "300",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}


def missing_binaries() -> list[str]:
    """The service binaries this machine lacks (``.ci/run`` installs them)."""
    wanted = [str(POSTGRES_BIN / "initdb"), str(POSTGRES_BIN / "pg_ctl"), REDIS_SERVER]
    return [path for path in wanted if not os.access(path, os.X_OK)]


class _Service:
    """A context manager that starts the service, and stops it even when starting failed half-way."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class PostgresServer(_Service):
    """A PostgreSQL cluster with one database, ``airflow``, trusted over loopback."""

    database = "airflow"
    user = "airflow"

    def __init__(self) -> None:
        self.port = free_port()
        # Not under pytest's tmp_path: its folders are private to root, and the server may run as nobody.
        self.root = Path(tempfile.mkdtemp(prefix="airflow-postgres-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"

    @property
    def url(self) -> str:
        """The SQLAlchemy URL Airflow connects with (psycopg2)."""
        return f"postgresql+psycopg2://{self.user}@127.0.0.1:{self.port}/{self.database}"

    def _run(self, program: str, *args: str, timeout: float = 120) -> str:
        """Run a PostgreSQL program as the cluster's owner; its standard output."""
        command = [str(POSTGRES_BIN / program), *args]
        if os.geteuid() == 0:
            owner = pwd.getpwnam(UNPRIVILEGED_USER)
            command = [
                "setpriv",
                f"--reuid={owner.pw_uid}",
                f"--regid={owner.pw_gid}",
                "--clear-groups",
                *command,
            ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=self.root)
        if done.returncode:
            raise RuntimeError(f"{program} exited with {done.returncode}: {done.stderr[-2000:]}")
        return done.stdout

    def _client(self, program: str, *args: str) -> str:
        return self._run(program, "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, *args)

    def start(self) -> PostgresServer:
        if os.geteuid() == 0:
            owner = pwd.getpwnam(UNPRIVILEGED_USER)
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
        self._run(
            "initdb", "-D", str(self.data), "-U", self.user, "--auth=trust", "--encoding=UTF8", "--no-sync"
        )
        options = " ".join(f"-c {name}={value}" for name, value in POSTGRES_SETTINGS.items())
        options += f" -p {self.port} -k {self.root}"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")
        self._client("createdb", self.database)
        return self

    def dump(self) -> str:
        """The whole database as SQL text (``pg_dump``): what a leak search reads."""
        return self._client("pg_dump", self.database)

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with suppress(RuntimeError, subprocess.TimeoutExpired):
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)


class RedisServer(_Service):
    """``redis-server`` in the foreground of a process this object owns."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1).ping())
        except redis.exceptions.ConnectionError:
            return False

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for("redis-server to answer", self._answers, 30)
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None
