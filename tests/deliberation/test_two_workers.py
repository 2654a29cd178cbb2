"""Two real ASGI server processes sharing the Redis channel layer: a post on one reaches the other.

The servers read the same database as the test: on PostgreSQL the pytest-django test database
(committed, since the test is transactional); on SQLite a file copied from the in-memory test
database with SQLite's backup API.
"""

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from tests.core.test_server_command import production_ws_options
from tests.deliberation.factories import session_cookie
from tests.faults.servers import database_url_for_servers, free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def start_server(port: int, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
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
            "warning",
            *production_ws_options(),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_until_up(port: int, process: subprocess.Popen, timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server on {port} exited: {process.stderr.read().decode()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"server on {port} did not start")


async def until_ready(ws) -> list[dict]:
    frames = []
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
        frames.append(frame)
        if frame["type"] == "ready":
            return frames


async def exchange(ports, topic_id, cookie):
    path = f"/ws/deliberation/topics/{topic_id}/"
    a, b = ports
    async with (
        connect(f"ws://127.0.0.1:{b}{path}", origin=f"http://127.0.0.1:{b}") as watcher,
        connect(
            f"ws://127.0.0.1:{a}{path}",
            origin=f"http://127.0.0.1:{a}",
            additional_headers={"Cookie": cookie},
        ) as poster,
    ):
        await until_ready(watcher)
        await until_ready(poster)
        await poster.send(
            json.dumps(
                {
                    "type": "post",
                    "body": "两个进程都收到",
                    "reply_to": None,
                    "client_id": "two-workers-1",
                }
            )
        )
        mine = json.loads(await asyncio.wait_for(poster.recv(), timeout=10))
        theirs = json.loads(await asyncio.wait_for(watcher.recv(), timeout=10))
    # And a client that reconnects to the other worker catches up from the database.
    async with connect(f"ws://127.0.0.1:{b}{path}?after=0", origin=f"http://127.0.0.1:{b}") as late:
        caught_up = await until_ready(late)
    return mine, theirs, caught_up


def test_a_post_on_one_worker_reaches_a_client_on_the_other(tmp_path, topic, resident):
    cookie = session_cookie(resident)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "yishi.settings.test",
        "DATABASE_URL": database_url_for_servers(tmp_path),
        "REDIS_URL": os.environ["REDIS_URL"],
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    ports = (free_port(), free_port())
    servers = [start_server(port, env) for port in ports]
    try:
        for port, server in zip(ports, servers, strict=True):
            wait_until_up(port, server)
        mine, theirs, caught_up = asyncio.run(exchange(ports, topic.pk, cookie))
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    assert mine["type"] == "message" and mine["body"] == "两个进程都收到"
    assert theirs == mine
    assert [f["seq"] for f in caught_up if f["type"] == "message"] == [mine["seq"]]
