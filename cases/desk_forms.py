"""Forms of the township's desk: the board's filter, departments, members, level rules. They
only parse input; the services (cases.services) decide."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cases.models import OPEN_STATUSES, Category, DepartmentKind, Status, Tier, Whistle

ANY = [("", _("Any"))]


class BoardFilterForm(forms.Form):
    """The board list's filter (GET). `places` are councils: a township's villages or a
    district's townships; `place` is cleaned to one of them."""

    level = forms.ChoiceField(
        label=_("Whistle level"), choices=ANY + Whistle.choices, required=False
    )
    category = forms.ChoiceField(
        label=_("Category"), choices=ANY + Category.choices, required=False
    )
    status = forms.ChoiceField(
        label=_("Status"),
        choices=ANY + [(s.value, s.label) for s in map(Status, OPEN_STATUSES)],
        required=False,
    )
    place = forms.TypedChoiceField(label=_("Village"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args, places=(), place_label=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.places = {place.pk: place for place in places}
        self.fields["place"].choices = ANY + [(place.pk, place.title) for place in places]
        if place_label:
            self.fields["place"].label = place_label

    def filters(self) -> dict:
        """The valid part of what was asked (an invalid field is ignored, and shown)."""
        self.is_valid()
        data = dict(getattr(self, "cleaned_data", {}))
        data["place"] = self.places.get(data.get("place"))
        return data


class DepartmentForm(forms.Form):
    name = forms.CharField(
        label=pgettext_lazy("case", "Name"),
        max_length=80,
        help_text=_("For example: 白沙派出所, 镇司法所"),
        error_messages={"required": _("Give the department's name.")},
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=DepartmentKind.choices,
        error_messages={"required": _("Choose the kind of department.")},
    )


class MemberForm(forms.Form):
    """Add a person to a department, or take them off, by the phone number of their account."""

    phone = forms.CharField(
        label=_("Phone number of their account"),
        max_length=20,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
        error_messages={"required": _("Write the phone number of their account.")},
    )
    action = forms.ChoiceField(choices=[("add", _("Add")), ("remove", _("Remove"))])

    def clean(self):
        from core.adapters import normalise_phone
        from core.models import User

        data = super().clean()
        if "phone" not in data:
            return data
        phone = normalise_phone(data["phone"])
        data["member"] = User.objects.filter(phone=phone).first() if phone else None
        if data["member"] is None:
            self.add_error(
                "phone", _("No account has this phone number: ask them to sign up first.")
            )
        return data


class LevelRuleForm(forms.Form):
    """One whistle level's rule; the page shows one such form per level (prefix = the level)."""

    tier = forms.ChoiceField(label=_("Handled"), choices=Tier.choices)
    inform_township = forms.BooleanField(label=_("Tell the township"), required=False)
    accept_hours = forms.IntegerField(
        label=_("Hours to accept"),
        min_value=1,
        max_value=24 * 30,
        error_messages={
            "required": _("Give between 1 and 720 hours to accept."),
            "invalid": _("Give between 1 and 720 hours to accept."),
            "min_value": _("Give between 1 and 720 hours to accept."),
            "max_value": _("Give between 1 and 720 hours to accept."),
        },
    )
    resolve_days = forms.IntegerField(
        label=_("Days to resolve"),
        min_value=1,
        max_value=365,
        error_messages={
            "required": _("Give between 1 and 365 days to resolve."),
            "invalid": _("Give between 1 and 365 days to resolve."),
            "min_value": _("Give between 1 and 365 days to resolve."),
            "max_value": _("Give between 1 and 365 days to resolve."),
        },
    )
