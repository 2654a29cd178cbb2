"""Every account page that allauth rate-limits answers 429 with our page, which says why.

Test settings switch allauth's limits off (ACCOUNT_RATE_LIMITS = False); here each action is
limited to one a minute, and the page answered once the limit bites must carry, in the reader's
language, the explanation of templates/429.html in an element a screen reader announces.
"""

import re

import pytest
from django.test import Client
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext

from tests.councils.factories import UserFactory

pytestmark = pytest.mark.django_db

ACTIONS = ["signup", "change_phone"]
# Password and e-mail pages answer 404 on this phone-only site (tests/core/test_trust_signin.py).
PAGES = {
    "/accounts/signup/": ("anonymous", {"phone": "13912345678"}),
    "/accounts/phone/change/": ("resident", {"phone": "13712345678"}),
}


@pytest.fixture
def one_a_minute(settings, request):
    settings.ACCOUNT_RATE_LIMITS = {action: "1/m/ip" for action in ACTIONS}
    # Counted in this test's own cache, never in a Redis shared with other tests.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": request.node.nodeid,
        }
    }


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("path", PAGES)
def test_a_rate_limited_account_page_says_why(one_a_minute, path, language):
    who, data = PAGES[path]
    client = Client()
    client.cookies["django_language"] = language
    if who == "resident":
        client.force_login(UserFactory())
    statuses = [client.post(path, data).status_code for _ in range(3)]
    assert 429 in statuses, f"{path} was never limited: {statuses}"
    response = client.post(path, data)
    assert response.status_code == 429
    page = response.content.decode()
    with translation.override(language):
        reason = gettext("You have tried this too many times.")
    alert = re.search(r'<p class="lead" role="alert">(.*?)</p>', page, re.S)
    assert alert and escape(reason) in alert.group(1)
