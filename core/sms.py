"""Sending SMS messages.

A backend is any class with `send(phone, message, *, params) -> None`: `message` is the full
text (for logs and providers that take free text), `params` the template variables (Chinese
providers only send pre-approved templates, e.g. {"code": "123456"}). Settings choose one with
YISHI_SMS_BACKEND; docs/sms.md shows how to plug in another provider.
"""

import base64
import hashlib
import hmac
import json
import logging
import urllib.parse
import urllib.request
import uuid
from datetime import UTC, datetime
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("yishi.sms")


class SmsBackend(Protocol):
    def send(self, phone: str, message: str, *, params: dict | None = None) -> None: ...


class ConsoleSmsBackend:
    """Development: write the message to the log, where the developer reads the code."""

    def send(self, phone: str, message: str, *, params: dict | None = None) -> None:
        logger.warning("SMS to %s: %s", phone, message)
        print(f"[SMS to {phone}] {message}", flush=True)


class MemorySmsBackend:
    """Tests: keep messages in `outbox`, like Django's locmem e-mail backend."""

    outbox: list[tuple[str, str]] = []

    def send(self, phone: str, message: str, *, params: dict | None = None) -> None:
        MemorySmsBackend.outbox.append((phone, message))


class SmsDeliveryError(Exception):
    """The provider refused or failed to deliver a message."""


class AliyunSmsBackend:
    """Aliyun (阿里云) Dysmsapi SendSms, RPC signature v1 (HMAC-SHA1), standard library only.

    Needs YISHI_SMS_ACCESS_KEY_ID, YISHI_SMS_ACCESS_KEY_SECRET, YISHI_SMS_SIGN_NAME and
    YISHI_SMS_TEMPLATE_CODE (a template with a ${code} variable, approved by Aliyun).
    """

    endpoint = "https://dysmsapi.aliyuncs.com/"

    def __init__(self, config: dict | None = None, opener=urllib.request.urlopen):
        self.config = config or settings.YISHI_SMS_SETTINGS
        self.opener = opener

    def signed_url(self, phone: str, params: dict, *, nonce: str, timestamp: str) -> str:
        query = {
            "AccessKeyId": self.config["ACCESS_KEY_ID"],
            "Action": "SendSms",
            "Format": "JSON",
            "PhoneNumbers": phone.removeprefix("+86"),
            "RegionId": "cn-hangzhou",
            "SignName": self.config["SIGN_NAME"],
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": nonce,
            "SignatureVersion": "1.0",
            "TemplateCode": self.config["TEMPLATE_CODE"],
            "TemplateParam": json.dumps(params, ensure_ascii=False, separators=(",", ":")),
            "Timestamp": timestamp,
            "Version": "2017-05-25",
        }
        canonical = "&".join(f"{_pct(k)}={_pct(v)}" for k, v in sorted(query.items()))
        to_sign = "GET&%2F&" + _pct(canonical)
        key = (self.config["ACCESS_KEY_SECRET"] + "&").encode()
        signature = base64.b64encode(hmac.new(key, to_sign.encode(), hashlib.sha1).digest())
        return f"{self.endpoint}?Signature={_pct(signature.decode())}&{canonical}"

    def send(self, phone: str, message: str, *, params: dict | None = None) -> None:
        url = self.signed_url(
            phone,
            params or {},
            nonce=uuid.uuid4().hex,
            timestamp=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        try:
            with self.opener(url, timeout=10) as response:
                answer = json.loads(response.read().decode("utf-8"))
        except (OSError, ValueError) as error:
            raise SmsDeliveryError(f"SMS provider unreachable: {error}") from error
        if answer.get("Code") != "OK":
            raise SmsDeliveryError(
                f"SMS provider refused: {answer.get('Code')} {answer.get('Message', '')}"
            )


def _pct(value: str) -> str:
    """Aliyun's percent-encoding: RFC 3986 unreserved characters stay, everything else %XX."""
    return urllib.parse.quote(str(value), safe="~")


def get_backend() -> SmsBackend:
    return import_string(settings.YISHI_SMS_BACKEND)()


def send_sms(*, phone: str, message: str, params: dict | None = None) -> None:
    """Send one SMS through the configured backend."""
    get_backend().send(phone, message, params=params)
