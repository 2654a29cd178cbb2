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
import re
import urllib.parse
import urllib.request
import uuid
from datetime import UTC, datetime
from typing import Protocol

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.module_loading import import_string

from core import ratelimit

logger = logging.getLogger("yishi.sms")


class SmsBackend(Protocol):
    """`template`: for a notice (notifications), the provider template registered for its kind
    ("" if none is; None for a sign-in code, which uses the backend's own); `key`: an id the
    provider may use to recognise a send it has seen (Aliyun's OutId)."""

    def send(
        self,
        phone: str,
        message: str,
        *,
        params: dict | None = None,
        template: str | None = None,
        key: str = "",
    ) -> None: ...


class ConsoleSmsBackend:
    """Development: write the message to the log, where the developer reads the code."""

    def send(self, phone: str, message: str, *, params: dict | None = None, **_notice) -> None:
        logger.warning("SMS to %s: %s", phone, message)
        print(f"[SMS to {phone}] {message}", flush=True)


class MemorySmsBackend:
    """Tests: keep messages in `outbox`, like Django's locmem e-mail backend."""

    outbox: list[tuple[str, str]] = []

    def send(self, phone: str, message: str, *, params: dict | None = None, **_notice) -> None:
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

    def signed_url(
        self,
        phone: str,
        params: dict,
        *,
        nonce: str,
        timestamp: str,
        template: str | None = None,
        key: str = "",
    ) -> str:
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
            "TemplateCode": template or self.config["TEMPLATE_CODE"],
            "TemplateParam": json.dumps(params, ensure_ascii=False, separators=(",", ":")),
            "Timestamp": timestamp,
            "Version": "2017-05-25",
        }
        if key:
            query["OutId"] = key
        canonical = "&".join(f"{_pct(k)}={_pct(v)}" for k, v in sorted(query.items()))
        to_sign = "GET&%2F&" + _pct(canonical)
        key = (self.config["ACCESS_KEY_SECRET"] + "&").encode()
        signature = base64.b64encode(hmac.new(key, to_sign.encode(), hashlib.sha1).digest())
        return f"{self.endpoint}?Signature={_pct(signature.decode())}&{canonical}"

    def send(
        self,
        phone: str,
        message: str,
        *,
        params: dict | None = None,
        template: str | None = None,
        key: str = "",
    ) -> None:
        if template == "":
            # A notice whose kind has no approved template: Aliyun sends templates only, and
            # the sign-in code's would say something else entirely.
            raise SmsRefused("no_template")
        url = self.signed_url(
            phone,
            params or {},
            nonce=uuid.uuid4().hex,
            timestamp=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            template=template,
            key=key,
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


# --- What SMS may cost (docs/sms.md, "Spend") ----------------------------------------------
# Every SMS is paid for, and an SMS form is an open tap: the counters below bound the spend per
# number and per day. They live in the shared cache (Redis in production), counted with
# add + incr so that every worker counts together and two requests never read the same count.

# Mainland mobile numbers, as normalise_phone stores them: 11 digits, 13x-19x.
MAINLAND_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_DAY_SECONDS = 26 * 60 * 60  # a counter outlives its day by a margin, then expires by itself


class SmsRefused(Exception):
    """No SMS was sent: `reason` is "destination", "locked_out", "number_cap" or "budget"."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def may_receive_sms(phone: str) -> bool:
    """A mainland mobile number, or one of YISHI_SMS_ALLOWED_NUMBERS (testers abroad)."""
    return (
        bool(MAINLAND_MOBILE.fullmatch(phone or "")) or phone in settings.YISHI_SMS_ALLOWED_NUMBERS
    )


def _key(what: str, phone: str = "") -> str:
    return f"yishi:sms:{what}:{timezone.localdate().isoformat()}:{phone}"


def _count(key: str) -> int:
    """Add one to a day counter, atomically, and return the new count."""
    return ratelimit.count(key, timeout=_DAY_SECONDS)


def _over(count: int, cap: int | None) -> bool:
    return cap is not None and count > cap


def codes_sent_today(phone: str) -> int:
    return cache.get(_key("sent", phone), 0)


def wrong_codes_today(phone: str) -> int:
    return cache.get(_key("wrong", phone), 0)


def is_locked_out(phone: str) -> bool:
    """Too many wrong codes for this number today: no code is accepted or sent until tomorrow.

    Counted per number, not per sign-in attempt, so asking for a new code resets nothing."""
    cap = settings.YISHI_SMS_WRONG_CODES_PER_NUMBER_PER_DAY
    return cap is not None and wrong_codes_today(phone) >= cap


def record_wrong_code(phone: str) -> int:
    return _count(_key("wrong", phone))


def number_cap_reached(phone: str) -> bool:
    cap = settings.YISHI_SMS_CODES_PER_NUMBER_PER_DAY
    return cap is not None and codes_sent_today(phone) >= cap


def budget_spent() -> bool:
    budget = settings.YISHI_SMS_DAILY_BUDGET
    return budget is not None and cache.get(_key("total"), 0) >= budget


def budget_alert() -> dict | None:
    """Today's alert, set when the daily SMS budget ran out (shown on the Wagtail admin home)."""
    return cache.get(_key("budget-spent"))


def refusal_reason(phone: str) -> str | None:
    """Why an SMS to `phone` would be refused now, or None. For forms, before anything is sent;
    `send_sms` decides again, atomically."""
    if not may_receive_sms(phone):
        return "destination"
    if is_locked_out(phone):
        return "locked_out"
    if number_cap_reached(phone):
        return "number_cap"
    if budget_spent():
        return "budget"
    return None


def send_sms(*, phone: str, message: str, params: dict | None = None) -> None:
    """Send one SMS through the configured backend, within the number's and the day's limits.

    Raises SmsRefused, and sends nothing, when the number may not receive SMS, is locked out,
    has had its codes for today, or when today's budget (YISHI_SMS_DAILY_BUDGET) is spent; the
    first refusal for the budget raises the admin alert.
    """
    if not may_receive_sms(phone):
        raise SmsRefused("destination")
    if is_locked_out(phone):
        raise SmsRefused("locked_out")
    if _over(_count(_key("sent", phone)), settings.YISHI_SMS_CODES_PER_NUMBER_PER_DAY):
        raise SmsRefused("number_cap")
    _take_from_daily_budget()
    get_backend().send(phone, message, params=params)


def _take_from_daily_budget() -> None:
    """Count one SMS against the day's budget (YISHI_SMS_DAILY_BUDGET), shared by codes and
    notices; SmsRefused("budget") once it is spent, and the first refusal raises the alert."""
    total = _count(_key("total"))
    if _over(total, settings.YISHI_SMS_DAILY_BUDGET):
        if cache.add(
            _key("budget-spent"),
            {"day": timezone.localdate(), "budget": settings.YISHI_SMS_DAILY_BUDGET},
            timeout=_DAY_SECONDS,
        ):
            logger.error(
                "Daily SMS budget of %s spent: no more SMS today.", settings.YISHI_SMS_DAILY_BUDGET
            )
        raise SmsRefused("budget")


def send_notice(
    *, phone: str, message: str, params: dict | None = None, template: str = "", key: str = ""
) -> None:
    """Send a notification by SMS (notifications.channels): within the day's budget, but not
    counted against a number's sign-in codes. `template`: the provider template registered for
    the notice's kind (YISHI_SMS_NOTICE_TEMPLATES), `key`: the delivery's id. Raises SmsRefused
    ("destination", "budget", "no_template" from a provider that needs one)."""
    if not may_receive_sms(phone):
        raise SmsRefused("destination")
    budget = settings.YISHI_SMS_DAILY_BUDGET
    share = getattr(settings, "YISHI_NOTIFY_SMS_SHARE_OF_DAILY_BUDGET", 0.8)
    # Notices may take only their share of the day, so sign-in codes are never crowded out.
    if budget is not None and _count(_key("notices")) > int(budget * share):
        raise SmsRefused("budget")
    _take_from_daily_budget()
    get_backend().send(phone, message, params=params, template=template, key=key)


def masked(phone: str) -> str:
    """138****8000: enough for a log reader to tell numbers apart, not to call them."""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"
