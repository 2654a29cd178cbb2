"""allauth adapter: phone numbers live on core.User; codes go out through core.sms."""

import re

from allauth.account.adapter import DefaultAccountAdapter
from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.models import User
from core.sms import send_sms


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
        return phone


class AccountAdapter(DefaultAccountAdapter):
    def phone_form_field(self, **kwargs):
        return MobilePhoneField(**kwargs)

    def clean_phone(self, phone: str) -> str:
        return normalise_phone(super().clean_phone(phone))

    def send_verification_code_sms(self, user, phone: str, code: str, **kwargs) -> None:
        send_sms(
            phone=phone,
            message=_("Yishi verification code: %(code)s. Valid for 10 minutes.") % {"code": code},
            params={"code": code},
        )

    def send_unknown_account_sms(self, phone: str, **kwargs) -> None:
        send_sms(
            phone=phone,
            message=_(
                "Someone asked to sign in to Yishi with this number, "
                "but it has no account. Sign up first."
            ),
        )

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


# Mainland mobile numbers as 11 digits; anything else in E.164 with its + sign.
PHONE_PATTERN = re.compile(r"1[3-9][0-9]{9}|\+[1-9][0-9]{6,14}")


def normalise_phone(phone: str) -> str:
    """Mainland numbers are stored as 11 digits; +86/0086 prefixes and spaces are dropped."""
    digits = "".join(ch for ch in phone if ch.isdigit() or ch == "+")
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            return digits[len(prefix) :]
    return digits
