"""One channel-layer subscription per topic per worker process, fanned out to local sockets.

Channels' usual pattern puts every socket in the group, so one broadcast becomes one channel-layer
message per socket: with channels_redis that is one Redis pop per socket per message, and the
in-memory layer scans every channel on each receive. At 1,000 sockets on a topic either falls
seconds behind (bench/bench_fanout.py). Here each worker process joins the topic's group once,
with one channel of its own, and hands each frame to the sockets of that process directly.

Every socket has a bounded outbox drained by its own task, so one slow phone cannot hold up the
others; a socket whose outbox overflows is closed and reconnects with `?after=<seq>` (catch-up
from the database), as after any other loss.

When the channel layer (Redis) fails, the hub keeps its sockets open: it tells them the live
layer is unavailable (`LIVE_DOWN`, a `{"type": "live", "status": "unavailable"}` frame), retries
joining the group with backoff, and once it is back hands every subscriber `RESYNC`, after which
each one re-reads what it missed from the database (docs/realtime.md, "When Redis is down").
"""

import asyncio
import contextlib
import json
import logging

from channels.layers import get_channel_layer

from core import state

logger = logging.getLogger(__name__)

_hubs: dict[str, "TopicHub"] = {}
state.register("deliberation.fanout._hubs", _hubs.clear)

# Events the hub itself hands to subscribers (their "type" is not a broadcast's, so subscribers
# that only know broadcasts ignore them). LIVE_DOWN carries a frame to forward as it is.
LIVE_DOWN = {
    "type": "fanout.live_down",
    "kind": "live",
    "text": json.dumps({"type": "live", "status": "unavailable"}),
}
RESYNC = {"type": "fanout.resync", "kind": "resync"}
RETRY_FIRST = 0.5  # seconds before the first attempt to rejoin the group, doubling up to
RETRY_MAX = 4.0


class TopicHub:
    def __init__(self, group: str):
        self.group = group
        self.layer = get_channel_layer()
        self.loop = asyncio.get_running_loop()
        self.subscribers: set = set()
        self.channel: str | None = None
        self.task: asyncio.Task | None = None
        self.joined = asyncio.Event()
        self.failed = False
        self.live = False  # False while the layer is unreachable: the pump keeps retrying

    async def start(self) -> None:
        self.channel = await self.layer.new_channel()
        try:
            await self.layer.group_add(self.group, self.channel)
            self.live = True
        except Exception as error:  # noqa: BLE001 - sockets still work, from the database
            logger.warning("channel layer unavailable for %s: %r", self.group, error)
        self.task = asyncio.create_task(self._pump())
        self.joined.set()

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task
        with contextlib.suppress(Exception):
            await self.layer.group_discard(self.group, self.channel)

    async def refresh(self) -> None:
        """Renew the group membership (the layer expires groups); a failure means it is down."""
        if not self.live:
            return
        try:
            await self.layer.group_add(self.group, self.channel)
        except Exception as error:  # noqa: BLE001
            self._went_down(error)

    def _went_down(self, error: Exception) -> None:
        logger.warning("channel layer unavailable for %s: %r", self.group, error)
        self.live = False
        self._tell_all(LIVE_DOWN)

    def _tell_all(self, event: dict) -> None:
        for subscriber in list(self.subscribers):
            subscriber.deliver(event)

    async def _pump(self) -> None:
        delay = RETRY_FIRST
        while True:
            if not self.live:
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX)
                try:
                    # A restarted Redis has forgotten the group: join it again, then resync.
                    await self.layer.group_add(self.group, self.channel)
                except asyncio.CancelledError:
                    raise
                except Exception:  # noqa: BLE001, S112 - still down; try again later
                    continue
                logger.warning("channel layer back for %s", self.group)
                self.live = True
                delay = RETRY_FIRST
                # Joined first, so whatever a subscriber reads from the database now, nothing
                # committed afterwards can be missed (the order of the first connect).
                self._tell_all(RESYNC)
            try:
                event = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - the layer is lossy; clients resync by seq
                if self.live:
                    self._went_down(error)
                continue
            self._tell_all(event)


def layer_available(group: str) -> bool:
    """Whether this worker currently receives the group's broadcasts."""
    hub = _hubs.get(group)
    return hub is not None and hub.live


async def subscribe(group: str, subscriber) -> None:
    """Add `subscriber` (has `.deliver(event)`) to `group`; returns once the group is joined.

    If the channel layer is unreachable it returns all the same, after handing the subscriber
    `LIVE_DOWN`; the hub keeps trying and sends `RESYNC` once it has joined.
    """
    hub = _hubs.get(group)
    if hub is not None and hub.loop is not asyncio.get_running_loop():
        _hubs.pop(group, None)  # left over from another event loop (tests)
        hub = None
    if hub is None:
        hub = _hubs[group] = TopicHub(group)
        hub.subscribers.add(subscriber)
        try:
            await hub.start()
        except Exception:
            _hubs.pop(group, None)
            hub.failed = True
            hub.joined.set()
            raise
    else:
        hub.subscribers.add(subscriber)
        # Not before the group is joined: the caller reads the database right after this.
        await hub.joined.wait()
        if hub.failed:
            hub.subscribers.discard(subscriber)
            raise RuntimeError(f"could not join {group}")
        # Refresh the membership so the layer's group expiry never drops a long-lived hub.
        was_live = hub.live
        await hub.refresh()  # if this finds the layer down, every subscriber is told
        if not was_live:
            subscriber.deliver(LIVE_DOWN)
        return
    if not hub.live:
        subscriber.deliver(LIVE_DOWN)


async def unsubscribe(group: str, subscriber) -> None:
    hub = _hubs.get(group)
    if hub is None:
        return
    hub.subscribers.discard(subscriber)
    if not hub.subscribers:
        _hubs.pop(group, None)
        await hub.stop()


async def detach(subscriber) -> None:
    """A consumer's disconnect: leave the hub (if it joined) and stop its writer task (if it
    started one). Consumers keep `group`, `joined` and `writer` for this."""
    if getattr(subscriber, "joined", False):
        subscriber.joined = False
        await unsubscribe(subscriber.group, subscriber)
    writer = getattr(subscriber, "writer", None)
    if writer is not None:
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer
