"""The evidence of a figure: `councils/<id>/metrics/<key>/<period>/`, public.

The stored figure (MetricValue, computed by the recompute task) at the top. For a village, a
grid or a council under a village: the items it counts, each linked to its own public page, and
the same counts recomputed from the list, so that anyone can compare (governance.evidence
builds the list). For a township, a district or a city: the stored figure of each council right
below, each linked to its own evidence page, added up, and what the council counts itself; so
the page reads one query however many villages are under it, and one follows the links down to
the items. Period: "2026-11" or "2026-Q4".
"""

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.utils import timezone

from councils.models import CouncilPage
from governance import evidence as selectors
from governance.evidence import evidence_url
from governance.figures import Period, parse_period, value_of
from governance.metrics import METRICS
from governance.models import MetricValue, PeriodKind

PER_PAGE = 50

__all__ = ["evidence_url", "urlpatterns"]


def _neighbours(period: Period) -> dict[str, Period | None]:
    """The periods one may step to: before, after (not into the future), and the quarter of a
    month or the first month of a quarter."""
    today = timezone.localdate()
    after = Period(period.kind, period.end)
    return {
        "previous": period.previous() if period.start.year > 2000 else None,
        "next": after if after.start <= today else None,
        "other": Period.containing(PeriodKind.QUARTER, period.start)
        if period.kind == PeriodKind.MONTH
        else Period(PeriodKind.MONTH, period.start),
    }


def evidence(request, council_pk: int, key: str, period: str):
    metric = METRICS.get(key)
    found_period = parse_period(period)
    if metric is None or found_period is None:
        raise Http404
    # `id`, not `pk`: an id too large for the column is a 404, not a 500 (cases.views.desk).
    council = get_object_or_404(CouncilPage.objects.live(), id=council_pk)
    stored = MetricValue.objects.filter(
        council=council,
        metric=key,
        period_kind=found_period.kind,
        period_start=found_period.start,
    ).first()
    if selectors.lists_children(council):
        # A township and above: the figure of each council right below, linking down to its
        # own evidence page (one query, however many villages the subtree holds).
        found, rollup = None, selectors.children_figures(council, key, found_period, stored=stored)
        listed, counts = rollup.children, rollup.counts
    else:
        found, rollup = selectors.evidence_for(council, key, found_period), None
        listed, counts = found.items, found.counts
    page = Paginator(listed, PER_PAGE).get_page(request.GET.get("page"))
    neighbours = _neighbours(found_period)
    crumbs = [*council.council_ancestors().only("id", "title", "url_path", "path"), council]
    links = {
        name: evidence_url(council, key, other.kind, other.start) if other else None
        for name, other in neighbours.items()
    }
    return render(
        request,
        "governance/evidence.html",
        {
            "council": council,
            "crumbs": crumbs,
            "metric": metric,
            "rule": selectors.RULES[key],
            "period": found_period,
            "stored": stored,
            "evidence": found,
            "rollup": rollup,
            "own_value": value_of(metric.unit, rollup.own) if rollup and rollup.own else None,
            "recounted": value_of(metric.unit, counts),
            "recounted_counts": counts,
            "page_obj": page,
            "links": links,
            "neighbours": neighbours,
            "cases_url": selectors.cases_figures_url(council, found_period)
            if key in selectors.CASE_METRICS
            else "",
        },
    )


urlpatterns = [
    path(
        "councils/<int:council_pk>/metrics/<str:key>/<str:period>/",
        evidence,
        name="evidence",
    ),
]
