"""`ws/meetings/<id>/`: live state of a session for the room's screen and phones.

Read-only: votes and roll call go through the ordinary forms (which work without JavaScript),
so every frame a client sends is answered `read_only`; the socket is authorised in `admit()`
with the page's permission. A `HubConsumer` (core.realtime.consumer): subscribe first, then read
the full state from the database, so nothing committed in between is lost; live frames numbered
at or below the state's `seq` are dropped. The state is read once for all the sockets of a
worker that ask at the same time (a reconnect storm, a resync when the layer returns).
Protocol: docs/sessions.md.
"""

import json

from channels.db import database_sync_to_async

from core.realtime import hub
from core.realtime.consumer import CLOSE_TOO_SLOW, HubConsumer
from meetings.models import Session
from meetings.services import session_group, state_frame

__all__ = ["CLOSE_TOO_SLOW", "SessionConsumer"]

OUTBOX_SIZE = 200


class SessionConsumer(HubConsumer):
    outbox_size = OUTBOX_SIZE

    async def admit(self) -> bool:
        self.session_id = int(self.scope["url_route"]["kwargs"]["session_id"])
        self.group = session_group(self.session_id)
        return await database_sync_to_async(self._may_view)()

    async def opening(self) -> list[str]:
        return await self._state()

    async def resync(self) -> None:
        """The channel layer is back: send the whole state again."""
        for text in await self._state():
            await self.send(text_data=text)

    async def _state(self) -> list[str]:
        seq, text = await hub.shared_read(("session-state", self.session_id), self._read)
        self.last_seq = max(self.last_seq, seq)
        return [text]

    def _read(self, _wishes) -> tuple[int, str]:
        state = state_frame(Session.objects.get(pk=self.session_id))
        return state["seq"], json.dumps(state, ensure_ascii=False)

    def _may_view(self) -> bool:
        session = Session.objects.select_related("council").filter(pk=self.session_id).first()
        return bool(
            session is not None
            and self.user is not None
            and self.user.has_perm("meetings.view_session", session)
        )
