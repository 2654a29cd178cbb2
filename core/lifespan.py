"""The ASGI lifespan of a worker: what it does once, after it started and before it serves.

uvicorn (`--lifespan auto`, its default) sends `lifespan.startup` and accepts no connection
until it is answered. Coroutine steps run in the worker's event loop, sync ones in a thread (as
code using the database must). A step that fails, or takes longer than STEP_WAIT seconds, is
logged and left behind: a worker whose database or Redis is down at start still starts and
serves the pages that say so, rather than crash-looping or hanging.
"""

import asyncio
import inspect
import logging
from collections.abc import Callable

from channels.db import database_sync_to_async

logger = logging.getLogger(__name__)

STEP_WAIT = 5.0  # seconds


class Lifespan:
    """An ASGI app for the `lifespan` scope that runs `startup` steps, in order."""

    def __init__(self, startup: list[Callable]):
        self.startup = list(startup)

    async def __call__(self, scope, receive, send):
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                for step in self.startup:
                    await self.run(step)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def run(self, step: Callable) -> None:
        if inspect.iscoroutinefunction(step):
            running = step()
        else:
            # In a thread of its own, not the one that sync code of requests may share: a step
            # left behind (waiting for a database that is down) holds up nothing else. Its
            # database connection goes back to the pool after it.
            running = database_sync_to_async(step, thread_sensitive=False)()
        try:
            await asyncio.wait_for(running, STEP_WAIT)
        except TimeoutError:
            logger.warning("start-up step %s took over %s s; serving", step.__name__, STEP_WAIT)
        except Exception:
            logger.exception("start-up step %s failed; serving anyway", step.__name__)
