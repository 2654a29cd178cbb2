"""Local development: SQLite and in-memory channels unless the environment says otherwise."""

from .base import *  # noqa: F403

DEBUG = True
# Plain storage in development so that pages work before collectstatic.
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
