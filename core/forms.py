"""allauth's code forms, counting wrong codes per number and per day (settings.ACCOUNT_FORMS).

allauth ends one sign-in attempt after ACCOUNT_LOGIN_BY_CODE_MAX_ATTEMPTS wrong codes, but asking
for a new code starts a fresh attempt. Here every wrong code also counts against the number for
the day (core.sms), and once the number is locked out no code is accepted, not even the right one,
however many new codes are asked for.
"""

from allauth.account import forms as allauth_forms
from allauth.core import context
from allauth.core.internal.cryptokit import compare_user_code
from django import forms

from core import sms
from core.adapters import SMS_REFUSALS


class _DailyWrongCodeLimit:
    expected_code: str

    def phone_for_code(self) -> str | None:
        """The number the code was sent to; each form below says where allauth keeps it. None
        (no number known) leaves only allauth's own per-attempt limit."""
        return None

    def clean_code(self) -> str:
        phone = self.phone_for_code()
        if phone and sms.is_locked_out(phone):
            raise forms.ValidationError(SMS_REFUSALS["locked_out"], code="locked_out")
        code = self.cleaned_data.get("code", "")
        if phone and not compare_user_code(actual=code, expected=self.expected_code):
            sms.record_wrong_code(phone)
        return super().clean_code()


class ConfirmLoginCodeForm(_DailyWrongCodeLimit, allauth_forms.ConfirmLoginCodeForm):
    def phone_for_code(self) -> str | None:
        stage = getattr(context.request, "_login_stage", None)
        return stage.state.get("phone") if stage else None


class VerifyPhoneForm(_DailyWrongCodeLimit, allauth_forms.VerifyPhoneForm):
    def phone_for_code(self) -> str | None:
        return self.phone
