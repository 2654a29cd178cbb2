"""`ws/meetings/<id>/`: live state of a session for the room's screen and phones.

Read-only: votes and roll call go through the ordinary forms (which work without JavaScript),
so the socket only authorises once, in `connect()`, with the page's permission. It reuses the
halls' fan-out (deliberation.fanout: one channel-layer subscription per worker process) and the
same order as the topic consumer: subscribe first, then read the full state from the database,
so nothing committed in between is lost; live frames numbered at or below the state's `seq` are
dropped. Protocol: docs/sessions.md.
"""

import asyncio
import json

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.utils.translation import gettext as _

from deliberation import fanout
from meetings.models import Session
from meetings.services import session_group, state_frame

OUTBOX_SIZE = 200
CLOSE_TOO_SLOW = 4008


class SessionConsumer(AsyncWebsocketConsumer):
    channel_layer_alias = "deliberation-sockets-have-no-channel"  # see TopicConsumer

    async def connect(self):
        self.session_id = int(self.scope["url_route"]["kwargs"]["session_id"])
        self.user = self.scope.get("user")
        self.last_seq = 0
        self.writer = None
        self.too_slow = False
        if not await database_sync_to_async(self._may_view)():
            await self.close(code=4404)
            return
        self.group = session_group(self.session_id)
        self.outbox = asyncio.Queue(maxsize=OUTBOX_SIZE)
        await fanout.subscribe(self.group, self)
        self.joined = True
        await self.accept()
        state = await database_sync_to_async(self._state)()
        self.last_seq = state["seq"]
        await self.send(text_data=json.dumps(state, ensure_ascii=False))
        self.writer = asyncio.create_task(self._write_live_frames())

    async def disconnect(self, code):
        await fanout.detach(self)

    async def receive(self, text_data=None, bytes_data=None):
        # Nothing is accepted from clients; a resync is a reconnect.
        await self.send(
            text_data=json.dumps(
                {"type": "error", "code": "read_only", "message": _("This channel is read-only.")},
                ensure_ascii=False,
            )
        )

    def deliver(self, event: dict) -> None:
        if self.too_slow:
            return
        try:
            self.outbox.put_nowait(event)
        except asyncio.QueueFull:
            self.too_slow = True
            asyncio.ensure_future(self.close(code=CLOSE_TOO_SLOW))

    async def _write_live_frames(self):
        while True:
            event = await self.outbox.get()
            if event is fanout.RESYNC:  # the channel layer is back: send the whole state again
                state = await database_sync_to_async(self._state)()
                self.last_seq = state["seq"]
                await self.send(text_data=json.dumps(state, ensure_ascii=False))
                continue
            seq = event.get("seq")
            if seq is not None and seq <= self.last_seq:
                continue  # already in the state frame
            if seq is not None:
                self.last_seq = seq
            await self.send(text_data=event["text"])

    def _may_view(self) -> bool:
        session = Session.objects.select_related("council").filter(pk=self.session_id).first()
        return bool(
            session is not None
            and self.user is not None
            and self.user.has_perm("meetings.view_session", session)
        )

    def _state(self) -> dict:
        return state_frame(Session.objects.get(pk=self.session_id))
