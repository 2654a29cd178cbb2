"""Forms of the index pages: input shape only. What is allowed (who, which code, a published
version, evidence, ID numbers) is decided by governance.services, whose refusals the views put
back into these forms."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from governance.figures import parse_period
from governance.metrics import METRICS
from governance.models import IndicatorSource

NUMBER = {"max_digits": 14, "decimal_places": 2}
PERIOD_HELP = _("A month as 2025-03, or a quarter as 2025-Q1.")


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a service's refusal on the form's fields (or above them when it names none)."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


class PeriodField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 7)
        kwargs.setdefault("help_text", PERIOD_HELP)
        super().__init__(**kwargs)

    def clean(self, value):
        text = super().clean(value)
        if not text:
            return None
        period = parse_period(text.strip())
        if period is None:
            raise ValidationError(PERIOD_HELP)
        return period


def _metric_choices():
    return [("", "—")] + [(key, str(metric.label)) for key, metric in METRICS.items()]


class CreateIndexForm(forms.Form):
    template = forms.ChoiceField(
        label=_("Start from"),
        choices=[
            ("ruian", _("Rui'an's 强基善治指数 (5 dimensions, 11 indicators)")),
            ("", _("An empty index")),
        ],
        required=False,
        initial="ruian",
    )
    name = forms.CharField(
        label=pgettext_lazy("index", "Name"),
        max_length=100,
        required=False,
        help_text=_("Leave empty to use the template's name."),
    )


class VersionForm(forms.Form):
    star_1 = forms.DecimalField(label=_("1 star from"), min_value=0, max_value=100, **NUMBER)
    star_2 = forms.DecimalField(
        label=_("2 stars from"), min_value=0, max_value=100, required=False, **NUMBER
    )
    star_3 = forms.DecimalField(
        label=_("3 stars from"), min_value=0, max_value=100, required=False, **NUMBER
    )
    star_4 = forms.DecimalField(
        label=_("4 stars from"), min_value=0, max_value=100, required=False, **NUMBER
    )
    star_5 = forms.DecimalField(
        label=_("5 stars from"), min_value=0, max_value=100, required=False, **NUMBER
    )
    note = forms.CharField(label=_("What changed"), max_length=300, required=False)

    def thresholds(self) -> list:
        return [
            self.cleaned_data[f"star_{n}"]
            for n in range(1, 6)
            if self.cleaned_data.get(f"star_{n}") is not None
        ]

    @classmethod
    def initial_for(cls, version) -> dict:
        initial = {"note": version.note}
        for n, value in enumerate(version.star_thresholds[:5], start=1):
            initial[f"star_{n}"] = value
        return initial


class DimensionForm(forms.Form):
    name = forms.CharField(label=pgettext_lazy("index", "Name"), max_length=100)
    weight = forms.DecimalField(label=_("Weight"), min_value=0, max_value=1000, **NUMBER)
    order = forms.IntegerField(label=_("Order"), min_value=0, max_value=1000, initial=0)


class NewDimensionForm(DimensionForm):
    code = forms.SlugField(
        label=_("Code"), max_length=40, help_text=_("Small letters, digits, hyphens.")
    )
    order = None


class IndicatorForm(forms.Form):
    name = forms.CharField(label=pgettext_lazy("index", "Name"), max_length=100)
    weight = forms.DecimalField(label=_("Weight"), min_value=0, max_value=1000, **NUMBER)
    metric = forms.ChoiceField(label=_("Yishi figure"), choices=_metric_choices, required=False)
    unit = forms.CharField(label=_("Unit"), max_length=20, required=False)
    floor = forms.DecimalField(label=_("0 points at"), **NUMBER)
    target = forms.DecimalField(
        label=_("100 points at"),
        help_text=_("Below the value for 0 points when lower is better."),
        **NUMBER,
    )
    order = forms.IntegerField(label=_("Order"), min_value=0, max_value=1000, initial=0)


class NewIndicatorForm(IndicatorForm):
    code = forms.SlugField(
        label=_("Code"),
        max_length=40,
        help_text=_("Small letters, digits, hyphens; it stays the same in every version."),
    )
    source = forms.ChoiceField(label=_("Source"), choices=IndicatorSource.choices)
    order = None
    field_order = ["code", "name", "source", "metric", "weight", "unit", "floor", "target"]


class ChooseFiguresForm(forms.Form):
    """Which indicator and period to enter figures for (GET)."""

    code = forms.ChoiceField(label=_("Indicator"))
    period = PeriodField(label=_("Period"))

    def __init__(self, *args, indicators=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].choices = [(i.code, i.name) for i in indicators]


class FigureForm(forms.Form):
    """One figure: a row of the entry table, or the page that changes or corrects one."""

    value = forms.DecimalField(label=_("Value"), **NUMBER)
    evidence_url = forms.CharField(label=_("Evidence link"), max_length=500, required=False)
    evidence_file = forms.FileField(
        label=_("Evidence file"),
        required=False,
        help_text=_("PDF, JPG or PNG, at most 10 MB."),
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class FigureRowForm(FigureForm):
    """A village's row of the entry table: an empty value leaves the village out."""

    value = forms.DecimalField(label=_("Value"), required=False, **NUMBER)

    def has_value(self) -> bool:
        return self.is_valid() and self.cleaned_data.get("value") is not None
