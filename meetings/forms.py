"""Forms of the session pages. Each one only parses input; the services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from deliberation.models import Topic
from meetings.models import (
    AgendaItem,
    MajorityKind,
    RosterMode,
    SessionKind,
    VoteChoice,
)


class SessionForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind of meeting"), choices=SessionKind.choices, initial=SessionKind.REPRESENTATIVES
    )
    roster_mode = forms.ChoiceField(
        label=_("Who may attend and vote"),
        choices=[("", _("The usual roster for this kind of meeting"))] + RosterMode.choices,
        required=False,
        help_text=_(
            "A villagers' assembly counts either the adult residents or one representative "
            "per household."
        ),
    )
    title = forms.CharField(
        label=_("Title"),
        max_length=120,
        help_text=_("For example: 2026年第三季度村民代表会议"),
        error_messages={"required": _("Give the meeting a title.")},
    )
    starts_at = forms.DateTimeField(
        label=_("Date and time"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        error_messages={
            "required": _("Give the date and time of the meeting."),
            "invalid": _("Write the date and time like 2026-09-15 19:30."),
        },
    )
    place = forms.CharField(
        label=_("Place"),
        max_length=200,
        error_messages={"required": _("Say where the meeting takes place.")},
    )
    is_public = forms.BooleanField(
        label=_("Anyone may watch and read the minutes"), required=False, initial=True
    )


class SessionChangeForm(forms.Form):
    """A meeting that has not opened moves to another time or place (those who may attend are
    told)."""

    starts_at = SessionForm.base_fields["starts_at"]
    place = SessionForm.base_fields["place"]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "change_%s")
        super().__init__(*args, **kwargs)


class CancelSessionForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("Yes, cancel this meeting"),
        help_text=_("Those who may attend are told at once. A cancelled meeting cannot reopen."),
        error_messages={"required": _("Tick the box to confirm that the meeting is cancelled.")},
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "cancel_%s")
        super().__init__(*args, **kwargs)


TOPICS_LISTED = 200


class LatestTopicsIterator(forms.models.ModelChoiceIterator):
    """The latest TOPICS_LISTED topics in the list; any topic of the queryset is accepted."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for topic in self.queryset[:TOPICS_LISTED]:
            yield self.choice(topic)

    def __len__(self):
        return min(self.queryset.count(), TOPICS_LISTED) + (
            1 if self.field.empty_label is not None else 0
        )


class TopicChoiceField(forms.ModelChoiceField):
    iterator = LatestTopicsIterator

    def label_from_instance(self, topic):
        return f"{topic.title} · {topic.hall.title}"


class AgendaItemForm(forms.Form):
    title = forms.CharField(
        label=_("Agenda item"),
        max_length=200,
        error_messages={"required": _("Write the agenda item.")},
    )
    description = forms.CharField(
        label=_("Details (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    topic = TopicChoiceField(
        label=_("Hall topic (optional)"),
        queryset=Topic.objects.none(),
        required=False,
        error_messages={"invalid_choice": _("Choose a topic of this council's halls.")},
    )

    def __init__(self, *args, council=None, **kwargs):
        super().__init__(*args, **kwargs)
        if council is not None:
            # Not sliced: the field looks the chosen topic up in this queryset, and a sliced one
            # cannot be filtered. The list shows the latest topics (TopicChoiceField).
            self.fields["topic"].queryset = (
                Topic.objects.filter(hall__council=council)
                .select_related("hall")
                .order_by("-created", "-pk")
            )


class MotionForm(forms.Form):
    title = forms.CharField(
        label=_("Motion"),
        max_length=200,
        help_text=_("What the meeting decides, in one sentence."),
        error_messages={"required": _("Write the motion.")},
    )
    text = forms.CharField(
        label=_("Full text (optional)"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    majority = forms.ChoiceField(
        label=_("Majority required"), choices=MajorityKind.choices, initial=MajorityKind.SESSION
    )
    agenda_item = forms.ModelChoiceField(
        label=_("Agenda item (optional)"), queryset=AgendaItem.objects.none(), required=False
    )

    def __init__(self, *args, session=None, **kwargs):
        super().__init__(*args, **kwargs)
        if session is not None:
            self.fields["agenda_item"].queryset = session.agenda.order_by("position")


class CheckInForm(forms.Form):
    code = forms.RegexField(
        label=_("Code shown in the room"),
        regex=r"^\s*\d{6}\s*$",
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        error_messages={
            "required": _("Type the six digits shown in the room."),
            "invalid": _("The code has six digits."),
        },
    )


class VoteForm(forms.Form):
    choice = forms.ChoiceField(
        label=_("Your vote"),
        choices=VoteChoice.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose for, against or abstain.")},
    )
    on_behalf_of = forms.IntegerField(required=False, widget=forms.HiddenInput)


class AttendanceForm(forms.Form):
    entry = forms.IntegerField(widget=forms.HiddenInput)
    present = forms.TypedChoiceField(
        choices=[("1", _("Present")), ("0", _("Absent"))], coerce=lambda v: v == "1"
    )


class ProxyForm(forms.Form):
    giver = forms.IntegerField(label=_("Member giving the proxy"))
    holder = forms.IntegerField(label=_("Held by"), required=False)


class MinutesForm(forms.Form):
    narrative = forms.CharField(
        label=_("Narrative"),
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_(
            "What was discussed and decided, in plain words. Attendance and every vote are "
            "added from the record."
        ),
        error_messages={"required": _("Write the narrative of the meeting.")},
    )


class CorrectionForm(MinutesForm):
    correction_reason = forms.CharField(
        label=_("What is corrected and why"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say what is being corrected and why.")},
    )


class ImplementationForm(forms.Form):
    report = forms.CharField(
        label=_("How the resolution was carried out"),
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": _("Describe how the resolution was carried out.")},
    )
