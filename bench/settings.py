"""Settings for benchmarks: the test settings plus a URL for the minimal baseline view."""

import os

from yishi.settings.test import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
DEBUG = False
LOGGING = {
    "version": 1,
    "formatters": {"reads": {"format": "%(name)s pid=%(process)d %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "reads": {"class": "logging.StreamHandler", "formatter": "reads"},
    },
    "loggers": {
        "django.request": {"handlers": ["console"], "level": "ERROR"},
        # Every database read the sockets of a worker share (bench_fanout counts them).
        "yishi.realtime.reads": {"handlers": ["reads"], "level": "DEBUG", "propagate": False},
    },
}

if os.environ.get("BENCH_CHANNEL_LAYER") == "channels_redis":
    # For comparing the live layer with the one it replaced (docs/performance.md).
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "capacity": 1000, "expiry": 30},  # noqa: F405
        }
    }
