"""Scores of an index: each village's score, dimension by dimension, for one period.

`compute_scores(version=, period_kind=, period_start=)` reads, in bulk, the metric values
(governance.figures writes them) and the newest published entered figure per (code, village) of
the period, and writes one IndexScore per village of the owner's subtree: a constant number of
queries however many villages there are. Pages read IndexScore only.

How a score is made (docs/governance-index.md, "Scoring"):
- an indicator's raw value becomes 0-100 points linearly from `floor` (0) to `target` (100),
  clipped to 0-100; a target below the floor means lower is better;
- an indicator without a value (no record was due, no figure published) is left out and its
  weight goes to the others of its dimension; the breakdown says "no data";
- a dimension's score is the weighted mean of its indicators with a value; a dimension with none
  is left out of the total the same way; a village with no value at all has no score (None) and
  no star;
- stars: how many thresholds the total reaches (a total equal to a threshold reaches it).

Only villages and communities are scored: they are what the index measures (a grid is part of
its village's figures, a township is the one measuring). The sweep (`sweep`, every minute from
the reaper) starts a tracked job that recomputes the current and previous month and quarter of
every version in use, when a metric it reads, a published figure or the version is newer than
the scores (`stale_periods`). It settles: the figures' recompute leaves unchanged MetricValue
rows as they were (governance.figures), so when nothing changed the sweep finds nothing newer,
writes nothing and starts nothing; an index whose owner has no village is never stale.
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from core import tasks as core_tasks
from councils.models import CouncilPage, Level
from governance.models import (
    EnteredFigure,
    FigureStatus,
    IndexScore,
    IndexVersion,
    Indicator,
    IndicatorSource,
    MetricValue,
    PeriodKind,
    VersionStatus,
)

HUNDRED = Decimal(100)
CENT = Decimal("0.01")
SCORED_LEVELS = (Level.VILLAGE,)


# -- periods -------------------------------------------------------------------------------------


def period_start_of(kind: str, day: datetime.date) -> datetime.date:
    """The first day of the month or quarter holding `day`."""
    if kind == PeriodKind.QUARTER:
        return datetime.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return day.replace(day=1)


def previous_period(kind: str, start: datetime.date) -> datetime.date:
    return period_start_of(kind, start - datetime.timedelta(days=1))


def quarter_of(month_start: datetime.date) -> datetime.date:
    return period_start_of(PeriodKind.QUARTER, month_start)


# -- scoring -------------------------------------------------------------------------------------


def indicator_points(value: Decimal, floor: Decimal, target: Decimal) -> Decimal:
    """0-100 points, linear from floor to target, clipped (target < floor: lower is better)."""
    share = (Decimal(value) - floor) / (target - floor)
    return min(HUNDRED, max(Decimal(0), share * HUNDRED))


def weighted_mean(pairs: list[tuple[Decimal, Decimal]]) -> Decimal | None:
    """The mean of (score, weight) pairs, None when there is none (or no weight)."""
    total = sum((weight for _, weight in pairs), Decimal(0))
    if not pairs or total <= 0:
        return None
    return sum((score * weight for score, weight in pairs), Decimal(0)) / total


def stars_for(score: Decimal | None, thresholds) -> int:
    if score is None:
        return 0
    reached = [Decimal(str(t)) for t in thresholds if score >= Decimal(str(t))]
    return min(5, len(reached))


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def score_village(dimensions, values: dict[str, Decimal | None]) -> tuple[Decimal | None, dict]:
    """The total and the breakdown of one village; `values` maps an indicator code to its raw
    value (None or missing: no data). `dimensions` are (dimension, [indicators]) pairs."""
    breakdown, totals = {}, []
    for dimension, indicators in dimensions:
        rows, pairs = {}, []
        for indicator in indicators:
            value = values.get(indicator.code)
            if value is None:
                rows[indicator.code] = {"value": None, "score": None}
                continue
            points = indicator_points(value, indicator.floor, indicator.target)
            pairs.append((points, indicator.weight))
            rows[indicator.code] = {"value": _money(Decimal(value)), "score": _money(points)}
        score = weighted_mean(pairs)
        if score is not None:
            totals.append((score, dimension.weight))
        breakdown[dimension.code] = {"score": _money(score), "indicators": rows}
    total = weighted_mean(totals)
    return (None if total is None else total.quantize(CENT, rounding=ROUND_HALF_UP)), breakdown


def _structure(version: IndexVersion):
    dimensions = list(version.dimensions.prefetch_related("indicators").order_by("order", "pk"))
    return [(d, sorted(d.indicators.all(), key=lambda i: (i.order, i.pk))) for d in dimensions]


def newest_published_figures(
    index_id: int, *, path: str, period_kind: str, period_start: datetime.date
) -> dict[tuple[str, int], Decimal]:
    """{(code, council id): value} of the newest published figure of the period in the subtree
    at `path`. For a month, a figure entered for its quarter counts when the month has none.
    One query."""
    periods = [(period_kind, period_start)]
    if period_kind == PeriodKind.MONTH:
        periods.append((PeriodKind.QUARTER, quarter_of(period_start)))
    rows = (
        EnteredFigure.objects.filter(
            index_id=index_id,
            status=FigureStatus.PUBLISHED,
            council_path__startswith=path,
            period_kind__in=[k for k, _ in periods],
            period_start__in=[s for _, s in periods],
        )
        .order_by("published_at", "pk")
        .values_list("code", "council_id", "period_kind", "period_start", "value")
    )
    found: dict[tuple[str, int], Decimal] = {}
    fallback: dict[tuple[str, int], Decimal] = {}
    for code, council_id, kind, start, value in rows:
        if (kind, start) == (period_kind, period_start):
            found[(code, council_id)] = value
        elif (kind, start) in periods:
            fallback[(code, council_id)] = value
    return {**fallback, **found}


def compute_scores(*, version: IndexVersion, period_kind: str, period_start: datetime.date) -> int:
    """Score every village of the owner's subtree on `version` for the period and replace this
    version's scores of that period (earlier versions' scores are never touched). Returns how
    many IndexScore rows were written. A constant number of queries."""
    period_start = period_start_of(period_kind, period_start)
    version = IndexVersion.objects.select_related("index__owner").get(pk=version.pk)
    owner = version.index.owner
    dimensions = _structure(version)
    indicators = [i for _, inds in dimensions for i in inds]
    metric_keys = {i.metric for i in indicators if i.source == IndicatorSource.METRIC}
    villages = list(
        CouncilPage.objects.live()
        .filter(path__startswith=owner.path, level__in=SCORED_LEVELS)
        .order_by("path")
        .values_list("id", "path", "level")
    )
    metrics: dict[tuple[str, int], Decimal | None] = {}
    if metric_keys:
        for metric, council_id, value in MetricValue.objects.filter(
            metric__in=metric_keys,
            period_kind=period_kind,
            period_start=period_start,
            council_level__in=SCORED_LEVELS,
            council_path__startswith=owner.path,
        ).values_list("metric", "council_id", "value"):
            metrics[(metric, council_id)] = value
    figures = newest_published_figures(
        version.index_id, path=owner.path, period_kind=period_kind, period_start=period_start
    )
    now = timezone.now()
    rows = []
    for council_id, path, level in villages:
        values = {}
        for indicator in indicators:
            if indicator.source == IndicatorSource.METRIC:
                values[indicator.code] = metrics.get((indicator.metric, council_id))
            else:
                values[indicator.code] = figures.get((indicator.code, council_id))
        total, breakdown = score_village(dimensions, values)
        rows.append(
            IndexScore(
                version=version,
                council_id=council_id,
                council_path=path,
                council_level=level,
                period_kind=period_kind,
                period_start=period_start,
                score=total,
                stars=stars_for(total, version.star_thresholds),
                breakdown=breakdown,
                computed_at=now,
            )
        )
    with transaction.atomic():
        IndexScore.objects.filter(
            version=version, period_kind=period_kind, period_start=period_start
        ).delete()
        IndexScore.objects.bulk_create(rows, batch_size=500)
    return len(rows)


# -- keeping scores fresh ------------------------------------------------------------------------


def periods_to_keep_fresh(today: datetime.date) -> list[tuple[str, datetime.date]]:
    """This and the previous month and quarter (late records still change last month's)."""
    month = period_start_of(PeriodKind.MONTH, today)
    quarter = period_start_of(PeriodKind.QUARTER, today)
    return [
        (PeriodKind.MONTH, month),
        (PeriodKind.MONTH, previous_period(PeriodKind.MONTH, month)),
        (PeriodKind.QUARTER, quarter),
        (PeriodKind.QUARTER, previous_period(PeriodKind.QUARTER, quarter)),
    ]


def stale_periods(today: datetime.date) -> list[tuple[IndexVersion, str, datetime.date]]:
    """(version, period kind, period start) of the versions in use whose scores of a period
    kept fresh (periods_to_keep_fresh) are older than what they read: the version's own
    publication, a metric value of a village of the owner's subtree that the version reads, or
    a published entered figure of its index. A version whose owner has no village to score is
    never stale: there is nothing to compute, and nothing would mark it computed.

    A fixed number of queries, however many versions and villages: when nothing changed they
    each find nothing, so the sweep that asks every minute does next to no work."""
    versions = list(
        IndexVersion.objects.filter(status=VersionStatus.PUBLISHED).select_related("index__owner")
    )
    if not versions:
        return []
    periods = periods_to_keep_fresh(today)
    kinds = sorted({kind for kind, _ in periods})
    starts = sorted({start for _, start in periods})
    scored = {
        (version_id, kind, start): at
        for version_id, kind, start, at in IndexScore.objects.filter(
            version__in=versions, period_kind__in=kinds, period_start__in=starts
        )
        .values("version_id", "period_kind", "period_start")
        .annotate(at=Max("computed_at"))
        .values_list("version_id", "period_kind", "period_start", "at")
        .order_by()
    }
    stale: set[tuple[int, str, datetime.date]] = set()
    unscored: list[IndexVersion] = []
    for version in versions:
        for kind, start in periods:
            at = scored.get((version.pk, kind, start))
            if at is None:
                unscored.append(version)
            elif version.published_at and version.published_at > at:
                stale.add((version.pk, kind, start))
    if unscored:
        _stale_where_villages(unscored, periods, scored, stale)
    if scored:
        _stale_by_inputs(versions, periods, scored, stale)
    return [
        (version, kind, start)
        for version in versions
        for kind, start in periods
        if (version.pk, kind, start) in stale
    ]


def _stale_where_villages(unscored, periods, scored, stale) -> None:
    """Periods without scores are stale where the owner has a village to score (one query,
    which finds nothing when the owners without scores have no villages)."""
    owners = {v.index.owner.path for v in unscored}
    where = Q()
    for path in owners:
        where |= Q(path__startswith=path)
    paths = list(
        CouncilPage.objects.live()
        .filter(where, level__in=SCORED_LEVELS)
        .values_list("path", flat=True)
        .distinct()
    )
    for version in set(unscored):
        owner = version.index.owner.path
        if any(path.startswith(owner) for path in paths):
            for kind, start in periods:
                if (version.pk, kind, start) not in scored:
                    stale.add((version.pk, kind, start))


def _stale_by_inputs(versions, periods, scored, stale) -> None:
    """Periods whose scores are older than a metric value or a published figure they read (two
    queries for the metrics read, one for the figures; each finds nothing when nothing changed
    since the oldest scores)."""
    since = min(scored.values())
    kinds = sorted({kind for kind, _ in periods})
    starts = sorted({start for _, start in periods})
    reads: dict[int, set[str]] = {}
    for version_id, metric in Indicator.objects.filter(
        dimension__version__in=versions, source=IndicatorSource.METRIC
    ).values_list("dimension__version_id", "metric"):
        reads.setdefault(version_id, set()).add(metric)
    by_owner: dict[str, list[IndexVersion]] = {}
    for version in versions:
        by_owner.setdefault(version.index.owner.path, []).append(version)

    def mark(version, kind, start, at) -> None:
        # A month's scores also read figures entered for its quarter.
        for own_kind, own_start in periods:
            reads_it = (own_kind, own_start) == (kind, start) or (
                kind == PeriodKind.QUARTER
                and own_kind == PeriodKind.MONTH
                and quarter_of(own_start) == start
            )
            key = (version.pk, own_kind, own_start)
            if reads_it and key in scored and at > scored[key]:
                stale.add(key)

    metrics = sorted(set().union(*reads.values())) if reads else []
    if metrics:
        changed = (
            MetricValue.objects.filter(
                metric__in=metrics,
                period_kind__in=kinds,
                period_start__in=starts,
                council_level__in=SCORED_LEVELS,
                computed_at__gt=since,
            )
            .values_list("council_path", "metric", "period_kind", "period_start", "computed_at")
            .order_by()
        )
        for path, metric, kind, start, at in changed:
            # The owners above this village: every prefix of its path that owns a version.
            for depth in range(len(path) // CouncilPage.steplen, 0, -1):
                for version in by_owner.get(path[: depth * CouncilPage.steplen], ()):
                    if metric in reads.get(version.pk, ()):
                        key = (version.pk, kind, start)
                        if key in scored and at > scored[key]:
                            stale.add(key)
    indexes = {version.index_id: version for version in versions}
    for index_id, kind, start, at in (
        EnteredFigure.objects.filter(
            index_id__in=sorted(indexes),
            status=FigureStatus.PUBLISHED,
            period_kind__in=kinds,
            period_start__in=starts,
            published_at__gt=since,
        )
        .values_list("index_id", "period_kind", "period_start", "published_at")
        .order_by()
    ):
        mark(indexes[index_id], kind, start, at)


@core_tasks.tracked(max_attempts=3, timeout=datetime.timedelta(minutes=30))
def compute_stale_scores(*, progress, today: str | None = None) -> dict:
    """The task runner's work (started by `sweep`): recompute what is stale."""
    day = datetime.date.fromisoformat(today) if today else timezone.localdate()
    plan = stale_periods(day)
    written = 0
    for done, (version, kind, start) in enumerate(plan, start=1):
        written += compute_scores(version=version, period_kind=kind, period_start=start)
        progress(done, len(plan))
    return {"scores": written, "periods": len(plan)}


COMPUTE_STALE = f"{compute_stale_scores.__module__}.{compute_stale_scores.__qualname__}"


def sweep(now: datetime.datetime | None = None) -> dict[str, int]:
    """The reaper's minute (core.tasks.register_sweep): start `compute_stale_scores` when some
    version in use has stale scores, unless a run is still queued or running. When nothing
    changed since the last run nothing is started and nothing is written: a fixed handful of
    small queries run (stale_periods), however many indexes and villages there are, and an
    index whose owner has no village never asks for a run."""
    from core.models import TaskRun

    now = now or timezone.now()
    newest = TaskRun.objects.filter(work=COMPUTE_STALE).order_by("-pk").first()
    if newest is not None and not newest.is_finished:
        return {"index_scores_started": 0}
    today = timezone.localdate(now)
    if not stale_periods(today):
        return {"index_scores_started": 0}
    # Keep the log of runs short: finished runs older than a day go.
    TaskRun.objects.filter(
        work=COMPUTE_STALE, finished_at__lt=now - datetime.timedelta(days=1)
    ).delete()
    core_tasks.start(compute_stale_scores, today=today.isoformat())
    return {"index_scores_started": 1}
