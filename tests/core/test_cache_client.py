"""The Redis cache client is built once per process, not once per request."""

import threading

from core.cache import FaultTolerantRedisCache


def make(location="redis://127.0.0.1:1/9", **options):
    return FaultTolerantRedisCache(location, {"OPTIONS": options})


def test_cache_objects_of_different_requests_share_one_client_and_pool():
    first, second = make(), make()
    assert first is not second
    assert first._cache is second._cache
    assert first._cache.get_client() is second._cache.get_client(write=True)
    pools = set()

    def in_another_thread():
        pools.add(id(make()._cache.get_client().connection_pool))

    threads = [threading.Thread(target=in_another_thread) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert pools == {id(first._cache.get_client().connection_pool)}


def test_another_server_or_other_options_get_their_own_client():
    base = make()
    assert make("redis://127.0.0.1:1/8")._cache is not base._cache
    assert make(socket_timeout=3)._cache is not base._cache
