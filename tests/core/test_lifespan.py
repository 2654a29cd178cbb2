"""core/lifespan.py and the app's lifespan: a worker's start-up steps run before it serves, and
none of them can stop it from serving (a step that fails or hangs is logged and left behind)."""

import asyncio
import logging
import threading

import pytest

from core import lifespan
from core.lifespan import Lifespan

# Sync steps run through database_sync_to_async, which closes stale database connections.
pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def run_lifespan(app) -> list[str]:
    """Start-up then shut-down through `app`; the message types it sent back, in order."""
    inbox: asyncio.Queue = asyncio.Queue()
    sent: list[str] = []

    async def send(message):
        sent.append(message["type"])

    await inbox.put({"type": "lifespan.startup"})
    await inbox.put({"type": "lifespan.shutdown"})
    await asyncio.wait_for(app({"type": "lifespan"}, inbox.get, send), 10)
    return sent


async def test_steps_run_in_order_sync_ones_in_a_thread_before_startup_completes():
    ran = []
    loop_thread = threading.current_thread()

    def sync_step():
        ran.append(("sync", threading.current_thread() is loop_thread))

    async def async_step():
        ran.append(("async", threading.current_thread() is loop_thread))

    sent = await run_lifespan(Lifespan(startup=[sync_step, async_step]))
    assert ran == [("sync", False), ("async", True)]
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


async def test_a_failing_step_is_logged_and_the_worker_still_starts(caplog):
    ran = []

    def broken():
        raise ConnectionError("database down")

    async def after():
        ran.append("after")

    with caplog.at_level(logging.ERROR, logger="core.lifespan"):
        sent = await run_lifespan(Lifespan(startup=[broken, after]))
    assert sent[0] == "lifespan.startup.complete"
    assert ran == ["after"]
    assert "start-up step broken failed" in caplog.text
    assert "database down" in caplog.text


async def test_a_hanging_step_is_left_behind_after_the_wait(caplog, monkeypatch):
    monkeypatch.setattr(lifespan, "STEP_WAIT", 0.2)

    async def hangs():
        await asyncio.sleep(30)

    started = asyncio.get_running_loop().time()
    with caplog.at_level(logging.WARNING, logger="core.lifespan"):
        sent = await run_lifespan(Lifespan(startup=[hangs]))
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert asyncio.get_running_loop().time() - started < 5
    assert "start-up step hangs took over 0.2 s" in caplog.text


async def test_the_app_answers_the_lifespan_and_its_steps_succeed(caplog):
    """uvicorn sends the lifespan to the app (tests/faults/test_shutdown.py sees it in a real
    worker's log); here every step of yishi.asgi's succeeds against the test database."""
    from yishi.asgi import application

    with caplog.at_level(logging.WARNING, logger="core.lifespan"):
        sent = await run_lifespan(application)
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert "start-up step" not in caplog.text


async def test_a_sync_step_left_behind_holds_up_no_other_sync_code(monkeypatch):
    """A step stuck in a thread (say, waiting for a database that is down) must not hold the
    thread that the worker's other sync code may share."""
    from asgiref.sync import sync_to_async

    monkeypatch.setattr(lifespan, "STEP_WAIT", 0.2)
    release = threading.Event()

    def stuck():
        release.wait(10)

    try:
        await run_lifespan(Lifespan(startup=[stuck]))
        started = asyncio.get_running_loop().time()
        assert await asyncio.wait_for(sync_to_async(lambda: "served")(), 5) == "served"
        assert asyncio.get_running_loop().time() - started < 2
    finally:
        release.set()
