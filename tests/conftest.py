import os

import pytest

from core.sms import MemorySmsBackend
from tests.councils.factories import UserFactory, make_tree


def pytest_collection_modifyitems(config, items):
    """Skip tests that need the production pair when it is not configured."""
    on_postgres = os.environ.get("DATABASE_URL", "").startswith("postgres")
    has_redis = bool(os.environ.get("REDIS_URL"))
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)"))
        if "redis" in item.keywords and not has_redis:
            item.add_marker(pytest.mark.skip(reason="needs Redis (set REDIS_URL)"))


def isolate_cache_and_layer(settings, request) -> None:
    """This test counts rate limits and broadcasts in its own process-local cache and layer.

    With REDIS_URL set the shared Redis would carry counts and groups between tests (and
    between runs on one machine); tests that need the real thing set up their own servers."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": request.node.nodeid,
        }
    }
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    settings.YISHI_SENSITIVE_WORDS = []


@pytest.fixture
def tree(db):
    return make_tree()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def sms_outbox():
    MemorySmsBackend.outbox.clear()
    yield MemorySmsBackend.outbox
    MemorySmsBackend.outbox.clear()


@pytest.fixture(autouse=True)
def _turnout_unbatched(monkeypatch):
    """Each committed ballot reaches the turnout throttle at once, in the test's own thread (no
    timer thread outliving a test); tests/budgets/test_live.py tests the batching itself."""
    from budgets import live

    monkeypatch.setattr(live, "BATCH", 0)
    live._batches.clear()


@pytest.fixture(autouse=True)
def _process_wide_state_reset():
    """Every registered module-level cache, batch and hub starts empty (core.state)."""
    from core import state

    state.reset_all()
    yield
    state.reset_all()


@pytest.fixture(autouse=True)
def _english_by_default(settings):
    """Assertions read English; tests of the Chinese interface switch explicitly."""
    settings.LANGUAGE_CODE = "en"
