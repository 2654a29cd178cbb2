"""Test settings with the channel layer of tests/faults/stubborn_layer.py (needs REDIS_URL)."""

from yishi.settings.test import *  # noqa: F403
from yishi.settings.test import CHANNEL_LAYERS

CHANNEL_LAYERS["default"]["BACKEND"] = "tests.faults.stubborn_layer.StubbornRedisChannelLayer"
