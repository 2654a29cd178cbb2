"""`HubConsumer`: the base of every live socket (topics, budget cycles, sessions).

What every live socket does, once:
- **join, then read**: `admit()` authorises (before the handshake is accepted), the socket joins
  its group's hub, and only then `opening()` reads the database, so nothing committed in between
  can be missed (it may come twice; numbered frames at or below what was sent are dropped);
- a **bounded outbox** drained by the socket's own writer task, so a slow phone never holds up
  the others; when it overflows the socket is closed with 4008 and the client catches up;
  kinds listed in `replaceable` keep only their newest unsent frame (a count, a state);
- **sending on the hub's turn**: while the writer is idle (nothing waiting, nothing in flight),
  a live frame is written at once by `deliver`, in the hub's task, without waking the writer:
  the server's send completes without waiting unless the socket's buffer is full, and then the
  rest of that send runs as a task the writer waits for before it sends anything else. At
  thousands of sockets this saves a task switch and four awaits per socket per frame. Under
  production's uvicorn protocol (core/realtime/server.py) the frame is written by a plain call
  instead of the server's send, and framed once per worker for all its sockets;
- **read-only** sockets answer every frame with a `read_only` error;
- writable sockets get **error frames** in the user's language (`django_language` cookie, else
  `Accept-Language`, else the site's language), with the `client_id` of the post that caused
  them; a frame over `max_frame_bytes` is refused with `too_large`;
- a **clean detach**: the disconnect waits for neither the hub nor a stuck writer.
"""

import asyncio
import functools
import json
import types
from collections import deque

from channels.generic.websocket import AsyncWebsocketConsumer
from channels.sessions import InstanceSessionWrapper
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy

from core.realtime import hub
from core.realtime.envelope import LIVE_DOWN, RESYNC, Envelope

CLOSE_TOO_SLOW = 4008
CLOSE_REFUSED = 4404  # before the handshake: the server answers HTTP 403
LATER = object()  # what `take` says of an envelope only the writer may handle


class Outbox:
    """Envelopes waiting for one socket's writer; `put` says False when it is full."""

    def __init__(self, size: int, replaceable: frozenset[str] = frozenset()):
        self.size = size
        self.replaceable = replaceable
        self.items: deque[Envelope] = deque()
        self.ready = asyncio.Event()

    def put(self, envelope: Envelope) -> bool:
        if envelope.kind in self.replaceable:
            for index, waiting in enumerate(self.items):
                if waiting.kind == envelope.kind:
                    self.items[index] = envelope  # the newer one, in the older one's place
                    return True
        if len(self.items) >= self.size:
            return False
        self.items.append(envelope)
        self.ready.set()
        return True

    def put_first(self, envelopes: list[Envelope]) -> None:
        """Envelopes that come before everything waiting (what a socket missed before it
        joined, from its hub's history); never refused, the hub keeps a bounded history."""
        if envelopes:
            self.items.extendleft(reversed(envelopes))
            self.ready.set()

    async def get(self) -> Envelope:
        while not self.items:
            self.ready.clear()
            await self.ready.wait()
        return self.items.popleft()


@types.coroutine
def _resume(coro, waiting):
    """Go on running `coro`, which was started by hand and stopped at `waiting` (what it
    yielded, a future or None); as a task's coroutine it is run as if it had been from the
    start."""
    while True:
        try:
            value = yield waiting
        except GeneratorExit:
            coro.close()
            raise
        except BaseException as error:  # noqa: BLE001 - thrown in by the task (a cancellation): passed on
            try:
                waiting = coro.throw(error)
            except StopIteration as stop:
                return stop.value
        else:
            try:
                waiting = coro.send(value)
            except StopIteration as stop:
                return stop.value


async def _finish(coro, waiting):
    return await _resume(coro, waiting)


def language_of(scope) -> str:
    """The `django_language` cookie, else the first of Accept-Language, else the site's."""
    cookies = scope.get("cookies") or {}
    wanted = cookies.get(settings.LANGUAGE_COOKIE_NAME)
    if not wanted:
        headers = dict(scope.get("headers") or [])
        accept = headers.get(b"accept-language", b"").decode("latin-1")
        for part in accept.split(","):
            wanted = part.split(";")[0].strip()
            if wanted:
                break
    try:
        return translation.get_supported_language_variant(wanted or settings.LANGUAGE_CODE)
    except LookupError:
        return settings.LANGUAGE_CODE


def server_send(send):
    """`send` without Channels' session wrapper when the wrapper would do nothing with a
    websocket frame."""
    wrapper = getattr(send, "__self__", None)
    if (
        isinstance(wrapper, InstanceSessionWrapper)
        and "websocket.send" not in wrapper.save_message_types
        and "websocket.send" not in wrapper.cookie_response_message_types
    ):
        return server_send(wrapper.real_send)
    return send


def client_id_of(text: str) -> str | None:
    """The `client_id` of a post frame, if `text` is one (used for frames refused unread)."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if isinstance(data, dict) and data.get("type") == "post":
        client_id = data.get("client_id")
        return client_id if isinstance(client_id, str) else None
    return None


class HubConsumer(AsyncWebsocketConsumer):
    """Subclasses set `group` in `admit()` and give `opening()`; writable ones set
    `read_only = False` and handle `receive_frame(data)`."""

    # No channel of its own per socket: broadcasts reach it through the worker's hub (one
    # channel per process). A per-socket channel would only add an idle Redis reader whose
    # timeout, under load, kills the socket (seen in bench/bench_fanout.py).
    channel_layer_alias = "hub-sockets-have-no-channel"
    outbox_size = 500
    replaceable: frozenset[str] = frozenset()
    read_only = True
    max_frame_bytes = 8 * 1024

    group: str

    # --- what subclasses give ------------------------------------------------------------

    async def admit(self) -> bool:
        """Authorise the socket and set `self.group`; False refuses the handshake. A subclass
        that does not say refuses every socket."""
        return False

    async def opening(self) -> list[str] | None:
        """The frames (JSON text) sent first, read after joining; None refuses the socket (the
        default: a subclass that does not say sends nothing)."""
        return None

    async def resync(self) -> None:
        """The channel layer is back (or a post was stored while it was down): send what
        may have been missed, from the database."""

    async def receive_frame(self, data) -> None:
        """A JSON frame from a writable socket, already size-checked and parsed."""

    def numbered(self, envelope: Envelope) -> int | None:
        """The envelope's place in this socket's stream, or None if it is not numbered."""
        return envelope.seq

    # --- connection ----------------------------------------------------------------------

    async def connect(self):
        self.user = self.scope.get("user")
        self.language = language_of(self.scope)
        self.last_seq = 0
        self.joined = False
        self.writer = None
        self.too_slow = False
        self.idle = False  # the writer waits for an envelope and none is waiting
        self.in_flight: asyncio.Future | None = None  # a send that had to wait, finishing
        self.outbox = Outbox(self.outbox_size, self.replaceable)
        if not await self.admit():
            await self.close(code=CLOSE_REFUSED)
            return
        # Join first, then read: nothing committed after the read can be missed.
        await hub.subscribe(self.group, self)
        self.joined = True
        frames = await self.opening()
        if frames is None:
            await hub.detach(self)
            await self.close(code=CLOSE_REFUSED)
            return
        await self.accept()
        for text in frames:
            await self.send(text_data=text)
        self.writer = asyncio.create_task(self.write_live())

    async def disconnect(self, code):
        if getattr(self, "in_flight", None) is not None:
            self.in_flight.cancel()
        await hub.detach(self)

    # --- server -> client ----------------------------------------------------------------

    def deliver(self, envelope: Envelope) -> None:
        """Called by the hub for each broadcast; never blocks the other sockets."""
        if self.too_slow:
            return
        if self.idle and self.in_flight is None and not self.outbox.items:
            text = self.take(envelope)
            if text is not LATER:
                if text is not None:
                    self.send_now(text)
                return
        if not self.outbox.put(envelope):
            # Too slow to keep up: drop the socket; the client reconnects and catches up.
            self.too_slow = True
            asyncio.ensure_future(self.close(code=CLOSE_TOO_SLOW))

    def take(self, envelope: Envelope):
        """What to send for `envelope`, now that everything before it was sent: its text, None
        (a numbered frame already sent) or LATER (only the writer may handle it: RESYNC)."""
        if envelope is RESYNC:
            return LATER
        seq = self.numbered(envelope)
        if seq is not None:
            if seq <= self.last_seq:
                return None
            self.last_seq = seq
        return envelope.text

    def send_now(self, text: str) -> None:
        """Write a live frame from the hub's turn. The server's send returns without waiting
        unless the socket's buffer is full; if it waits, the rest runs as a task (`in_flight`),
        which the writer awaits before it sends anything else."""
        write_now = self.write_now
        if write_now is not None and write_now(text):
            return
        sending = self.wire({"type": "websocket.send", "text": text})
        try:
            waiting = sending.send(None)
        except StopIteration:
            return
        except Exception:  # noqa: BLE001 - the connection is going; its disconnect cleans up
            self.too_slow = True
            return
        self.in_flight = asyncio.ensure_future(_finish(sending, waiting))
        self.in_flight.add_done_callback(self._landed)

    def _landed(self, sent: asyncio.Future) -> None:
        self.in_flight = None
        if sent.cancelled() or sent.exception() is not None:
            self.too_slow = True  # the connection is going

    async def next_envelope(self, timeout: float | None = None) -> Envelope:
        """The writer's next envelope, once any send in flight is done (TimeoutError after
        `timeout` seconds without one)."""
        self.idle = True
        try:
            # asyncio.timeout, not wait_for: no task between the outbox and here, in which the
            # hub would find the writer idle with an envelope already taken.
            async with asyncio.timeout(timeout):
                envelope = await self.outbox.get()
        finally:
            self.idle = False
        if self.in_flight is not None:
            await asyncio.wait({self.in_flight})
        return envelope

    async def write_live(self) -> None:
        """Send live envelopes in order; drop numbered ones already sent."""
        while True:
            envelope = await self.next_envelope()
            if envelope is RESYNC:
                await self.resync()
                continue
            text = self.take(envelope)
            if text is not None and text is not LATER:
                await self.send_text(text)

    async def send_text(self, text: str) -> None:
        """A live frame straight to the server (what AsyncWebsocketConsumer.send does, minus
        two calls): subclasses' live paths use it too, since it runs once per socket for every
        broadcast."""
        write_now = self.write_now
        if write_now is not None and write_now(text):
            return
        await self.wire({"type": "websocket.send", "text": text})

    @functools.cached_property
    def wire(self):
        """The server's own send, for live frames. Channels' session middleware wraps every
        send of a socket, but acts only on HTTP responses (it saves the session and sets its
        cookie on `http.response.start`); a websocket frame skips its checks (5% of a worker's
        time under bench/bench_fanout.py at 10,000 watchers)."""
        return server_send(self.base_send)

    @functools.cached_property
    def write_now(self):
        """The server's synchronous write of a text frame, if it has one (production's uvicorn
        protocol, core/realtime/server.py): it writes the frame and says True when the server's
        send would not have waited; otherwise the frame goes through the send."""
        return getattr(getattr(self.wire, "__self__", None), "send_text_now", None)

    async def send_frame(self, frame: dict, *, client_id=None) -> None:
        if client_id is not None and frame.get("type") == "error":
            frame = {**frame, "client_id": client_id}
        await self.send(text_data=json.dumps(frame, ensure_ascii=False))

    # --- client -> server ----------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None):
        if self.read_only:
            await self.error("read_only", gettext_lazy("This channel is read-only."))
            return
        if bytes_data is not None or text_data is None:
            await self.error("bad_json", gettext_lazy("Send JSON text frames."))
            return
        if len(text_data.encode("utf-8")) > self.max_frame_bytes:
            # Parsed only for its client_id: the server's --ws-max-size bounds the cost.
            await self.error(
                "too_large",
                gettext_lazy("The frame is larger than 8 KB."),
                client_id=client_id_of(text_data),
            )
            return
        try:
            data = json.loads(text_data)
            # A lone surrogate ("\ud800") decodes, then breaks whatever encodes it as UTF-8.
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except (ValueError, RecursionError):  # RecursionError: JSON nested over 1000 deep
            await self.error("bad_json", gettext_lazy("The frame is not valid JSON."))
            return
        await self.receive_frame(data)

    def error_frame(self, code: str, message) -> dict:
        """An error frame; `message` (lazy or a string) in the socket's language."""
        with translation.override(self.language):
            return {"type": "error", "code": code, "message": str(message)}

    async def error(self, code: str, message, *, client_id=None) -> None:
        await self.send_frame(self.error_frame(code, message), client_id=client_id)


__all__ = [
    "CLOSE_REFUSED",
    "CLOSE_TOO_SLOW",
    "LIVE_DOWN",
    "RESYNC",
    "HubConsumer",
    "Outbox",
    "language_of",
]
