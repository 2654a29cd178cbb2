import base64
import hashlib
import hmac
import io
import json
import urllib.parse

import pytest

from core.sms import AliyunSmsBackend, SmsDeliveryError

CONFIG = {
    "ACCESS_KEY_ID": "testid",
    "ACCESS_KEY_SECRET": "testsecret",
    "SIGN_NAME": "议事",
    "TEMPLATE_CODE": "SMS_1",
}


def fake_opener(answer, seen):
    def opener(url, timeout):
        seen.append(url)
        return io.BytesIO(json.dumps(answer).encode())

    return opener


def test_aliyun_request_is_signed_over_the_sorted_query():
    backend = AliyunSmsBackend(CONFIG)
    url = backend.signed_url(
        "+8613800138000", {"code": "123456"}, nonce="n1", timestamp="2026-11-23T00:00:00Z"
    )
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert query["PhoneNumbers"] == "13800138000"
    assert json.loads(query["TemplateParam"]) == {"code": "123456"}
    signature = query.pop("Signature")
    canonical = "&".join(
        f"{urllib.parse.quote(k, safe='~')}={urllib.parse.quote(v, safe='~')}"
        for k, v in sorted(query.items())
    )
    to_sign = "GET&%2F&" + urllib.parse.quote(canonical, safe="~")
    expected = base64.b64encode(
        hmac.new(b"testsecret&", to_sign.encode(), hashlib.sha1).digest()
    ).decode()
    assert signature == expected
    other = AliyunSmsBackend({**CONFIG, "ACCESS_KEY_SECRET": "other"}).signed_url(
        "+8613800138000", {"code": "123456"}, nonce="n1", timestamp="2026-11-23T00:00:00Z"
    )
    assert other != url


def test_aliyun_ok_answer_passes_and_refusal_raises():
    seen = []
    AliyunSmsBackend(CONFIG, opener=fake_opener({"Code": "OK"}, seen)).send(
        "13800138000", "code 123456", params={"code": "123456"}
    )
    assert len(seen) == 1 and seen[0].startswith("https://dysmsapi.aliyuncs.com/?Signature=")
    with pytest.raises(SmsDeliveryError, match="isv.BUSINESS_LIMIT_CONTROL"):
        AliyunSmsBackend(
            CONFIG,
            opener=fake_opener({"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发流控"}, []),
        ).send("13800138000", "x", params={"code": "1"})


def test_aliyun_unreachable_raises_a_delivery_error():
    def broken(url, timeout):
        raise OSError("network down")

    with pytest.raises(SmsDeliveryError, match="unreachable"):
        AliyunSmsBackend(CONFIG, opener=broken).send("13800138000", "x", params={"code": "1"})


def test_aliyun_sends_a_notice_with_its_kinds_template_and_the_delivery_as_out_id():
    seen = []
    AliyunSmsBackend(CONFIG, opener=fake_opener({"Code": "OK"}, seen)).send(
        "13800138000",
        "【议事】…",
        params={"title": "修路", "link": "https://x.cn/t/1/"},
        template="SMS_NOTICE_1",
        key="yishi-42",
    )
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(seen[0]).query))
    assert query["TemplateCode"] == "SMS_NOTICE_1" and query["OutId"] == "yishi-42"
    assert json.loads(query["TemplateParam"]) == {"title": "修路", "link": "https://x.cn/t/1/"}
    # A sign-in code still goes with the code's own template, and no OutId.
    AliyunSmsBackend(CONFIG, opener=fake_opener({"Code": "OK"}, seen)).send(
        "13800138000", "code", params={"code": "123456"}
    )
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(seen[1]).query))
    assert query["TemplateCode"] == CONFIG["TEMPLATE_CODE"] and "OutId" not in query


def test_aliyun_refuses_a_notice_whose_kind_has_no_template_and_sends_nothing():
    from core.sms import SmsRefused

    seen = []
    with pytest.raises(SmsRefused) as refused:
        AliyunSmsBackend(CONFIG, opener=fake_opener({"Code": "OK"}, seen)).send(
            "13800138000", "…", params={"title": "修路"}, template="", key="yishi-1"
        )
    assert refused.value.reason == "no_template" and seen == []
