"""Forms of the reporting pages and of a case's steps. They only parse input; cases.services
decides (who may, what is refused, ID numbers, at least two parties, 1 to 5 ...)."""

import decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cases.models import Case, CaseParty, Category, Department, Whistle
from core.uploads import PHOTO_MAX_BYTES

PHOTO_FIELDS = ("photo_1", "photo_2", "photo_3")
PHOTO_HELP = _("Optional. A JPEG, PNG or WebP photo of at most 5 MB.")
PHOTO_INPUT = forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"})
# Four name lines are enough for nearly every dispute between neighbours or in a family; more
# people are named in the description.
PARTY_LINES = 4
COORDINATE_STEP = decimal.Decimal("0.000001")


def _photo_field(label):
    # Plain file fields: the service decodes and re-encodes each photo once (core/uploads.py)
    # and says what is wrong with it.
    return forms.FileField(label=label, required=False, help_text=PHOTO_HELP, widget=PHOTO_INPUT)


class PhotosMixin:
    """Up to three photos, each on its own field: a cheap phone's browser picks one at a time."""

    def clean_photos_size(self, cleaned):
        for name in PHOTO_FIELDS:
            photo = cleaned.get(name)
            if photo and photo.size > PHOTO_MAX_BYTES:
                self.add_error(name, _("This photo is larger than 5 MB."))

    @property
    def photos(self) -> list:
        return [self.cleaned_data[n] for n in PHOTO_FIELDS if self.cleaned_data.get(n)]

    @property
    def has_photo_fields(self) -> bool:
        return PHOTO_FIELDS[0] in self.fields


class CaseReportForm(PhotosMixin, forms.Form):
    """A resident's demand: what, where, and whether it may be shown publicly."""

    category = forms.ChoiceField(
        label=_("Category"),
        choices=[("", _("Choose a category")), *Category.choices],
        error_messages={
            "required": _("Choose a category."),
            "invalid_choice": _("Choose a category."),
        },
    )
    title = forms.CharField(
        label=_("Title"),
        max_length=80,
        help_text=_("In one line, for example: 村口路灯不亮"),
        error_messages={
            "required": _("Give the case a short title."),
            "max_length": _("Keep the title to 80 characters at most."),
        },
    )
    description = forms.CharField(
        label=pgettext_lazy("case", "What happened"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Who, what, since when. Never write ID card numbers."),
        error_messages={
            "required": pgettext_lazy("case", "Say what happened."),
            "max_length": _("Keep the description to 2000 characters at most."),
        },
    )
    place = forms.CharField(
        label=_("Place (optional)"),
        max_length=120,
        required=False,
        help_text=_("For example: 3组村口桥头"),
    )
    photo_1 = _photo_field(_("Photo 1"))
    photo_2 = _photo_field(_("Photo 2"))
    photo_3 = _photo_field(_("Photo 3"))
    public = forms.BooleanField(
        label=_("May be shown on the public page, without my name"),
        required=False,
        help_text=_(
            "Only matters about shared places (roads and lamps, sanitation, safety hazards) are "
            "shown; the handlers see it either way."
        ),
    )

    def clean(self):
        cleaned = super().clean()
        self.clean_photos_size(cleaned)
        return cleaned


class GridReportForm(CaseReportForm):
    """A grid worker's report: sorted by the whistle level, optionally with coordinates."""

    level = forms.ChoiceField(
        label=_("Whistle level"),
        choices=Whistle.choices,
        initial=Whistle.ROUTINE,
        widget=forms.RadioSelect,
        help_text=_(
            "Routine: the grid or the village handles it. Priority: the township is told. "
            "Difficult: the township takes it on."
        ),
        error_messages={
            "required": _("Choose a whistle level."),
            "invalid_choice": _("Choose a whistle level."),
        },
    )
    latitude = forms.DecimalField(
        label=_("Latitude (optional)"),
        required=False,
        min_value=-90,
        max_value=90,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
        error_messages={"invalid": _("Write the latitude as a number, like 23.123456.")},
    )
    longitude = forms.DecimalField(
        label=_("Longitude (optional)"),
        required=False,
        min_value=-180,
        max_value=180,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
        error_messages={"invalid": _("Write the longitude as a number, like 110.123456.")},
    )

    field_order = [
        "category",
        "level",
        "title",
        "description",
        "place",
        "latitude",
        "longitude",
        *PHOTO_FIELDS,
        "public",
    ]

    def _coordinate(self, name):
        value = self.cleaned_data.get(name)
        # A phone gives more digits than the six decimals (about 10 cm) that are kept.
        return None if value is None else value.quantize(COORDINATE_STEP)

    def clean_latitude(self):
        return self._coordinate("latitude")

    def clean_longitude(self):
        return self._coordinate("longitude")

    def clean(self):
        cleaned = super().clean()
        if (cleaned.get("latitude") is None) != (cleaned.get("longitude") is None):
            if not self.has_error("latitude") and not self.has_error("longitude"):
                self.add_error(
                    "longitude", _("Give both the latitude and the longitude, or neither.")
                )
        return cleaned


class DisputeForm(CaseReportForm):
    """A dispute: never public, with the names of at least two parties and their sides."""

    public = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        sides = [("", _("Side")), *CaseParty.Side.choices]
        for n in range(1, PARTY_LINES + 1):
            self.fields[f"party_name_{n}"] = forms.CharField(
                label=_("Party %(n)s: name") % {"n": n},
                max_length=40,
                required=False,
                help_text=_("At least two: who asks for help and the other side.")
                if n == 1
                else "",
            )
            self.fields[f"party_side_{n}"] = forms.ChoiceField(
                label=_("Party %(n)s: side") % {"n": n},
                choices=sides,
                required=False,
                initial=CaseParty.Side.APPLICANT if n % 2 else CaseParty.Side.RESPONDENT,
            )
        parties = [
            f"party_{part}_{n}" for n in range(1, PARTY_LINES + 1) for part in ("name", "side")
        ]
        self.order_fields(["category", "title", "description", "place", *parties, *PHOTO_FIELDS])

    def clean(self):
        cleaned = super().clean()
        for n in range(1, PARTY_LINES + 1):
            if cleaned.get(f"party_name_{n}", "").strip() and not cleaned.get(f"party_side_{n}"):
                self.add_error(f"party_side_{n}", _("Say which side this party is on."))
        return cleaned

    @property
    def parties(self) -> list[tuple[str, str]]:
        return [
            (self.cleaned_data.get(f"party_side_{n}", ""), self.cleaned_data[f"party_name_{n}"])
            for n in range(1, PARTY_LINES + 1)
            if self.cleaned_data.get(f"party_name_{n}", "").strip()
        ]


class VisitForm(forms.Form):
    visited_on = forms.DateField(
        label=_("Date of the visit"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
        error_messages={
            "required": _("Give the date of the visit."),
            "invalid": _("Write the date like 2026-05-20."),
        },
    )
    households = forms.IntegerField(
        label=_("Households visited"),
        min_value=1,
        max_value=10000,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "required": _("Give how many households were visited."),
            "invalid": _("Give how many households were visited."),
            "min_value": _("Give how many households were visited."),
        },
    )
    night = forms.BooleanField(label=_("Night visit (平安夜访)"), required=False)
    notes = forms.CharField(
        label=_("What was heard (optional)"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Needs and problems to follow up can be reported as cases after saving."),
    )

    def clean_visited_on(self):
        day = self.cleaned_data["visited_on"]
        if day > timezone.localdate():
            raise ValidationError(_("A visit is logged on or after the day it took place."))
        return day


# -- a case's steps --------------------------------------------------------------------------------


class StepForm(forms.Form):
    """The fields of each step form carry its name as prefix of their ids: the case page shows
    several forms at once."""

    prefix_name = ""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{self.prefix_name}_%s")
        super().__init__(*args, **kwargs)


class AcceptForm(StepForm):
    prefix_name = "accept"


class StartForm(StepForm):
    prefix_name = "start"
    text = forms.CharField(
        label=_("What you will do (optional)"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class NoteForm(StepForm):
    prefix_name = "note"
    text = forms.CharField(
        label=_("Note"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Seen by the reporter, the parties and the handlers."),
        error_messages={"required": _("Write the note.")},
    )


class ResolveForm(PhotosMixin, StepForm):
    prefix_name = "resolve"
    outcome = forms.CharField(
        label=_("What was done"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("The reporter is asked to confirm it and to rate it."),
        error_messages={"required": _("Say what was done.")},
    )
    photo_1 = _photo_field(_("Photo 1"))
    photo_2 = _photo_field(_("Photo 2"))
    photo_3 = _photo_field(_("Photo 3"))

    def clean(self):
        cleaned = super().clean()
        self.clean_photos_size(cleaned)
        return cleaned


class DepartmentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, department):
        return f"{department.name} · {department.council.title}"


class WhistleForm(StepForm):
    prefix_name = "whistle"
    department = DepartmentChoiceField(
        label=_("Department"),
        queryset=Department.objects.none(),
        empty_label=_("Choose a department"),
        error_messages={
            "required": _("Choose the department."),
            "invalid_choice": _("Choose a department that serves where the case is."),
        },
    )
    reason = forms.CharField(
        label=_("Why (needed when it passes from one department to another)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, case: Case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments_for(case)


def departments_for(case: Case):
    """Active departments registered in the case's council or any council above it."""
    step = case.council.steplen
    paths = [case.council_path[:i] for i in range(step, len(case.council_path) + 1, step)]
    return (
        Department.objects.filter(active=True, council__path__in=paths)
        .exclude(pk=case.department_id or 0)
        .select_related("council")
        .order_by("council__depth", "name")
    )


class ConfirmForm(StepForm):
    prefix_name = "confirm"
    satisfaction = forms.TypedChoiceField(
        label=_("How satisfied are you with what was done?"),
        coerce=int,
        widget=forms.RadioSelect,
        choices=[
            (5, _("5 · very satisfied")),
            (4, _("4 · satisfied")),
            (3, _("3 · so-so")),
            (2, _("2 · dissatisfied: reopen the case")),
            (1, _("1 · very dissatisfied: reopen the case")),
        ],
        error_messages={
            "required": _("Rate from 1 (very dissatisfied) to 5 (very satisfied)."),
            "invalid_choice": _("Rate from 1 (very dissatisfied) to 5 (very satisfied)."),
        },
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class MediatorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return user.public_name


class MediatorForm(StepForm):
    prefix_name = "mediator"
    mediator = MediatorChoiceField(
        label=_("Mediator"),
        queryset=None,
        empty_label=_("Choose a mediator"),
        help_text=_(
            "A member of the council of rural worthies of the village or the township, or of "
            "the village committee."
        ),
        error_messages={
            "required": _("Choose the mediator."),
            "invalid_choice": _("Choose one of the mediators listed."),
        },
    )

    def __init__(self, *args, mediators, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mediator"].queryset = mediators


class MediationSessionForm(StepForm):
    prefix_name = "mediation"
    text = forms.CharField(
        label=_("Who came and what was said"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Say who came and what was said.")},
    )
    held_at = forms.DateTimeField(
        label=_("Held on (optional; now if empty)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        error_messages={"invalid": _("Write the date and time like 2026-09-15 19:30.")},
    )

    def clean_held_at(self):
        held_at = self.cleaned_data.get("held_at")
        if held_at is not None and held_at > timezone.now():
            raise ValidationError(_("Record a session once it has taken place."))
        return held_at


class AgreementForm(StepForm):
    prefix_name = "agreement"
    agreement = forms.CharField(
        label=_("The agreement the parties reached"),
        max_length=8000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": _("Write the agreement the parties reached.")},
    )
    follow_up_on = forms.DateField(
        label=_("Follow up on (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
        help_text=_("The day someone checks that the agreement holds."),
        error_messages={"invalid": _("Write the date like 2026-05-20.")},
    )


class FollowUpForm(StepForm):
    prefix_name = "follow_up"
    text = forms.CharField(
        label=_("Does the agreement hold?"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say whether the agreement holds.")},
    )


class EscalateTopicForm(forms.Form):
    category = forms.ChoiceField(
        label=_("Category"),
        choices=[("", _("Choose a category")), *Category.choices],
        error_messages={
            "required": _("Choose a category."),
            "invalid_choice": _("Choose a category."),
        },
    )
    level = GridReportForm.base_fields["level"]


class SummaryNoteForm(forms.Form):
    """The grid worker's note on a weekly summary, signed with it (cases.summaries)."""

    note = forms.CharField(
        label=_("Note on the week"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"max_length": _("Keep the note under 4,000 characters.")},
    )
