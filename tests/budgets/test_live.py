"""The turnout during the vote: counted from the database, throttled across workers, fanned out
to a worker's results sockets through one group subscription (budgets.live, budgets.consumers)."""

import asyncio
import json
import time

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.core.cache import cache
from django.db import connections, transaction

from budgets import live, services
from core.realtime import envelope, hub
from tests.budgets.factories import add_proposal, make_cycle
from tests.councils.factories import member
from yishi.asgi import application


def vote(cycle, proposal):
    """One resident votes; cast_ballot announces it (live.ballot_cast) once it commits."""
    services.cast_ballot(voter=member(cycle.council), cycle=cycle, choices={proposal.pk: 1})


def forget_windows(cycle):
    cache.delete_many([live._window_key(cycle.pk), live._dirty_key(cycle.pk)])


async def received(layer, channel) -> list[dict]:
    """Every event waiting on `channel` (of the in-process or the Redis layer)."""
    events = []
    while True:
        try:
            events.append(await asyncio.wait_for(layer.receive(channel), timeout=0.3))
        except TimeoutError:
            return events


@pytest.fixture
def cycle(tree):
    cycle = make_cycle(tree["village"], phase="vote")
    add_proposal(cycle, "修路", "60")
    forget_windows(cycle)
    return cycle


@pytest_asyncio.fixture
async def listener(cycle):
    """A channel in the cycle's group, as a worker's hub has."""
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(live.cycle_group(cycle.pk), channel)
    yield layer, channel
    await layer.group_discard(live.cycle_group(cycle.pk), channel)


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_burst_gives_one_frame_at_once_and_the_rest_after_the_window(
    cycle, listener, monkeypatch
):
    # A longer window than the default second, so that the burst surely falls inside it.
    monkeypatch.setattr(live, "INTERVAL", 2)
    layer, channel = listener
    road = await sync_to_async(cycle.proposals.get)()
    for _ in range(3):
        await sync_to_async(vote)(cycle, road)
    [event] = await received(layer, channel)  # the first ballot opened the window
    assert event["type"] == live.TURNOUT_EVENT and event["ballots"] == 1
    frame = json.loads(event["text"])
    assert (frame["type"], frame["cycle"], frame["ballots"]) == ("turnout", cycle.pk, 1)
    # The other two are owed, but the window is taken: nothing yet.
    assert await sync_to_async(live.refresh_if_due)(cycle.pk) is True
    assert await received(layer, channel) == []

    await asyncio.sleep(live.INTERVAL + 0.1)
    assert await sync_to_async(live.refresh_if_due)(cycle.pk) is True
    [event] = await received(layer, channel)
    assert event["ballots"] == 3
    # Nothing new: no frame, and no more follow-ups.
    assert await sync_to_async(live.refresh_if_due)(cycle.pk) is False
    assert await received(layer, channel) == []


def vote_and_fail(cycle, proposal):
    with transaction.atomic():
        vote(cycle, proposal)
        raise RuntimeError("the request failed after the ballot was written")


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_rolled_back_ballot_is_never_announced(cycle, listener):
    layer, channel = listener
    road = await sync_to_async(cycle.proposals.get)()
    with pytest.raises(RuntimeError):
        await sync_to_async(vote_and_fail)(cycle, road)
    assert await received(layer, channel) == []
    assert await sync_to_async(live.refresh_if_due)(cycle.pk) is False
    assert await sync_to_async(cycle.participations.count)() == 0


async def open_watcher(cycle_id):
    socket = WebsocketCommunicator(
        application, f"/ws/budgets/cycles/{cycle_id}/", headers=[(b"origin", b"http://testserver")]
    )
    connected, _ = await socket.connect()
    assert connected
    return socket


async def frames_until(socket, ballots, timeout=6.0):
    frames = []
    while not frames or frames[-1]["ballots"] < ballots:
        frames.append(json.loads(await socket.receive_from(timeout=timeout)))
    return frames


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_watchers_share_one_subscription_and_see_the_turnout_without_a_storm(
    tree, monkeypatch
):
    # A longer window than the default second, so that the burst below surely falls inside it.
    monkeypatch.setattr(live, "INTERVAL", 2)
    cycle = await sync_to_async(make_cycle)(tree["village"], phase="vote")
    road = await sync_to_async(add_proposal)(cycle, "修路", "60")
    await sync_to_async(forget_windows)(cycle)
    await sync_to_async(vote)(cycle, road)
    await asyncio.sleep(live.INTERVAL + 0.1)  # let the first window lapse

    sockets = [await open_watcher(cycle.pk) for _ in range(3)]
    try:
        # One subscription (one channel in the group) for this worker, not one per socket.
        cycle_hub = hub._hubs[live.cycle_group(cycle.pk)]
        assert len(cycle_hub.subscribers) == 3 and cycle_hub.channel
        for socket in sockets:  # the current count on connect
            frame = json.loads(await socket.receive_from(timeout=5))
            assert (frame["type"], frame["cycle"], frame["ballots"]) == ("turnout", cycle.pk, 1)
        for _ in range(4):
            await sync_to_async(vote)(cycle, road)
        for socket in sockets:
            frames = await frames_until(socket, 5)
            # The first of the burst at once, the other three together when the window ends.
            assert [f["ballots"] for f in frames] == [2, 5]
            assert all(f["type"] == "turnout" and f["cycle"] == cycle.pk for f in frames)
            assert await socket.receive_nothing(timeout=0.5)
    finally:
        for socket in sockets:
            await socket.disconnect()
    assert live.cycle_group(cycle.pk) not in hub._hubs  # the last one out left the group


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_after_a_layer_outage_watchers_are_told_and_then_get_the_count_they_missed(cycle):
    road = await sync_to_async(cycle.proposals.get)()
    socket = await open_watcher(cycle.pk)
    try:
        assert json.loads(await socket.receive_from(timeout=5))["ballots"] == 0
        cycle_hub = hub._hubs[live.cycle_group(cycle.pk)]
        cycle_hub.tell_all(envelope.LIVE_DOWN)
        assert json.loads(await socket.receive_from(timeout=5))["type"] == "live"
        # A ballot whose frame is lost (the window is taken, and nobody follows up meanwhile).
        await sync_to_async(cache.add)(live._window_key(cycle.pk), 1, timeout=30)
        await sync_to_async(vote)(cycle, road)
        assert await socket.receive_nothing(timeout=0.3)
        cycle_hub.tell_all(envelope.RESYNC)
        frame = json.loads(await socket.receive_from(timeout=5))
        assert (frame["type"], frame["ballots"]) == ("turnout", 1)
    finally:
        await socket.disconnect()
        await sync_to_async(forget_windows)(cycle)


@pytest.mark.django_db(transaction=True)
def test_a_worker_passes_a_burst_on_once_per_batch(cycle, monkeypatch):
    """On vote day most ballots of a worker touch no shared cache: the first ballot of a quiet
    spell goes to the throttle at once, the rest of the batch together when it ends."""
    monkeypatch.setattr(live, "BATCH", 0.5)
    monkeypatch.setattr(live, "INTERVAL", 5)
    calls = []
    throttle = live._throttle
    monkeypatch.setattr(
        live, "_throttle", lambda cycle_id: (calls.append(cycle_id), throttle(cycle_id))
    )
    road = cycle.proposals.get()
    for _ in range(5):
        vote(cycle, road)
    assert calls == [cycle.pk]  # the first ballot opened the window and announced itself
    assert cache.get(live._dirty_key(cycle.pk)) is None  # the other four wait in the batch
    deadline = time.monotonic() + 5
    while cache.get(live._dirty_key(cycle.pk)) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert calls == [cycle.pk, cycle.pk]  # one pass for the four
    assert live.refresh_if_due(cycle.pk) is True  # they are owed a frame once the window ends


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_sockets_that_resync_together_read_the_cycle_once(tree, monkeypatch):
    """When the channel layer comes back, every socket of a worker needs the current frame:
    one read (and tally) for all of them, not one per socket."""
    from budgets import consumers

    cycle = await sync_to_async(make_cycle)(tree["village"], phase="vote")
    reads = []
    read_frame = consumers._read_frame
    monkeypatch.setattr(
        consumers, "_read_frame", lambda cycle_id: (reads.append(cycle_id), read_frame(cycle_id))[1]
    )
    sockets = [await open_watcher(cycle.pk) for _ in range(3)]
    try:
        for socket in sockets:
            assert json.loads(await socket.receive_from(timeout=5))["ballots"] == 0
        reads.clear()
        cycle_hub = hub._hubs[live.cycle_group(cycle.pk)]
        cycle_hub.tell_all(envelope.RESYNC)
        for socket in sockets:
            assert await socket.receive_nothing(timeout=0.5)  # no new count: nothing to send
        assert reads == [cycle.pk]
    finally:
        for socket in sockets:
            await socket.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_socket_to_no_cycle_is_closed_and_leaves_no_subscription():
    socket = WebsocketCommunicator(
        application, "/ws/budgets/cycles/999999/", headers=[(b"origin", b"http://testserver")]
    )
    connected, code = await socket.connect()
    assert not connected and code == 4404
    assert live.cycle_group(999999) not in hub._hubs
    # The consumer read in the executor's thread; close that thread's connection, or the test
    # database cannot be dropped when this is the last test of a run.
    await database_sync_to_async(lambda: connections["default"].close())()
