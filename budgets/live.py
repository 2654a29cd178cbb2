"""What watchers of a budget cycle see live: the turnout during the vote, the results after.

Ballots are secret until the vote closes, so during the vote the results socket carries only
the turnout ("N ballots cast so far"), counted from the database. At vote-day rates a frame per
ballot would be a storm (2,000 ballots a minute to 1,000 phones), so it is throttled to one
frame per cycle per `INTERVAL` across all workers, with a shared cache key as the lock:

- leading edge: the first ballot committed in a quiet cycle takes the window (`cache.add`) and
  broadcasts the count at once;
- trailing edge: a ballot committed while the window is taken marks the cycle "dirty"; every
  worker that has watchers of the cycle checks the mark when the window has passed, and the one
  that takes the next window broadcasts the count again. So the last ballots of a burst are
  shown within about two intervals, and a cycle nobody watches costs nothing more.

The count is read after the dirty mark is cleared, so every committed ballot is either in the
count or has set the mark again. Frames are serialised once; `budgets.consumers` fans them out
to a worker's sockets through `core.realtime.hub` (one group subscription per worker).
"""

import asyncio
import json
import logging
import threading
import time

from channels.db import database_sync_to_async
from django.core.cache import cache
from django.db import connections, transaction
from django.utils import timezone

from core import state
from core.realtime import broadcast_on_commit, group_name

logger = logging.getLogger(__name__)

TURNOUT_EVENT = "cycle.turnout"
RESULTS_EVENT = "cycle.results"  # sent by budgets.services when results are (re)published
# Whole seconds: Django's Redis cache truncates timeouts to integers.
INTERVAL = 1
# A worker looks for unannounced ballots this long after the end of the window it saw open.
FOLLOW_UP_SLACK = 0.2
DIRTY_TTL = 3600
# Seconds a worker gathers its ballots before passing them on (see _ballot_committed).
BATCH = 0.25

_batches: dict[int, tuple[float, bool]] = {}  # cycle -> (end of the batch, a ballot is owed)
_batch_lock = threading.Lock()
_batch_due = threading.Condition(_batch_lock)
_flusher: threading.Thread | None = None

_follow_ups: dict[int, tuple[asyncio.AbstractEventLoop, asyncio.TimerHandle]] = {}
_checks: set[asyncio.Task] = set()
state.register("budgets.live._batches", _batches.clear)


def _forget_follow_ups() -> None:
    for _loop, handle in _follow_ups.values():
        handle.cancel()
    _follow_ups.clear()


state.register("budgets.live._follow_ups", _forget_follow_ups)
state.register("budgets.live._checks", _checks.clear)


def cycle_group(cycle_id: int) -> str:
    return group_name("budget_cycle", cycle_id)


def _window_key(cycle_id: int) -> str:
    return f"budgets:turnout:window:{int(cycle_id)}"


def _dirty_key(cycle_id: int) -> str:
    return f"budgets:turnout:dirty:{int(cycle_id)}"


def ballot_cast(cycle_id: int) -> None:
    """Call from inside the transaction that records a ballot: announces the turnout (throttled)
    once it commits, never if it rolls back."""
    transaction.on_commit(lambda: _ballot_committed(cycle_id))


def _ballot_committed(cycle_id: int) -> None:
    """Pass the ballot on to the shared throttle, batched per worker: the first ballot of a
    quiet spell at once, the ones of the next `BATCH` seconds together when it ends (by the
    worker's one flusher thread). On vote day that spares two Redis round trips on almost every
    ballot (bench/bench_ballots.py); a batch delays the count by at most `BATCH`."""
    now = time.monotonic()
    with _batch_lock:
        end, owed = _batches.get(cycle_id, (0.0, False))
        if end > now:
            if not owed:
                _batches[cycle_id] = (end, True)
                _start_flusher()
                _batch_due.notify()
            return
        _batches[cycle_id] = (now + BATCH, False)
    _throttle(cycle_id)


def _start_flusher() -> None:
    """Called with the lock held."""
    global _flusher
    if _flusher is None or not _flusher.is_alive():
        _flusher = threading.Thread(target=_flush_batches, name="turnout-batches", daemon=True)
        _flusher.start()


def _flush_batches() -> None:
    while True:
        with _batch_lock:
            now = time.monotonic()
            owed = [(end, cycle) for cycle, (end, is_owed) in _batches.items() if is_owed]
            due = [cycle for end, cycle in owed if end <= now]
            if not due:
                _batch_due.wait(min(end for end, _ in owed) - now if owed else None)
                continue
            for cycle in due:
                _batches[cycle] = (now + BATCH, False)
        for cycle in due:
            try:
                _throttle(cycle)
            except Exception:  # noqa: BLE001 - the next ballot or follow-up announces the count
                logger.exception("turnout batch failed for cycle %s", cycle)
        connections.close_all()  # this thread's own connections, back to the pool


def _throttle(cycle_id: int) -> None:
    if cache.add(_window_key(cycle_id), 1, timeout=INTERVAL):
        publish_turnout(cycle_id)
    else:
        cache.set(_dirty_key(cycle_id), 1, timeout=DIRTY_TTL)


def turnout_frame(cycle_id: int) -> dict:
    """`{"type": "turnout", "cycle": 7, "ballots": 1234, "at": "<ISO time of the count>"}`."""
    from budgets.models import Participation

    return {
        "type": "turnout",
        "cycle": int(cycle_id),
        "ballots": Participation.objects.filter(cycle_id=cycle_id).count(),
        "at": timezone.now().isoformat(),
    }


def turnout_event(frame: dict) -> dict:
    return {
        "type": TURNOUT_EVENT,
        "kind": "turnout",
        "seq": frame["ballots"],  # a newer count replaces an older one (core.realtime.envelope)
        "ballots": frame["ballots"],
        "text": json.dumps(frame, ensure_ascii=False),
    }


def publish_turnout(cycle_id: int) -> dict:
    """Count now and broadcast; the caller holds the cycle's window."""
    cache.delete(_dirty_key(cycle_id))
    frame = turnout_frame(cycle_id)
    broadcast_on_commit(cycle_group(cycle_id), turnout_event(frame))
    return frame


def refresh_if_due(cycle_id: int) -> bool:
    """Broadcast if ballots came in unannounced and the window is free. True while the cycle
    still has unannounced ballots (someone must look again)."""
    if cache.get(_dirty_key(cycle_id)) is None:
        return False
    if cache.add(_window_key(cycle_id), 1, timeout=INTERVAL):
        publish_turnout(cycle_id)
    return True


def follow_up(cycle_id: int) -> None:
    """On a worker's event loop, when a turnout frame reaches its sockets: look again for
    unannounced ballots once the window has passed. At most one pending look per cycle."""
    loop = asyncio.get_running_loop()
    pending = _follow_ups.get(cycle_id)
    if pending is not None and pending[0] is loop:
        return
    handle = loop.call_later(INTERVAL + FOLLOW_UP_SLACK, _start_check, cycle_id, loop)
    _follow_ups[cycle_id] = (loop, handle)


def _start_check(cycle_id: int, loop: asyncio.AbstractEventLoop) -> None:
    task = loop.create_task(_check(cycle_id))
    _checks.add(task)
    task.add_done_callback(_checks.discard)


async def _check(cycle_id: int) -> None:
    _follow_ups.pop(cycle_id, None)
    try:
        again = await database_sync_to_async(refresh_if_due)(cycle_id)
    except Exception:  # noqa: BLE001 - the next ballot's frame starts the follow-ups again
        logger.exception("turnout follow-up failed for cycle %s", cycle_id)
        return
    if again:
        follow_up(cycle_id)
