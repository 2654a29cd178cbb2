"""Helpers of the issue-14 tests in Chinese.

Their zh-hans messages are in locale/ (merged and compiled with the rest of the catalogue), so
`zh_catalogue` only names that dependency; it changes nothing.
"""

import pytest


@pytest.fixture
def zh_catalogue():
    yield


def speak(client, language: str) -> None:
    """The reader's language switch (a cookie): the site ignores Accept-Language on purpose."""
    from django.conf import settings

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
