import json

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from core.realtime import group_name


class CycleResultsConsumer(AsyncWebsocketConsumer):
    """`ws/budgets/cycles/<id>/`: read-only; pushes the results frame when they are published.

    The frame is computed once per publication (services.results_frame) and fanned out by the
    channel layer; nothing is queried per socket. On connect a client gets the current published
    results, so a reconnect after a dropped frame loses nothing.
    """

    async def connect(self):
        self.cycle_id = int(self.scope["url_route"]["kwargs"]["pk"])
        frame = await self._published_frame()
        if frame is False:
            await self.close(code=4404)
            return
        self.group = group_name("budget_cycle", self.cycle_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        if frame:
            await self.send(json.dumps(frame, ensure_ascii=False))

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        await self.send(
            json.dumps(
                {
                    "type": "error",
                    "code": "read_only",
                    "message": "This channel only sends results.",
                }
            )
        )

    async def cycle_results(self, event):
        await self.send(json.dumps(event["frame"], ensure_ascii=False))

    @database_sync_to_async
    def _published_frame(self):
        from budgets.models import BudgetCycle
        from budgets.services import results_frame

        cycle = BudgetCycle.objects.filter(pk=self.cycle_id).first()
        if cycle is None:
            return False
        return results_frame(cycle) if cycle.results_published_at else None
