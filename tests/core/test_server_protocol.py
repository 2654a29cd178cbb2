"""The production server's websocket protocol (core/realtime/server.py) and the live sockets'
use of it: a live frame is written in the call when uvicorn's send would have written it without
waiting, encoded once per process, and otherwise goes through uvicorn's send, in order.

No network: uvicorn's protocol object on a transport that records what is written. The tests
that start real uvicorn workers (tests/faults, tests/deliberation/test_two_workers.py) run this
protocol too, since they take the Dockerfile's `--ws`.
"""

import pytest
from uvicorn.config import Config
from uvicorn.server import ServerState
from websockets.extensions.permessage_deflate import PerMessageDeflate
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.streams import StreamReader

from core.realtime.envelope import Envelope
from core.realtime.server import WebSocketProtocol
from tests.core.test_send_now import consumer, settle, started
from tests.core.test_server_command import dockerfile_command, option

pytestmark = pytest.mark.asyncio


class Transport:
    def __init__(self):
        self.written: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.written.append(bytes(data))

    def is_closing(self) -> bool:
        return False


async def _app(scope, receive, send):  # never called: the tests drive the protocol by hand
    raise AssertionError


def opened(extensions=()) -> WebSocketProtocol:
    """A protocol whose handshake is done, as after `websocket.accept`."""
    config = Config(_app, ws_per_message_deflate=False)
    config.load()
    protocol = WebSocketProtocol(config, ServerState(), {})
    protocol.transport = Transport()
    protocol.handshake_complete = True
    protocol.conn.state = State.OPEN
    protocol.conn.extensions = list(extensions)
    return protocol


def frames(data: list[bytes], extensions=()) -> list[Frame]:
    """Parse what a server wrote, as a client would."""
    reader = StreamReader()
    reader.feed_data(b"".join(data))
    parsed = []
    while reader.buffer:
        parser = Frame.parse(
            reader.read_exact, mask=False, max_size=None, extensions=list(extensions)
        )
        try:
            next(parser)
        except StopIteration as done:
            parsed.append(done.value)
        else:
            raise AssertionError("a frame cut short")
    return parsed


def message(seq: int, body: str = "村民代表会议") -> Envelope:
    text = f'{{"type":"message","seq":{seq},"body":"{body}"}}'
    return Envelope(text=text, kind="message", seq=seq)


async def test_production_runs_this_protocol():
    assert option(dockerfile_command(), "--ws") == "core.realtime.server:WebSocketProtocol"


async def test_a_frame_written_now_is_the_frame_uvicorns_send_writes():
    text = '{"type":"message","body":"议事厅 ✓"}' + "x" * 300  # over 125 bytes: a longer header
    by_send, by_call = opened(), opened()
    await by_send.send({"type": "websocket.send", "text": text})
    assert by_call.send_text_now(text) is True
    assert by_call.transport.written == by_send.transport.written
    (frame,) = frames(by_call.transport.written)
    assert (frame.opcode, frame.fin, frame.data.decode()) == (Opcode.TEXT, True, text)


async def test_one_text_is_framed_once_for_every_socket_of_the_process():
    text = message(1).text
    first, second, third = opened(), opened(), opened()
    assert first.send_text_now(text)

    def refuse(data):
        raise AssertionError("framed again")

    second.conn.send_text = third.conn.send_text = refuse
    assert second.send_text_now(text) and third.send_text_now(text)
    assert first.transport.written == second.transport.written == third.transport.written
    # An equal text that is another object is framed anew, to the same bytes.
    again = opened()
    copy = "".join(list(text))
    assert copy == text and copy is not text
    assert again.send_text_now(copy)
    assert again.transport.written == first.transport.written
    second.conn.send_text = refuse
    with pytest.raises(AssertionError, match="framed again"):
        second.send_text_now(message(2).text)


async def test_a_compressing_socket_frames_its_own_and_shares_nothing():
    plain, deflating = opened(), opened([PerMessageDeflate(False, False, 12, 12)])
    text = message(3, body="长" * 400).text
    assert plain.send_text_now(text)
    cached = (WebSocketProtocol._last_text, WebSocketProtocol._last_frame)
    assert deflating.send_text_now(text)
    assert (WebSocketProtocol._last_text, WebSocketProtocol._last_frame) == cached
    assert deflating.transport.written != plain.transport.written
    (frame,) = frames(deflating.transport.written, [PerMessageDeflate(True, False, 12, 12)])
    assert frame.data.decode() == text


@pytest.mark.parametrize(
    "state",
    ["paused", "disconnected", "close_sent", "no_handshake", "http_answer", "closing", "closed"],
)
async def test_when_uvicorns_send_would_not_write_at_once_nothing_is_written(state):
    protocol = opened()
    if state == "paused":
        protocol.pause_writing()
    elif state == "disconnected":
        protocol.disconnected = True
    elif state == "close_sent":
        protocol.close_sent = True
    elif state == "no_handshake":
        protocol.handshake_complete = False
    elif state == "http_answer":
        protocol.initial_response = (403, [], b"")
    else:
        protocol.conn.state = State.CLOSING if state == "closing" else State.CLOSED
    assert protocol.send_text_now(message(4).text) is False
    assert protocol.transport.written == []


async def test_the_live_socket_uses_the_servers_write_and_its_send_when_the_buffer_is_full():
    protocol = opened()
    socket = consumer(protocol.send)
    assert socket.write_now == protocol.send_text_now
    writer = await started(socket)
    socket.deliver(message(1))  # written in the hub's turn, no task
    assert socket.in_flight is None
    assert [f.data.decode() for f in frames(protocol.transport.written)] == [message(1).text]
    protocol.pause_writing()  # the kernel's buffer is full: uvicorn's send waits
    socket.deliver(message(2))
    assert socket.in_flight is not None
    socket.deliver(message(3))
    await settle()
    assert len(protocol.transport.written) == 1
    protocol.resume_writing()
    await settle()
    sent = [f.data.decode() for f in frames(protocol.transport.written)]
    assert sent == [message(n).text for n in (1, 2, 3)]
    assert not socket.too_slow
    writer.cancel()


async def test_a_socket_whose_client_is_closing_stops_quietly():
    protocol = opened()
    socket = consumer(protocol.send)
    writer = await started(socket)
    protocol.conn.state = State.CLOSING
    socket.deliver(message(1))
    await settle()
    assert socket.too_slow  # uvicorn's send raised ClientDisconnected; the disconnect cleans up
    assert protocol.transport.written == []
    writer.cancel()


async def test_a_server_without_the_write_is_sent_to_as_before():
    sent = []

    async def send(message):
        sent.append(message["text"])

    socket = consumer(opened().send)
    socket.base_send = send
    assert socket.write_now is None
    writer = await started(socket)
    socket.deliver(message(1))
    await socket.send_text(message(2).text)
    assert sent == [message(1).text, message(2).text]
    writer.cancel()
