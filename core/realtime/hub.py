"""One channel-layer subscription per group per worker process, fanned out to local sockets.

Channels' usual pattern puts every socket in the group, so one broadcast becomes one channel-layer
message per socket: with channels_redis's list-based layer that was one Redis pop per socket per
message, and the in-memory layer scans every channel on each receive. At 1,000 sockets on a
topic either falls seconds behind (bench/bench_fanout.py). Here each worker process joins the
group once, with one channel of its own, turns each event into an `Envelope` once and hands it
to the sockets of that process (`subscriber.deliver(envelope)`, which must not block).

When the channel layer (Redis) fails, the hub keeps its sockets open: it tells them the live
layer is unavailable (`LIVE_DOWN`), retries joining the group with backoff, and once it is back
hands every subscriber `RESYNC`, after which each re-reads what it missed from the database
(docs/realtime.md, "When Redis is down").

Shutdown: a socket's disconnect never waits for the hub's receiver task. The last subscriber out
closes the hub: its pump is cancelled and a background task waits for it (cancelling again, since
a receive inside channels_redis can absorb a cancellation) for a bounded time, then leaves the
group. So a worker told to stop (SIGTERM) with open sockets is not held up by a receive that is
slow to cancel (uvicorn's "Waiting for background tasks to complete").

Reconnect storms: `shared_read` lets the sockets of a worker that ask for the same read at the
same time (a reconnect storm after a restart, every socket resyncing when Redis returns) share
one database read: single-flight, one read running and one gathering per key. `recent_read`
goes further for sockets that arrive spread out over seconds (a storm as it really comes): a
hub keeps the envelopes it handed out lately, numbered in the order it got them, so a read that
began at number `start` plus the envelopes numbered from `start` to the moment a socket joined
is everything that socket would have got had it joined before the read. A storm of thousands
of sockets then costs one read per topic per worker, not one per burst.
"""

import asyncio
import contextlib
import itertools
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from core import state
from core.realtime.envelope import LIVE_DOWN, RESYNC, Envelope

logger = logging.getLogger(__name__)
# One line per database read a hub's sockets share (DEBUG): how many reads a storm cost, per key
# and worker (bench/bench_fanout.py counts them).
reads_logger = logging.getLogger("yishi.realtime.reads")

__all__ = [
    "LIVE_DOWN",
    "RESYNC",
    "detach",
    "layer_available",
    "recent_read",
    "shared_read",
    "subscribe",
]

_hubs: dict[str, "Hub"] = {}
state.register("core.realtime.hub._hubs", _hubs.clear)
_closing: set[asyncio.Task] = set()  # hubs being shut down, so they are not garbage-collected
state.register("core.realtime.hub._closing", _closing.clear)

RETRY_FIRST = 0.5  # seconds before the first attempt to rejoin the group, doubling up to
RETRY_MAX = 4.0
STOP_WAIT = 2.0  # seconds a closing hub waits for its receiver task, re-cancelling it
DISCARD_WAIT = 1.0  # seconds for leaving the group; the layer expires it anyway
# Seconds between renewals of a hub's group membership when sockets join (a list-based layer
# such as channels_redis's expires groups; a subscription does not): at most one Redis command
# per hub in that time, not one per socket, which a storm of thousands of sockets would cost.
REFRESH_EVERY = 30.0
# The envelopes a hub keeps to complete a recent read for a socket that joins later, and how long
# such a read is used (recent_read): a socket may be served a view of its topic at most that old,
# brought up to date by everything broadcast since.
HISTORY = 1000
KEEP_READS = 30.0


class Hub:
    def __init__(self, group: str):
        self.group = group
        self.layer = get_channel_layer()
        self.loop = asyncio.get_running_loop()
        # Each subscriber with the number of the first envelope it was handed (`count` then).
        self.subscribers: dict = {}
        self.channel: str | None = None
        self.task: asyncio.Task | None = None
        self.joined = asyncio.Event()
        self.failed = False
        self.live = False  # False while the layer is unreachable: the pump keeps retrying
        self.stopping = False
        self.refreshed_at = self.loop.time()
        # The envelopes handed out lately, each with its number: `count` so far, every one from
        # `history_from` on still kept unless more than HISTORY came since. A gap in what the
        # hub received (the layer went down) starts it afresh.
        self.count = 0
        self.history: deque[Envelope] = deque(maxlen=HISTORY)
        self.history_from = 0
        self.reads: dict[tuple, _Done] = {}  # recent reads that later sockets may use
        # Reads asked for and not ended: (the number they start from, their result to come).
        self.underway: dict[tuple, tuple[int, asyncio.Future]] = {}

    async def start(self) -> None:
        self.channel = await self.layer.new_channel()
        try:
            await self.layer.group_add(self.group, self.channel)
            self.live = True
        except Exception as error:  # noqa: BLE001 - sockets still work, from the database
            logger.warning("channel layer unavailable for %s: %r", self.group, error)
        self.task = asyncio.create_task(self._pump(), name=f"hub {self.group}")
        self.joined.set()

    def close(self) -> None:
        """Stop receiving, without waiting: the waiting is done in the background."""
        self.stopping = True
        if self.task is not None:
            self.task.cancel()
        closing = asyncio.ensure_future(self._finish())
        _closing.add(closing)
        closing.add_done_callback(_closing.discard)

    async def _finish(self) -> None:
        task = self.task
        deadline = self.loop.time() + STOP_WAIT
        while task is not None and not task.done() and self.loop.time() < deadline:
            task.cancel()  # again: a receive may have absorbed the previous cancellation
            await asyncio.wait({task}, timeout=0.1)
        if task is not None and not task.done():
            logger.warning("the receiver of %s did not stop within %s s", self.group, STOP_WAIT)
        if self.channel is not None and self.live:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(
                    self.layer.group_discard(self.group, self.channel), DISCARD_WAIT
                )

    async def refresh(self) -> None:
        """Renew the group membership (the layer expires groups); a failure means it is down."""
        if not self.live or self.loop.time() - self.refreshed_at < REFRESH_EVERY:
            return
        self.refreshed_at = self.loop.time()
        try:
            await self.layer.group_add(self.group, self.channel)
        except Exception as error:  # noqa: BLE001
            self._went_down(error)

    def _went_down(self, error: Exception) -> None:
        logger.warning("channel layer unavailable for %s: %r", self.group, error)
        self.live = False
        self.tell_all(LIVE_DOWN)

    def tell_all(self, envelope: Envelope) -> None:
        if envelope is LIVE_DOWN or envelope is RESYNC:
            # Broadcasts were (or may have been) lost: no read before now can be completed.
            self.history.clear()
            self.history_from = self.count
            self.reads.clear()
            self.underway.clear()
        else:
            self.history.append(envelope)
            self.count += 1
        for subscriber in list(self.subscribers):
            subscriber.deliver(envelope)

    def handed_out(self, start: int, end: int) -> list[Envelope] | None:
        """The envelopes numbered `start` to `end - 1`, or None if some are no longer kept."""
        if start >= end:
            return []
        oldest = self.count - len(self.history)
        if start < max(oldest, self.history_from):
            return None
        return list(itertools.islice(self.history, start - oldest, end - oldest))

    async def _pump(self) -> None:
        delay = RETRY_FIRST
        # `stopping` ends the loop even if a cancellation was absorbed by the layer's receive.
        while not self.stopping:
            if not self.live:
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX)
                try:
                    # A restarted Redis has forgotten the group: join it again, then resync.
                    await self.layer.group_add(self.group, self.channel)
                except Exception:  # noqa: BLE001, S112 - still down; try again later
                    continue
                logger.warning("channel layer back for %s", self.group)
                self.live = True
                delay = RETRY_FIRST
                # Joined first, so whatever a subscriber reads from the database now, nothing
                # committed afterwards can be missed (the order of the first connect).
                self.tell_all(RESYNC)
            try:
                event = await self.layer.receive(self.channel)
            except Exception as error:  # noqa: BLE001 - the layer is lossy; clients resync by seq
                if self.live and not self.stopping:
                    self._went_down(error)
                continue
            if not self.stopping:
                self.tell_all(Envelope.of(event))


def layer_available(group: str) -> bool:
    """Whether this worker currently receives the group's broadcasts."""
    hub = _hubs.get(group)
    return hub is not None and hub.live


def hub_of(group: str) -> Hub | None:
    return _hubs.get(group)


async def subscribe(group: str, subscriber) -> None:
    """Add `subscriber` (has `.deliver(envelope)`) to `group`; returns once the group is joined.

    If the channel layer is unreachable it returns all the same, after handing the subscriber
    `LIVE_DOWN`; the hub keeps trying and sends `RESYNC` once it has joined.
    """
    hub = _hubs.get(group)
    if hub is not None and hub.loop is not asyncio.get_running_loop():
        _hubs.pop(group, None)  # left over from another event loop (tests)
        hub = None
    if hub is None:
        hub = _hubs[group] = Hub(group)
        hub.subscribers[subscriber] = hub.count
        try:
            await hub.start()
        except Exception:
            _hubs.pop(group, None)
            hub.failed = True
            hub.joined.set()
            raise
    else:
        hub.subscribers[subscriber] = hub.count
        # Not before the group is joined: the caller reads the database right after this.
        await hub.joined.wait()
        if hub.failed:
            hub.subscribers.pop(subscriber, None)
            raise RuntimeError(f"could not join {group}")
        # Renew the membership now and then, so the layer's group expiry never drops a
        # long-lived hub.
        was_live = hub.live
        await hub.refresh()  # if this finds the layer down, every subscriber is told
        if not was_live:
            subscriber.deliver(LIVE_DOWN)
        return
    if not hub.live:
        subscriber.deliver(LIVE_DOWN)


def unsubscribe(group: str, subscriber) -> None:
    """Leave `group`; the last subscriber out closes the hub in the background."""
    hub = _hubs.get(group)
    if hub is None:
        return
    hub.subscribers.pop(subscriber, None)
    if not hub.subscribers:
        _hubs.pop(group, None)
        hub.close()


async def detach(subscriber, *, writer_wait: float = 1.0) -> None:
    """A consumer's disconnect: leave the hub (if it joined) and stop its writer task (if it
    started one), waiting for neither longer than `writer_wait`. Consumers keep `group`,
    `joined` and `writer` for this."""
    if getattr(subscriber, "joined", False):
        subscriber.joined = False
        unsubscribe(subscriber.group, subscriber)
    writer = getattr(subscriber, "writer", None)
    if writer is not None and writer is not asyncio.current_task():
        writer.cancel()
        await asyncio.wait({writer}, timeout=writer_wait)


# --- Shared reads (single-flight) -----------------------------------------------------------


@dataclass(eq=False)
class _Done:
    """A read a hub keeps for later sockets: its result, the number of the hub's next envelope
    when it was asked for (so every later envelope may be missing from it) and when it ended."""

    result: Any
    start: int
    at: float


def _always(_result, _wish) -> bool:
    return True


def _never(_envelope) -> bool:
    return False


async def recent_read(
    group: str,
    key: tuple,
    reader: Callable[[list], Any],
    wish: Any = None,
    *,
    subscriber=None,
    covers: Callable[[Any, Any], bool] = _always,
    stale: Callable[[Envelope], bool] = _never,
    keep: float | None = None,
) -> tuple[Any, list[Envelope]]:
    """`shared_read`, plus: a read of `key` that ended less than `keep` seconds ago is used
    again, without the database, while the group's hub has kept every envelope since it was asked
    for. Returns the result and the envelopes the caller must handle after it, in order: those
    the hub handed out after the read was asked for and before `subscriber` joined (it got the
    later ones itself). Without `subscriber` (a caller not yet joined: admission) they are all
    those since the read, and a read is not used again if any of them is `stale` (the topic
    changed). `covers(result, wish)` says whether a read made for others serves this wish.

    A read asked for by a caller that had joined is complete for that caller without them
    (join, then read); so is a read plus the envelopes since, for a caller that joined later."""
    loop = asyncio.get_running_loop()
    keep = KEEP_READS if keep is None else keep
    owner = _hubs.get(group)
    if owner is not None and (owner.loop is not loop or not owner.live):
        owner = None
    if owner is None:
        if subscriber is not None:
            return await shared_read(key, reader, wish), []
        # No socket of this worker is on the group yet (a restarted worker in a storm): an
        # admission read under way serves those that ask meanwhile, as if they had asked when
        # it began (a few milliseconds); there is no history to check beyond that.
        ending = _admitting.get(key)
        if ending is not None and ending.get_loop() is loop:
            with contextlib.suppress(Exception):
                return await asyncio.shield(ending), []
        ending = _admitting[key] = loop.create_future()
        ending.add_done_callback(_retrieve)
        try:
            result = await shared_read(key, reader, wish)
        except BaseException as error:
            ending.set_exception(error if isinstance(error, Exception) else RuntimeError("stopped"))
            raise
        finally:
            if _admitting.get(key) is ending:
                del _admitting[key]
        ending.set_result(result)
        return result, []

    def completed(result, start: int) -> tuple[Any, list[Envelope]] | None:
        """`result`, read from `start` on, plus what the caller needs after it; or None."""
        if owner.live and covers(result, wish):
            since = owner.handed_out(start, owner.count)
            if since is not None and not any(stale(envelope) for envelope in since):
                joined = owner.subscribers.get(subscriber, owner.count)
                return result, since[: max(0, joined - start)]
        return None

    done = owner.reads.get(key)
    if done is not None and loop.time() - done.at <= keep:
        if (served := completed(done.result, done.start)) is not None:
            return served
    # A read under way, asked for before this caller came, serves it the same way once it ends
    # (so a storm that keeps arriving while the first read runs costs no second read).
    underway = owner.underway.get(key)
    if underway is not None:
        start, ending = underway
        with contextlib.suppress(Exception):
            if (served := completed(await asyncio.shield(ending), start)) is not None:
                return served
    start = owner.count
    ending = loop.create_future()
    ending.add_done_callback(_retrieve)
    owner.underway[key] = (start, ending)
    try:
        result = await shared_read(key, reader, wish)
    except BaseException as error:
        ending.set_exception(error if isinstance(error, Exception) else RuntimeError("stopped"))
        raise
    finally:
        if owner.underway.get(key, (None, None))[1] is ending:
            del owner.underway[key]
    ending.set_result(result)
    if _hubs.get(group) is owner and owner.live and start >= owner.history_from:
        kept = owner.reads.get(key)
        if kept is None or kept.result is not result:
            owner.reads[key] = _Done(result=result, start=start, at=loop.time())
    return result, []


@dataclass(eq=False)
class _Read:
    reader: Callable[[list], Any]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future
    wishes: list = field(default_factory=list)


_gathering: dict[tuple, _Read] = {}  # per key: the read not started yet, which callers join
_running: dict[tuple, _Read] = {}  # per key: the read under way
_read_tasks: set[asyncio.Task] = set()
_admitting: dict[tuple, asyncio.Future] = {}  # per key: a read by callers not yet joined


def _forget_reads() -> None:
    _gathering.clear()
    _running.clear()
    _read_tasks.clear()
    _admitting.clear()


state.register("core.realtime.hub._gathering", _forget_reads)
state.register("core.realtime.hub._running", _forget_reads)
state.register("core.realtime.hub._read_tasks", _forget_reads)
state.register("core.realtime.hub._admitting", _forget_reads)


async def shared_read(key: tuple, reader: Callable[[list], Any], wish: Any = None) -> Any:
    """`reader(wishes)` run in a thread (ORM allowed), shared by every caller that asked for `key`
    before it started; `wishes` are what those callers passed as `wish` (e.g. each socket's
    `after`), and the result must serve them all.

    A caller only ever joins a read that has not started, so the read sees everything committed
    before the caller asked: callers that joined their group before asking miss nothing
    (join-then-read). While a read runs, new callers gather for the next one, which starts when
    it ends: a storm of N sockets costs one or two reads per key per worker, not N."""
    loop = asyncio.get_running_loop()
    read = _gathering.get(key)
    if read is None or read.loop is not loop:
        read = _gathering[key] = _Read(reader=reader, loop=loop, future=loop.create_future())
        read.future.add_done_callback(_retrieve)
        task = loop.create_task(_run(key, read))
        _read_tasks.add(task)
        task.add_done_callback(_read_tasks.discard)
    read.wishes.append(wish)
    return await asyncio.shield(read.future)


def _retrieve(future: asyncio.Future) -> None:
    """Mark a failure as seen, so a read whose callers all left logs no 'never retrieved'."""
    if not future.cancelled():
        future.exception()


async def _run(key: tuple, read: _Read) -> None:
    running = _running.get(key)
    if running is not None and running.loop is read.loop and not running.future.done():
        await asyncio.wait({running.future})  # one read of a key at a time
    else:
        await asyncio.sleep(0)  # the callers of this instant join too
    if _gathering.get(key) is read:
        del _gathering[key]
    _running[key] = read
    reads_logger.debug("read %s %s for %d", key[0], key[1:], len(read.wishes))
    try:
        result = await database_sync_to_async(read.reader)(list(read.wishes))
    except BaseException as error:
        if not read.future.done():
            read.future.set_exception(error)
        if isinstance(error, asyncio.CancelledError):
            raise
    else:
        read.future.set_result(result)
    finally:
        if _running.get(key) is read:
            del _running[key]
