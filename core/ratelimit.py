"""The one rate-limit helper: counters on the shared cache (Redis in production, so every worker
counts together; see core/cache.py for what happens while Redis is down).

`count` adds one to a counter atomically (`add` then `incr`: two requests racing for the last
unit cannot both get it). `hit` counts an event in a fixed window and says whether it is still
within the limit. The hall's posting limit (deliberation.moderation) and the SMS caps
(core.sms) use them; allauth keeps its own limits for sign-in (ACCOUNT_RATE_LIMITS).
"""

import time

from django.core.cache import cache


def count(key: str, *, timeout: int) -> int:
    """Add one to the counter `key` and return the new count; a new counter lives `timeout`
    seconds."""
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr: start again
        cache.add(key, 0, timeout=timeout)
        return cache.incr(key)


def hit(key: str, limit: int | None, window: int) -> bool:
    """Count one event under `key` in the current fixed window of `window` seconds; False once
    more than `limit` events fell in it. `limit` None: no limit, nothing counted."""
    if limit is None:
        return True
    bucket = int(time.time() // window)
    return count(f"{key}:{window}:{bucket}", timeout=window + 1) <= limit
