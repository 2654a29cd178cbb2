"""The ASGI app: websockets pass origin validation and session auth before reaching a consumer."""

import json

import pytest
from channels.testing import WebsocketCommunicator

from yishi.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def test_websocket_from_our_own_origin_is_accepted():
    communicator = WebsocketCommunicator(
        application,
        "/ws/health/",
        headers=[(b"origin", b"http://testserver"), (b"host", b"testserver")],
    )
    connected, _ = await communicator.connect()
    assert connected
    assert json.loads(await communicator.receive_from()) == {
        "type": "hello",
        "authenticated": False,
    }
    await communicator.disconnect()


async def test_websocket_from_a_foreign_origin_is_refused():
    communicator = WebsocketCommunicator(
        application,
        "/ws/health/",
        headers=[(b"origin", b"https://evil.example"), (b"host", b"testserver")],
    )
    connected, _ = await communicator.connect()
    assert not connected
    await communicator.disconnect()


async def test_unknown_websocket_path_is_closed():
    communicator = WebsocketCommunicator(
        application, "/ws/nothing/", headers=[(b"origin", b"http://testserver")]
    )
    with pytest.raises(ValueError, match="No route found"):
        await communicator.connect()
