"""A Redis cache that degrades instead of failing when Redis is unreachable.

Django's RedisCache raises on every call while Redis is down, and with `cached_db` sessions that
turns every page into a 500. This backend logs the first failure, then for `RETRY_AFTER` seconds
does not touch Redis at all (no retry storm, no connect timeout paid per request) and answers from
a fallback instead:

- Sessions (keys starting with one of `MISS_PREFIXES`): reads miss, writes are dropped.
  `cached_db` sessions then read and write the database, which is the truth anyway. (A local copy
  would be wrong: a sign-out handled by another worker could not remove it.)
- Everything else (rate limits, allauth's counters and locks): a process-local memory cache.
  Limits keep working but each worker process counts alone while Redis is down (the limit is
  multiplied by the number of workers, never switched off).

Keys written or deleted while Redis was unreachable are remembered (up to `MAX_STALE_KEYS` per
process) and deleted from Redis as soon as it answers again, so that an old value (for example
the cached copy of a session that was signed out meanwhile) does not come back. See
docs/realtime.md, "When Redis is down".
"""

import logging
import threading
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from core import state

logger = logging.getLogger(__name__)

# django.contrib.sessions.backends.cached_db.KEY_PREFIX (not imported: it pulls in the models).
SESSION_KEY_PREFIX = "django.contrib.sessions.cached_db"
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)


class _Health:
    """Per process and per Redis location, shared by the thread-local cache instances."""

    def __init__(self):
        self.lock = threading.Lock()
        self.down_until = 0.0
        self.stale: set[tuple[str, int | None]] = set()
        self.stale_overflow = False


_health: dict[str, _Health] = {}
_health_lock = threading.Lock()


def _health_for(location: str) -> _Health:
    with _health_lock:
        return _health.setdefault(location, _Health())


class SharedRedisCacheClient(RedisCacheClient):
    """Django's Redis client, shared by every request of a process, with one redis-py client
    per connection pool.

    Under ASGI Django builds a new cache object for every request context, and with it a new
    client, a new connection pool and so a new TCP connection to Redis per request, plus a
    redis-py client (about 170 response callbacks copied) per cache call. On vote day that was a
    good part of a ballot's cost (bench/bench_ballots.py)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._lock = threading.Lock()
        self._redis_clients = {}

    def _get_connection_pool(self, write):
        with self._lock:
            return super()._get_connection_pool(write)

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._redis_clients.get(id(pool))
        if client is None:
            client = self._redis_clients[id(pool)] = self._client(connection_pool=pool)
        return client


_clients: dict[tuple, SharedRedisCacheClient] = {}
state.register("core.cache._health", _health.clear)
state.register("core.cache._clients", _clients.clear)
_clients_lock = threading.Lock()


class FaultTolerantRedisCache(RedisCache):
    """RedisCache that falls back (see the module docstring) while Redis cannot be reached.

    Extra OPTIONS, removed before the rest go to redis-py's connection pool: `RETRY_AFTER`
    (seconds, default 5), `MISS_PREFIXES` (default: the cached_db session keys),
    `MAX_STALE_KEYS` (default 10,000).
    """

    def __init__(self, server, params):
        options = dict(params.get("OPTIONS") or {})
        self.retry_after = float(options.pop("RETRY_AFTER", 5))
        self.miss_prefixes = tuple(options.pop("MISS_PREFIXES", (SESSION_KEY_PREFIX,)))
        self.max_stale_keys = int(options.pop("MAX_STALE_KEYS", 10_000))
        super().__init__(server, {**params, "OPTIONS": options})
        location = server if isinstance(server, str) else ",".join(server)
        self.health = _health_for(f"{location}|{self.key_prefix}")
        self.local = LocMemCache(f"redis-fallback:{location}", params)
        self.miss = DummyCache(location, {})

    @cached_property
    def _cache(self):
        key = (tuple(self._servers), repr(sorted(self._options.items())))
        with _clients_lock:
            if key not in _clients:
                _clients[key] = SharedRedisCacheClient(self._servers, **self._options)
            return _clients[key]

    # --- health ----------------------------------------------------------------------------

    @property
    def redis_down(self) -> bool:
        return time.monotonic() < self.health.down_until

    def _mark_down(self, error: Exception) -> None:
        with self.health.lock:
            was_up = self.health.down_until == 0.0
            self.health.down_until = time.monotonic() + self.retry_after
        if was_up:
            logger.error("Redis cache unreachable, using the fallback: %s", error)

    def _mark_up(self) -> None:
        """Redis answered after an outage: delete what was written meanwhile, then trust it."""
        health = self.health
        with health.lock:
            stale, overflow = set(health.stale), health.stale_overflow
        by_version: dict[int | None, list[str]] = {}
        for key, version in stale:
            by_version.setdefault(version, []).append(key)
        for version, keys in by_version.items():
            super().delete_many(keys, version=version)  # raises if Redis went away again
        with health.lock:
            health.stale -= stale
            health.stale_overflow = False
            health.down_until = 0.0
        logger.warning(
            "Redis cache reachable again; deleted %d key(s) written during the outage%s",
            len(stale),
            " (more were written than could be remembered)" if overflow else "",
        )

    def _remember_stale(self, keys, version) -> None:
        health = self.health
        with health.lock:
            for key in keys:
                if len(health.stale) >= self.max_stale_keys:
                    health.stale_overflow = True
                    return
                health.stale.add((key, version))

    def _fallback_for(self, keys):
        if any(str(key).startswith(self.miss_prefixes) for key in keys):
            return self.miss
        return self.local

    def _call(self, name: str, args: tuple, kwargs: dict, *, keys=(), writes=False):
        """Run `name` on Redis, or on a fallback while Redis is unreachable."""
        if not self.redis_down:
            try:
                if self.health.down_until:
                    # First call after an outage: delete what was written meanwhile before
                    # anything is read (it raises, and we stay on the fallback, if still down).
                    self._mark_up()
                return getattr(super(), name)(*args, **kwargs)
            except UNREACHABLE as error:
                self._mark_down(error)
        if writes:
            self._remember_stale(keys, kwargs.get("version"))
        return getattr(self._fallback_for(keys), name)(*args, **kwargs)

    # --- the cache API ---------------------------------------------------------------------

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        v = {"version": version}
        return self._call("add", (key, value, timeout), v, keys=[key], writes=True)

    def get(self, key, default=None, version=None):
        return self._call("get", (key, default), {"version": version}, keys=[key])

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        v = {"version": version}
        return self._call("set", (key, value, timeout), v, keys=[key], writes=True)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        v = {"version": version}
        return self._call("touch", (key, timeout), v, keys=[key], writes=True)

    def delete(self, key, version=None):
        return self._call("delete", (key,), {"version": version}, keys=[key], writes=True)

    def get_many(self, keys, version=None):
        keys = list(keys)
        return self._call("get_many", (keys,), {"version": version}, keys=keys)

    def has_key(self, key, version=None):
        return self._call("has_key", (key,), {"version": version}, keys=[key])

    def incr(self, key, delta=1, version=None):
        v = {"version": version}
        return self._call("incr", (key, delta), v, keys=[key], writes=True)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        v = {"version": version}
        return self._call("set_many", (data, timeout), v, keys=list(data), writes=True)

    def delete_many(self, keys, version=None):
        keys = list(keys)
        return self._call("delete_many", (keys,), {"version": version}, keys=keys, writes=True)

    def clear(self):
        return self._call("clear", (), {})
