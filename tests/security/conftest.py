import pytest

from tests.conftest import isolate_cache_and_layer


@pytest.fixture(autouse=True)
def _isolated_cache_and_layer(settings, request):
    """Each test counts rate limits and broadcasts in its own process-local cache and layer.

    With REDIS_URL set the shared Redis would carry rate-limit counts and groups between tests
    (and between engineers' runs): every test here starts from an empty count.
    """
    isolate_cache_and_layer(settings, request)
