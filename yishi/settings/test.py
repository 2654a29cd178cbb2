"""Test settings: fast hashing, no manifest, SQLite in memory unless DATABASE_URL is set."""

from .base import *  # noqa: F403
from .base import env

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
if not env("DATABASE_URL"):
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
YISHI_SMS_BACKEND = "core.sms.MemorySmsBackend"
# allauth's limits off (False: an empty dict would keep allauth's defaults, e.g. one phone change a
# minute per user). Tests of the limits put back the production values (tests/security).
ACCOUNT_RATE_LIMITS = False
MEDIA_ROOT = BASE_DIR / "var" / "test-media"  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405 - whitenoise warns when it is missing
