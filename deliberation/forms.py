import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from councils.models import Level
from deliberation.models import (
    MESSAGE_MAX_LENGTH,
    PHOTO_MAX_BYTES,
    ModerationAction,
    StanceValue,
    Topic,
    TopicCategory,
    TopicStatus,
)

PHOTO_HELP = _("Optional. A JPEG, PNG or WebP photo of at most 5 MB.")
PHOTO_INPUT = forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"})


class TopicForm(forms.Form):
    title = forms.CharField(
        label=_("Title"),
        max_length=120,
        help_text=_("In one line, for example: 村口路面积水，雨天难走"),
        error_messages={"required": _("Give the topic a title.")},
    )
    description = forms.CharField(
        label=_("What is the matter?"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": _("Describe the matter so that others understand it.")},
    )
    category = forms.ChoiceField(
        label=_("Category"), choices=TopicCategory.choices, initial=TopicCategory.OTHER
    )
    location = forms.CharField(
        label=_("Where (optional)"),
        max_length=200,
        required=False,
        help_text=_("For example: 3组村口桥头"),
    )
    # Plain file fields: the photo is decoded (under a pixel cap) and re-encoded once, by the
    # service (core/uploads.py), which explains what is wrong with it.
    photo_1 = forms.FileField(
        label=_("Photo 1"), required=False, help_text=PHOTO_HELP, widget=PHOTO_INPUT
    )
    photo_2 = forms.FileField(
        label=_("Photo 2"), required=False, help_text=PHOTO_HELP, widget=PHOTO_INPUT
    )
    photo_3 = forms.FileField(
        label=_("Photo 3"), required=False, help_text=PHOTO_HELP, widget=PHOTO_INPUT
    )

    def clean(self):
        cleaned = super().clean()
        for name in ("photo_1", "photo_2", "photo_3"):
            photo = cleaned.get(name)
            if photo and photo.size > PHOTO_MAX_BYTES:
                self.add_error(name, _("This photo is larger than 5 MB."))
        return cleaned

    @property
    def photos(self):
        return [
            self.cleaned_data[n]
            for n in ("photo_1", "photo_2", "photo_3")
            if self.cleaned_data.get(n)
        ]


class MessageForm(forms.Form):
    body = forms.CharField(
        label=_("Your message"),
        max_length=MESSAGE_MAX_LENGTH,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": MESSAGE_MAX_LENGTH}),
        help_text=_("Plain text, at most 1000 characters. Links become clickable."),
        error_messages={
            "required": _("Write something first."),
            "max_length": _("A message can be at most 1000 characters."),
        },
    )
    reply_to = forms.IntegerField(
        label=_("In reply to message number (optional)"),
        required=False,
        min_value=1,
    )
    client_id = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)

    @staticmethod
    def new_client_id() -> str:
        return uuid.uuid4().hex


class StanceForm(forms.Form):
    value = forms.ChoiceField(
        label=_("Your stance"),
        choices=StanceValue.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose support, oppose or neutral.")},
    )


class StatusForm(forms.Form):
    status = forms.ChoiceField(
        label=_("New status"),
        choices=[
            (s.value, s.label)
            for s in (
                TopicStatus.TAKEN_UP,
                TopicStatus.DECIDED,
                TopicStatus.CLOSED,
                TopicStatus.OPEN,
            )
        ],
    )
    reason = forms.CharField(
        label=_("Reason (needed to close or reopen)"),
        max_length=500,
        required=False,
    )


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("Official answer"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Write the answer.")},
    )


class TopicRatingForm(forms.Form):
    """评事: the asker's score for the committee's answer (the same scale as budget projects)."""

    score = forms.TypedChoiceField(
        label=_("How satisfied are you with the answer?"),
        coerce=int,
        widget=forms.RadioSelect,
        choices=[
            (5, _("5 · very satisfied")),
            (4, _("4 · satisfied")),
            (3, _("3 · so-so")),
            (2, _("2 · dissatisfied")),
            (1, _("1 · very dissatisfied")),
        ],
        error_messages={"required": _("Choose a score from 1 to 5.")},
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class MergeForm(forms.Form):
    into = forms.IntegerField(
        label=_("Merge into topic number"),
        min_value=1,
        help_text=_("The number is in the address of the other topic: /halls/topics/123/"),
        error_messages={"required": _("Give the number of the topic to merge into.")},
    )
    reason = forms.CharField(label=_("Reason (optional)"), max_length=500, required=False)

    def __init__(self, *args, topic: Topic | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.topic = topic

    def clean_into(self):
        pk = self.cleaned_data["into"]
        target = Topic.objects.select_related("hall").filter(pk=pk).first()
        if target is None:
            raise forms.ValidationError(_("There is no topic with this number."))
        return target


class ModerateForm(forms.Form):
    action = forms.ChoiceField(label=_("Action"), choices=ModerationAction.choices)
    reason = forms.CharField(
        label=_("Reason (shown in place of a hidden message)"),
        max_length=300,
        required=False,
    )


class DayForm(forms.Form):
    title = forms.CharField(
        label=_("Title"), max_length=120, error_messages={"required": _("Give the day a title.")}
    )
    starts_at = forms.DateTimeField(
        label=_("Starts at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        error_messages={
            "required": _("When does it start?"),
            "invalid": _("Enter a date and time such as 2026-12-01 09:00."),
        },
    )
    ends_at = forms.DateTimeField(
        label=_("Ends at (optional)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        error_messages={"invalid": _("Enter a date and time such as 2026-12-01 11:30.")},
    )
    place = forms.CharField(
        label=_("Place"), max_length=200, error_messages={"required": _("Where is it held?")}
    )
    officials = forms.CharField(
        label=_("Officials attending"),
        max_length=500,
        help_text=_("Names and posts, for example: 李明（镇党委副书记）、王芳（村委会主任）"),
        error_messages={"required": _("Say which officials will attend.")},
    )


class RegisterForm(forms.Form):
    note = forms.CharField(
        label=_("What you want to raise (optional)"), max_length=300, required=False
    )


class OutcomeForm(forms.Form):
    outcome = forms.CharField(
        label=_("Outcome of the day"),
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": _("Write the outcome.")},
    )
    topics = forms.ModelMultipleChoiceField(
        label=_("Topics discussed"),
        queryset=Topic.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, hall=None, **kwargs):
        super().__init__(*args, **kwargs)
        if hall is not None:
            self.fields["topics"].queryset = Topic.objects.filter(hall=hall).order_by("-created")


NEW_COUNCIL_CHOICES = {
    "new:grid": Level.GRID,
    "new:worthies": Level.WORTHIES,
    "new:children": Level.CHILDREN,
}


class HallForm(forms.Form):
    """Open a hall in this council, in a council under it, or in a new grid or special council."""

    place = forms.ChoiceField(
        label=_("For which council"),
        error_messages={
            "required": _("Choose the council the hall is for."),
            "invalid_choice": _("Choose the council the hall is for."),
        },
    )
    new_council_title = forms.CharField(
        label=_("Name of the new council"),
        max_length=100,
        required=False,
        help_text=_("Only when setting up a new council, for example 柳树村新乡贤参事会."),
    )
    title = forms.CharField(
        label=_("Name of the hall"),
        max_length=100,
        error_messages={"required": _("Write a title of at least 2 characters.")},
    )
    description = forms.CharField(
        label=_("What it is for (optional)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    is_public = forms.BooleanField(
        label=_("Public: anyone may read it"), required=False, initial=True
    )

    def __init__(self, *args, council, children=(), can_add_council=False, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("here", council.title)]
        choices += [(str(c.pk), f"{c.title}（{c.get_level_display()}）") for c in children]
        if can_add_council:
            choices += [
                ("new:worthies", _("A new council of rural worthies")),
                ("new:children", _("A new children's council")),
                ("new:grid", _("A new grid")),
            ]
        self.fields["place"].choices = choices
        self.children = {str(c.pk): c for c in children}
        if not can_add_council:
            del self.fields["new_council_title"]

    def clean(self):
        data = super().clean()
        place = data.get("place")
        data["new_council_level"] = NEW_COUNCIL_CHOICES.get(place, "")
        if data["new_council_level"] and len((data.get("new_council_title") or "").strip()) < 2:
            self.add_error("new_council_title", _("Name the new council (at least 2 characters)."))
        data["child"] = self.children.get(place or "")
        return data
