"""The channel layer of production: broadcasts over Redis publish/subscribe.

A hub (core.realtime.hub) joins its group once per worker and hands what it receives to its
sockets; a broadcast goes to every worker. This layer does exactly that and no more: a group
send is one `PUBLISH`, which Redis pushes at once to every worker subscribed to the group, over
one subscription connection per worker (event loop). channels_redis's RedisChannelLayer takes a
Lua script over the group's members to send and, in each worker, a blocking pop, a write of a
backup copy and a clean-up to receive: 6.4-6.6 ms from send to receipt in 4 worker processes
against 2.7-2.9 ms here (p50; p99 13-15 against 7 ms; bench/bench_layer.py, docs/performance.md).

Why not channels_redis's own RedisPubSubChannelLayer: when its subscription connection breaks,
redis-py reconnects and subscribes again by itself, and whatever was published in between is
gone without a word (its `on_disconnect` and `on_reconnect` options are accepted and never
called, channels_redis 4.3). The hub must know, to tell its sockets the live layer is down and
to resync them from the database once it is back (docs/realtime.md, "When Redis is down"). So
here a subscription connection is never repaired: the first error on it ends it, every local
channel that was in a group gets that error from its next `receive`, and a later `group_add`
opens a new connection. redis-py's retries are off on both connections, so none reconnects
behind our back.

Publish/subscribe channels are the whole server's, whatever database a client selected, so
their names carry the URL's database number: deployments and test processes that share a Redis
on different databases do not hear each other.

Delivery is at most once, like every channel layer: a worker whose connection breaks misses
what is published until it subscribes again, and learns that it did. Only the groups extension
is provided: `send` to a single channel is left to Channels' base layer, which refuses it
(nothing in Yishi sends to one).
"""

import asyncio
import contextlib
import json
import logging
import types
import uuid

from channels.layers import BaseChannelLayer
from redis import asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.connection import parse_url

logger = logging.getLogger(__name__)

# Seconds a subscription connection may stay silent before it is checked with a PING: a server
# that vanished without closing the connection is noticed within about twice this.
HEALTH_EVERY = 15.0


class SubscriptionLost(ConnectionError):
    """This worker's subscription to Redis broke: broadcasts may have been missed."""


_LOST = object()  # queued for a local channel whose subscription connection broke


class RedisPubSubLayer(BaseChannelLayer):
    """`hosts`: one Redis (a URL, or a dict with `address` and redis-py connection options, as
    channels_redis takes them); `prefix` names this deployment's Redis channels."""

    extensions = ["groups", "flush"]

    def __init__(self, hosts=None, prefix="yishi", **kwargs):
        super().__init__(expiry=kwargs.get("expiry", 60), capacity=kwargs.get("capacity", 100))
        hosts = hosts or ["redis://127.0.0.1:6379"]
        if isinstance(hosts, str) or len(hosts) != 1:
            raise ValueError("RedisPubSubLayer takes a list of exactly one Redis host")
        host = hosts[0] if isinstance(hosts[0], dict) else {"address": hosts[0]}
        options = {k: v for k, v in host.items() if k != "address"}
        self.url = host["address"]
        self.options = {
            "socket_connect_timeout": 1,
            "socket_timeout": 5,
            **options,
            "retry": Retry(NoBackoff(), 0),
        }
        # Publish/subscribe channels belong to the whole server, not to a database: the
        # database number keeps apart deployments (and test processes) that share one Redis.
        self.prefix = f"{prefix}:{parse_url(self.url).get('db', 0)}"
        self._loops: dict[asyncio.AbstractEventLoop, _LoopState] = {}

    # --- the layer API ---------------------------------------------------------------------

    async def new_channel(self, prefix="specific."):
        name = f"{self.prefix}.{prefix}{uuid.uuid4().hex}"
        self._state().queues[name] = asyncio.Queue()
        return name

    async def receive(self, channel):
        """The next event of one of `channel`'s groups; `SubscriptionLost` (once) when the
        subscription broke, after which the groups must be joined again."""
        state = self._state()
        queue = state.queues.get(channel)
        if queue is None:
            queue = state.queues[channel] = asyncio.Queue()
        item = await queue.get()
        if item is _LOST:
            raise SubscriptionLost("the subscription to Redis broke; join the groups again")
        return item

    async def group_add(self, group, channel):
        assert self.require_valid_group_name(group)
        state = self._state()
        state.queues.setdefault(channel, asyncio.Queue())
        await state.subscribe(self._group_channel(group), channel)

    async def group_discard(self, group, channel):
        assert self.require_valid_group_name(group)
        await self._state().unsubscribe(self._group_channel(group), channel)

    async def group_send(self, group, message):
        assert self.require_valid_group_name(group)
        payload = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
        await self._state().publisher().publish(self._group_channel(group), payload)

    async def connect(self) -> None:
        """Open this event loop's publishing connection now (a worker's start-up) rather than
        at its first broadcast, which would otherwise wait for the connection's handshake."""
        await self._state().publisher().ping()

    async def flush(self):
        state = self._loops.pop(asyncio.get_running_loop(), None)
        if state is not None:
            await state.close()

    # --- per event loop --------------------------------------------------------------------

    def _group_channel(self, group: str) -> str:
        return f"{self.prefix}:group:{group}"

    def _state(self) -> "_LoopState":
        loop = asyncio.get_running_loop()
        state = self._loops.get(loop)
        if state is None:
            state = self._loops[loop] = _LoopState(self)
            _close_with(loop, self)
        return state


class _LoopState:
    """One event loop's connections: one for publishing, one subscription, and the local
    channels with the Redis channels each is subscribed to."""

    def __init__(self, layer: RedisPubSubLayer):
        self.layer = layer
        self.queues: dict[str, asyncio.Queue] = {}
        self.members: dict[str, set[str]] = {}  # Redis channel -> local channels in it
        self._publisher: aioredis.Redis | None = None
        self.session: _Subscription | None = None
        self.lock = asyncio.Lock()

    def publisher(self) -> aioredis.Redis:
        if self._publisher is None:
            self._publisher = aioredis.Redis.from_url(self.layer.url, **self.layer.options)
        return self._publisher

    async def subscribe(self, name: str, channel: str) -> None:
        async with self.lock:
            if self.session is None or self.session.ended:
                self.session = _Subscription(self)
            await self.session.subscribe(name)
            self.members.setdefault(name, set()).add(channel)

    async def unsubscribe(self, name: str, channel: str) -> None:
        async with self.lock:
            members = self.members.get(name)
            if members is None or channel not in members:
                return
            members.discard(channel)
            if members:
                return
            del self.members[name]
            if self.session is not None and not self.session.ended:
                with contextlib.suppress(Exception):
                    await self.session.unsubscribe(name)

    def deliver(self, name: str, data: bytes) -> None:
        members = self.members.get(name)
        if not members:
            return
        message = json.loads(data)
        for channel in members:
            queue = self.queues.get(channel)
            if queue is not None:
                queue.put_nowait(message)

    def lost(self, session: "_Subscription") -> None:
        """`session` broke: every local channel in a group hears of it once, and must join
        again; a later join opens a new subscription."""
        if session is not self.session:
            return
        self.session = None
        told = set()
        for members in self.members.values():
            for channel in members:
                if channel not in told and channel in self.queues:
                    self.queues[channel].put_nowait(_LOST)
                    told.add(channel)
        self.members.clear()

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None
        if self._publisher is not None:
            with contextlib.suppress(Exception):
                await self._publisher.aclose(close_connection_pool=True)
            self._publisher = None


class _Subscription:
    """One subscription connection and the task reading it; ended for good at its first error."""

    def __init__(self, state: _LoopState):
        self.state = state
        # No health_check_interval: with one, redis-py checks a quiet connection before a
        # command sent while it is in no channel by reading a PING's answer itself, beside the
        # reader task, which then breaks the subscription ("readuntil() called while another
        # coroutine is already waiting"). Only the reader reads; it asks with its own PING.
        self.client = aioredis.Redis.from_url(state.layer.url, **state.layer.options)
        self.pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        self.reader: asyncio.Task | None = None
        self.ended = False

    async def subscribe(self, name: str) -> None:
        try:
            await self.pubsub.subscribe(name)
        except Exception:
            await self._end()
            raise
        if self.reader is None:
            self.reader = asyncio.ensure_future(self._read())

    async def unsubscribe(self, name: str) -> None:
        await self.pubsub.unsubscribe(name)

    async def _read(self) -> None:
        """Hand each message to the local channels; after HEALTH_EVERY seconds without a word
        from Redis, send a PING (its answer is a word), and end after a second such spell."""
        loop = asyncio.get_running_loop()
        asked = False
        try:
            while True:
                began = loop.time()
                message = await self.pubsub.get_message(timeout=HEALTH_EVERY)
                if message is None and loop.time() - began >= 0.9 * HEALTH_EVERY:
                    if asked:
                        raise ConnectionError(f"no answer from Redis in {2 * HEALTH_EVERY} s")
                    await self.pubsub.ping()
                    asked = True
                    continue
                asked = False  # a message, or an answer the pubsub took for itself
                if message is not None and message.get("type") == "message":
                    name = message["channel"]
                    self.state.deliver(
                        name.decode() if isinstance(name, bytes) else name, message["data"]
                    )
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - any error ends this subscription
            logger.warning("Redis subscription lost: %r", error)
            await self._end()

    async def _end(self) -> None:
        if self.ended:
            return
        self.ended = True
        self.state.lost(self)
        with contextlib.suppress(Exception):
            await self.pubsub.aclose()
        with contextlib.suppress(Exception):
            await self.client.aclose(close_connection_pool=True)

    async def close(self) -> None:
        self.ended = True
        if self.reader is not None and not self.reader.done():
            self.reader.cancel()
            with contextlib.suppress(BaseException):
                await self.reader
        with contextlib.suppress(Exception):
            await self.pubsub.aclose()
        with contextlib.suppress(Exception):
            await self.client.aclose(close_connection_pool=True)


def _close_with(loop: asyncio.AbstractEventLoop, layer: RedisPubSubLayer) -> None:
    """Close a loop's connections when the loop closes (a sync caller's `async_to_sync` runs
    each broadcast in a loop of its own), as channels_redis does."""
    original = loop.close

    def close(self, *args, **kwargs):
        state = layer._loops.pop(loop, None)
        if state is not None and not loop.is_running() and not loop.is_closed():
            with contextlib.suppress(Exception):
                loop.run_until_complete(state.close())
        self.close = original
        return original(*args, **kwargs)

    loop.close = types.MethodType(close, loop)
