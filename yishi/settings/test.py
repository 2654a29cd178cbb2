"""Test settings: fast hashing, no manifest, SQLite in memory unless DATABASE_URL is set."""

import os
import re

# Test processes of one run (pytest-xdist workers gw0, gw1, ...) each get a Redis database of
# their own, the next ones after REDIS_URL's (CI: 0 and 1): a test that clears the cache
# empties its whole database (FLUSHDB), which must not be the other process's. PostgreSQL test
# databases get a per-worker suffix from pytest-django. Set before base.py reads the variable,
# so that servers a test starts inherit it; and only once: a process such a server or worker
# starts inherits PYTEST_XDIST_WORKER too, and must not move on to the next database again
# (an RQ worker started by gw1 listened on database 2 while gw1 enqueued on 1).
_worker = re.fullmatch(r"gw(\d+)", os.environ.get("PYTEST_XDIST_WORKER", ""))
_redis = re.fullmatch(r"(redis://[^/]+)/(\d+)", os.environ.get("REDIS_URL", ""))
if _worker and _redis and not os.environ.get("YISHI_TEST_REDIS_DB_CHOSEN"):
    os.environ["REDIS_URL"] = f"{_redis[1]}/{int(_redis[2]) + int(_worker[1])}"
    os.environ["YISHI_TEST_REDIS_DB_CHOSEN"] = "1"

from .base import *  # noqa: E402, F403
from .base import env  # noqa: E402

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
if not env("DATABASE_URL"):
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
YISHI_SMS_BACKEND = "core.sms.MemorySmsBackend"
YISHI_WECHAT_BACKEND = "notifications.channels.MemoryWechatBackend"
YISHI_NOTIFY_CHANNELS = ["sms", "wechat", "email"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# allauth's limits off (False: an empty dict would keep allauth's defaults, e.g. one phone change a
# minute per user). Tests of the limits put back the production values (tests/security).
ACCOUNT_RATE_LIMITS = False
# The daily SMS caps likewise (counts would carry between tests in the shared cache); tests of
# the caps put back the production values (tests/core/test_trust_signin.py).
YISHI_SMS_CODES_PER_NUMBER_PER_DAY = None
YISHI_SMS_WRONG_CODES_PER_NUMBER_PER_DAY = None
YISHI_SMS_DAILY_BUDGET = None
# The open API's limits off likewise; tests/api/test_limits.py puts a low one back.
REST_FRAMEWORK = {  # noqa: F405
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {"api_anonymous": None, "api_user": None},
}
MEDIA_ROOT = BASE_DIR / "var" / "test-media"  # noqa: F405
PRIVATE_MEDIA_ROOT = BASE_DIR / "var" / "test-private"  # noqa: F405
STORAGES["private"] = {  # noqa: F405
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": PRIVATE_MEDIA_ROOT, "base_url": "/no-public-url/"},
}
# Tasks run at once, in the caller's thread, so tests are deterministic; tests of the worker
# switch to the database backend with override_settings.
# A worker started by a test (tests/core/test_task_failures.py) sets YISHI_TASK_BACKEND=db.
if not env("YISHI_TASK_BACKEND"):
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405 - whitenoise warns when it is missing
# Wagtail's search index is not kept up to date on save: indexing every page a test makes took
# a tenth of the suite. Tests of search ask for the `search_index` fixture (tests/conftest.py),
# which turns it back on; the others find councils by their name alone. The reference index
# (Wagtail's "usage" counts, which nothing of ours reads) is off likewise (tests/conftest.py).
WAGTAILSEARCH_BACKENDS = {
    "default": {"BACKEND": "wagtail.search.backends.database", "AUTO_UPDATE": False}
}
