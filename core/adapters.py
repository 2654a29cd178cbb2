"""allauth adapter: phone numbers live on core.User; codes go out through core.sms."""

from allauth.account.adapter import DefaultAccountAdapter
from django.utils.translation import gettext as _

from core.models import User
from core.sms import send_sms


class AccountAdapter(DefaultAccountAdapter):
    def clean_phone(self, phone: str) -> str:
        phone = super().clean_phone(phone)
        return normalise_phone(phone)

    def send_verification_code_sms(self, user, phone: str, code: str, **kwargs) -> None:
        send_sms(phone=phone, message=_("Yishi verification code: %(code)s. Valid for 10 minutes.")
                 % {"code": code})

    def send_unknown_account_sms(self, phone: str, **kwargs) -> None:
        send_sms(phone=phone, message=_("Someone asked to sign in to Yishi with this number, "
                                        "but it has no account. Sign up first."))

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


def normalise_phone(phone: str) -> str:
    """Mainland numbers are stored as 11 digits; +86/0086 prefixes and spaces are dropped."""
    digits = "".join(ch for ch in phone if ch.isdigit() or ch == "+")
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            return digits[len(prefix):]
    return digits
