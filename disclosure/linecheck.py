"""The rules one money line must follow, as problem codes: the one source for the line form
(disclosure.forms.LineItemForm), the service that adds a line (services.add_line_item), the
spreadsheet import (which reports every problem of every row at once) and its bulk save.

A problem is a code plus parameters, not a sentence: the preview is shown in the reader's
language (zh-hans or en), which need not be the uploader's. `message()` makes the sentence.
"""

import datetime
import math
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext_lazy as _

from disclosure.privacy import identity_kind

MAX_AMOUNT = Decimal("999999999999.99")
CENT = Decimal("0.01")
MAX_LENGTHS = {"voucher": 40, "account": 60, "description": 200, "counterparty": 100}

MESSAGES = {
    # whole file
    "not_xlsx": _(
        "This is not an Excel .xlsx file. In Excel or WPS choose Save as, then Excel workbook "
        "(.xlsx)."
    ),
    "old_xls": _(
        "This is an old .xls file. Open it in Excel or WPS and save it as an Excel workbook "
        "(.xlsx)."
    ),
    "too_large": _("The file is larger than %(mb)s MB. Split it into one file per month."),
    "empty_file": _("The file is empty."),
    "empty_sheet": _("The first sheet of the workbook is empty."),
    "no_header": _(
        "No header row was found in the first %(rows)s rows. The first row should name the "
        "columns: 日期, 凭证号, 科目, 摘要, 收入, 支出, 往来单位 (download the template)."
    ),
    "missing_columns": _("These required columns are missing: %(columns)s."),
    "duplicate_column": _("Two columns mean the same thing (%(columns)s). Keep only one."),
    "no_lines": _("There are no lines below the header row."),
    "too_many_rows": _(
        "The sheet has more than %(max)s lines. Split it into smaller files, one per month."
    ),
    "unreadable": _("The file could not be read: it may be damaged. Save it again in Excel."),
    # the same words as core.uploads.check_zip_archive (a file kept before the check existed)
    "zip_too_big": _(
        "The file would unpack to more than %(mb)s MB (or has more than %(members)s "
        "parts): it is not an ordinary sheet of lines. Save the sheet again in Excel "
        "or WPS, or split it."
    ),
    # one cell or one line
    "date_missing": _("Give the date of the transaction."),
    "date_invalid": _("Write a date like 2025-03-15."),
    "date_outside": _("The date must fall within the record's period (%(start)s to %(end)s)."),
    "description_missing": _("Describe what the money was for."),
    "too_long": _("Too long: at most %(max)s characters."),
    "amount_invalid": _("Write an amount in yuan, for example 1280.50."),
    "amount_decimals": _("Amounts are in yuan with at most 2 decimals (fen)."),
    "amount_negative": _("Amounts cannot be negative."),
    "amount_too_large": _("This amount is too large."),
    "amount_both": _("This line has both an income and an expense. Split it into two lines."),
    "amount_none": _("This line has neither an income nor an expense."),
    "id_number": _(
        "Remove the ID card number: everything in the ledgers is published and kept for good, "
        "and ID numbers must never be published."
    ),
    "mobile_number": _(
        "Remove the phone number: everything in the ledgers is published and kept for good, "
        "and phone numbers must never be published."
    ),
    "project_invalid": _("Write the number of a funded micro-project, for example 12."),
    "project_unknown": _("No funded micro-project of this village has the number %(value)s."),
}


def message(code: str, params: dict | None = None) -> str:
    text = str(MESSAGES.get(code, code))
    return text % params if params else text


@dataclass
class Problem:
    code: str
    column: str | None = None  # a column key (see excel.COLUMNS) or None for the whole line
    params: dict = field(default_factory=dict)

    @property
    def message(self) -> str:
        return message(self.code, self.params)


# --- reading one cell --------------------------------------------------------------------------

_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_CURRENCY = re.compile(r"[¥￥元,\s]|RMB|CNY", re.IGNORECASE)


def normalise_text(value) -> str:
    """A text cell as text: numbers without a stray '.0', dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).strip()


def parse_date(value) -> tuple[datetime.date | None, str | None]:
    """A date cell: a real date, an Excel serial number or text like 2025-03-05 / 2025年3月5日."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, "date_missing"
    if isinstance(value, datetime.datetime):
        return value.date(), None
    if isinstance(value, datetime.date):
        return value, None
    if isinstance(value, int | float) and not isinstance(value, bool):
        # A date typed into a cell formatted as a number: Excel's serial day count.
        if math.isfinite(value) and float(value).is_integer() and 20000 <= value <= 80000:
            return datetime.date(1899, 12, 30) + datetime.timedelta(days=int(value)), None
        return None, "date_invalid"
    text = unicodedata.normalize("NFKC", str(value)).strip()
    text = text.split(" ", 1)[0] if re.match(r"^\d{4}-\d{2}-\d{2} ", text) else text
    match = _DATE_TEXT.match(text) or _DATE_COMPACT.match(text)
    if not match:
        return None, "date_invalid"
    try:
        return datetime.date(*(int(part) for part in match.groups())), None
    except ValueError:
        return None, "date_invalid"


def parse_amount(value) -> tuple[Decimal | None, str | None]:
    """An amount cell as Decimal yuan, never through float arithmetic.

    openpyxl gives numeric cells as int or float. A float is read through its shortest repr
    (1280.5 -> '1280.5'); when that shows more than two decimals the value is read again at
    Excel's own 15 significant digits, so a cell Excel displays as 0.3 is 0.30, while 12.345
    is refused rather than rounded.
    """
    if value is None:
        return None, None
    if isinstance(value, bool):
        return None, "amount_invalid"
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            return None, "amount_invalid"
        amount = Decimal(repr(value))
        if abs(amount) <= MAX_AMOUNT and amount != amount.quantize(CENT):
            amount = Decimal(format(value, ".15g"))
    elif isinstance(value, Decimal):
        amount = value
    else:
        text = unicodedata.normalize("NFKC", str(value)).strip().replace("\u2212", "-")
        text = _CURRENCY.sub("", text)
        if not text or text == "-":
            return None, None
        negative = text.startswith("(") and text.endswith(")")
        if negative:
            text = "-" + text[1:-1]
        try:
            amount = Decimal(text)
        except InvalidOperation:
            return None, "amount_invalid"
    if not amount.is_finite():
        return None, "amount_invalid"
    # Before quantize: 1e26 has more digits than the decimal context holds (InvalidOperation).
    if amount < 0 and abs(amount) > MAX_AMOUNT:
        return None, "amount_negative"
    if amount > MAX_AMOUNT:
        return None, "amount_too_large"
    if amount != amount.quantize(CENT):
        return None, "amount_decimals"
    if amount < 0:
        return None, "amount_negative"
    if amount > MAX_AMOUNT:
        return None, "amount_too_large"
    return amount.quantize(CENT), None


def parse_project(value) -> tuple[int | None, str | None]:
    """A micro-project number: 12, '12', '#12' or '12 修路' (the number first)."""
    text = normalise_text(value)
    if not text:
        return None, None
    match = re.match(r"^#?(\d{1,9})(?!\d)", unicodedata.normalize("NFKC", text))
    if not match:
        return None, "project_invalid"
    return int(match.group(1)), None


# --- one whole line ----------------------------------------------------------------------------


def check_line(
    *,
    date: datetime.date | None,
    description: str,
    income: Decimal | None,
    expense: Decimal | None,
    voucher: str = "",
    account: str = "",
    counterparty: str = "",
    project: int | None = None,
    period_start: datetime.date | None = None,
    period_end: datetime.date | None = None,
    welfare: bool = False,
    funded_projects=frozenset(),
) -> list[Problem]:
    """Problems of a line whose cells were read already (amounts non-negative or None).

    Without a period (a form that does not know its record) the date is not compared with it."""
    problems = []
    if (
        date is not None
        and period_start is not None
        and period_end is not None
        and not (period_start <= date <= period_end)
    ):
        problems.append(
            Problem(
                "date_outside",
                "date",
                {"start": period_start.isoformat(), "end": period_end.isoformat()},
            )
        )
    if not description:
        problems.append(Problem("description_missing", "description"))
    texts = {
        "voucher": voucher,
        "account": account,
        "description": description,
        "counterparty": counterparty,
    }
    for column, text in texts.items():
        if len(text) > MAX_LENGTHS[column]:
            problems.append(Problem("too_long", column, {"max": MAX_LENGTHS[column]}))
    has_income, has_expense = bool(income), bool(expense)
    if has_income and has_expense:
        problems.append(Problem("amount_both", "expense"))
    elif not has_income and not has_expense:
        problems.append(Problem("amount_none", "income"))
    # On every record, not only welfare lists: whatever is published is hashed for good.
    for column, text in texts.items():
        kind = identity_kind(text)
        if kind:
            problems.append(Problem("id_number" if kind == "id" else "mobile_number", column))
    if project is not None and project not in funded_projects:
        problems.append(Problem("project_unknown", "project", {"value": project}))
    return problems


TEXT_COLUMNS = ("voucher", "account", "description", "counterparty")


def read_line(
    *,
    date,
    description,
    income,
    expense,
    voucher="",
    account="",
    counterparty="",
    project=None,
    period_start: datetime.date | None = None,
    period_end: datetime.date | None = None,
    welfare: bool = False,
    funded_projects=frozenset(),
) -> tuple[dict, list[Problem]]:
    """Read one line's raw cells (typed in the form, passed to the service or read from a sheet)
    and check it: the values read (keys as in excel.COLUMNS) and every problem, in the order
    cells first, then the whole line."""
    problems: list[Problem] = []
    values: dict = {}
    values["date"], code = parse_date(date)
    if code:
        problems.append(Problem(code, "date"))
    for key, raw in (("income", income), ("expense", expense)):
        values[key], code = parse_amount(raw)
        if code:
            problems.append(Problem(code, key))
    values["project"], code = parse_project(project)
    if code:
        problems.append(Problem(code, "project"))
    texts = dict(zip(TEXT_COLUMNS, (voucher, account, description, counterparty), strict=True))
    values.update({key: normalise_text(text) for key, text in texts.items()})
    amount_unreadable = any(p.column in ("income", "expense") for p in problems)
    problems += [
        p
        for p in check_line(
            date=values["date"],
            income=values["income"],
            expense=values["expense"],
            project=values["project"],
            period_start=period_start,
            period_end=period_end,
            welfare=welfare,
            funded_projects=funded_projects,
            **{key: values[key] for key in TEXT_COLUMNS},
        )
        if not (amount_unreadable and p.code in ("amount_both", "amount_none"))
    ]
    return values, problems


# A column of the sheet as the field of the form, the service's keyword and the model.
FIELD_OF_COLUMN = {"voucher": "voucher_number"}


def errors_by_field(problems: list[Problem]) -> dict[str, list[str]]:
    """Problems as {field name: [sentences]} for a form or a ValidationError (None: the line)."""
    errors: dict = {}
    for problem in problems:
        name = FIELD_OF_COLUMN.get(problem.column, problem.column) or "__all__"
        errors.setdefault(name, []).append(problem.message)
    return errors
