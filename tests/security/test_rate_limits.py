"""Rate limits bite, with a message the reader understands, in Chinese and in English.

Test settings switch allauth's limits off (ACCOUNT_RATE_LIMITS = {}); these tests put back the
production values from yishi/settings/base.py. Sign-in is by SMS code only, so the limits that
matter are the codes sent per number and per IP, and the wrong codes tried per sign-in.
"""

import datetime
import re

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone, translation
from django.utils.translation import gettext
from freezegun import freeze_time

from deliberation.models import Message
from tests.councils.factories import UserFactory
from tests.security.world import World
from yishi.settings import base

LANGUAGES = ["en", "zh-hans"]
TOO_MANY_CODES = "Too many failed login attempts. Try again later."


@pytest.fixture
def limits(settings):
    settings.ACCOUNT_RATE_LIMITS = dict(base.ACCOUNT_RATE_LIMITS)
    return settings.ACCOUNT_RATE_LIMITS


def client_in(language: str) -> Client:
    client = Client()
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = language
    return client


def in_language(language: str, text: str) -> str:
    with translation.override(language):
        return gettext(text)


def per_key(limits, action: str) -> int:
    """The count of the per-number limit of `action`, e.g. 3 in "20/m/ip,3/5m/key"."""
    return next(int(r.split("/")[0]) for r in limits[action].split(",") if r.endswith("/key"))


def per_ip(limits, action: str) -> int:
    return next(int(r.split("/")[0]) for r in limits[action].split(",") if r.endswith("/ip"))


def test_production_limits_are_set_for_codes_and_sign_in():
    assert per_key(base.ACCOUNT_RATE_LIMITS, "request_login_code") <= 5
    # allauth reads "verify_phone" for SMS codes at sign-up; an unknown name is silently ignored.
    assert per_key(base.ACCOUNT_RATE_LIMITS, "verify_phone") == 1
    assert "confirm_phone" not in base.ACCOUNT_RATE_LIMITS
    assert per_ip(base.ACCOUNT_RATE_LIMITS, "login") <= 30
    assert base.ACCOUNT_LOGIN_BY_CODE_MAX_ATTEMPTS <= 5


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("path", ["/accounts/login/code/", "/accounts/login/"])
def test_sms_codes_per_number_are_limited(limits, sms_outbox, language, path):
    user = UserFactory()
    field = "phone" if path.endswith("code/") else "login"
    allowed = per_key(limits, "request_login_code")
    for _ in range(allowed):
        response = client_in(language).post(path, {field: user.phone})
        assert response.status_code == 302
    assert len(sms_outbox) == allowed
    response = client_in(language).post(path, {field: user.phone})
    assert response.status_code == 200
    assert in_language(language, TOO_MANY_CODES) in response.content.decode()
    assert len(sms_outbox) == allowed  # no further SMS for this number
    if language == "zh-hans":
        assert "稍后" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_sms_codes_per_ip_are_limited(limits, sms_outbox, language):
    # A fresh client each time, as a script dropping its cookies would be; one IP, many numbers.
    allowed = per_ip(limits, "request_login_code")
    for n in range(allowed):
        response = client_in(language).post("/accounts/login/code/", {"phone": f"1390000{n:04d}"})
        assert response.status_code == 302
    sent = len(sms_outbox)
    response = client_in(language).post("/accounts/login/code/", {"phone": "13911119999"})
    assert response.status_code == 200
    assert in_language(language, TOO_MANY_CODES) in response.content.decode()
    assert len(sms_outbox) == sent


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_sign_up_codes_per_ip_are_limited_with_a_page_not_a_server_error(
    limits, sms_outbox, language
):
    allowed = next(
        int(r.split("/")[0]) for r in limits["verify_phone"].split(",") if r.endswith("/ip")
    )
    limits["signup"] = f"{allowed * 2}/m/ip"  # so that the codes' own limit is what bites
    for n in range(allowed):
        response = client_in(language).post("/accounts/signup/", {"phone": f"1380000{n:04d}"})
        assert response.status_code == 302
    assert len(sms_outbox) == allowed
    response = client_in(language).post("/accounts/signup/", {"phone": "13811119999"})
    assert response.status_code == 429
    assert len(sms_outbox) == allowed
    page = response.content.decode()
    assert in_language(language, "You have tried this too many times.") in page
    assert re.search(rf'<html[^>]*lang="{language}"', page)


@pytest.mark.django_db
@pytest.mark.parametrize("limited", [True, False])
def test_sign_up_code_is_not_resent_within_a_minute(settings, sms_outbox, limited):
    settings.ACCOUNT_RATE_LIMITS = dict(base.ACCOUNT_RATE_LIMITS) if limited else False
    client = client_in("en")
    client.post("/accounts/signup/", {"phone": "13812340000"})
    assert len(sms_outbox) == 1
    response = client.post("/accounts/phone/verify/", {"action": "resend"}, follow=True)
    # Without limits the resend goes out (so the request is right); with them it does not.
    assert len(sms_outbox) == (1 if limited else 2)
    if limited:
        errors = [str(m) for m in response.context["messages"]]
        assert errors and all(text for text in errors)


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_wrong_codes_end_the_sign_in_attempt(limits, sms_outbox, language):
    user = UserFactory()
    client = client_in(language)
    response = client.post("/accounts/login/code/", {"phone": user.phone})
    confirm = response["Location"]
    code = re.search(r"\d{6}", sms_outbox[-1][1]).group(0)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(django_settings.ACCOUNT_LOGIN_BY_CODE_MAX_ATTEMPTS):
        client.post(confirm, {"code": wrong})
    response = client.post(confirm, {"code": code}, follow=True)
    assert "_auth_user_id" not in client.session  # the right code, too late, signs in nobody


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_hall_posts_per_person_are_limited(settings, language):
    settings.YISHI_DELIBERATION_POST_RATE = base.YISHI_DELIBERATION_POST_RATE
    allowed, _seconds = settings.YISHI_DELIBERATION_POST_RATE
    world = World()
    client = client_in(language)
    client.force_login(world.people["resident"])
    url = f"/halls/topics/{world.topic.pk}/post/"
    start = timezone.now().replace(second=5, microsecond=0)
    with freeze_time(start):  # one rate window, however slow the machine
        for n in range(allowed):
            assert client.post(url, {"body": f"第{n}条"}).status_code == 302
        response = client.post(url, {"body": "再说一句"})
    assert response.status_code == 400
    assert Message.objects.filter(topic=world.topic).count() == allowed
    expected = in_language(language, "You are posting too fast. Wait a minute and try again.")
    assert expected in response.content.decode()
    if language == "zh-hans":
        assert expected == "发言太快了，请等一分钟再试。"
    # The next window lets the resident speak again.
    with freeze_time(start + datetime.timedelta(seconds=60)):
        assert client.post(url, {"body": "现在可以了"}).status_code == 302
