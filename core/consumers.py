import json

from channels.generic.websocket import AsyncWebsocketConsumer


class HealthConsumer(AsyncWebsocketConsumer):
    """`ws/health/`: lets the proxy and monitoring check that websockets reach a worker."""

    async def connect(self):
        await self.accept()
        user = self.scope.get("user")
        await self.send(
            json.dumps(
                {
                    "type": "hello",
                    "authenticated": bool(user and user.is_authenticated),
                }
            )
        )
        await self.close()
