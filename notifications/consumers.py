"""`ws/notifications/`: the signed-in person's unread count, for the bell on every page.

Read-only, and only for the person themselves (the group is theirs: services.user_group).
Frames: on connect, and again when the channel layer comes back after an outage,
`{"type": "unread", "count": N}`, the exact count; then `{"type": "notification", "id": …}` for
each new notification (the page adds one) and `{"type": "unread", "count": N}` when they mark
some read on another page. A fan-out to a township costs no query per person: the count is read
only when a socket opens.

Join, then read (core.realtime.consumer): a notification committed between the two is in the
count already, and its frame would count it twice; so the read also notes the newest
notification's id and frames at or below it are dropped.
"""

import json

from channels.db import database_sync_to_async

from core.realtime.consumer import HubConsumer
from core.realtime.envelope import Envelope
from notifications import selectors
from notifications.services import FRAME, UNREAD_FRAME, user_group

OUTBOX_SIZE = 50  # a phone that falls this far behind is closed, reconnects and gets the count


class NotificationConsumer(HubConsumer):
    outbox_size = OUTBOX_SIZE

    async def admit(self) -> bool:
        if self.user is None or not self.user.is_authenticated:
            return False
        self.group = user_group(self.user.pk)
        self.counted_up_to = 0  # the newest notification in the last count read
        return True

    async def opening(self) -> list[str]:
        return [await self._count_frame()]

    async def resync(self) -> None:
        await self.send_text(await self._count_frame())

    def numbered(self, envelope: Envelope) -> int | None:
        # Ids are not a stream: two transactions may commit their ids in either order.
        return None

    def take(self, envelope: Envelope):
        if envelope.kind == FRAME and envelope.seq is not None:
            if envelope.seq <= self.counted_up_to:
                return None  # in the count that was sent already
        return super().take(envelope)

    async def _count_frame(self) -> str:
        count, newest = await database_sync_to_async(selectors.unread_and_newest)(self.user)
        self.counted_up_to = max(self.counted_up_to, newest)
        return json.dumps({"type": UNREAD_FRAME, "count": count})
