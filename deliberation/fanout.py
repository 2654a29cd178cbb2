"""One channel-layer subscription per topic per worker process, fanned out to local sockets.

Channels' usual pattern puts every socket in the group, so one broadcast becomes one channel-layer
message per socket: with channels_redis that is one Redis pop per socket per message, and the
in-memory layer scans every channel on each receive. At 1,000 sockets on a topic either falls
seconds behind (bench/bench_fanout.py). Here each worker process joins the topic's group once,
with one channel of its own, and hands each frame to the sockets of that process directly.

Every socket has a bounded outbox drained by its own task, so one slow phone cannot hold up the
others; a socket whose outbox overflows is closed and reconnects with `?after=<seq>` (catch-up
from the database), as after any other loss.
"""

import asyncio
import contextlib
import logging

from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

_hubs: dict[str, "TopicHub"] = {}


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

    async def start(self) -> None:
        self.channel = await self.layer.new_channel()
        await self.layer.group_add(self.group, self.channel)
        self.task = asyncio.create_task(self._pump())
        self.joined.set()

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task
        with contextlib.suppress(Exception):
            await self.layer.group_discard(self.group, self.channel)

    async def _pump(self) -> None:
        while True:
            try:
                event = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the layer is lossy; clients resync by seq
                logger.exception("channel layer receive failed for %s", self.group)
                await asyncio.sleep(1)
                continue
            for subscriber in list(self.subscribers):
                subscriber.deliver(event)


async def subscribe(group: str, subscriber) -> None:
    """Add `subscriber` (has `.deliver(event)`) to `group`; returns once the group is joined."""
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
        await hub.layer.group_add(group, hub.channel)


async def unsubscribe(group: str, subscriber) -> None:
    hub = _hubs.get(group)
    if hub is None:
        return
    hub.subscribers.discard(subscriber)
    if not hub.subscribers:
        _hubs.pop(group, None)
        await hub.stop()
