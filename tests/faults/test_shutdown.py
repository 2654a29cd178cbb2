"""A worker stopped with SIGTERM while sockets are open exits at once and leaves no task behind.

A real uvicorn process on Redis (the channel layer whose blocking receive the hubs wait in):
sockets on several topics, sessions and cycles, one of them mid-catch-up; SIGTERM; the process
must be gone within a few seconds, with nothing pending in its log. Before issue 16 a socket's
disconnect awaited its topic hub's receiver task, which stayed cancelling inside
channels_redis' `layer.receive`, and uvicorn hung on "Waiting for background tasks to complete".
"""

import asyncio
import json
import os
import signal
import time

import pytest
from websockets.asyncio.client import connect

from tests.councils.factories import make_tree, member
from tests.deliberation.factories import HallFactory, TopicFactory, session_cookie
from tests.faults.servers import UvicornServer, database_url_for_servers

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

EXIT_WITHIN = 5.0  # seconds from SIGTERM to the process gone


def world():
    village = make_tree()["village"]
    hall = HallFactory(council=village, is_public=True)
    resident = member(village)
    topics = [TopicFactory(hall=hall, author=resident) for _ in range(3)]
    return {"topics": [t.pk for t in topics], "cookie": session_cookie(resident)}


async def until_ready(ws) -> None:
    while json.loads(await asyncio.wait_for(ws.recv(), timeout=15))["type"] != "ready":
        pass


async def open_sockets_then_terminate(server: UvicornServer, w: dict) -> float:
    sockets = []
    try:
        for topic_id in w["topics"]:
            for n in range(4):
                query = "?after=0" if n % 2 else ""
                ws = await connect(
                    server.url(f"/ws/deliberation/topics/{topic_id}/{query}"),
                    origin=server.origin,
                    additional_headers={"Cookie": w["cookie"]},
                )
                sockets.append(ws)
                await until_ready(ws)
        # A post, so the hubs have received something and are waiting in the layer again.
        await sockets[0].send(json.dumps({"type": "post", "body": "要关机了", "client_id": "t1"}))
        await asyncio.wait_for(sockets[0].recv(), timeout=15)
        await asyncio.sleep(0.5)
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        while server.process.poll() is None and time.monotonic() - started < EXIT_WITHIN + 10:
            await asyncio.sleep(0.05)
        return time.monotonic() - started
    finally:
        for ws in sockets:
            ws.transport.abort()


@pytest.mark.parametrize(
    "settings_module", ["yishi.settings.test", "tests.faults.settings_stubborn_layer"]
)
def test_sigterm_ends_a_worker_with_open_sockets_promptly_and_cleanly(tmp_path, settings_module):
    """With channels_redis as it is, and with a layer whose receive absorbs a cancellation (what
    made workers hang): the worker is gone within a few seconds either way."""
    w = world()
    env = {
        "DATABASE_URL": database_url_for_servers(tmp_path),
        "REDIS_URL": os.environ["REDIS_URL"],
        "DJANGO_SETTINGS_MODULE": settings_module,
    }
    server = UvicornServer(tmp_path / "uvicorn.log", env=env)
    server.start()
    try:
        took = asyncio.run(open_sockets_then_terminate(server, w))
    finally:
        server.stop()
    log = server.output()
    assert took < EXIT_WITHIN, f"exit took {took:.1f} s:\n{log}"
    # uvicorn re-raises the signal once it has shut down cleanly.
    assert server.process.returncode in (0, -signal.SIGTERM), log
    assert "Task was destroyed but it is pending" not in log, log
    assert "Traceback" not in log, log
    assert "Finished server process" in log, log
    # The app answers the lifespan (core/lifespan.py), and each start-up step succeeded.
    assert "Application startup complete." in log, log
    assert "Application shutdown complete." in log, log
    assert "start-up step" not in log, log
