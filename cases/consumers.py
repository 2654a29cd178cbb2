"""`ws/cases/boards/<council id>/`: a township's (district's, city's) board learns that a case
under it moved (cases.live). Read-only; officials of that council only (`cases.view_board`).

A `HubConsumer` (core.realtime.consumer): the opening frame is the board's current `seq`; a
live frame at or below it is dropped. When the channel layer comes back, the socket is sent the
current seq again (the screen re-reads the counts).
"""

import json

from channels.db import database_sync_to_async

from cases.live import board_frame, board_group, board_seq
from core.realtime.consumer import HubConsumer
from councils.models import CouncilPage


class BoardConsumer(HubConsumer):
    outbox_size = 20
    replaceable = frozenset({"board", "live", "resync"})

    async def admit(self) -> bool:
        self.council_id = int(self.scope["url_route"]["kwargs"]["council_id"])
        self.group = board_group(self.council_id)
        return await database_sync_to_async(self._may_view)()

    async def opening(self) -> list[str]:
        return [await database_sync_to_async(self._current)()]

    async def resync(self) -> None:
        await self.send(text_data=await database_sync_to_async(self._current)())

    def _current(self) -> str:
        seq = board_seq(self.council_id)
        self.last_seq = max(self.last_seq, seq)
        return json.dumps(board_frame(self.council_id, seq))

    def _may_view(self) -> bool:
        # `id`, not `pk` (the page_ptr key): Django answers an id beyond any row with nothing
        # only on the id field itself; on the key, SQLite raises OverflowError.
        council = CouncilPage.objects.filter(id=self.council_id).first()
        return bool(
            council is not None
            and self.user is not None
            and self.user.has_perm("cases.view_board", council)
        )
