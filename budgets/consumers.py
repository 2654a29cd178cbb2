"""`ws/budgets/cycles/<id>/`: read-only; the turnout during the vote, the results once published.

Frames (docs/realtime.md):
`{"type": "turnout", "cycle": 7, "ballots": 1234, "at": "<ISO time>"}` during the vote, at most
once a second (budgets.live), and `{"type": "results", ...}` (services.results_frame) when the
committee publishes or corrects the results. On connect a client gets the current frame of the
two, so a reconnect after a dropped frame loses nothing; so does every socket when the channel
layer comes back after an outage (fanout.RESYNC; meanwhile `{"type": "live", ...}`).

Like the halls' sockets, these join the cycle's group once per worker process
(deliberation.fanout), not once per socket. Each frame is serialised once per worker. A newer
frame of a kind replaces an unsent older one, so a slow phone holds at most one of each.
"""

import asyncio
import json
import time

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.utils.translation import gettext as _

from budgets import live
from core import state
from deliberation import fanout


def _frame_text(event: dict) -> str:
    """The event's frame as JSON, encoded once for all the sockets of this worker."""
    if "text" not in event:
        event["text"] = json.dumps(event["frame"], ensure_ascii=False)
    return event["text"]


class CycleResultsConsumer(AsyncWebsocketConsumer):
    # No channel per socket: frames arrive through the worker's hub (see TopicConsumer).
    channel_layer_alias = "budgets-sockets-have-no-channel"

    async def connect(self):
        self.cycle_id = int(self.scope["url_route"]["kwargs"]["pk"])
        self.group = live.cycle_group(self.cycle_id)
        self.pending: dict[str, tuple[float, str]] = {}
        self.wakeup = asyncio.Event()
        self.last_turnout = -1
        self.writer = None
        # Join first, then read: a frame published in between is sent twice, never missed.
        await fanout.subscribe(self.group, self)
        self.joined = True
        frame = await current_frame(self.cycle_id, read_after=time.monotonic())
        if frame is False:
            await fanout.detach(self)
            await self.close(code=4404)
            return
        await self.accept()
        if frame is not None:
            if frame["type"] == "turnout":
                self.last_turnout = frame["ballots"]
            await self.send(json.dumps(frame, ensure_ascii=False))
        self.writer = asyncio.create_task(self._write_frames())

    async def disconnect(self, code):
        await fanout.detach(self)

    async def receive(self, text_data=None, bytes_data=None):
        frame = {"type": "error", "code": "read_only", "message": _("This channel is read-only.")}
        await self.send(json.dumps(frame, ensure_ascii=False))

    def deliver(self, event: dict) -> None:
        """Called by the worker's hub for each broadcast; never blocks the other sockets."""
        kind = event.get("type")
        if kind == live.TURNOUT_EVENT:
            live.follow_up(self.cycle_id)
            self.pending["turnout"] = (event["ballots"], event["text"])
        elif kind == live.RESULTS_EVENT:
            self.pending["results"] = (0, _frame_text(event))
        elif event is fanout.LIVE_DOWN:  # the channel layer is down: say so, keep the socket
            self.pending["live"] = (0, event["text"])
        elif event is fanout.RESYNC:  # it is back: what we missed is in the database
            self.pending["resync"] = (time.monotonic(), "")
        else:
            return
        self.wakeup.set()

    async def _write_frames(self):
        while True:
            await self.wakeup.wait()
            self.wakeup.clear()
            while self.pending:
                kind = next(iter(self.pending))
                ballots, text = self.pending.pop(kind)
                if kind == "resync":  # its number is when the layer came back
                    frame = await current_frame(self.cycle_id, read_after=ballots)
                    if not frame:
                        continue
                    ballots, text = frame.get("ballots", 0), json.dumps(frame, ensure_ascii=False)
                    kind = frame["type"]
                if kind == "turnout":
                    if ballots <= self.last_turnout:
                        continue  # nothing new, or overtaken by a newer count in flight
                    self.last_turnout = ballots
                await self.send(text_data=text)


# The cycle's current frame, per worker: one read shared by every socket that joined the hub
# before the read began. A reconnect storm after a restart, or the resync of every socket when
# the channel layer comes back, then reads (and tallies) once per worker, not once per socket.
_reads: dict[int, tuple[float, asyncio.Future]] = {}
state.register("budgets.consumers._reads", _reads.clear)


async def current_frame(cycle_id: int, *, read_after: float) -> dict | None | bool:
    """The frame a socket that joined at `read_after` (time.monotonic()) should see now: the
    results if published, the turnout during the vote, None otherwise, False if there is no
    such cycle. Only a read that began after `read_after` is shared, so nothing published
    between a socket's join and the read can be missed."""
    loop = asyncio.get_running_loop()
    started, read = _reads.get(cycle_id, (0.0, None))
    if read is None or started < read_after or read.get_loop() is not loop:
        started = time.monotonic()
        read = asyncio.ensure_future(database_sync_to_async(_read_frame)(cycle_id))
        _reads[cycle_id] = (started, read)
    return await asyncio.shield(read)


def _read_frame(cycle_id: int) -> dict | None | bool:
    from budgets.models import BudgetCycle, PhaseKind
    from budgets.services import results_frame

    cycle = BudgetCycle.objects.prefetch_related("phases").filter(pk=cycle_id).first()
    if cycle is None:
        return False
    if cycle.results_published_at:
        return results_frame(cycle)
    if cycle.phase_at() == PhaseKind.VOTE:
        return live.turnout_frame(cycle_id)
    return None
