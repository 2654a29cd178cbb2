"""Live frames written on the hub's turn (core.realtime.consumer.HubConsumer.send_now): in order
whatever the server's send does, when it completes at once, when it has to wait for a full buffer,
and when it fails. No database, no server: a consumer with a hand-made `base_send`."""

import asyncio

import pytest

from core.realtime.consumer import Outbox
from core.realtime.envelope import RESYNC, Envelope
from deliberation.consumers import TopicConsumer

pytestmark = pytest.mark.asyncio


class Wire:
    """The server's send: records each text; a text in `hold` waits until `release()`."""

    def __init__(self, hold=(), fail=()):
        self.sent: list[str] = []
        self.hold = set(hold)
        self.fail = set(fail)
        self.gate = asyncio.Event()
        self.waiting = 0

    async def __call__(self, message):
        text = message["text"]
        if text in self.fail:
            raise ConnectionResetError("gone")
        if text in self.hold:
            self.waiting += 1
            await self.gate.wait()
        self.sent.append(text)


def consumer(wire: Wire) -> TopicConsumer:
    socket = TopicConsumer()
    socket.base_send = wire
    socket.last_seq = 0
    socket.too_slow = False
    socket.idle = False
    socket.in_flight = None
    socket.early = {}
    socket.outbox = Outbox(50)
    return socket


def message(seq: int) -> Envelope:
    return Envelope(text=f"m{seq}", kind="message", seq=seq)


async def started(socket) -> asyncio.Task:
    writer = asyncio.create_task(socket.write_live())
    while not socket.idle:
        await asyncio.sleep(0)
    return writer


async def settle():
    for _ in range(20):
        await asyncio.sleep(0)


async def test_an_idle_socket_writes_in_the_hubs_turn_without_waking_its_writer():
    wire = Wire()
    socket = consumer(wire)
    writer = await started(socket)
    try:
        socket.deliver(message(1))
        socket.deliver(Envelope(text="s", kind="stances"))
        socket.deliver(message(2))
        # Written before this test yields: nothing went through the outbox.
        assert wire.sent == ["m1", "s", "m2"] and not socket.outbox.items
        socket.deliver(message(2))  # a duplicate is dropped there too
        assert wire.sent == ["m1", "s", "m2"] and socket.last_seq == 2
    finally:
        writer.cancel()


async def test_a_send_that_waits_keeps_the_order_of_everything_after_it():
    wire = Wire(hold={"m2"})
    socket = consumer(wire)
    writer = await started(socket)
    try:
        socket.deliver(message(1))
        socket.deliver(message(2))  # the buffer is full: the rest of this send is a task
        assert wire.waiting == 1 and socket.in_flight is not None
        socket.deliver(message(3))
        socket.deliver(Envelope(text="s", kind="stances"))
        socket.deliver(message(4))
        await settle()
        assert wire.sent == ["m1"]  # nothing overtakes the waiting send
        wire.gate.set()
        await settle()
        assert wire.sent == ["m1", "m2", "m3", "s", "m4"]
        assert socket.in_flight is None and socket.idle
        socket.deliver(message(5))  # straight out again
        assert wire.sent[-1] == "m5"
    finally:
        writer.cancel()


async def test_a_message_that_comes_early_goes_through_the_writer_and_so_does_what_follows():
    wire = Wire()
    socket = consumer(wire)
    writer = await started(socket)
    try:
        socket.deliver(message(1))
        socket.deliver(message(3))  # 2 is on its way from another worker
        socket.deliver(Envelope(text="s", kind="stances"))
        await settle()
        assert wire.sent == ["m1", "s"] and socket.early == {3: "m3"}
        socket.deliver(message(2))
        await settle()
        assert wire.sent == ["m1", "s", "m2", "m3"] and not socket.early
    finally:
        writer.cancel()


async def test_a_resync_is_left_to_the_writer():
    wire = Wire()
    socket = consumer(wire)
    resyncs = []

    async def resync():
        resyncs.append(socket.last_seq)

    socket.resync = resync
    writer = await started(socket)
    try:
        socket.deliver(message(1))
        socket.deliver(RESYNC)
        assert resyncs == [] and list(socket.outbox.items) == [RESYNC]
        await settle()
        assert resyncs == [1]
    finally:
        writer.cancel()


@pytest.mark.parametrize("held", [False, True])
async def test_a_send_that_fails_stops_the_socket_quietly(held):
    wire = Wire(hold={"m1"} if held else (), fail=() if held else {"m1"})
    socket = consumer(wire)
    writer = await started(socket)
    try:
        socket.deliver(message(1))
        if held:
            socket.in_flight.cancel()  # the connection went while the send waited
            await settle()
        assert socket.too_slow and socket.in_flight is None
        socket.deliver(message(2))
        assert wire.sent == [] and not socket.outbox.items
    finally:
        writer.cancel()


async def test_live_frames_skip_the_session_wrapper_which_would_do_nothing_with_them():
    """Channels' session middleware wraps every send; it acts only on HTTP responses. Live
    frames go to the server's own send beneath it, and still arrive in order."""
    from channels.sessions import InstanceSessionWrapper

    wire = Wire()
    wrapper = InstanceSessionWrapper({"type": "websocket", "cookies": {}}, wire)
    socket = consumer(wire)
    socket.base_send = wrapper.send
    assert socket.wire is wire
    writer = await started(socket)
    try:
        for seq in (1, 2, 3):
            socket.deliver(message(seq))
        await settle()
        assert wire.sent == ["m1", "m2", "m3"]
    finally:
        writer.cancel()


async def test_a_send_that_is_not_the_session_wrapper_is_used_as_it_is():
    wire = Wire()
    socket = consumer(wire)
    assert socket.wire is wire


async def test_a_session_wrapper_that_would_act_on_frames_is_kept(monkeypatch):
    from channels.sessions import InstanceSessionWrapper

    wire = Wire()
    wrapper = InstanceSessionWrapper({"type": "websocket", "cookies": {}}, wire)
    monkeypatch.setattr(wrapper, "save_message_types", ["websocket.send"])
    socket = consumer(wire)
    socket.base_send = wrapper.send
    assert socket.wire == wrapper.send
