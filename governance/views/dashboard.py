"""The township and district dashboard: the villages under a council ranked on any figure.

- `councils/<id>/dashboard/`: public (the figures are public); a township's, a district's or a
  city's. A GET form (works without script): the figure, the month or quarter, the township
  (above a township), a minimum and a maximum, only the villages without a figure, best or
  worst first. 100 villages a page.
- `councils/<id>/dashboard/export.xlsx`: the same table, filtered the same way, every row.

Seven queries whatever the number of villages, four for the export (governance.dashboards:
the figures on offer, the villages, their stored figures; the page adds its breadcrumbs and
the contracts with late or missing payments, from the registers' stored states).
"""

from django import forms
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from councils.models import CouncilPage, Level
from governance import dashboards, exports

PER_PAGE = 100
BEST, WORST = "best", "worst"
DEFAULT_FIGURE = "case_closure"


def dashboard_council(pk: int) -> CouncilPage:
    """A township, district or city that is live; else 404. (`id`, not `pk`: an id too large
    for the database is a 404, not SQLite's OverflowError; see cases.views.desk._council.)"""
    return get_object_or_404(
        CouncilPage.objects.live(), id=pk, level__in=dashboards.DASHBOARD_LEVELS
    )


class DashboardForm(forms.Form):
    # Not required: a field left out of the address takes its default (see `choice`).
    figure = forms.ChoiceField(label=gettext_lazy("Figure"), required=False)
    period = forms.ChoiceField(label=gettext_lazy("Month or quarter"), required=False)
    township = forms.TypedChoiceField(
        label=pgettext_lazy("council level", "Township"),
        coerce=int,
        required=False,
        empty_value=None,
    )
    minimum = forms.DecimalField(
        label=gettext_lazy("At least"), required=False, max_digits=14, decimal_places=2
    )
    maximum = forms.DecimalField(
        label=gettext_lazy("At most"), required=False, max_digits=14, decimal_places=2
    )
    without_data = forms.BooleanField(
        label=gettext_lazy("Only villages without a figure"), required=False
    )
    order = forms.ChoiceField(
        label=gettext_lazy("Order"),
        choices=[(BEST, gettext_lazy("Best first")), (WORST, gettext_lazy("Worst first"))],
        required=False,
    )

    def __init__(self, data, *, council, measures, townships):
        super().__init__(data)
        self.measures = {m.key: m for m in measures}
        grouped: dict[str, list] = {}
        for measure in measures:
            grouped.setdefault(measure.group, []).append((measure.key, measure.label))
        self.fields["figure"].choices = list(grouped.items())
        self.periods = {p.slug: p for p in dashboards.period_choices()}
        self.fields["period"].choices = [
            (
                pgettext_lazy("period", "Months"),
                [(k, p.label) for k, p in self.periods.items() if p.kind == "month"],
            ),
            (
                pgettext_lazy("period", "Quarters"),
                [(k, p.label) for k, p in self.periods.items() if p.kind == "quarter"],
            ),
        ]
        if council.level == Level.TOWNSHIP:
            del self.fields["township"]
        else:
            self.fields["township"].choices = [("", _("All townships")), *townships]

    def clean(self):
        data = super().clean()
        low, high = data.get("minimum"), data.get("maximum")
        if low is not None and high is not None and low > high:
            self.add_error("maximum", _("The maximum is below the minimum."))
        return data

    def choice(self) -> dict:
        """What to show: the valid fields as asked, the defaults for the others (the latest
        complete month, case closure, every township, best first)."""
        data, errors = self.cleaned_data, self.errors

        def valid(name, default=None):
            return default if name in errors else data.get(name, default) or default

        return {
            "measure": self.measures[valid("figure", DEFAULT_FIGURE)],
            "period": self.periods.get(valid("period", ""), dashboards.last_complete_month()),
            "township_id": valid("township"),
            "minimum": None if "minimum" in errors or "maximum" in errors else data.get("minimum"),
            "maximum": None if "maximum" in errors else data.get("maximum"),
            "without_data": bool(valid("without_data", False)),
            "worst_first": valid("order", BEST) == WORST,
        }


def _table(request, council: CouncilPage):
    """(form, what was chosen, the ranked and filtered villages, every village's count)."""
    measures = dashboards.measures(council)
    villages, townships = dashboards.places_of(council)
    # Always bound, with the defaults for what the address leaves out, so that the form shows
    # what the table shows.
    data = request.GET.copy()
    for name, default in (
        ("figure", DEFAULT_FIGURE),
        ("period", dashboards.last_complete_month().slug),
        ("order", BEST),
    ):
        if not data.get(name):
            data[name] = default
    form = DashboardForm(data, council=council, measures=measures, townships=townships)
    form.is_valid()
    chosen = form.choice()
    if council.level == Level.TOWNSHIP:
        chosen["township_id"] = None
    ranked = dashboards.ranked_places(council, chosen["measure"], chosen["period"], villages)
    rows = dashboards.filtered(
        ranked,
        township_id=chosen["township_id"],
        minimum=chosen["minimum"],
        maximum=chosen["maximum"],
        without_data=chosen["without_data"],
        worst_first=chosen["worst_first"],
    )
    return form, chosen, rows, len(ranked)


def dashboard(request, council_pk: int):
    council = dashboard_council(council_pk)
    form, chosen, rows, village_count = _table(request, council)
    page_obj = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    measure = chosen["measure"]
    return render(
        request,
        "governance/dashboard.html",
        {
            "council": council,
            "crumbs": [
                *council.council_ancestors().only("id", "title", "url_path", "path"),
                council,
            ],
            "form": form,
            "measure": measure,
            "unit_words": dashboards.unit_words(measure.unit),
            "period": chosen["period"],
            "is_metric": bool(measure.metric),
            "above_township": council.level != Level.TOWNSHIP,
            "page_obj": page_obj,
            "shown_count": len(rows),
            "village_count": village_count,
            "with_figure": sum(1 for row in rows if row.has_value),
            "filters_query": query.urlencode(),
            "late_payments": dashboards.late_payments(council),
        },
        status=400 if form.errors else 200,
    )


def dashboard_export(request, council_pk: int):
    """The dashboard's table as .xlsx, filtered as on the page, every row (a township's or a
    district's few hundred villages: written in the request)."""
    council = dashboard_council(council_pk)
    form, chosen, rows, _count = _table(request, council)
    if form.errors:
        problems = "; ".join(str(e) for errors in form.errors.values() for e in errors)
        return HttpResponseBadRequest(problems)
    return FileResponse(
        exports.write_ranking(council, chosen["measure"], chosen["period"], rows, request=request),
        as_attachment=True,
        filename=exports.ranking_filename(council, chosen["measure"], chosen["period"]),
        content_type=exports.XLSX,
    )


urlpatterns = [
    path("councils/<int:council_pk>/dashboard/", dashboard, name="dashboard"),
    path(
        "councils/<int:council_pk>/dashboard/export.xlsx",
        dashboard_export,
        name="dashboard_export",
    ),
]
