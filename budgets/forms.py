from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from budgets.models import BallotType, BudgetCycle, ProgressStatus
from deliberation.models import TopicCategory


class ProposalForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=120)
    description = forms.CharField(
        label=_("What should be done, and why"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    estimated_cost = forms.DecimalField(
        label=_("Estimated cost (yuan)"),
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
    )
    category = forms.ChoiceField(label=_("Category"), choices=TopicCategory.choices)
    location = forms.CharField(label=_("Where"), max_length=200, required=False)
    beneficiaries = forms.CharField(label=_("Who benefits"), max_length=200, required=False)
    photo_1 = forms.FileField(label=_("Photo (optional)"), required=False)
    photo_2 = forms.FileField(label=_("Second photo (optional)"), required=False)
    photo_3 = forms.FileField(label=_("Third photo (optional)"), required=False)

    def service_arguments(self) -> dict:
        data = dict(self.cleaned_data)
        data["photos"] = [data.pop(f"photo_{i}") for i in (1, 2, 3)]
        return data


class ReviewForm(forms.Form):
    feasible = forms.TypedChoiceField(
        label=_("Decision"),
        coerce=lambda v: v == "yes",
        choices=[("yes", _("Feasible: put it on the ballot")), ("no", _("Not feasible"))],
    )
    checked_cost = forms.DecimalField(
        label=_("Checked cost (yuan)"),
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
    )
    reason = forms.CharField(
        label=_("Reason (published)"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class ReceiptForm(forms.Form):
    code = forms.CharField(
        label=_("Receipt code"),
        max_length=24,
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "ABCD-EFGH-JKLM-NPQR"}),
    )


class PaperBallotVoterForm(forms.Form):
    phone = forms.CharField(label=_("Voter's mobile number"), max_length=24)


class RegisterLookupForm(forms.Form):
    household = forms.CharField(
        label=_("House number on the register"),
        max_length=40,
        help_text=_("For a villager without a phone: find them on the household register."),
    )


class OverrideForm(forms.Form):
    funded = forms.TypedChoiceField(
        label=_("Decision"),
        coerce=lambda v: v == "yes",
        choices=[("yes", _("Fund this project")), ("no", _("Do not fund this project"))],
    )
    reason = forms.CharField(
        label=_("Reason (published)"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    confirm_over_budget = forms.BooleanField(
        label=_("I confirm spending over the budget"),
        required=False,
        help_text=_(
            "Needed only when funding this project takes the funded total past the budget; "
            "the results page then shows by how much."
        ),
    )


class ObjectionForm(forms.Form):
    reason = forms.CharField(
        label=_("Your objection and its reason (published)"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say what you object to and why.")},
    )


class ObjectionAnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("The committee's answer (published)"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Write the answer.")},
    )


class ProgressForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=ProgressStatus.choices)
    note = forms.CharField(
        label=_("What happened"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    spent_so_far = forms.DecimalField(
        label=_("Spent so far (yuan)"), max_digits=14, decimal_places=2, min_value=Decimal("0")
    )
    # Checked and re-encoded by the service (core/uploads.py), with a clear message.
    photo = forms.FileField(
        label=_("Photo"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )


class RatingForm(forms.Form):
    score = forms.TypedChoiceField(
        label=_("How satisfied are you?"),
        coerce=int,
        choices=[
            (5, _("5 · very satisfied")),
            (4, _("4 · satisfied")),
            (3, _("3 · so-so")),
            (2, _("2 · dissatisfied")),
            (1, _("1 · very dissatisfied")),
        ],
    )
    comment = forms.CharField(label=_("Comment (optional)"), max_length=500, required=False)


def parse_ballot(data, ballot_type: str) -> tuple[dict[int, int], list[str]]:
    """Read a ballot from form fields named p<proposal id>. Returns (choices, errors); whether
    each proposal is on the voter's ballot is the service's check."""
    choices, errors = {}, []
    for key, raw in data.items():
        if not (key.startswith("p") and key[1:].isdigit()):
            continue
        raw = raw.strip()
        if not raw:
            continue
        if ballot_type in (BallotType.APPROVAL, BallotType.KNAPSACK):
            choices[int(key[1:])] = 1
            continue
        try:
            choices[int(key[1:])] = int(raw)
        except ValueError:
            errors.append(str(_("Write a whole number for every project you choose.")))
    return choices, errors


EQUAL_SHARES_HELP = _(
    "Method of Equal Shares: the budget is split equally among the voters, and a project is "
    "funded when its supporters' shares together can pay for it, so every group of neighbours "
    "gets its fair part, not only the largest."
)


class CycleForm(forms.ModelForm):
    starts_on = forms.DateField(
        label=_("Proposals open on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    collect_days = forms.IntegerField(label=_("Days for proposals"), min_value=1, initial=14)
    review_days = forms.IntegerField(label=_("Days for review"), min_value=1, initial=7)
    deliberate_days = forms.IntegerField(label=_("Days for deliberation"), min_value=1, initial=7)
    vote_days = forms.IntegerField(label=_("Days for voting"), min_value=1, initial=7)

    class Meta:
        model = BudgetCycle
        fields = [
            "title",
            "description",
            "total_amount",
            "ballot_type",
            "max_choices",
            "min_choices",
            "points",
            "eligibility",
            "rule",
            "satisfaction",
            "complete_greedy",
            "objection_days",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        # One line in plain words for each choice a clerk may not know the words of.
        help_texts = {
            "max_choices": _(
                "“Choose at most k”: each voter ticks (or ranks) no more than this many "
                "projects. For approval and ranked ballots."
            ),
            "rule": EQUAL_SHARES_HELP,
            "satisfaction": _(
                "Satisfaction: how the count weighs what a voter gets from a funded project: "
                "its cost in yuan, one for each project, or the points the voter gave it."
            ),
        }

    def clean(self):
        data = super().clean()
        if (
            data.get("min_choices")
            and data.get("max_choices")
            and data["min_choices"] > data["max_choices"]
        ):
            self.add_error("min_choices", _("At least m cannot be more than at most k."))
        return data


class PhaseChangeForm(forms.Form):
    """End a phase early or extend it, with the reason residents will read."""

    phase = forms.ChoiceField(
        label=_("Phase"),
        error_messages={
            "required": _("Choose the phase."),
            "invalid_choice": _("Choose the phase."),
        },
    )
    end_now = forms.BooleanField(label=_("End it now"), required=False)
    new_end = forms.DateTimeField(
        label=_("Or the new end"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text=_("The phases after it move by the same time and keep their length."),
        error_messages={"invalid": _("Write the date and time like 2026-09-15 19:30.")},
    )
    reason = forms.CharField(
        label=_("Reason (public)"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown to everyone in the budget's history."),
        error_messages={
            "required": _("Give residents the reason (at least 4 characters): it is made public.")
        },
    )

    def __init__(self, *args, phases=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phase"].choices = [
            (p.kind, f"{p.get_kind_display()}（{p.starts_at:%Y-%m-%d} – {p.ends_at:%Y-%m-%d}）")
            for p in phases
        ]

    def clean(self):
        from django.utils import timezone

        data = super().clean()
        if data.get("end_now"):
            data["new_end"] = timezone.now()
        elif not data.get("new_end") and "new_end" not in self.errors:
            self.add_error("new_end", _("Give the new end date and time, or choose to end it now."))
        return data
