"""Private Redis and PostgreSQL servers that a test may stop and start at will.

Never the shared services on 6379/5432: other people's tests use those.
"""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.core.test_server_command import production_ws_options


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, *, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on port {port}")


class RedisServer:
    """`redis-server` without persistence: a restart forgets every key and group, like a crash."""

    binary = shutil.which("redis-server")

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
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
        )
        wait_for_port(self.port)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


def postgres_bindir() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return str(Path(found[-1]).parent)
    initdb = shutil.which("initdb")
    return str(Path(initdb).parent) if initdb else None


class PostgresCluster:
    """A throw-away cluster (initdb) on a free port, trust authentication, socket in its dir."""

    def __init__(self):
        self.bindir = postgres_bindir()
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="yishi-faults-pg-"))
        self.data = self.dir / "data"
        self.as_root = os.geteuid() == 0

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [f"{self.bindir}/{args[0]}", *args[1:]]
        if self.as_root:  # PostgreSQL refuses to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True, timeout=120)

    def init(self) -> None:
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.dir / "log"),
            "-w",
            "start",
        )

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def restart(self) -> None:
        # -l: without a log file the server would hold our output pipe open forever.
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.dir / "log"),
            "-m",
            "fast",
            "-w",
            "restart",
        )

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def destroy(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


def database_url_for_servers(tmp_path: Path) -> str:
    """A database URL under which a server process reads what this test wrote: the pytest-django
    test database on PostgreSQL (the test must be transactional), a copy of the in-memory test
    database (SQLite's backup API) otherwise."""
    import sqlite3

    from django.db import connection

    settings = connection.settings_dict
    if connection.vendor == "postgresql":
        user = settings.get("USER") or "postgres"
        password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
        host = settings.get("HOST") or "127.0.0.1"
        port = settings.get("PORT") or 5432
        return f"postgres://{user}{password}@{host}:{port}/{settings['NAME']}"
    connection.ensure_connection()
    path = tmp_path / "servers.sqlite3"
    target = sqlite3.connect(path)
    connection.connection.backup(target)
    target.close()
    return f"sqlite:///{path}"


class UvicornServer:
    """`uvicorn yishi.asgi:application` in a process of its own, its log in a file.

    It runs with the Dockerfile's websocket options (implementation, frame limit, compression);
    `options` are extra command-line options; `env` is added to this process's environment."""

    root = Path(__file__).resolve().parents[2]

    def __init__(self, log: Path, *, env: dict, options: tuple[str, ...] = ()):
        self.port = free_port()
        self.log = log
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "yishi.settings.test",
            "PYTHONDONTWRITEBYTECODE": "1",
            **env,
        }
        self.options = options
        self.process: subprocess.Popen | None = None

    def start(self, *, timeout: float = 120) -> None:
        import sys
        import urllib.request

        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "yishi.asgi:application",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--log-level",
                    "info",
                    *production_ws_options(),
                    *self.options,
                ],
                cwd=self.root,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"uvicorn exited: {self.output()}")
            try:
                url = f"http://127.0.0.1:{self.port}/healthz"
                # Generous: the first request loads the URL conf, slow on a busy machine.
                with urllib.request.urlopen(url, timeout=10) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"uvicorn did not start: {self.output()}")

    def url(self, path: str) -> str:
        return f"ws://127.0.0.1:{self.port}{path}"

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> None:
        """Kill what is left (after a test that already asked it to terminate)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
