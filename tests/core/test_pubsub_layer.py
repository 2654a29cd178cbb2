"""core/realtime/pubsub.py, the production channel layer, against a private redis-server.

Two layer objects stand for two workers. What the hub relies on: a group send reaches every
worker in the group and no other; leaving a group stops it; a broken subscription is reported
to every local channel in a group (never silently repaired), joining again works, and while
Redis is down joining and sending fail instead of hanging. Deployments sharing a Redis on
different databases do not hear each other.
"""

import asyncio
import signal

import pytest
import redis

from core.realtime import pubsub
from core.realtime.pubsub import RedisPubSubLayer, SubscriptionLost

WAIT = 5  # seconds; guards against hangs only


def layer(url: str) -> RedisPubSubLayer:
    return RedisPubSubLayer(hosts=[{"address": url, "socket_connect_timeout": 1}])


async def nothing_arrives(layer_, channel, seconds=0.3) -> bool:
    try:
        await asyncio.wait_for(layer_.receive(channel), seconds)
    except TimeoutError:
        return True
    return False


def kill_subscriptions(url: str) -> int:
    """Close every subscribed client's connection from the server's side, as a restart would."""
    client = redis.Redis.from_url(url)
    try:
        return client.client_kill_filter(_type="pubsub")
    finally:
        client.close()


@pytest.mark.asyncio
async def test_a_group_send_reaches_every_worker_in_the_group_once_and_no_other(redis_server):
    a, b, outsider = layer(redis_server.url), layer(redis_server.url), layer(redis_server.url)
    ca, cb, co = await a.new_channel(), await b.new_channel(), await outsider.new_channel()
    await a.group_add("topic-1", ca)
    await b.group_add("topic-1", cb)
    await outsider.group_add("topic-2", co)
    event = {"type": "realtime.frame", "seq": 7, "kind": "message", "text": '{"body":"修路"}'}
    await a.group_send("topic-1", event)
    assert await asyncio.wait_for(a.receive(ca), WAIT) == event
    assert await asyncio.wait_for(b.receive(cb), WAIT) == event
    assert await nothing_arrives(a, ca)
    assert await nothing_arrives(outsider, co)
    for each in (a, b, outsider):
        await each.flush()


@pytest.mark.asyncio
async def test_leaving_the_group_stops_delivery_and_order_is_kept(redis_server):
    a, b = layer(redis_server.url), layer(redis_server.url)
    ca, cb = await a.new_channel(), await b.new_channel()
    await a.group_add("topic-1", ca)
    await b.group_add("topic-1", cb)
    await b.group_discard("topic-1", cb)
    for seq in range(1, 51):
        await b.group_send("topic-1", {"type": "x", "seq": seq})
    got = [(await asyncio.wait_for(a.receive(ca), WAIT))["seq"] for _ in range(50)]
    assert got == list(range(1, 51))
    assert await nothing_arrives(b, cb)
    await a.flush()
    await b.flush()


@pytest.mark.asyncio
async def test_a_broken_subscription_is_reported_to_every_local_channel_then_joining_again_works(
    redis_server,
):
    worker, sender = layer(redis_server.url), layer(redis_server.url)
    one, two = await worker.new_channel(), await worker.new_channel()
    await worker.group_add("topic-1", one)
    await worker.group_add("topic-2", two)
    assert kill_subscriptions(redis_server.url) >= 1
    # Each channel hears once that broadcasts may have been missed, even one not waiting yet.
    with pytest.raises(SubscriptionLost):
        await asyncio.wait_for(worker.receive(one), WAIT)
    with pytest.raises(SubscriptionLost):
        await asyncio.wait_for(worker.receive(two), WAIT)
    # Not silently repaired: until it joins again, nothing arrives.
    await sender.group_send("topic-1", {"type": "x", "seq": 1})
    assert await nothing_arrives(worker, one)
    await worker.group_add("topic-1", one)
    await sender.group_send("topic-1", {"type": "x", "seq": 2})
    assert (await asyncio.wait_for(worker.receive(one), WAIT))["seq"] == 2
    await worker.flush()
    await sender.flush()


@pytest.mark.asyncio
async def test_joining_when_a_health_check_is_due_leaves_the_reading_to_the_reader(redis_server):
    """Seen under bench/bench_fanout.py: a worker whose sockets had all left their topic, its
    subscription then in no group and quiet for a while, broke that subscription when the next
    socket joined ("readuntil() called while another coroutine is already waiting"). redis-py
    checks a quiet connection's health before a command sent outside a subscription, by reading
    a PING's answer, while the reader task is reading the same connection. Every socket of the
    worker was then told that live updates were down, and all of them read from the database."""
    worker, sender = layer(redis_server.url), layer(redis_server.url)
    first = await worker.new_channel()
    await worker.group_add("topic-1", first)
    await worker.group_discard("topic-1", first)
    state = worker._state()
    session = state.session
    await asyncio.sleep(0.2)  # the reader took the unsubscribe's answer and waits again
    # As after HEALTH_EVERY seconds of silence: a check is due.
    session.pubsub.connection.next_health_check = 0
    second = await worker.new_channel()
    await asyncio.wait_for(worker.group_add("topic-2", second), WAIT)
    await sender.group_send("topic-2", {"type": "x", "seq": 1})
    assert (await asyncio.wait_for(worker.receive(second), WAIT))["seq"] == 1
    assert state.session is session and not session.ended
    await worker.flush()
    await sender.flush()


@pytest.mark.asyncio
async def test_a_redis_that_stops_answering_is_noticed_within_two_quiet_spells(
    redis_server, monkeypatch
):
    """A Redis that vanished without closing the connection (a frozen host, a cut cable) sends
    no error: the subscription asks with a PING after HEALTH_EVERY seconds of silence, and ends
    when a second spell passes without an answer. A quiet Redis that answers is not ended."""
    monkeypatch.setattr(pubsub, "HEALTH_EVERY", 0.3)
    worker = layer(redis_server.url)
    channel = await worker.new_channel()
    await worker.group_add("topic-1", channel)
    session = worker._state().session
    assert await nothing_arrives(worker, channel, seconds=1.2)  # four quiet spells, answered
    assert not session.ended
    redis_server.process.send_signal(signal.SIGSTOP)
    try:
        with pytest.raises(SubscriptionLost):
            await asyncio.wait_for(worker.receive(channel), 2.0)
    finally:
        redis_server.process.send_signal(signal.SIGCONT)
    assert session.ended
    await worker.flush()


def clients_outside_subscriptions(url: str) -> int:
    """Connections to Redis not in subscribe mode, the one that asks included."""
    client = redis.Redis.from_url(url)
    try:
        return sum(1 for c in client.client_list() if c["sub"] == "0" and c["psub"] == "0")
    finally:
        client.close()


@pytest.mark.asyncio
async def test_connect_opens_the_publishing_connection_before_the_first_send(redis_server):
    """A worker's start-up (core.realtime.broadcast.connect_layer) opens the connection its
    first broadcast would otherwise wait for; sending then uses it, and opens no other."""
    worker = layer(redis_server.url)
    assert clients_outside_subscriptions(redis_server.url) == 1
    await worker.connect()
    assert clients_outside_subscriptions(redis_server.url) == 2
    await worker.group_send("topic-1", {"type": "x"})
    assert clients_outside_subscriptions(redis_server.url) == 2
    await worker.flush()


@pytest.mark.asyncio
async def test_while_redis_is_down_joining_and_sending_fail_fast_and_work_once_it_is_back(
    redis_server,
):
    worker = layer(redis_server.url)
    channel = await worker.new_channel()
    await worker.group_add("topic-1", channel)
    redis_server.kill()
    with pytest.raises(SubscriptionLost):
        await asyncio.wait_for(worker.receive(channel), WAIT)
    with pytest.raises(redis.exceptions.ConnectionError):
        await asyncio.wait_for(worker.group_add("topic-1", channel), WAIT)
    with pytest.raises(redis.exceptions.ConnectionError):
        await asyncio.wait_for(worker.group_send("topic-1", {"type": "x"}), WAIT)
    redis_server.start()  # same port, empty
    await asyncio.wait_for(worker.group_add("topic-1", channel), WAIT)
    await worker.group_send("topic-1", {"type": "x", "seq": 3})
    assert (await asyncio.wait_for(worker.receive(channel), WAIT))["seq"] == 3
    await worker.flush()


@pytest.mark.asyncio
async def test_deployments_on_other_databases_of_the_same_redis_do_not_hear_each_other(
    redis_server,
):
    base = redis_server.url.rsplit("/", 1)[0]
    here, there = layer(f"{base}/1"), layer(f"{base}/2")
    ch, ct = await here.new_channel(), await there.new_channel()
    await here.group_add("topic-1", ch)
    await there.group_add("topic-1", ct)
    await here.group_send("topic-1", {"type": "x", "seq": 1})
    assert (await asyncio.wait_for(here.receive(ch), WAIT))["seq"] == 1
    assert await nothing_arrives(there, ct)
    await here.flush()
    await there.flush()


def test_a_sync_caller_sends_from_a_loop_of_its_own_and_leaves_no_connection_open(redis_server):
    """Task workers and commands broadcast through async_to_sync: each call's loop closes its
    connections when it ends."""
    from asgiref.sync import async_to_sync

    sender = layer(redis_server.url)
    for seq in range(3):
        async_to_sync(sender.group_send)("topic-1", {"type": "x", "seq": seq})
    assert sender._loops == {}
    client = redis.Redis.from_url(redis_server.url)
    try:
        # Only this client is connected.
        assert len(client.client_list()) == 1
    finally:
        client.close()


def test_the_layer_takes_one_redis_and_groups_only():
    with pytest.raises(ValueError):
        RedisPubSubLayer(hosts=["redis://a", "redis://b"])
    with pytest.raises(ValueError):
        RedisPubSubLayer(hosts="redis://a")
    # No send to a single channel (Channels' base layer refuses it): a caller fails at once
    # rather than losing the message.
    with pytest.raises(NotImplementedError):
        asyncio.run(RedisPubSubLayer(hosts=["redis://a"]).send("x", {}))
