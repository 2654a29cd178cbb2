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


WARM_CHECK = """
import contextvars
import sys
import django
from django.conf import settings
if sys.argv[1] == "asgi":
    import yishi.asgi
else:
    django.setup()
    import yishi.routing
from channels.layers import channel_layers
from django.template import engines
from django.urls import get_resolver
from django.utils.translation import trans_real
loader = engines["django"].engine.template_loaders[0]
print(json.dumps({
    "urlconf": settings.ROOT_URLCONF in sys.modules and get_resolver()._populated,
    "base": "base.html" in getattr(loader, "get_template_cache", {}),
    "layer": "default" in channel_layers.backends,
    "languages": sorted(trans_real._translations),
    "locals_in_context": sum(v.name == "asgiref.local" for v in contextvars.copy_context()),
}))
"""


def test_each_worker_loads_what_first_pages_need_before_it_serves():
    """The URLconf with its reverse map, the base template, the channel layer and every
    language's catalog are loaded by yishi.asgi itself (compared with a process that only set
    Django up and imported the websocket routes): the first page of a worker took 312 ms
    without, 92 ms with (docs/performance.md)."""
    import os
    import subprocess
    import sys

    from django.conf import settings

    def loaded(how: str) -> dict:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "yishi.settings.test"}
        done = subprocess.run(
            [sys.executable, "-c", "import json\n" + WARM_CHECK, how],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return json.loads(done.stdout.strip().splitlines()[-1])

    every_language = sorted(code for code, _name in settings.LANGUAGES)
    warm = loaded("asgi")
    locals_in_context = warm.pop("locals_in_context")
    assert warm == {
        "urlconf": True,
        "base": True,
        "layer": True,
        "languages": every_language,
    }
    # Loaded in a copy of the context: the ~50 URL resolvers' Locals are not in the context
    # that every task of the worker starts from, so sync_to_async does not re-home them on
    # every call (346 µs a call with them, 165-198 µs without: docs/performance.md).
    assert locals_in_context <= 5, locals_in_context
    cold = loaded("setup")
    assert not (cold["urlconf"] or cold["base"] or cold["layer"])
    assert cold["languages"] != every_language


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
