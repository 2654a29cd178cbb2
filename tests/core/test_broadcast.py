"""Broadcasts after commit (core.realtime.broadcast): sync work done for an event loop hands
them to the loop and goes on; the loop sends them in the order they were committed, one at a
time, logs a failed one and still sends the rest, and leaves no task behind. Sync code with no
loop behind it sends before it returns. The channel layer is a recording stand-in."""

import asyncio
import logging

import pytest
from asgiref.sync import sync_to_async

from core.realtime import broadcast, broadcast_many_on_commit, broadcast_on_commit

pytestmark = pytest.mark.django_db(transaction=True)


class Layer:
    """Records (group, number) in the order sent; waits at `gate` if one is given; fails the
    numbers in `fail`."""

    def __init__(self, gate: asyncio.Event | None = None, fail=()):
        self.sent: list[tuple[str, int]] = []
        self.gate = gate
        self.fail = set(fail)

    async def group_send(self, group, event):
        if self.gate is not None:
            await self.gate.wait()
        if event["n"] in self.fail:
            raise ConnectionError("Redis went away")
        self.sent.append((group, event["n"]))


@pytest.fixture
def layer(monkeypatch):
    def install(**kwargs):
        made = Layer(**kwargs)
        monkeypatch.setattr(broadcast, "get_channel_layer", lambda: made)
        return made

    return install


async def settled(layer: Layer, count: int) -> None:
    for _ in range(200):
        if len(layer.sent) >= count:
            return
        await asyncio.sleep(0.01)


@pytest.mark.asyncio
async def test_work_done_for_a_loop_returns_before_the_send_and_the_sends_keep_their_order(layer):
    gate = asyncio.Event()
    recorded = layer(gate=gate)

    def post_three():
        for n in (1, 2, 3):
            broadcast_on_commit("topic-1", {"type": "x", "n": n})
        return list(recorded.sent)

    sent_when_returned = await sync_to_async(post_three)()
    assert sent_when_returned == []  # the thread did not wait for the layer
    gate.set()
    await settled(recorded, 3)
    assert recorded.sent == [("topic-1", 1), ("topic-1", 2), ("topic-1", 3)]


@pytest.mark.asyncio
async def test_a_failed_send_is_logged_the_rest_still_go_and_no_task_stays(layer, caplog):
    recorded = layer(fail={2})
    caplog.set_level(logging.WARNING, logger="core.realtime.broadcast")

    def post(n):
        broadcast_on_commit("topic-1", {"type": "x", "n": n})

    for n in (1, 2, 3):
        await sync_to_async(post)(n)
    await settled(recorded, 2)
    await asyncio.sleep(0.02)
    assert recorded.sent == [("topic-1", 1), ("topic-1", 3)]
    assert "broadcast to topic-1 lost" in caplog.text
    sender = broadcast._senders[asyncio.get_running_loop()]
    assert sender.task.done() and not sender.queue


@pytest.mark.asyncio
async def test_many_broadcasts_go_in_one_hand_over_in_their_order(layer):
    recorded = layer()
    events = [(f"user-{n}", {"type": "x", "n": n}) for n in range(50)]
    await sync_to_async(broadcast_many_on_commit)(events)
    await settled(recorded, 50)
    assert recorded.sent == [(group, event["n"]) for group, event in events]


def test_sync_code_with_no_loop_behind_it_sends_before_it_returns(layer):
    recorded = layer()
    broadcast_on_commit("topic-1", {"type": "x", "n": 7})
    assert recorded.sent == [("topic-1", 7)]


def test_with_no_loop_behind_it_a_failed_send_is_logged_not_raised(layer, caplog):
    recorded = layer(fail={7})
    broadcast_on_commit("topic-1", {"type": "x", "n": 7})
    assert recorded.sent == [] and "broadcast to topic-1 lost" in caplog.text
