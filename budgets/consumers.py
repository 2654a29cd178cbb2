"""`ws/budgets/cycles/<id>/`: read-only; the turnout during the vote, the results once published.

Frames (docs/realtime.md):
`{"type": "turnout", "cycle": 7, "ballots": 1234, "at": "<ISO time>"}` during the vote, at most
once a second (budgets.live), and `{"type": "results", ...}` (services.results_frame) when the
committee publishes or corrects the results. On connect a client gets the current frame of the
two, so a reconnect after a dropped frame loses nothing; so does every socket when the channel
layer comes back after an outage (RESYNC; meanwhile `{"type": "live", ...}`).

A `HubConsumer` (core.realtime.consumer): the cycle's group is joined once per worker process,
each frame serialised once per worker. A newer frame of a kind replaces an unsent older one, so
a slow phone holds at most one of each; a turnout frame carries its ballot count as its `seq`,
so an older count never follows a newer one. The current frame is read once for all the
sockets of a worker that ask at the same time (core.realtime.hub.shared_read): a reconnect storm
after a restart, or every socket resyncing when the layer comes back, reads (and tallies) once
or twice per worker, not once per socket.
"""

from budgets import live
from core.realtime import hub
from core.realtime.consumer import HubConsumer
from core.realtime.envelope import Envelope

REPLACEABLE = frozenset({"turnout", "results", "live", "resync"})


class CycleResultsConsumer(HubConsumer):
    replaceable = REPLACEABLE
    outbox_size = len(REPLACEABLE)

    async def admit(self) -> bool:
        self.cycle_id = int(self.scope["url_route"]["kwargs"]["pk"])
        self.group = live.cycle_group(self.cycle_id)
        self.last_seq = -1  # the ballot count sent last; 0 ballots is a count to send
        return True  # a cycle that does not exist is refused after the read (opening)

    async def opening(self) -> list[str] | None:
        envelope = await current_envelope(self.cycle_id)
        if envelope is False:
            return None
        return await self._sendable(envelope)

    async def _sendable(self, envelope) -> list[str]:
        if envelope is None:
            return []
        if envelope.kind == "turnout":
            if envelope.seq <= self.last_seq:
                return []  # nothing new, or overtaken by a newer count in flight
            self.last_seq = envelope.seq
        return [envelope.text]

    def deliver(self, envelope: Envelope) -> None:
        if envelope.kind not in REPLACEABLE:
            return  # nothing else is sent to a cycle's watchers
        if envelope.kind == "turnout":
            live.follow_up(self.cycle_id)
        super().deliver(envelope)

    def numbered(self, envelope: Envelope) -> int | None:
        return envelope.seq if envelope.kind == "turnout" else None

    async def resync(self) -> None:
        envelope = await current_envelope(self.cycle_id)
        for text in await self._sendable(envelope or None):
            await self.send(text_data=text)


async def current_envelope(cycle_id: int) -> Envelope | None | bool:
    """The frame a socket should see now: the results if published, the turnout during the
    vote, None otherwise, False if there is no such cycle. One read per worker for the sockets
    that ask at the same time (each asked after joining the group: nothing is missed)."""
    return await hub.shared_read(("budget-cycle", cycle_id), _read_for, cycle_id)


def _read_for(wishes: list[int]):
    frame = _read_frame(wishes[0])
    if not frame:
        return frame
    if frame["type"] == "turnout":
        return Envelope.of_frame(frame, seq=frame["ballots"])
    return Envelope.of_frame(frame)


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
