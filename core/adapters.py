"""allauth adapter: phone numbers live on core.User; codes go out through core.sms."""

import ipaddress
import logging
import re

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import RateLimited
from django import forms
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from core import sms
from core.models import User

logger = logging.getLogger("yishi.sms")

# Why core.sms would refuse an SMS, as the phone form tells the reader.
SMS_REFUSALS = {
    "destination": gettext_lazy(
        "Codes can only be sent to mainland China mobile numbers (11 digits starting with 1)."
    ),
    "locked_out": gettext_lazy(
        "Too many wrong codes were entered for this number today. Try again tomorrow."
    ),
    "number_cap": gettext_lazy(
        "This number has received as many codes as it can today. Try again tomorrow."
    ),
    "budget": gettext_lazy(
        "Codes cannot be sent any more today. Try again tomorrow, or ask your village committee."
    ),
}


class MobilePhoneField(forms.CharField):
    """Accepts what people type: 13800138000, 138 0013 8000, +86 138..., or a foreign +number."""

    default_error_messages = {
        "invalid": gettext_lazy("Enter an 11-digit mobile number, for example 13800138000."),
        "required": gettext_lazy("Enter your mobile number."),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("label", gettext_lazy("Mobile number"))
        kwargs.setdefault("max_length", 24)
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={
                    "type": "tel",
                    "autocomplete": "tel",
                    "inputmode": "tel",
                    "placeholder": "13800138000",
                }
            ),
        )
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return value
        phone = normalise_phone(value)
        if not PHONE_PATTERN.fullmatch(phone):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        refusal = sms.refusal_reason(phone)
        if refusal:
            raise forms.ValidationError(SMS_REFUSALS[refusal], code=refusal)
        return phone


class AccountAdapter(DefaultAccountAdapter):
    def phone_form_field(self, **kwargs):
        return MobilePhoneField(**kwargs)

    def clean_phone(self, phone: str) -> str:
        return normalise_phone(super().clean_phone(phone))

    def get_client_ip(self, request) -> str:
        """The TCP peer as uvicorn saw it (REMOTE_ADDR), never a header the client could write.

        Behind the proxy uvicorn has already replaced it with the address nginx wrote, and only
        for connections from the proxy (--forwarded-allow-ips): docs/deploy.md."""
        try:
            return str(ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")))
        except ValueError:
            raise PermissionDenied("Unable to determine client IP address") from None

    def send_verification_code_sms(self, user, phone: str, code: str, **kwargs) -> None:
        minutes = code_lifetime_minutes()
        self._send_sms(
            phone,
            message=ngettext(
                "Yishi verification code: %(code)s. Valid for %(minutes)d minute.",
                "Yishi verification code: %(code)s. Valid for %(minutes)d minutes.",
                minutes,
            )
            % {"code": code, "minutes": minutes},
            params={"code": code},
        )

    def send_unknown_account_sms(self, phone: str, **kwargs) -> None:
        self._send_sms(
            phone,
            message=_(
                "Someone asked to sign in to Yishi with this number, "
                "but it has no account. Sign up first."
            ),
        )

    def _send_sms(self, phone: str, *, message: str, params: dict | None = None) -> None:
        """Through core.sms and its limits; a refusal the form could not foresee (two requests
        racing for the last SMS of the day) answers 429 (core.middleware.RateLimitedMiddleware)."""
        from allauth.core import context

        address = self.get_client_ip(context.request) if context.request else "-"
        try:
            sms.send_sms(phone=phone, message=message, params=params)
        except sms.SmsRefused as refused:
            logger.warning(
                "SMS to %s refused (%s), asked from %s", sms.masked(phone), refused.reason, address
            )
            raise RateLimited() from refused
        logger.info("SMS to %s, asked from %s", sms.masked(phone), address)

    def set_phone(self, user, phone: str, verified: bool) -> None:
        user.phone = phone
        user.phone_verified = verified
        if not user.username:
            user.username = phone
        if user.pk:
            user.save(update_fields=["phone", "phone_verified", "username"])

    def get_phone(self, user):
        return (user.phone, user.phone_verified) if user.phone else None

    def set_phone_verified(self, user, phone: str) -> None:
        User.objects.filter(pk=user.pk, phone=phone).update(phone_verified=True)
        user.phone_verified = True

    def get_user_by_phone(self, phone: str):
        return User.objects.filter(phone=normalise_phone(phone)).order_by("pk").first()

    def populate_username(self, request, user):
        if not user.username and user.phone:
            user.username = user.phone


def code_lifetime_minutes() -> int:
    """How long an SMS code is accepted, from allauth's settings: the shorter of the sign-in and
    the phone-verification timeouts, so that the SMS never promises more than is true."""
    seconds = min(
        account_settings.LOGIN_BY_CODE_TIMEOUT, account_settings.PHONE_VERIFICATION_TIMEOUT
    )
    return max(1, seconds // 60)


# Mainland mobile numbers as 11 digits; anything else in E.164 with its + sign (which only the
# numbers in YISHI_SMS_ALLOWED_NUMBERS get past MobilePhoneField).
PHONE_PATTERN = re.compile(r"1[3-9][0-9]{9}|\+[1-9][0-9]{6,14}")


def normalise_phone(phone: str) -> str:
    """Mainland numbers are stored as 11 digits; +86/0086 prefixes and spaces are dropped."""
    digits = "".join(ch for ch in phone if ch.isdigit() or ch == "+")
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            return digits[len(prefix) :]
    return digits
