"""The committee's forms for the registers. They only shape the input: amounts, dates and what a
disposal needs are checked by assets.services, whose messages are put next to their fields."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from assets.models import (
    CATEGORIES,
    ContractKind,
    CounterpartyKind,
    Disposal,
    EntryVersion,
    Register,
    Threshold,
)
from assets.selectors import carried_motions, subject_entries

# The fields of each register's form, in the order the committee fills them in.
REGISTER_FIELDS = {
    Register.ASSET: (
        "name",
        "category",
        "location",
        "book_value",
        "description",
        "disposal",
        "disposal_value",
        "disposed_on",
    ),
    Register.RESOURCE: (
        "name",
        "category",
        "location",
        "area",
        "boundaries",
        "map_reference",
        "description",
        "disposal",
        "disposal_value",
        "disposed_on",
    ),
    Register.CONTRACT: (
        "name",
        "subject",
        "contract_kind",
        "counterparty_kind",
        "counterparty",
        "starts_on",
        "ends_on",
        "price",
        "description",
    ),
}
MONEY = ("book_value", "area", "price", "disposal_value")
DATES = ("starts_on", "ends_on", "disposed_on")
# What a version keeps that the form shows again (a new version starts from the current one).
COPIED = (
    "name",
    "category",
    "location",
    "description",
    "book_value",
    "area",
    "boundaries",
    "map_reference",
    "contract_kind",
    "counterparty_kind",
    "counterparty",
    "starts_on",
    "ends_on",
    "price",
    "disposal",
    "disposal_value",
    "disposed_on",
)


def _label(name: str):
    return capfirst(EntryVersion._meta.get_field(name).verbose_name)


def _threshold_label(name: str):
    return capfirst(Threshold._meta.get_field(name).verbose_name)


class MotionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, motion):
        closed = timezone.localdate(motion.closed_at).isoformat() if motion.closed_at else ""
        return f"{motion.title}（{motion.session.title}，{closed}）"


class EntryForm(forms.Form):
    """An entry's version: the fields of its register, the resolution, "after the fact"."""

    register = forms.ChoiceField(choices=Register.choices, widget=forms.HiddenInput, required=False)
    code = forms.CharField(
        label=pgettext_lazy("register entry", "Code"),
        max_length=30,
        required=False,
        help_text=_("Leave empty to get the next free code (ZC-001, ZY-001, HT-001)."),
    )
    name = forms.CharField(label=_label("name"), max_length=100)
    subject = forms.ModelChoiceField(
        label=_label("subject"),
        queryset=None,
        required=False,
        empty_label=_("— not on the registers —"),
        help_text=_("The pond, land or building this contract leases or contracts out."),
    )
    category = forms.ChoiceField(label=_label("category"), choices=())
    location = forms.CharField(label=_label("location"), max_length=200, required=False)
    book_value = forms.CharField(label=_label("book_value"), max_length=30)
    area = forms.CharField(label=_label("area"), max_length=30)
    boundaries = forms.CharField(
        label=_label("boundaries"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    map_reference = forms.CharField(label=_label("map_reference"), max_length=200, required=False)
    contract_kind = forms.ChoiceField(
        label=_label("contract_kind"), choices=ContractKind.choices, widget=forms.RadioSelect
    )
    counterparty_kind = forms.ChoiceField(
        label=_label("counterparty_kind"),
        choices=CounterpartyKind.choices,
        widget=forms.RadioSelect,
    )
    counterparty = forms.CharField(
        label=_label("counterparty"),
        max_length=100,
        help_text=_(
            "A person's name is kept only partly hidden (王*英), as on welfare lists; "
            "an organisation's name is kept whole. Never write ID or phone numbers."
        ),
    )
    starts_on = forms.CharField(
        label=_label("starts_on"), max_length=10, widget=forms.DateInput(attrs={"type": "date"})
    )
    ends_on = forms.CharField(
        label=_label("ends_on"), max_length=10, widget=forms.DateInput(attrs={"type": "date"})
    )
    price = forms.CharField(label=_label("price"), max_length=30)
    description = forms.CharField(
        label=_label("description"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    disposal = forms.ChoiceField(
        label=_("Sold or written off?"),
        choices=[
            (Disposal.NONE, _("No")),
            (Disposal.SALE, Disposal.SALE.label),
            (Disposal.WRITE_OFF, Disposal.WRITE_OFF.label),
        ],
        required=False,
        widget=forms.RadioSelect,
    )
    disposal_value = forms.CharField(
        label=_label("disposal_value"),
        max_length=30,
        required=False,
        help_text=_("For a sale: the price it was sold for."),
    )
    disposed_on = forms.CharField(
        label=_label("disposed_on"),
        max_length=10,
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    resolution = MotionChoiceField(
        label=_("Resolution that allows it"),
        queryset=None,
        required=False,
        empty_label=_("— none —"),
        help_text=_(
            "A motion carried at a closed villagers' representatives' meeting or villagers' "
            "assembly of this village, newest first."
        ),
    )
    after_the_fact = forms.BooleanField(
        label=_("Recorded after the fact"),
        required=False,
        help_text=_(
            "Tick this only if the lease, sale or write-off has already happened without the "
            "resolution it needed. It is then published marked as irregular, for everyone to "
            "see, with the reason."
        ),
    )
    change_reason = forms.CharField(
        label=_label("change_reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Say what changed since the published version, and why."),
    )

    def __init__(self, *args, council, register: str, new_entry: bool, needs_reason: bool, **kw):
        super().__init__(*args, **kw)
        self.register_value = register
        keep = {"register", *REGISTER_FIELDS[register], "resolution", "after_the_fact"}
        if new_entry:
            keep.add("code")
        if needs_reason:
            keep.add("change_reason")
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        self.fields["register"].initial = register
        if "category" in self.fields:
            self.fields["category"].choices = [("", "—"), *CATEGORIES[register].choices]
        if "subject" in self.fields:
            self.fields["subject"].queryset = subject_entries(council)
            self.fields["subject"].label_from_instance = lambda entry: (
                f"{entry.code} ({entry.get_register_display()})"
            )
        self.fields["resolution"].queryset = carried_motions(council)

    def clean_register(self):
        # The register is fixed by the page (a new entry's choice, or the entry's own).
        return self.register_value

    def service_fields(self) -> dict:
        """cleaned_data as the services take it (`fields`)."""
        data = dict(self.cleaned_data)
        for name in ("register", "code", "after_the_fact"):
            data.pop(name, None)
        return data

    def add_service_error(self, error: ValidationError) -> list[str]:
        """Put the service's messages next to their fields; return those of the payment
        schedule (shown above it) and put any other one at the top of the form."""
        schedule = []
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return schedule
        for field, messages in error.message_dict.items():
            if field == "installments":
                schedule += messages
            elif field in self.fields:
                self.add_error(field, messages)
            else:
                self.add_error(None, messages)
        return schedule


def initial_from(version: EntryVersion) -> dict:
    """A form's initial data from a version (dates as ISO text, amounts as plain numbers)."""
    initial = {}
    for name in COPIED:
        value = getattr(version, name)
        if value is None:
            continue
        initial[name] = value.isoformat() if name in DATES else value
    initial["subject"] = version.subject_id
    initial["resolution"] = version.resolution_id
    initial["after_the_fact"] = version.irregular
    initial["change_reason"] = version.change_reason
    return initial


class InstallmentForm(forms.Form):
    """One payment due on a contract's schedule; an empty row is skipped."""

    due_on = forms.CharField(
        label=_("Due on"),
        max_length=10,
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    amount = forms.CharField(label=_("Amount (yuan)"), max_length=30, required=False)

    def row(self) -> tuple[str, str] | None:
        due, amount = self.cleaned_data.get("due_on", ""), self.cleaned_data.get("amount", "")
        return (due, amount) if (due or amount) else None


EMPTY_ROWS = 4
MAX_ROWS = 60


def schedule_formset(data=None, *, rows=()):
    """The payment schedule as rows of a formset: the given ones and a few empty ones."""
    formset_class = forms.formset_factory(
        InstallmentForm, extra=EMPTY_ROWS, max_num=MAX_ROWS, validate_max=True
    )
    initial = [{"due_on": due.isoformat(), "amount": amount} for due, amount in rows]
    return formset_class(data, initial=initial or None, prefix="pay")


def schedule_rows(formset) -> list[tuple[str, str]]:
    return [row for form in formset.forms if (row := form.row()) is not None]


class NewEntryChoiceForm(forms.Form):
    register = forms.ChoiceField(
        label=_("Which register"), choices=Register.choices, widget=forms.RadioSelect
    )


class ThresholdForm(forms.Form):
    """The township's thresholds; amounts are checked by assets.services.set_thresholds."""

    lease_amount = forms.CharField(label=_threshold_label("lease_amount"), max_length=30)
    lease_years = forms.IntegerField(
        label=_threshold_label("lease_years"),
        min_value=0,
        max_value=100,
        help_text=_("0: the length of a lease alone never requires a resolution."),
    )
    sale_amount = forms.CharField(label=_threshold_label("sale_amount"), max_length=30)
    write_off_amount = forms.CharField(label=_threshold_label("write_off_amount"), max_length=30)
    grace_days = forms.IntegerField(
        label=_threshold_label("grace_days"), min_value=0, max_value=100
    )

    FIELDS = ("lease_amount", "lease_years", "sale_amount", "write_off_amount", "grace_days")
