"""Forms parse input only; the rules of what may be saved live in disclosure.services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from disclosure import linecheck
from disclosure.models import LINE_ITEM_TYPES, TYPES_BY_KIND, Kind, PeriodKind, RecordType


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def _type_choices(kind: str):
    return [(value, RecordType(value).label) for value in TYPES_BY_KIND[kind]]


class RecordForm(forms.Form):
    record_type = forms.ChoiceField(label=_("Type of record"))
    period_kind = forms.ChoiceField(
        label=_("Period"),
        choices=PeriodKind.choices,
        help_text=_("Monthly and quarterly records start on the first day of the period."),
    )
    period_start = forms.DateField(
        label=_("First day of the period"),
        widget=DateInput(),
        error_messages={
            "required": _("Give the first day of the period."),
            "invalid": _("Write a date like 2025-03-01."),
        },
    )
    period_end = forms.DateField(
        label=_("Last day of the period (ad hoc records only)"),
        required=False,
        widget=DateInput(),
        error_messages={"invalid": _("Write a date like 2025-03-31.")},
    )
    title = forms.CharField(
        label=_("Title"),
        max_length=200,
        error_messages={"required": _("Write a title.")},
    )
    body = forms.CharField(
        label=_("Text"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_(
            "What residents should know. Put the names and amounts of a welfare list in its "
            "lines, never ID numbers or phone numbers."
        ),
    )

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["record_type"].choices = _type_choices(kind)


def _text_input(column: str, **attrs):
    return forms.TextInput(attrs={"maxlength": linecheck.MAX_LENGTHS[column], **attrs})


class LineItemForm(forms.Form):
    """Cells as typed; disclosure.linecheck reads and checks them, as for a spreadsheet row and
    in services.add_line_item, so each mistake gets the same words on every path."""

    date = forms.CharField(label=_("Date"), required=False, widget=DateInput())
    voucher_number = forms.CharField(
        label=_("Voucher number"), required=False, widget=_text_input("voucher")
    )
    account = forms.CharField(
        label=_("Account (subject)"),
        required=False,
        help_text=_("The accounting subject (会计科目), for example 管理费用."),
        widget=_text_input("account"),
    )
    description = forms.CharField(
        label=_("Description"), required=False, widget=_text_input("description")
    )
    income = forms.CharField(
        label=_("Income (yuan)"), required=False, widget=forms.TextInput({"inputmode": "decimal"})
    )
    expense = forms.CharField(
        label=_("Expense (yuan)"), required=False, widget=forms.TextInput({"inputmode": "decimal"})
    )
    counterparty = forms.CharField(
        label=_("Counterparty or recipient"),
        required=False,
        help_text=_(
            "On a welfare list, the person's name: only its partly hidden form (王*英) is kept."
        ),
        widget=_text_input("counterparty"),
    )
    project = forms.TypedChoiceField(
        label=_("Micro-project (微实事)"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("Book spending on a funded micro-project against it."),
    )

    def __init__(self, *args, projects: dict | None = None, record=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.record = record
        if projects:
            self.fields["project"].choices = [("", _("None"))] + [
                (pk, f"{pk} · {title}") for pk, title in projects.items()
            ]
        else:
            del self.fields["project"]

    def clean(self):
        data = super().clean()
        values, problems = linecheck.read_line(
            date=data.get("date"),
            description=data.get("description", ""),
            income=data.get("income"),
            expense=data.get("expense"),
            voucher=data.get("voucher_number", ""),
            account=data.get("account", ""),
            counterparty=data.get("counterparty", ""),
            period_start=self.record.period_start if self.record else None,
            period_end=self.record.period_end if self.record else None,
        )  # the project is one of the choices; the service checks it is still funded
        for field, messages in linecheck.errors_by_field(problems).items():
            for message in messages:
                self.add_error(None if field == "__all__" else field, message)
        if not problems:
            data.update(
                date=values["date"],
                description=values["description"],
                income=values["income"],
                expense=values["expense"],
            )
        return data


class AttachmentForm(forms.Form):
    file = forms.FileField(
        label=_("Voucher scan, PDF or photo"),
        help_text=_("PDF, JPG or PNG, at most 10 MB."),
        error_messages={"required": _("Choose a file."), "empty": _("The file is empty.")},
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Write the reason.")},
    )


class CorrectionForm(forms.Form):
    reason = forms.CharField(
        label=_("What was wrong in the original record"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say what was wrong in the original record.")},
    )


class QuestionForm(forms.Form):
    text = forms.CharField(
        label=_("Your question"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Questions and answers are public. The committee must answer in time."),
        error_messages={"required": _("Write your question in at least 5 characters.")},
    )


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("Answer"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Write an answer.")},
    )


class LedgerFilterForm(forms.Form):
    year = forms.TypedChoiceField(label=_("Year"), required=False, coerce=int, empty_value=None)
    record_type = forms.ChoiceField(label=_("Type"), required=False)

    def __init__(self, *args, kind: str, years, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [("", _("All years"))] + [(y, str(y)) for y in years]
        self.fields["record_type"].choices = [("", _("All types"))] + _type_choices(kind)


def _import_type_choices():
    return [
        (value, f"{Kind(kind).label} · {RecordType(value).label}")
        for kind, values in TYPES_BY_KIND.items()
        for value in values
        if value in LINE_ITEM_TYPES
    ]


class ImportForm(forms.Form):
    """Upload a spreadsheet of lines for a new draft record (read and previewed first)."""

    record_type = forms.ChoiceField(label=_("Type of record"), choices=_import_type_choices)
    period_kind = RecordForm.base_fields["period_kind"]
    period_start = RecordForm.base_fields["period_start"]
    period_end = RecordForm.base_fields["period_end"]
    title = RecordForm.base_fields["title"]
    file = forms.FileField(
        label=_("Spreadsheet (.xlsx)"),
        help_text=_(
            "Use the template: one income or expense per row. At most 20 MB and 50,000 rows."
        ),
        error_messages={"required": _("Choose a file."), "empty": _("The file is empty.")},
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
    )


class ChartFilterForm(forms.Form):
    year = forms.TypedChoiceField(label=_("Year"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, years, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [("", _("All years"))] + [(y, str(y)) for y in years]


class NoticeForm(forms.Form):
    size = forms.ChoiceField(
        label=_("Paper size"),
        required=False,
        choices=[("A4", "A4"), ("A3", "A3")],
    )
