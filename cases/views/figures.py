"""Figures rolled up the tree, weekly summaries, exports.

- `councils/<id>/figures/`: any council's figures, public (counts only, no case is named);
- `councils/<id>/weeks/`, `weeks/<id>/`: a grid's or village's weekly summaries, for its staff
  and the officials above (`cases.view_summary`), signed by `cases.sign_summary`;
- `councils/<id>/export/cases.xlsx`, `.../figures.xlsx`: for `cases.export_cases`.
"""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases import exports, summaries
from cases import figures as case_figures
from cases.forms import SummaryNoteForm
from cases.models import WeeklySummary, Whistle
from core.refusals import say_refusal
from councils.models import CouncilPage

DEFAULT_MONTHS = 12
MAX_MONTHS = 60
SUMMARIES_PER_PAGE = 26
# The years one may ask about: far inside what a date holds (in year 1 or 9999 the start of a
# day or the end of a month in the site's time zone is out of range: a 500, not a figure).
YEARS = range(2000, 2100)


def _council(pk: int) -> CouncilPage:
    # `id`, not `pk`: see cases.views.desk._council (an id too large is a 404, not a 500).
    return get_object_or_404(CouncilPage.objects.live(), id=pk)


def _crumbs(council: CouncilPage) -> list:
    return [*council.council_ancestors().only("id", "title", "url_path", "path"), council]


def _parse_month(text: str) -> datetime.date | None:
    try:
        year, month = (int(part) for part in (text or "").split("-"))
        found = datetime.date(year, month, 1)
    except ValueError:
        return None
    return found if found.year in YEARS else None


def month_span(params) -> tuple[case_figures.MonthSpan, str]:
    """The months asked for (`from`, `to` as YYYY-MM), or the last twelve; with what was wrong."""
    this_month = timezone.localdate().replace(day=1)
    default = case_figures.MonthSpan(_months_before(this_month, DEFAULT_MONTHS - 1), this_month)
    if not params.get("from") and not params.get("to"):
        return default, ""
    first, last = _parse_month(params.get("from", "")), _parse_month(params.get("to", ""))
    if first is None or last is None or first > last:
        return default, _("Give the months as YYYY-MM, the first before the last.")
    span = case_figures.MonthSpan(first, last)
    if len(span.months()) > MAX_MONTHS:
        return default, _("Ask for at most %(n)s months at once.") % {"n": MAX_MONTHS}
    return span, ""


def _months_before(month: datetime.date, count: int) -> datetime.date:
    index = month.year * 12 + month.month - 1 - count
    return datetime.date(index // 12, index % 12 + 1, 1)


def figures(request, council_pk: int):
    """The council's figures with its subtree: totals, by month (with a chart), by whistle
    level, by category. Two queries for the figures, whatever the size of the subtree, and
    none while the cache holds them (until the next rebuild)."""
    council = _council(council_pk)
    span, problem = month_span(request.GET)
    found = case_figures.cached_breakdowns(council, months=span)
    context = {
        "council": council,
        "crumbs": _crumbs(council),
        "span": span,
        "span_from": case_figures.month_label(span.first),
        "span_to": case_figures.month_label(span.last),
        "problem": problem,
        "total": found.total,
        "by_month": found.by_month,
        "by_level": found.by_level,
        "by_category": found.by_category,
        "chart": case_figures.closure_chart(found.by_month),
        "can_export": request.user.has_perm("cases.export_cases", council),
        "can_see_weeks": council.level in summaries.SUMMARY_LEVELS
        and request.user.has_perm("cases.view_summary", council),
        "today": timezone.localdate(),
        "month_start": timezone.localdate().replace(day=1),
    }
    return render(request, "cases/figures.html", context)


def _summary_council(request, council_pk: int) -> CouncilPage:
    council = _council(council_pk)
    if council.level not in summaries.SUMMARY_LEVELS:
        raise Http404
    if not request.user.has_perm("cases.view_summary", council):
        raise PermissionDenied
    return council


@login_required
def summary_list(request, council_pk: int):
    """The archive of a grid's or village's weekly summaries, newest first."""
    council = _summary_council(request, council_pk)
    found = (
        WeeklySummary.objects.filter(council=council)
        .select_related("signed_by")
        .order_by("-week_start")
    )
    page = Paginator(found, SUMMARIES_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "cases/summary_list.html",
        {"council": council, "crumbs": _crumbs(council), "page_obj": page},
    )


def _visible_summary(request, pk: int) -> WeeklySummary:
    summary = get_object_or_404(WeeklySummary.objects.select_related("council", "signed_by"), pk=pk)
    if not request.user.has_perm("cases.view_summary", summary.council):
        raise PermissionDenied
    return summary


@login_required
def summary_detail(request, pk: int):
    """One week: the figures, the note and the signature; the form to sign for those allowed.
    Prints on one A4 page (static/css/case-figures.css, @media print)."""
    return _summary_page(request, _visible_summary(request, pk))


def _summary_page(request, summary: WeeklySummary, form=None, status: int = 200):
    council = summary.council
    week_end = summary.week_start + datetime.timedelta(days=6)
    figures = summary.figures or {}
    levels = [
        {
            "label": label,
            "new": (figures.get("new") or {}).get(value, 0),
            "overdue": (figures.get("overdue_at_end") or {}).get(value, 0),
        }
        for value, label in Whistle.choices
    ]
    level_names = dict(Whistle.choices)
    signals = [
        {**signal, "level_label": level_names.get(signal.get("level"), "")}
        for signal in figures.get("new_signals") or []
    ]
    return render(
        request,
        "cases/summary.html",
        {
            "summary": summary,
            "council": council,
            "crumbs": _crumbs(council),
            "week_end": week_end,
            "figures": figures,
            "levels": levels,
            "signals": signals,
            "can_sign": not summary.signed and request.user.has_perm("cases.sign_summary", council),
            "form": form or SummaryNoteForm(),
        },
        status=status,
    )


@login_required
@require_POST
def summary_sign(request, pk: int):
    """A refused note is shown again with what was typed (a week's note is long to retype)."""
    summary = _visible_summary(request, pk)
    form = SummaryNoteForm(request.POST)
    if form.is_valid():
        try:
            summaries.sign_summary(
                user=request.user, summary=summary, note=form.cleaned_data["note"]
            )
        except PermissionDenied as error:
            say_refusal(request, error)
            return redirect(reverse("cases:summary", args=[summary.pk]))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Signed. The week's summary is archived as it is."))
            return redirect(reverse("cases:summary", args=[summary.pk]))
    return _summary_page(request, _visible_summary(request, pk), form, status=400)


def _exporting_council(request, council_pk: int) -> CouncilPage:
    council = _council(council_pk)
    if not request.user.has_perm("cases.export_cases", council):
        raise PermissionDenied
    return council


def _parse_day(text: str) -> datetime.date | None:
    try:
        found = datetime.date.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return found if found.year in YEARS else None


@login_required
def export_cases(request, council_pk: int):
    """The cases of the subtree reported from `from` to `to` (YYYY-MM-DD, inclusive; this
    month so far when not given), as .xlsx."""
    council = _exporting_council(request, council_pk)
    today = timezone.localdate()
    first = _parse_day(request.GET.get("from") or today.replace(day=1).isoformat())
    last = _parse_day(request.GET.get("to") or today.isoformat())
    if first is None or last is None or first > last:
        return HttpResponseBadRequest(_("Give the dates as YYYY-MM-DD, the first before the last."))
    count = exports.cases_in(council, first=first, last=last).count()
    if count > exports.MAX_CASE_ROWS:
        return HttpResponseBadRequest(
            _("%(n)s cases: too many for one file. Choose fewer days or a smaller council.")
            % {"n": count}
        )
    return FileResponse(
        exports.write_cases(council, first=first, last=last),
        as_attachment=True,
        filename=exports.cases_filename(council, first=first, last=last),
        content_type=exports.XLSX,
    )


@login_required
def export_figures(request, council_pk: int):
    """The figures table of the months asked for (as on the figures page), as .xlsx."""
    council = _exporting_council(request, council_pk)
    span, problem = month_span(request.GET)
    if problem:
        return HttpResponseBadRequest(problem)
    return FileResponse(
        exports.write_figures(council, span),
        as_attachment=True,
        filename=exports.figures_filename(council, span),
        content_type=exports.XLSX,
    )


urlpatterns = [
    path("councils/<int:council_pk>/figures/", figures, name="figures"),
    path("councils/<int:council_pk>/weeks/", summary_list, name="summaries"),
    path("weeks/<int:pk>/", summary_detail, name="summary"),
    path("weeks/<int:pk>/sign/", summary_sign, name="summary_sign"),
    path("councils/<int:council_pk>/export/cases.xlsx", export_cases, name="export_cases"),
    path("councils/<int:council_pk>/export/figures.xlsx", export_figures, name="export_figures"),
]
