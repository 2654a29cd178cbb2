"""Read-side queries of the pages that show governance figures (docs/dashboards.md): the section
on a council's page, the township and district dashboard, and the big screen.

Every figure here is read from rows the recompute task wrote (MetricValue, IndexScore); nothing
is computed over the records per request. Each function answers in a fixed number of queries
whatever the number of villages:

- `council_figures`: one query on MetricValue by its (council, period) index;
- `ranking`: the measures on offer (one query: indexes owned at or above the council), the
  villages and townships of the subtree (one, by path), their figures (one, on the
  (metric, period, level, path) index, or IndexScore's own);
- `screen_figures`: the council's months (one), the case board's counts (one aggregate over
  the open cases, cases.selectors.board_counts: the state of the moment, the one read of the
  records, docs/dashboards.md says why), the villages at the top and the bottom (the index in
  use, then its best and worst, or case closure's best and worst: two to five).
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from assets.payments import flagged_villages
from cases import selectors as case_selectors
from cases.models import Whistle
from councils.models import CouncilPage, Level
from governance import charts
from governance.evidence import evidence_url
from governance.figures import Period
from governance.metrics import METRICS, Unit
from governance.models import IndexScore, IndexVersion, MetricValue, PeriodKind, VersionStatus

DASHBOARD_LEVELS = (Level.TOWNSHIP, Level.DISTRICT, Level.CITY)
TREND_MONTHS = 12
CHOICE_MONTHS = 24
CHOICE_QUARTERS = 8
# The big screen's headline figures, in the order they are shown.
SCREEN_METRICS = (
    "case_closure",
    "case_on_time",
    "case_satisfaction",
    "disclosure_on_time",
    "questions_on_time",
    "quorum_rate",
    "budget_turnout",
)
SCREEN_LEADERS = 5
# Measures that are not metrics: an index's score (0-100) and its stars (0-5).
SCORE = "score"
STARS = "stars"
CEILINGS = {
    Unit.PERCENT: Decimal(100),
    Unit.RATING: Decimal(5),
    SCORE: Decimal(100),
    STARS: Decimal(5),
}


# -- periods ---------------------------------------------------------------------------------------


def _month_index(day: datetime.date) -> int:
    return day.year * 12 + day.month - 1


def _month_of(index: int) -> datetime.date:
    return datetime.date(index // 12, index % 12 + 1, 1)


def months_before(month: datetime.date, count: int) -> datetime.date:
    return _month_of(_month_index(month) - count)


def quarter_start(day: datetime.date) -> datetime.date:
    return datetime.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def this_month(today: datetime.date | None = None) -> Period:
    today = today or timezone.localdate()
    return Period(PeriodKind.MONTH, today.replace(day=1))


def last_complete_month(today: datetime.date | None = None) -> Period:
    return Period(PeriodKind.MONTH, months_before(this_month(today).start, 1))


def this_quarter(today: datetime.date | None = None) -> Period:
    return Period(PeriodKind.QUARTER, quarter_start(today or timezone.localdate()))


def period_choices(today: datetime.date | None = None) -> list[Period]:
    """What the dashboard offers: this month and the 23 before it, this quarter and 7 before."""
    month = this_month(today).start
    quarter = this_quarter(today).start
    return [
        *(Period(PeriodKind.MONTH, months_before(month, n)) for n in range(CHOICE_MONTHS)),
        *(
            Period(PeriodKind.QUARTER, months_before(quarter, 3 * n))
            for n in range(CHOICE_QUARTERS)
        ),
    ]


# -- how a figure reads ----------------------------------------------------------------------------


def shown(unit: str, value) -> str:
    """A figure as the pages write it; a dash when there is none."""
    if value is None:
        return "—"
    value = Decimal(value)
    if unit == Unit.PERCENT:
        return f"{value:.1f}%"
    if unit in (Unit.RATING, SCORE):
        return f"{value:.1f}"
    if unit == Unit.HOURS:
        return _("%(hours)s h") % {"hours": f"{value:.0f}"}
    if unit == STARS:
        stars = int(value)
        return ngettext("%(n)s star", "%(n)s stars", stars) % {"n": stars}
    return f"{value:.0f}"


def counts_words(unit: str, numerator, denominator) -> str:
    """What a figure was computed from, in words: 7 / 8, 12 ratings, median of 5; nothing for
    a count (the figure is the count) or a score."""
    if numerator is None or denominator is None:
        return ""
    if unit == Unit.PERCENT:
        return f"{numerator} / {denominator}"
    if unit == Unit.RATING:
        return ngettext("%(n)s rating", "%(n)s ratings", denominator) % {"n": denominator}
    if unit == Unit.HOURS:
        return ngettext("median of %(n)s", "median of %(n)s", denominator) % {"n": denominator}
    return ""


def unit_words(unit: str) -> str:
    """The unit as a column heading says it."""
    return {
        Unit.PERCENT: _("per cent"),
        Unit.RATING: _("mean of 1 to 5"),
        Unit.HOURS: _("hours"),
        Unit.COUNT: _("number"),
        SCORE: _("points of 100"),
        STARS: _("stars of 5"),
    }.get(unit, "")


def evidence_link(council, metric: str, period: Period) -> str | None:
    """The page that lists what a figure counts (governance.views.evidence), for a council or
    its id. Reversing a URL reads nothing from the database."""
    if metric not in METRICS:
        return None
    return evidence_url(council, metric, period.kind, period.start)


# -- the council page's section --------------------------------------------------------------------


@dataclass
class Reading:
    """One figure of one period."""

    period: Period
    value: Decimal | None
    numerator: int = 0
    denominator: int = 0
    unit: str = Unit.PERCENT
    evidence: str | None = None

    @property
    def text(self) -> str:
        return shown(self.unit, self.value)

    @property
    def has_value(self) -> bool:
        return self.value is not None

    @property
    def counts_text(self) -> str:
        return counts_words(self.unit, self.numerator, self.denominator)


@dataclass
class FigureTrend:
    """A metric of a council: its latest complete month, its quarter so far, its 12 months."""

    key: str
    label: str
    counts: str
    group: str
    unit: str
    month: Reading
    quarter: Reading
    trend: list[Reading] = field(default_factory=list)
    chart: SafeString | None = None


VALUE_COLUMNS = ("council_id", "metric", "period_kind", "period_start", "value")
COUNT_COLUMNS = ("numerator", "denominator", "computed_at")


def _reading(row: dict | None, period: Period, unit: str) -> Reading:
    if row is None:
        return Reading(period, None, unit=unit)
    return Reading(period, row["value"], row["numerator"], row["denominator"], unit)


def scale_top(unit: str, values) -> tuple[Decimal | None, str | None]:
    """The top of a chart's scale and how it is written: 100% for a percentage, 5 for a
    rating; else the largest figure, as the figure is written. (None, None) without figures."""
    ceiling = CEILINGS.get(unit)
    if ceiling is not None:
        return ceiling, f"{ceiling:.0f}%" if unit == Unit.PERCENT else f"{ceiling:.0f}"
    found = [value for value in values if value is not None]
    if not found or max(found) <= 0:
        return None, None
    return None, shown(unit, max(found))


def _trend_chart(slug: str, label: str, readings: list[Reading], palette=charts.LIGHT, **kwargs):
    described = "; ".join(f"{r.period.label}: {r.text}" for r in readings)
    unit = readings[0].unit if readings else Unit.PERCENT
    ceiling, written = scale_top(unit, [r.value for r in readings])
    return charts.trend_chart(
        slug,
        _("%(figure)s, month by month") % {"figure": label},
        [(r.period.label, r.value, r.text) for r in readings],
        description=described,
        ceiling=ceiling,
        scale_label=written,
        palette=palette,
        **kwargs,
    )


def council_figures(council: CouncilPage, *, today: datetime.date | None = None) -> list:
    """The council's figures (itself and everything under it) for the latest complete month and
    the current quarter, each with its last 12 months: one query. Empty when none is computed."""
    month = last_complete_month(today)
    quarter = this_quarter(today)
    first = months_before(month.start, TREND_MONTHS - 1)
    rows = MetricValue.objects.filter(
        Q(period_kind=PeriodKind.MONTH, period_start__gte=first, period_start__lte=month.start)
        | Q(period_kind=PeriodKind.QUARTER, period_start=quarter.start),
        council=council,
    ).values(*VALUE_COLUMNS, *COUNT_COLUMNS)
    found = {(row["metric"], row["period_kind"], row["period_start"]): row for row in rows}
    if not found:
        return []
    months = [Period(PeriodKind.MONTH, months_before(month.start, n)) for n in range(11, -1, -1)]
    figures = []
    for key, metric in METRICS.items():
        trend = [_reading(found.get((key, p.kind, p.start)), p, metric.unit) for p in months]
        this = trend[-1]
        so_far = _reading(found.get((key, quarter.kind, quarter.start)), quarter, metric.unit)
        if not any(r.has_value for r in trend) and not so_far.has_value:
            continue
        # A link only to a figure that is there: "—" counted nothing to show.
        for reading in (this, so_far):
            if reading.has_value:
                reading.evidence = evidence_link(council, key, reading.period)
        figures.append(
            FigureTrend(
                key=key,
                label=str(metric.label),
                counts=str(metric.counts),
                group=str(metric.group),
                unit=metric.unit,
                month=this,
                quarter=so_far,
                trend=trend,
                chart=_trend_chart(f"trend-{key}", str(metric.label), trend),
            )
        )
    return figures


def council_section(council: CouncilPage, user) -> dict | None:
    """Section provider for every council's page (councils.registry): its governance figures,
    hidden while none has been computed."""
    figures = council_figures(council)
    if not figures:
        return None
    return {
        "governance_figures": figures,
        "governance_month": last_complete_month(),
        "governance_quarter": this_quarter(),
        "governance_dashboard": council.level in DASHBOARD_LEVELS,
    }


# -- the dashboard ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    """What the dashboard ranks villages on: a metric, or an index's score or stars."""

    key: str
    label: str
    unit: str
    higher_is_better: bool = True
    group: str = ""
    metric: str = ""
    index_id: int | None = None


def measures(council: CouncilPage) -> list[Measure]:
    """Every metric, then the score and the stars of every index in use that this council or
    a council above it defined. One query."""
    found = [
        Measure(key, str(m.label), m.unit, m.higher_is_better, str(m.group), metric=key)
        for key, m in METRICS.items()
    ]
    versions = (
        IndexVersion.objects.filter(
            status=VersionStatus.PUBLISHED,
            index__owner__path__in=[*council.ancestor_paths(), council.path],
        )
        .order_by("index__name", "index_id")
        .values("index_id", "index__name")
    )
    group = _("Indexes")
    for version in versions:
        name, pk = version["index__name"], version["index_id"]
        found.append(
            Measure(
                f"index-{pk}",
                _("%(index)s: score") % {"index": name},
                SCORE,
                True,
                group,
                index_id=pk,
            )
        )
        found.append(
            Measure(
                f"stars-{pk}",
                _("%(index)s: stars") % {"index": name},
                STARS,
                True,
                group,
                index_id=pk,
            )
        )
    return found


@dataclass
class Place:
    """A village in the dashboard's table."""

    pk: int
    title: str
    path: str
    township: str = ""
    township_id: int | None = None
    value: Decimal | None = None
    numerator: int | None = None
    denominator: int | None = None
    unit: str = Unit.PERCENT
    rank: int | None = None
    evidence: str | None = None

    @property
    def text(self) -> str:
        return shown(self.unit, self.value)

    @property
    def counts_text(self) -> str:
        return counts_words(self.unit, self.numerator, self.denominator) if self.has_value else ""

    @property
    def has_value(self) -> bool:
        return self.value is not None


def places_of(council: CouncilPage) -> tuple[list[Place], list[tuple[int, str]]]:
    """The villages under the council, each with its township, in tree order, and the
    townships (pk, title) under it. One query."""
    rows = (
        CouncilPage.objects.live()
        .filter(path__startswith=council.path, level__in=(Level.TOWNSHIP, Level.VILLAGE))
        .order_by("path")
        .values_list("id", "title", "path", "level")
    )
    townships: dict[str, tuple[int, str]] = {}
    villages = []
    if council.level == Level.TOWNSHIP:
        townships[council.path] = (council.pk, council.title)
    for pk, title, path, level in rows:
        if level == Level.TOWNSHIP:
            townships[path] = (pk, title)
            continue
        township = townships.get(path[: -council.steplen])
        villages.append(
            Place(
                pk,
                title,
                path,
                township=township[1] if township else "",
                township_id=township[0] if township else None,
            )
        )
    return villages, list(townships.values())


def _metric_values(council: CouncilPage, measure: Measure, period: Period) -> dict[int, dict]:
    rows = MetricValue.objects.filter(
        metric=measure.metric,
        period_kind=period.kind,
        period_start=period.start,
        council_level=Level.VILLAGE,
        council_path__startswith=council.path,
    ).values("council_id", "value", "numerator", "denominator")
    return {row["council_id"]: row for row in rows}


def _index_values(council: CouncilPage, measure: Measure, period: Period) -> dict[int, dict]:
    """Each village's score with the newest version of the index that scored this period (an
    older version's scores stay as they were computed); a draft's scores, if any were computed,
    are never shown."""
    rows = IndexScore.objects.filter(
        version__index_id=measure.index_id,
        version__status__in=(VersionStatus.PUBLISHED, VersionStatus.RETIRED),
        period_kind=period.kind,
        period_start=period.start,
        council_level=Level.VILLAGE,
        council_path__startswith=council.path,
    ).values("council_id", "score", "stars", "version__number")
    newest: dict[int, dict] = {}
    for row in rows:
        known = newest.get(row["council_id"])
        if known is None or row["version__number"] > known["version__number"]:
            newest[row["council_id"]] = row
    as_stars = measure.unit == STARS
    return {
        pk: {
            # No score (nothing to score it on) is no figure, not 0 stars.
            "value": row["score"]
            if row["score"] is None or not as_stars
            else Decimal(row["stars"]),
            "numerator": None,
            "denominator": None,
        }
        for pk, row in newest.items()
    }


def rank(places: list[Place], *, higher_is_better: bool) -> list[Place]:
    """Villages with a figure, best first (equal figures share a rank: 1, 2, 2, 4), then those
    without one in tree order."""
    with_value = [p for p in places if p.value is not None]
    without = [p for p in places if p.value is None]
    with_value.sort(key=lambda p: (-p.value if higher_is_better else p.value, p.path))
    previous = None
    for position, place in enumerate(with_value, start=1):
        place.rank = previous.rank if previous and previous.value == place.value else position
        previous = place
    return [*with_value, *without]


def ranking(council: CouncilPage, measure: Measure, period: Period) -> list[Place]:
    """Every village under the council with its figure for the period, ranked. Two queries."""
    villages, _townships = places_of(council)
    return ranked_places(council, measure, period, villages)


def ranked_places(council, measure: Measure, period: Period, villages: list[Place]) -> list[Place]:
    values = (_index_values if measure.index_id else _metric_values)(council, measure, period)
    for place in villages:
        place.unit = measure.unit
        row = values.get(place.pk)
        if row is None:
            continue
        place.value = row["value"]
        place.numerator, place.denominator = row["numerator"], row["denominator"]
        if measure.metric and place.value is not None:
            place.evidence = evidence_link(place.pk, measure.metric, period)
    return rank(villages, higher_is_better=measure.higher_is_better)


def filtered(
    places: list[Place],
    *,
    township_id: int | None = None,
    minimum: Decimal | None = None,
    maximum: Decimal | None = None,
    without_data: bool = False,
    worst_first: bool = False,
) -> list[Place]:
    """The ranked villages narrowed as the dashboard's form asks; the ranks stay those among
    every village of the council."""
    found = [p for p in places if township_id is None or p.township_id == township_id]
    if without_data:
        return [p for p in found if p.value is None]
    if minimum is not None:
        found = [p for p in found if p.value is not None and p.value >= minimum]
    if maximum is not None:
        found = [p for p in found if p.value is not None and p.value <= maximum]
    if worst_first:
        ranked = [p for p in found if p.value is not None]
        found = [*reversed(ranked), *(p for p in found if p.value is None)]
    return found


# -- the big screen --------------------------------------------------------------------------------


@dataclass
class Leader:
    title: str
    text: str
    stars: int | None = None

    @property
    def star_marks(self) -> str:
        return "★" * (self.stars or 0)


def split_leaders(best: list[dict], worst: list[dict], key: str = "council_id") -> tuple:
    """The villages to show at the top and at the bottom, from the best SCREEN_LEADERS (best
    first) and the worst SCREEN_LEADERS (worst first): no village in both lists. When the two
    overlap they hold every village, and the better half goes to the top (with 7: 4 and 3)."""
    seen = {row[key] for row in best}
    if not any(row[key] in seen for row in worst):
        return best, worst
    every = [*best, *(row for row in reversed(worst) if row[key] not in seen)]
    half = (len(every) + 1) // 2
    return every[:half], list(reversed(every[half:]))


def _leaders(council: CouncilPage, period: Period) -> tuple[str, list[Leader], list[Leader]]:
    """The villages at the top and at the bottom: by the score of the index in use nearest the
    council, if it scored the period, else by case closure. Two queries for the index in use
    and its best and worst, two more for case closure when it scored nothing."""
    version = (
        IndexVersion.objects.filter(
            status=VersionStatus.PUBLISHED,
            index__owner__path__in=[*council.ancestor_paths(), council.path],
        )
        .order_by("-index__owner__depth", "index__name")
        .values("pk", "index__name")
        .first()
    )
    if version is not None:
        scores = IndexScore.objects.filter(
            version_id=version["pk"],
            period_kind=period.kind,
            period_start=period.start,
            council_level=Level.VILLAGE,
            council_path__startswith=council.path,
            score__isnull=False,
        ).values("council_id", "council__title", "score", "stars")
        best = list(scores.order_by("-score", "council_path")[:SCREEN_LEADERS])
        if best:
            worst = list(scores.order_by("score", "-council_path")[:SCREEN_LEADERS])
            top, bottom = split_leaders(best, worst)
            return (
                _("%(index)s score") % {"index": version["index__name"]},
                [Leader(r["council__title"], shown(SCORE, r["score"]), r["stars"]) for r in top],
                [Leader(r["council__title"], shown(SCORE, r["score"]), r["stars"]) for r in bottom],
            )
    closure = MetricValue.objects.filter(
        metric="case_closure",
        period_kind=period.kind,
        period_start=period.start,
        council_level=Level.VILLAGE,
        council_path__startswith=council.path,
        value__isnull=False,
    ).values("council_id", "council__title", "value")
    unit = METRICS["case_closure"].unit
    best = list(closure.order_by("-value", "council_path")[:SCREEN_LEADERS])
    worst = list(closure.order_by("value", "-council_path")[:SCREEN_LEADERS]) if best else []
    top, bottom = split_leaders(best, worst)
    return (
        str(METRICS["case_closure"].label),
        [Leader(r["council__title"], shown(unit, r["value"])) for r in top],
        [Leader(r["council__title"], shown(unit, r["value"])) for r in bottom],
    )


def screen_figures(council: CouncilPage, *, now: datetime.datetime | None = None) -> dict:
    """What the big screen shows: this month's headline figures, the open cases (counts only),
    the villages at the top and the bottom last month, case closure over 12 months."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    month = this_month(today)
    first = months_before(month.start, TREND_MONTHS - 1)
    rows = MetricValue.objects.filter(
        council=council,
        period_kind=PeriodKind.MONTH,
        period_start__gte=first,
        period_start__lte=month.start,
        metric__in=SCREEN_METRICS,
    ).values(*VALUE_COLUMNS, *COUNT_COLUMNS)
    found = {(row["metric"], row["period_start"]): row for row in rows}
    headline = []
    for key in SCREEN_METRICS:
        metric = METRICS[key]
        reading = _reading(found.get((key, month.start)), month, metric.unit)
        headline.append({"key": key, "label": str(metric.label), "reading": reading})
    months = [Period(PeriodKind.MONTH, months_before(month.start, n)) for n in range(11, -1, -1)]
    closure_unit = METRICS["case_closure"].unit
    trend = [_reading(found.get(("case_closure", p.start)), p, closure_unit) for p in months]
    computed = [row["computed_at"] for row in found.values() if row["computed_at"]]
    counts = case_selectors.board_counts(council, now)
    whistle = dict(Whistle.choices)
    previous = last_complete_month(today)
    leaders_by, top, bottom = _leaders(council, previous)
    return {
        "council": council,
        "now": now,
        "month": month,
        "headline": headline,
        "trend": trend,
        "trend_chart": _trend_chart(
            "screen-trend",
            str(METRICS["case_closure"].label),
            trend,
            palette=charts.DARK,
            width=720,
            height=480,
            font_size=22,
        ),
        "computed_at": max(computed) if computed else None,
        "open_cases": counts["total"]["open"],
        "overdue_cases": counts["total"]["overdue"],
        "open_by_level": [
            {"level": row["level"], "label": whistle[row["level"]], "open": row["open"]}
            for row in counts["rows"]
        ],
        "leaders_period": previous,
        "leaders_by": leaders_by,
        "top": top,
        "bottom": bottom,
    }


def late_payments(council: CouncilPage) -> list:
    """The block "Contracts with late or missing payments" (issue 20): the villages under the
    council whose contracts the registers' sweep found paid late or with payments overdue, from its
    stored states (assets.payments.flagged_villages: one query, never the ledger's lines)."""
    return flagged_villages(council)
