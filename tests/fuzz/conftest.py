"""Hypothesis profiles and the shared world of the fuzz tests.

`ci` (chosen when the CI environment variable is set) is derandomized, so a failure in CI is
reproduced by running the same test locally with CI=1. Locally the examples vary between runs.
Raise the count for a deeper search: HYPOTHESIS_PROFILE=deep.
"""

import os

import pytest
from django.core.cache import caches
from django.db import transaction
from django.test import override_settings
from hypothesis import HealthCheck, Phase, settings

_common = {
    "deadline": None,
    "suppress_health_check": [
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
    "print_blob": True,
}
settings.register_profile("ci", max_examples=15, derandomize=True, database=None, **_common)
settings.register_profile("dev", max_examples=15, **_common)
# Finds many problems fast: no shrinking, so the examples shown are not minimal.
settings.register_profile("scout", max_examples=25, phases=[Phase.generate], **_common)
settings.register_profile("deep", max_examples=300, **_common)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)


def isolated_settings(name: str, media_root) -> override_settings:
    """A cache and channel layer of our own (rate limits, broadcasts), files in a temp folder."""
    return override_settings(
        CACHES={
            "default": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": f"fuzz-{name}",
            }
        },
        CHANNEL_LAYERS={"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}},
        YISHI_SENSITIVE_WORDS=[],
        YISHI_IMPORT_IN_BACKGROUND=False,
        MEDIA_ROOT=str(media_root),
        LANGUAGE_CODE="en",
    )


@pytest.fixture(scope="module")
def world(request, django_db_setup, django_db_blocker, tmp_path_factory):
    """The world of tests.fuzz.world, built once per module inside a transaction that is
    rolled back at the end, so nothing is left for the other tests."""
    from tests.fuzz.world import build_world

    with isolated_settings(request.module.__name__, tmp_path_factory.mktemp("media")):
        with django_db_blocker.unblock():
            outer = transaction.atomic()
            outer.__enter__()
            try:
                yield build_world()
            finally:
                transaction.set_rollback(True)
                outer.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate limits counted in one test do not carry to the next (only a cache of our own is
    cleared: never a Redis shared with other test runs)."""
    from django.core.cache.backends.locmem import LocMemCache

    if isinstance(caches["default"], LocMemCache):
        caches["default"].clear()
    yield
