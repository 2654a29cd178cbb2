from django import forms
from django.utils.translation import gettext_lazy as _

from core.models import User
from core.text import validate_display_name


class JoinCouncilForm(forms.Form):
    house_number = forms.CharField(
        label=_("House number"),
        max_length=40,
        required=True,
        help_text=_("For example 3组12号. The committee checks it against the household register."),
        error_messages={"required": _("Write your house number so the committee can check it.")},
    )
    message = forms.CharField(
        label=_("Message to the committee (optional)"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class RejectMembershipForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        error_messages={"required": _("Give the applicant a reason.")},
    )


class VerifyMembershipForm(forms.Form):
    household_number = forms.CharField(label=_("Household"), max_length=40, required=False)


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["display_name", "real_name"]

    def clean_display_name(self):
        name = self.cleaned_data["display_name"]
        if name:  # before strip(): "\u200b王" must not pass as a name of 2 characters
            validate_display_name(name)
        name = name.strip()
        if name and len(name) < 2:
            raise forms.ValidationError(_("A display name needs at least 2 characters."))
        return name


class CouncilSearchForm(forms.Form):
    q = forms.CharField(label=_("Council name"), max_length=60, required=False)


class HouseholdForm(forms.Form):
    number = forms.CharField(
        label=_("House number"),
        max_length=40,
        error_messages={"required": _("Write the house number, for example 3组12号.")},
    )
    representative = forms.ChoiceField(label=_("Village representative"), required=False)

    def __init__(self, *args, representatives=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["representative"].choices = [("", _("— none —"))] + [
            (str(user.pk), user.public_name) for user in representatives
        ]


class RegisterMemberForm(forms.Form):
    """A villager on the household register (for paper ballots without an account)."""

    number = forms.CharField(
        label=_("House number"),
        max_length=40,
        error_messages={"required": _("Write the house number, for example 3组12号.")},
    )
    name = forms.CharField(
        label=_("Name"),
        max_length=40,
        error_messages={"required": _("Write the person's name.")},
    )
    birth_year = forms.IntegerField(
        label=_("Year of birth (optional)"),
        required=False,
        min_value=1900,
        max_value=2100,
        help_text=_("Only to tell two people of the same name apart."),
    )
    is_head = forms.BooleanField(label=_("Household head"), required=False)
