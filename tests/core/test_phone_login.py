"""Sign-up and sign-in by mobile phone with an SMS code, through allauth and our SMS backend."""

import re

import pytest

from core.models import User
from tests.councils.factories import UserFactory

pytestmark = pytest.mark.django_db


def code_in(outbox, phone):
    messages = [text for to, text in outbox if to == phone]
    assert messages, f"no SMS sent to {phone}: {outbox}"
    return re.search(r"[:：]\s*([0-9]{6})\b", messages[-1]).group(1)


def test_sign_up_with_a_phone_number_and_an_sms_code(client, sms_outbox):
    response = client.post("/accounts/signup/", {"phone": "13812345678"})
    assert response.status_code == 302
    code = code_in(sms_outbox, "13812345678")
    response = client.post(response["Location"], {"code": code})
    assert response.status_code == 302
    user = User.objects.get(phone="13812345678")
    assert user.phone_verified
    assert not user.has_usable_password()  # password optional
    assert client.session["_auth_user_id"] == str(user.pk)


def test_sign_up_accepts_the_plus86_prefix(client, sms_outbox):
    client.post("/accounts/signup/", {"phone": "+86 138 1234 0000"})
    assert sms_outbox and sms_outbox[-1][0] == "13812340000"


def test_wrong_sms_code_does_not_sign_in(client, sms_outbox):
    response = client.post("/accounts/signup/", {"phone": "13812345679"})
    code_in(sms_outbox, "13812345679")
    response = client.post(response["Location"], {"code": "WRONG1"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert not User.objects.get(phone="13812345679").phone_verified


def test_sign_in_by_sms_code(client, sms_outbox):
    user = UserFactory(phone="13900001111")
    response = client.post("/accounts/login/code/", {"phone": "13900001111"})
    assert response.status_code == 302
    code = code_in(sms_outbox, "13900001111")
    response = client.post(response["Location"], {"code": code})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_sign_in_code_for_unknown_number_logs_in_nobody(client, sms_outbox):
    client.post("/accounts/login/code/", {"phone": "13900002222"})
    assert not User.objects.filter(phone="13900002222").exists()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("phone", ["", "abc", "12"])
def test_bad_phone_numbers_get_a_message_and_create_nothing(client, sms_outbox, phone):
    response = client.post("/accounts/signup/", {"phone": phone})
    assert response.status_code == 200
    assert 'class="error"' in response.content.decode() or "errorlist" in response.content.decode()
    assert not User.objects.exists()
    assert not sms_outbox


def test_login_page_is_in_chinese_by_default(client, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    html = client.get("/accounts/login/").content.decode()
    assert "登录" in html and 'lang="zh-hans"' in html
