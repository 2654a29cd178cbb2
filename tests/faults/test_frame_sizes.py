"""Oversized frames under the production server's websocket options (the Dockerfile's uvicorn
line): over the app's 8 KB, up to the server's --ws-max-size, the socket gets the documented
`too_large` error with the post's client_id and stays open; beyond it uvicorn closes with 1009.
Before issue 16 the server's limit was 64 KB, so a 100 KB frame closed the socket (1009)."""

import asyncio
import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.core.test_server_command import production_ws_options
from tests.councils.factories import make_tree, member
from tests.deliberation.factories import HallFactory, TopicFactory
from tests.faults.servers import UvicornServer, database_url_for_servers

pytestmark = pytest.mark.django_db(transaction=True)


async def oversized_frames(server: UvicornServer, topic_id: int, max_size: int):
    async with connect(
        server.url(f"/ws/deliberation/topics/{topic_id}/"),
        origin=server.origin,
        max_size=None,
    ) as ws:
        while json.loads(await asyncio.wait_for(ws.recv(), 15))["type"] != "ready":
            pass
        big = json.dumps({"type": "post", "body": "长" * 33_000, "client_id": "big-1"})
        assert 64 * 1024 < len(big.encode()) < max_size
        await ws.send(big)
        refused = json.loads(await asyncio.wait_for(ws.recv(), 15))
        await ws.send(json.dumps({"type": "shout"}))  # still open
        after = json.loads(await asyncio.wait_for(ws.recv(), 15))
        # The server may close (1009) while the frame is still being written: then the send
        # itself raises, and that is the same answer.
        with pytest.raises(ConnectionClosed) as closed:
            await ws.send("x" * (max_size + 1))
            await asyncio.wait_for(ws.recv(), 15)
    return refused, after, closed.value.rcvd.code if closed.value.rcvd else None


def test_a_frame_over_the_apps_limit_gets_too_large_under_the_production_options(tmp_path):
    village = make_tree()["village"]
    topic = TopicFactory(hall=HallFactory(council=village), author=member(village))
    options = production_ws_options()  # UvicornServer runs with them
    server = UvicornServer(
        tmp_path / "uvicorn.log",
        env={"DATABASE_URL": database_url_for_servers(tmp_path), "REDIS_URL": ""},
    )
    server.start()
    try:
        max_size = int(options[options.index("--ws-max-size") + 1])
        refused, after, code = asyncio.run(oversized_frames(server, topic.pk, max_size))
    finally:
        server.process.terminate()
        server.process.wait(timeout=20)
        server.stop()
    assert (refused["type"], refused["code"], refused["client_id"]) == (
        "error",
        "too_large",
        "big-1",
    )
    assert after["code"] == "unknown_type"
    assert code == 1009  # beyond --ws-max-size: uvicorn closes, "message too big"
