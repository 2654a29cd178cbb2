import pytest

from councils.models import Role
from tests.conftest import isolate_cache_and_layer
from tests.councils.factories import member
from tests.deliberation.factories import HallFactory, TopicFactory


@pytest.fixture(autouse=True)
def _isolated_cache_and_layer(settings, request):
    """Each test counts rate limits and broadcasts in its own process-local cache and layer.

    With REDIS_URL set the shared Redis would carry counts and groups between tests and between
    engineers' runs; the two-worker test (marked `redis`) sets up its own servers instead.
    """
    isolate_cache_and_layer(settings, request)


@pytest.fixture
def hall(tree):
    return HallFactory(council=tree["village"])


@pytest.fixture
def resident(tree):
    return member(tree["village"])


@pytest.fixture
def committee(tree):
    user = member(tree["village"])
    member(tree["village"], Role.COMMITTEE, user=user)
    return user


@pytest.fixture
def topic(hall, resident):
    return TopicFactory(hall=hall, author=resident)
