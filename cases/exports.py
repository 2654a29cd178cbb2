"""Spreadsheets of the cases desk for officials (`cases.export_cases`): the cases of a council's
subtree reported in a date range, one row per case, and the figures table.

Privacy: the cases export carries what the desk needs to follow the work (where, when, which
kind, who handles it, the deadlines, the outcome), and never personal text: no description, no
place, no reporter, no parties, no notes, no outcome text, whoever asks. A case's title is
written only when the case is public (shown on the public page anyway); a private case's title
may name people, so its cell stays empty.

Both are written row by row into a write-only workbook (openpyxl), spooled to a temporary file,
so memory stays flat for a large subtree; the house style is disclosure/excel.py's (a bold,
filled header row, dates as dates, text cells never formulas).
"""

import datetime
import tempfile
from collections.abc import Iterable

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from cases import figures as case_figures
from cases.models import Case, Category, Source, Status, Whistle

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER_FILL = PatternFill("solid", fgColor="DDE7F0")
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
PERCENT_FORMAT = "0.0"
CHUNK = 2000
# Beyond this many cases the asker narrows the range (a web worker writes the file).
MAX_CASE_ROWS = 200_000


def _text(sheet, value) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value="" if value is None else str(value))
    cell.data_type = "s"  # never a formula, whatever the text starts with
    return cell


def _when(sheet, value: datetime.datetime | None) -> WriteOnlyCell:
    # Excel has no time zones: the local time of the site, as people read it on the page.
    local = timezone.localtime(value).replace(tzinfo=None) if value else None
    cell = WriteOnlyCell(sheet, value=local)
    cell.number_format = DATETIME_FORMAT
    return cell


def _header(sheet, texts: list[str], widths: list[int]) -> None:
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    row = []
    for text in texts:
        cell = _text(sheet, text)
        cell.font, cell.fill = Font(bold=True), HEADER_FILL
        row.append(cell)
    sheet.append(row)


def _saved(workbook: Workbook, title: str):
    workbook.properties.title = title[:200]
    handle = tempfile.SpooledTemporaryFile(max_size=8 * 2**20)
    workbook.save(handle)
    handle.seek(0)
    return handle


def _day_bounds(first: datetime.date, last: datetime.date):
    start = timezone.make_aware(datetime.datetime.combine(first, datetime.time()))
    end = timezone.make_aware(
        datetime.datetime.combine(last + datetime.timedelta(days=1), datetime.time())
    )
    return start, end


def cases_in(council, *, first: datetime.date, last: datetime.date):
    """Cases of `council`'s subtree reported from `first` to `last` (local days, inclusive)."""
    start, end = _day_bounds(first, last)
    return Case.objects.in_subtree(council).filter(reported_at__gte=start, reported_at__lt=end)


CASE_COLUMNS = [
    ("id", 8),
    ("reported_at", 17),
    ("council", 16),
    ("source", 14),
    ("category", 18),
    ("level", 10),
    ("title", 28),
    ("status", 14),
    ("handler", 16),
    ("department", 16),
    ("accept_due", 17),
    ("resolve_due", 17),
    ("promised_by", 17),
    ("closed_at", 17),
    ("on_time", 8),
    ("satisfaction", 8),
    ("reopened", 8),
    ("escalations", 8),
]


def case_headers() -> list[str]:
    names = {
        "id": _("Case number"),
        "reported_at": _("Reported at"),
        "council": _("Where"),
        "source": _("Source"),
        "category": _("Category"),
        "level": _("Whistle level"),
        "title": _("Title (public cases only)"),
        "status": _("Status"),
        "handler": _("Handled by"),
        "department": _("Department"),
        "accept_due": _("Accept by"),
        "resolve_due": _("Resolve by"),
        "promised_by": _("Promised by"),
        "closed_at": _("Closed at"),
        "on_time": _("On time"),
        "satisfaction": _("Satisfaction (1-5)"),
        "reopened": _("Times reopened"),
        "escalations": _("Times escalated"),
    }
    return [names[key] for key, _width in CASE_COLUMNS]


# Only these fields are read: nothing personal leaves the database for an export.
CASE_FIELDS = (
    "pk",
    "reported_at",
    "council__title",
    "source",
    "category",
    "level",
    "public",
    "title",
    "status",
    "handler_council__title",
    "department__name",
    "accept_due",
    "resolve_due",
    "promised_by",
    "closed_at",
    "on_time",
    "satisfaction",
    "reopened",
    "escalations",
)


def case_rows(council, *, first: datetime.date, last: datetime.date) -> Iterable[dict]:
    rows = (
        cases_in(council, first=first, last=last).order_by("reported_at", "pk").values(*CASE_FIELDS)
    )
    return rows.iterator(chunk_size=CHUNK)


def write_cases(council, *, first: datetime.date, last: datetime.date):
    """The cases export as a spooled temporary file (seeked to 0)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Cases")[:31])
    _header(sheet, case_headers(), [width for _key, width in CASE_COLUMNS])
    sources, categories = dict(Source.choices), dict(Category.choices)
    levels, statuses = dict(Whistle.choices), dict(Status.choices)
    yes, no = _("yes"), _("no")
    for row in case_rows(council, first=first, last=last):
        on_time = row["on_time"]
        sheet.append(
            [
                WriteOnlyCell(sheet, value=row["pk"]),
                _when(sheet, row["reported_at"]),
                _text(sheet, row["council__title"]),
                _text(sheet, sources.get(row["source"], row["source"])),
                _text(sheet, categories.get(row["category"], row["category"])),
                _text(sheet, levels.get(row["level"], row["level"])),
                _text(sheet, row["title"] if row["public"] else ""),
                _text(sheet, statuses.get(row["status"], row["status"])),
                _text(sheet, row["handler_council__title"]),
                _text(sheet, row["department__name"]),
                _when(sheet, row["accept_due"]),
                _when(sheet, row["resolve_due"]),
                _when(sheet, row["promised_by"]),
                _when(sheet, row["closed_at"]),
                _text(sheet, "" if on_time is None else (yes if on_time else no)),
                WriteOnlyCell(sheet, value=row["satisfaction"]),
                WriteOnlyCell(sheet, value=row["reopened"]),
                WriteOnlyCell(sheet, value=row["escalations"]),
            ]
        )
    return _saved(workbook, f"{council.title} {first.isoformat()} – {last.isoformat()}")


def cases_filename(council, *, first: datetime.date, last: datetime.date) -> str:
    return f"yishi-{council.pk}-cases-{first.isoformat()}-{last.isoformat()}.xlsx"


def figure_headers(first: str) -> list[str]:
    return [
        first,
        pgettext("case count", "Reported"),
        pgettext("case count", "Closed"),
        _("Closure rate (%)"),
        _("Closed on time"),
        _("On-time rate (%)"),
        _("Median time to close (hours)"),
        _("Rated"),
        _("Mean satisfaction (1-5)"),
        pgettext("case count", "Reopened"),
        _("Reopen rate (%)"),
        _("Overdue and open"),
    ]


def _figure_cells(sheet, row: case_figures.FigureRow) -> list:
    def number(value, fmt=None):
        cell = WriteOnlyCell(sheet, value=None if value is None else float(value))
        if fmt:
            cell.number_format = fmt
        return cell

    return [
        _text(sheet, row.label),
        WriteOnlyCell(sheet, value=row.reported),
        WriteOnlyCell(sheet, value=row.closed),
        number(row.closure_rate, PERCENT_FORMAT),
        WriteOnlyCell(sheet, value=row.closed_on_time),
        number(row.on_time_rate, PERCENT_FORMAT),
        WriteOnlyCell(sheet, value=row.median_hours),
        WriteOnlyCell(sheet, value=row.rated),
        number(row.satisfaction, "0.00"),
        WriteOnlyCell(sheet, value=row.reopened),
        number(row.reopen_rate, PERCENT_FORMAT),
        WriteOnlyCell(sheet, value=row.overdue_open),
    ]


def figure_tables(council, months: case_figures.MonthSpan) -> list[tuple[str, str, list]]:
    """(sheet name, first column, rows) for each breakdown, each with the total row last.
    Two queries whatever the subtree (figures.breakdowns)."""
    found = case_figures.breakdowns(council, months=months)
    return [
        (_("By month"), _("Month"), [*found.by_month, found.total]),
        (_("By whistle level"), _("Whistle level"), [*found.by_level, found.total]),
        (_("By category"), _("Category"), [*found.by_category, found.total]),
    ]


def write_figures(council, months: case_figures.MonthSpan):
    """The figures table (by month, by level, by category; a total row each) as a spooled
    temporary file (seeked to 0)."""
    workbook = Workbook(write_only=True)
    widths = [16, 10, 10, 12, 12, 12, 14, 10, 12, 10, 12, 12]
    for name, first, rows in figure_tables(council, months):
        sheet = workbook.create_sheet(name[:31])
        _header(sheet, figure_headers(first), widths)
        for row in rows:
            sheet.append(_figure_cells(sheet, row))
    span = f"{case_figures.month_label(months.first)} – {case_figures.month_label(months.last)}"
    return _saved(workbook, f"{council.title} {span}")


def figures_filename(council, months: case_figures.MonthSpan) -> str:
    first = case_figures.month_label(months.first)
    last = case_figures.month_label(months.last)
    return f"yishi-{council.pk}-figures-{first}-{last}.xlsx"
