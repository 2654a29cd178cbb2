"""A Redis channel layer whose `receive` absorbs a cancellation, as channels_redis' did under
uvicorn's shutdown (issue 16): the receiving task stays "cancelling" inside `layer.receive` until
a message comes or it is cancelled again. A hub that awaits its receiver from a socket's
disconnect then hangs the worker; one that leaves it to the background does not."""

import asyncio

from channels_redis.core import RedisChannelLayer


class StubbornRedisChannelLayer(RedisChannelLayer):
    async def receive(self, channel):
        inner = asyncio.ensure_future(super().receive(channel))
        try:
            return await asyncio.shield(inner)
        except asyncio.CancelledError:
            try:
                return await inner  # the first cancellation is lost
            except asyncio.CancelledError:
                inner.cancel()
                raise
