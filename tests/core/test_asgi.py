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


def test_each_worker_keeps_what_it_loaded_out_of_full_collections():
    """yishi.asgi freezes Django, Wagtail and the apps once loaded: a full collection then walks
    only what was made since (docs/performance.md, the fan-out section)."""
    import gc

    assert gc.get_freeze_count() > 100_000


@pytest.mark.django_db
def test_postgresql_keeps_the_plan_of_a_query_a_connection_runs_twice():
    """Server-side binding with prepare_threshold (yishi/settings/base.py): the topic a live
    post reads is planned once per connection, not once per post."""
    from django.db import connection

    from deliberation.selectors import topic_for_socket

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (set DATABASE_URL)")
    for _ in range(3):
        topic_for_socket(1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any('FROM "deliberation_topic"' in sql for sql in prepared), prepared
