from django import forms
from django.utils.translation import gettext_lazy as _

from core.models import User
from core.text import validate_display_name
from councils.models import Role


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


def _person_label(user, show_real_name: bool) -> str:
    if show_real_name and user.real_name and user.real_name != user.public_name:
        return f"{user.public_name}（{user.real_name}）"
    return user.public_name


class HouseholdEditForm(HouseholdForm):
    """HouseholdForm with the household head: the committee sets both in one step."""

    head = forms.ChoiceField(
        label=_("Household head"),
        required=False,
        help_text=_("A verified resident of the village who lives in this household."),
    )
    field_order = ["number", "head", "representative"]

    def __init__(self, *args, residents=(), show_real_names=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["head"].choices = [("", _("— none —"))] + [
            (str(user.pk), _person_label(user, show_real_names)) for user in residents
        ]


class AssignRoleForm(forms.Form):
    """Make someone a village representative, a supervisor or a grid worker."""

    role = forms.ChoiceField(
        label=_("Role"),
        error_messages={"required": _("Choose the role."), "invalid_choice": _("Choose the role.")},
    )
    person = forms.ChoiceField(
        label=_("Resident"),
        required=False,
        help_text=_("Representatives and supervisors are chosen among the verified residents."),
    )
    phone = forms.CharField(
        label=_("Or the phone number of their account"),
        max_length=20,
        required=False,
        help_text=_("For a grid worker who does not live in the village."),
    )
    grid = forms.ChoiceField(label=_("Grid (grid workers only)"), required=False)

    def __init__(self, *args, roles=(), residents=(), grids=(), show_real_names=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [("", _("— choose —"))] + [
            (role.value, role.label) for role in roles
        ]
        self.fields["person"].choices = [("", _("— choose —"))] + [
            (str(user.pk), _person_label(user, show_real_names)) for user in residents
        ]
        self.fields["grid"].choices = [("", _("— none —"))] + [
            (str(grid.pk), grid.title) for grid in grids
        ]
        self.residents = {str(user.pk): user for user in residents}
        self.grids = {str(grid.pk): grid for grid in grids}

    def clean(self):
        data = super().clean()
        person, phone = data.get("person"), (data.get("phone") or "").strip()
        if person and phone:
            raise forms.ValidationError(_("Choose a resident or write a phone number, not both."))
        if person:
            data["user"] = self.residents[person]
        elif phone:
            from core.adapters import normalise_phone

            user = User.objects.filter(phone=normalise_phone(phone)).first()
            if user is None:
                self.add_error(
                    "phone", _("No account has this phone number: ask them to sign up first.")
                )
            data["user"] = user
        else:
            raise forms.ValidationError(_("Choose the person who takes the role."))
        if data.get("role") == Role.GRID_WORKER and not data.get("grid"):
            self.add_error("grid", _("Choose the grid where the grid worker works."))
        data["grid_page"] = self.grids.get(data.get("grid") or "")
        return data


class RemoveRoleForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        error_messages={
            "required": _("Say why the role ends: the reason is kept in the committee's log.")
        },
    )
