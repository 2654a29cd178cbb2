"""PostgreSQL restarted and stopped under a running app: clean 503s, then recovery, no app restart.

A private cluster (initdb on a free port) gets a copy of the test database; two real uvicorn
servers use it, one with psycopg's pool (DATABASE_POOL, as in production) and one opening a
connection per request. Restarting the cluster must not fail a single request (pooled
connections are checked before use); stopping it must give a 503 page with Retry-After, not a
500 or a hung request; starting it again must bring the same server processes back to 200.
"""

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from tests.councils.factories import make_tree
from tests.deliberation.factories import HallFactory, TopicFactory
from tests.faults.servers import PostgresCluster, free_port, postgres_bindir

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(postgres_bindir() is None, reason="needs PostgreSQL's initdb and pg_ctl"),
    pytest.mark.django_db(transaction=True),
]
HANG_GUARD = 30  # seconds: a request that takes longer counts as hung


@pytest.fixture
def cluster():
    cluster = PostgresCluster()
    cluster.init()
    cluster.start()
    yield cluster
    cluster.destroy()


def copy_test_database(cluster: PostgresCluster) -> str:
    """The migrated pytest database (with this test's rows, committed) into the private cluster."""
    source = connection.settings_dict
    subprocess.run(
        [
            f"{cluster.bindir}/createdb",
            "-h",
            "127.0.0.1",
            "-p",
            str(cluster.port),
            "-U",
            "postgres",
            "yishi",
        ],
        check=True,
        timeout=60,
    )
    dump = subprocess.Popen(
        [
            f"{cluster.bindir}/pg_dump",
            "-h",
            source.get("HOST") or "127.0.0.1",
            "-p",
            str(source.get("PORT") or 5432),
            "-U",
            source.get("USER") or "postgres",
            "--no-owner",
            source["NAME"],
        ],
        stdout=subprocess.PIPE,
        env={**os.environ, "PGPASSWORD": source.get("PASSWORD") or ""},
    )
    subprocess.run(
        [
            f"{cluster.bindir}/psql",
            "-h",
            "127.0.0.1",
            "-p",
            str(cluster.port),
            "-U",
            "postgres",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            "yishi",
        ],
        stdin=dump.stdout,
        stdout=subprocess.DEVNULL,
        check=True,
        timeout=120,
    )
    assert dump.wait(timeout=60) == 0
    return cluster.url("yishi")


def start_server(database_url: str, *, pooled: bool) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("REDIS_URL", "DATABASE_POOL", "DATABASE_POOL_TIMEOUT")
    }
    env.update(DJANGO_SETTINGS_MODULE="yishi.settings.test", DATABASE_URL=database_url)
    if pooled:
        env.update(DATABASE_POOL="2", DATABASE_POOL_TIMEOUT="2")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "yishi.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "critical",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    return process, port


def fetch(port: int, path: str) -> tuple[int, object, str]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={"Cookie": "django_language=en"}
    )
    try:
        with urllib.request.urlopen(request, timeout=HANG_GUARD) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


def wait_until_up(process: subprocess.Popen, port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {process.stderr.read().decode()}")
        try:
            if fetch(port, "/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("server did not come up")


def until_not_503(port: int, path: str) -> list[int]:
    """Statuses seen while PostgreSQL comes back: 503s, then something else (or give up)."""
    seen = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        seen.append(fetch(port, path)[0])
        if seen[-1] != 503:
            break
        time.sleep(0.3)
    return seen


def test_database_restart_and_outage_fail_cleanly_and_recover(cluster):
    tree = make_tree()
    hall = HallFactory(council=tree["village"], is_public=True)
    topic = TopicFactory(hall=hall)
    database_url = copy_test_database(cluster)
    servers = {"pooled": start_server(database_url, pooled=True)}
    servers["per request"] = start_server(database_url, pooled=False)
    pages = [hall.get_absolute_url(), topic.get_absolute_url()]
    try:
        for process, port in servers.values():
            wait_until_up(process, port)
            assert [fetch(port, page)[0] for page in pages] == [200, 200]

        cluster.restart()
        # Not one request fails: dead pooled connections are noticed before they are lent.
        for name, (_process, port) in servers.items():
            assert [fetch(port, page)[0] for page in pages * 2] == [200] * 4, name

        cluster.stop()
        for name, (_process, port) in servers.items():
            status, headers, body = fetch(port, pages[1])
            assert status == 503, name
            assert headers.get("Retry-After", "").isdigit(), name
            assert "The database cannot be reached at the moment" in body
            assert "Traceback" not in body
            assert fetch(port, "/healthz")[0] == 503

        cluster.start()
        for name, (process, port) in servers.items():
            seen = until_not_503(port, pages[1])
            assert seen[-1] == 200, (name, seen)
            assert set(seen) <= {503, 200}, (name, seen)
            assert [fetch(port, page)[0] for page in pages] == [200, 200]
            assert process.poll() is None  # the same process all along: no restart needed
    finally:
        for process, _port in servers.values():
            process.terminate()
            process.wait(timeout=20)
