"""Closure figures of cases, precomputed per council and month and summed up the tree.

Write side. `rebuild` recomputes the CaseFigure and CaseCloseTime rows of (council, month)
pairs from the raw cases, set-based: per batch of councils, one DELETE of the batch's old rows
per table and two GROUP BY queries over the cases (the counts; the close-time histogram), each
an INSERT ... SELECT straight into its table (no row passes through Python), in one
transaction, so a reader sees a batch's old rows or its new ones. The month is the month of
the report in settings.TIME_ZONE (Asia/Shanghai): a case reported on 31 March at 23:30 in
Shanghai is March's, whatever the UTC date. A case counts in the month it was reported, also
when it closes later; `overdue_open` counts the cases open and past the deadline of their
step at the build's clock. `rebuild_changed(since=)` rebuilds only the pairs with a case
changed since then (Case.changed_at, bumped by every step).

The reaper's `sweep` (every minute) starts `build_changed`, a tracked job on the task runner,
when cases changed since the last build. The high-water mark is the newest finished run of
that job: its result keeps `built_until`, the clock read before it looked at the cases; the
next run rebuilds what changed since then, minus OVERLAP (a transaction that committed late
still has its changes seen; rebuilding a pair twice is harmless). Before any run, the mark is
the newest CaseFigure.built_at, and with no figures at all everything is built.
`manage.py cases_figures --all` rebuilds everything.

Read side. `figures_for(council, months=, by=)` sums the rows of the council's subtree
(`council_path__startswith`, bounded by the next path so that PostgreSQL uses the index) in
one aggregate query, and the close-time histogram in a second, whatever the number of cases
or councils. Rates are percentages as Decimal rounded half up to
one decimal place (3 of 5 closed: Decimal("60.0")), the mean satisfaction a Decimal to two
places (1 to 5); None when there is nothing to divide by. The median time to close is the
lower median, read from the histogram: the bucket of the ⌈n/2⌉-th fastest of n closed cases,
in hours (a bucket of 7 holds cases closed after 6 and within 7 hours; past 48 hours the
buckets are whole days: 72, 96 …). It is exact to the bucket, never interpolated.
`breakdowns` gives the total and the rows by month, level and category in the same two queries
(the page, the export); `cached_breakdowns` keeps them in the cache until the next rebuild
(a version key bumped by every rebuild), or CACHE_SECONDS where the cache is not shared.
"""

import dataclasses
import datetime
import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db import NotSupportedError, connections, transaction
from django.db.models import Count, DateField, Func, IntegerField, Max, Q, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from cases.models import (
    Case,
    CaseCloseTime,
    CaseFigure,
    Category,
    Status,
    TownshipCloseTime,
    TownshipFigure,
    Whistle,
)
from core import tasks as core_tasks
from councils.models import CouncilPage

# Councils whose figures are rebuilt in one transaction.
BATCH_COUNCILS = 200
# Past this many hours the close-time buckets are whole days.
HOURLY_UP_TO = 48
# The sweep's rebuild reaches back this far before the last build's clock.
OVERLAP = datetime.timedelta(minutes=5)
# A failed run is not started again before this has passed (no retry storm every minute).
FAILED_BACKOFF = datetime.timedelta(minutes=10)
# The figures page keeps its sums this long at most; a rebuild makes them stale at once (the
# version below) wherever the cache is shared (Redis).
CACHE_SECONDS = 120
VERSION_KEY = "cases:figures:version"
# Finished rebuild runs are kept this long (core.TaskRun), the newest always.
KEEP_RUNS = datetime.timedelta(days=1)
BY_CHOICES = ("level", "category", "month")
# Councils whose figures are summed from TownshipFigure rows rather than their councils' own.
ROLLED_UP_LEVELS = ("township", "district", "city")
COUNTS = (
    "reported",
    "closed",
    "closed_on_time",
    "reopened",
    "rated",
    "satisfaction_sum",
    "overdue_open",
)


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def first_of_month(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def next_month(month: datetime.date) -> datetime.date:
    return (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def month_bounds(month: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The instants where `month` starts and the next one starts, in the site's time zone."""
    zone = _zone()
    start = datetime.datetime.combine(first_of_month(month), datetime.time(), tzinfo=zone)
    end = datetime.datetime.combine(next_month(month), datetime.time(), tzinfo=zone)
    return start, end


def report_month():
    """The month of a case's report, in the site's time zone, as a date (the 1st)."""
    return TruncMonth("reported_at", output_field=DateField(), tzinfo=_zone())


class CloseBucket(Func):
    """The close-time bucket of a case in hours: the time from `start` to `end` rounded up to
    whole hours (at least 1), and past HOURLY_UP_TO hours rounded up to whole days (72, 96 …).
    Computed in the database from exact microseconds, on PostgreSQL and on SQLite."""

    output_field = IntegerField()
    arity = 2

    def as_sql(self, compiler, connection, **extra_context):
        start, end = self.get_source_expressions()
        start_sql, start_params = compiler.compile(start)
        end_sql, end_params = compiler.compile(end)
        if connection.vendor == "postgresql":
            micro = f"(EXTRACT(EPOCH FROM ({end_sql} - {start_sql})) * 1000000)::bigint"
            params = [*end_params, *start_params]
        elif connection.vendor == "sqlite":
            # Django keeps SQLite datetimes as UTC text 'YYYY-MM-DD HH:MM:SS[.ffffff]':
            # whole seconds from strftime('%s'), microseconds from characters 21-26.
            def micros(sql):
                return (
                    f"(CAST(strftime('%%s', {sql}) AS INTEGER) * 1000000 "
                    f"+ CAST(substr({sql} || '.000000', 21, 6) AS INTEGER))"
                )

            micro = f"({micros(end_sql)} - {micros(start_sql)})"
            params = [*end_params, *end_params, *start_params, *start_params]
        else:  # pragma: no cover - the site runs on PostgreSQL, tests on SQLite too
            raise NotSupportedError(f"CloseBucket has no SQL for {connection.vendor}")
        hour = 3_600_000_000
        hours = f"(({micro} - 1) / {hour} + 1)"
        sql = (
            f"(CASE WHEN {hours} > {HOURLY_UP_TO} THEN (({hours} + 23) / 24) * 24 ELSE {hours} END)"
        )
        return sql, params * 3


def close_bucket(hours: float) -> int:
    """The same bucket in Python (for tests and for reading a single case)."""
    whole = max(1, math.ceil(hours))
    return whole if whole <= HOURLY_UP_TO else math.ceil(whole / 24) * 24


# -- writing ---------------------------------------------------------------------------------------


def _ids(councils) -> list[int]:
    return sorted({getattr(council, "pk", council) for council in councils})


def _months(months) -> list[datetime.date]:
    return sorted({first_of_month(month) for month in months})


def _batches(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _overdue(now) -> Q:
    return Q(status=Status.REPORTED, accept_due__lt=now) | Q(
        status__in=(Status.ACCEPTED, Status.IN_HAND), resolve_due__lt=now
    )


def _insert_rows(model, rows, columns: dict[str, str], built_at=None) -> int:
    """INSERT INTO model's table (columns' keys) SELECT the aggregate query's columns (their
    values): the rows go from the GROUP BY straight into the table, never through Python."""
    connection = connections[rows.db]
    quote = connection.ops.quote_name
    sql, params = rows.query.sql_with_params()
    targets = [quote(model._meta.get_field(name).column) for name in columns]
    sources = [f"{quote('agg')}.{quote(alias)}" for alias in columns.values()]
    extra = []
    if built_at is not None:
        targets.append(quote("built_at"))
        sources.append("%s")
        extra.append(connection.ops.adapt_datetimefield_value(built_at))
    statement = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(targets)}) "
        f"SELECT {', '.join(sources)} FROM ({sql}) {quote('agg')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [*extra, *params])
        return cursor.rowcount


KEYS = {"council": "council_id", "month": "month", "level": "level", "category": "category"}
# A council has one township: grouping by it too splits nothing and keeps it on the row.
LEAF_KEYS = {**KEYS, "township": "township_id"}


def _rebuild_batch(council_ids: list[int], month: datetime.date | None, now) -> int:
    """Replace the rows of these councils (in `month`, or in every month) from their cases:
    one DELETE per table, one INSERT ... SELECT ... GROUP BY per table, in one transaction;
    then their townships' rows from theirs (`_rebuild_townships`)."""
    cases = Case.objects.filter(council_id__in=council_ids)
    old_figures = CaseFigure.objects.filter(council_id__in=council_ids)
    old_times = CaseCloseTime.objects.filter(council_id__in=council_ids)
    if month is not None:
        start, end = month_bounds(month)
        cases = cases.filter(reported_at__gte=start, reported_at__lt=end)
        old_figures = old_figures.filter(month=month)
        old_times = old_times.filter(month=month)
    counted = (
        cases.annotate(month=report_month())
        .values(*LEAF_KEYS.values())
        .annotate(
            path=Max("council_path"),
            n_reported=Count("pk"),
            n_closed=Count("pk", filter=Q(status=Status.CLOSED)),
            n_closed_on_time=Count("pk", filter=Q(status=Status.CLOSED, on_time=True)),
            n_reopened=Count("pk", filter=Q(reopened__gt=0)),
            n_rated=Count("pk", filter=Q(satisfaction__isnull=False)),
            n_satisfaction_sum=Coalesce(Sum("satisfaction"), 0),
            n_overdue_open=Count("pk", filter=_overdue(now)),
        )
        .order_by()
    )
    timed = (
        cases.filter(status=Status.CLOSED, closed_at__isnull=False)
        .annotate(month=report_month(), bucket=CloseBucket("reported_at", "closed_at"))
        .values(*LEAF_KEYS.values(), "bucket")
        .annotate(path=Max("council_path"), n_count=Count("pk"))
        .order_by()
    )
    with transaction.atomic(using=cases.db):
        townships = set(old_figures.order_by().values_list("township_id", flat=True).distinct())
        townships |= set(old_times.order_by().values_list("township_id", flat=True).distinct())
        old_figures.delete()
        old_times.delete()
        written = _insert_rows(
            CaseFigure,
            counted,
            {**LEAF_KEYS, "council_path": "path", **{name: f"n_{name}" for name in COUNTS}},
            built_at=now,
        )
        _insert_rows(
            CaseCloseTime,
            timed,
            {**LEAF_KEYS, "council_path": "path", "hours": "bucket", "count": "n_count"},
        )
        townships |= set(cases.order_by().values_list("township_id", flat=True).distinct())
        townships.discard(None)
        _rebuild_townships(sorted(townships), month, now)
    return written


def _rebuild_townships(township_ids: list[int], month: datetime.date | None, now) -> None:
    """Replace the TownshipFigure and TownshipCloseTime rows of these townships (in `month`,
    or every month) by the sums of their councils' rows: a GROUP BY over a township's few
    hundred rows a month, straight into the table."""
    if not township_ids:
        return
    leaf_figures = CaseFigure.objects.filter(township_id__in=township_ids)
    leaf_times = CaseCloseTime.objects.filter(township_id__in=township_ids)
    old_figures = TownshipFigure.objects.filter(council_id__in=township_ids)
    old_times = TownshipCloseTime.objects.filter(council_id__in=township_ids)
    if month is not None:
        leaf_figures, leaf_times = leaf_figures.filter(month=month), leaf_times.filter(month=month)
        old_figures, old_times = old_figures.filter(month=month), old_times.filter(month=month)
    keys = {"council": "township_id", "month": "month", "level": "level", "category": "category"}
    summed = (
        leaf_figures.values(*keys.values())
        .annotate(path=Max("township__path"), **{f"n_{n}": Sum(n) for n in COUNTS})
        .order_by()
    )
    timed = (
        leaf_times.values(*keys.values(), "hours")
        .annotate(path=Max("township__path"), n_count=Sum("count"))
        .order_by()
    )
    old_figures.delete()
    old_times.delete()
    _insert_rows(
        TownshipFigure,
        summed,
        {**keys, "council_path": "path", **{name: f"n_{name}" for name in COUNTS}},
        built_at=now,
    )
    _insert_rows(
        TownshipCloseTime,
        timed,
        {**keys, "council_path": "path", "hours": "hours", "count": "n_count"},
    )


def _councils_with_rows(month: datetime.date | None) -> list[int]:
    """Councils with cases (in `month`, or ever) or with figures to replace."""
    cases = Case.objects.all()
    figures = CaseFigure.objects.all()
    if month is not None:
        start, end = month_bounds(month)
        cases = cases.filter(reported_at__gte=start, reported_at__lt=end)
        figures = figures.filter(month=month)
    found = set(cases.order_by().values_list("council_id", flat=True).distinct())
    found |= set(figures.order_by().values_list("council_id", flat=True).distinct())
    return sorted(found)


def rebuild(
    *,
    councils: Iterable | None = None,
    months: Iterable[datetime.date] | None = None,
    now: datetime.datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Recompute the figures and close times of `councils` (the councils where cases happen:
    pages or ids; None: all) in `months` (any day of each; None: all months) from the cases.
    Pairs without cases lose their rows. `progress(done, total)` is called after each batch
    (the tracked job's heartbeat). Returns how many CaseFigure rows were written."""
    now = now or timezone.now()
    wanted = None if councils is None else _ids(councils)
    plan: list[tuple[datetime.date | None, list[int]]] = []
    for month in [None] if months is None else _months(months):
        ids = wanted if wanted is not None else _councils_with_rows(month)
        plan += [(month, batch) for batch in _batches(ids, BATCH_COUNCILS)]
    written = 0
    for done, (month, batch) in enumerate(plan, start=1):
        written += _rebuild_batch(batch, month, now)
        if progress is not None:
            progress(done, len(plan))
    if plan:
        _figures_changed()
    return written


def _figures_changed() -> None:
    """Sums cached before this rebuild are not read again (their key holds the old version)."""
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, 1, timeout=None)


def changed_pairs(since: datetime.datetime) -> dict[datetime.date, list[int]]:
    """{month: council ids} of the cases changed at or after `since` (one indexed query)."""
    pairs = (
        Case.objects.filter(changed_at__gte=since)
        .annotate(month=report_month())
        .values_list("month", "council_id")
        .distinct()
        .order_by()
    )
    by_month: dict[datetime.date, set[int]] = defaultdict(set)
    for month, council_id in pairs:
        by_month[month].add(council_id)
    return {month: sorted(ids) for month, ids in sorted(by_month.items())}


def rebuild_changed(
    *,
    since: datetime.datetime,
    now: datetime.datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Rebuild only the (council, month) pairs with a case changed at or after `since`.
    Returns how many CaseFigure rows were written."""
    now = now or timezone.now()
    plan = [
        (month, batch)
        for month, ids in changed_pairs(since).items()
        for batch in _batches(ids, BATCH_COUNCILS)
    ]
    written = 0
    for done, (month, batch) in enumerate(plan, start=1):
        written += _rebuild_batch(batch, month, now)
        if progress is not None:
            progress(done, len(plan))
    if plan:
        _figures_changed()
    return written


@core_tasks.tracked(max_attempts=3, timeout=datetime.timedelta(minutes=30))
def build_changed(*, progress, since: str | None = None) -> dict:
    """The task runner's rebuild (started by `sweep`): what changed since `since` (ISO), or
    everything when None. Its result's `built_until` is the next run's high-water mark."""
    now = timezone.now()
    if since is None:
        rows = rebuild(now=now, progress=progress)
    else:
        rows = rebuild_changed(
            since=datetime.datetime.fromisoformat(since), now=now, progress=progress
        )
    return {"built_until": now.isoformat(), "rows": rows}


BUILD_CHANGED = f"{build_changed.__module__}.{build_changed.__qualname__}"


def high_water_mark() -> datetime.datetime | None:
    """Since when cases must be looked at again: the last finished build's clock minus
    OVERLAP; before any build, the newest figure's built_at; None when nothing was built."""
    from core.models import TaskRun, TaskRunStatus

    done = (
        TaskRun.objects.filter(work=BUILD_CHANGED, status=TaskRunStatus.DONE)
        .order_by("-pk")
        .values_list("result", flat=True)
        .first()
    )
    if done and done.get("built_until"):
        return datetime.datetime.fromisoformat(done["built_until"]) - OVERLAP
    built = CaseFigure.objects.aggregate(last=Max("built_at"))["last"]
    return built - OVERLAP if built is not None else None


def sweep(now: datetime.datetime | None = None) -> dict[str, int]:
    """The reaper's minute (core.tasks.register_sweep): start a rebuild of what changed since
    the last one, unless one is queued or running, or failed a moment ago."""
    from core.models import TaskRun, TaskRunStatus

    now = now or timezone.now()
    newest = TaskRun.objects.filter(work=BUILD_CHANGED).order_by("-pk").first()
    if newest is not None and not newest.is_finished:
        return {"case_figures_started": 0}
    if (
        newest is not None
        and newest.status == TaskRunStatus.FAILED
        and newest.finished_at is not None
        and now - newest.finished_at < FAILED_BACKOFF
    ):
        return {"case_figures_started": 0}
    since = high_water_mark()
    changed = Case.objects.all() if since is None else Case.objects.filter(changed_at__gte=since)
    if not changed.exists():
        return {"case_figures_started": 0}
    # A run every few minutes would pile up: finished runs older than a day go, except the
    # newest finished one, which holds the mark.
    done = TaskRun.objects.filter(work=BUILD_CHANGED, status=TaskRunStatus.DONE)
    last_done = done.order_by("-pk").values_list("pk", flat=True).first()
    if last_done is not None:
        done.filter(pk__lt=last_done, created_at__lt=now - KEEP_RUNS).delete()
    core_tasks.start(build_changed, since=since.isoformat() if since else None)
    return {"case_figures_started": 1}


# -- reading ---------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class MonthSpan:
    """From the month of `first` to the month of `last`, both included."""

    first: datetime.date
    last: datetime.date

    def __post_init__(self):
        object.__setattr__(self, "first", first_of_month(self.first))
        object.__setattr__(self, "last", first_of_month(self.last))

    def months(self) -> list[datetime.date]:
        out, month = [], self.first
        while month <= self.last:
            out.append(month)
            month = next_month(month)
        return out


def percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(100 * part) / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def lower_median(histogram: dict[int, int]) -> int | None:
    """The bucket of the ⌈n/2⌉-th smallest of n values counted in `histogram` (bucket: count)."""
    total = sum(histogram.values())
    if not total:
        return None
    wanted, seen = (total + 1) // 2, 0
    for hours in sorted(histogram):
        seen += histogram[hours]
        if seen >= wanted:
            return hours
    return None  # pragma: no cover - unreachable


@dataclasses.dataclass
class FigureRow:
    """Summed counts of one group (a level, a category, a month, or everything) and the
    figures made of them."""

    key: object = None
    kind: str | None = None  # what `key` is: "level", "category", "month" or None (all)
    reported: int = 0
    closed: int = 0
    closed_on_time: int = 0
    reopened: int = 0
    rated: int = 0
    satisfaction_sum: int = 0
    overdue_open: int = 0
    histogram: dict[int, int] = dataclasses.field(default_factory=dict)

    @property
    def label(self) -> str:
        """The row's name in the reader's language (kept out of the fields, so a cached row
        serves every language)."""
        if self.kind == "level" and self.key in Whistle.values:
            return str(Whistle(self.key).label)
        if self.kind == "category" and self.key in Category.values:
            return str(Category(self.key).label)
        if self.kind == "month" and isinstance(self.key, datetime.date):
            return month_label(self.key)
        if self.kind is None:
            return _("All cases")
        return str(self.key)

    @property
    def open(self) -> int:
        return self.reported - self.closed

    @property
    def closure_rate(self) -> Decimal | None:
        return percent(self.closed, self.reported)

    @property
    def on_time_rate(self) -> Decimal | None:
        return percent(self.closed_on_time, self.closed)

    @property
    def reopen_rate(self) -> Decimal | None:
        return percent(self.reopened, self.closed)

    @property
    def satisfaction(self) -> Decimal | None:
        if not self.rated:
            return None
        return (Decimal(self.satisfaction_sum) / Decimal(self.rated)).quantize(
            Decimal("0.01"), ROUND_HALF_UP
        )

    @property
    def median_hours(self) -> int | None:
        return lower_median(self.histogram)

    @property
    def median_days(self) -> int | None:
        """The median in whole days, past two days (the buckets are whole days there)."""
        hours = self.median_hours
        return None if hours is None else hours // 24


def combine(rows: Iterable[FigureRow]) -> FigureRow:
    """One row summing `rows` (their histograms too, so the median stays exact)."""
    total = FigureRow()
    for row in rows:
        for name in COUNTS:
            setattr(total, name, getattr(total, name) + getattr(row, name))
        for hours, count in row.histogram.items():
            total.histogram[hours] = total.histogram.get(hours, 0) + count
    return total


def subtree(path: str) -> Q:
    """Rows of the council at `path` and of every council under it. The prefix match is
    bounded by the next path as well, so PostgreSQL scans the (council_path, month) index
    instead of the whole table (a LIKE uses no btree index without the C collation or
    pattern ops). Treebeard's paths use the alphabet 0-9A-Z, ordered alike in every
    collation."""
    bounded = Q(council_path__startswith=path) & Q(council_path__gte=path)
    alphabet = CouncilPage.alphabet
    stem = path.rstrip(alphabet[-1])
    if stem:
        after = stem[:-1] + alphabet[alphabet.index(stem[-1]) + 1]
        bounded &= Q(council_path__lt=after)
    return bounded


def _month_filter(months) -> tuple[Q, list[datetime.date]]:
    if isinstance(months, MonthSpan):
        return Q(month__gte=months.first, month__lte=months.last), months.months()
    listed = _months(months)
    return Q(month__in=listed), listed


def month_label(month: datetime.date) -> str:
    return f"{month.year}-{month.month:02d}"


def _skeleton(by: str | None, months: list[datetime.date]) -> list[FigureRow]:
    """The rows a breakdown always shows, in order, even when nothing happened."""
    if by == "level":
        return [FigureRow(key=value, kind=by) for value in Whistle.values]
    if by == "category":
        return [FigureRow(key=value, kind=by) for value in Category.values]
    if by == "month":
        return [FigureRow(key=month, kind=by) for month in months]
    return [FigureRow()]


def _summed(council, months, group: list[str]):
    """(counts, histogram) querysets of the subtree in `months`, grouped by `group`."""
    month_q, listed = _month_filter(months)
    within = subtree(council.path) & month_q
    sums = {name: Sum(name) for name in COUNTS}
    figure_model, time_model = CaseFigure, CaseCloseTime
    if getattr(council, "level", None) in ROLLED_UP_LEVELS:
        # A township and everything above: its townships' rows, a few thousand at most.
        figure_model, time_model = TownshipFigure, TownshipCloseTime
    figures = figure_model.objects.filter(within)
    if group:
        counted = figures.values(*group).annotate(**sums).order_by()
    else:
        counted = [figures.aggregate(**sums)]
    times = (
        time_model.objects.filter(within)
        .values(*group, "hours")
        .annotate(count=Sum("count"))
        .order_by()
    )
    return counted, times, listed


def _row_for(rows: list[FigureRow], by_key: dict, key, kind: str | None) -> FigureRow:
    row = by_key.get(key)
    if row is None:  # a value no longer among the choices: shown under its own name
        row = by_key[key] = FigureRow(key=key, kind=kind)
        rows.append(row)
    return row


def figures_for(council, *, months, by: str | None = None) -> list[FigureRow]:
    """The figures of `council` and every council under it in `months` (a list of months, or
    a MonthSpan), one row per level, category or month (`by`), or one row for all (None).
    Two queries: the summed counts and the summed close-time histogram."""
    if by not in (None, *BY_CHOICES):
        raise ValueError(f"by is one of {BY_CHOICES} or None, not {by!r}")
    counted, times, listed = _summed(council, months, [by] if by else [])
    rows = _skeleton(by, listed)
    by_key = {row.key: row for row in rows}
    for found in counted:
        row = _row_for(rows, by_key, found[by] if by else None, by)
        for name in COUNTS:
            setattr(row, name, found[name] or 0)
    for found in times:
        row = _row_for(rows, by_key, found[by] if by else None, by)
        row.histogram[found["hours"]] = found["count"]
    return rows


@dataclasses.dataclass
class Breakdowns:
    total: FigureRow
    by_month: list[FigureRow]
    by_level: list[FigureRow]
    by_category: list[FigureRow]


def breakdowns(council, *, months) -> Breakdowns:
    """The total and the rows by month, by level and by category at once (the figures page,
    the export): the same two queries as figures_for, grouped by month, level and category
    (at most months x 27 rows), then folded three ways here. The subtree is read once."""
    group = ["month", "level", "category"]
    counted, times, listed = _summed(council, months, group)
    folds = {}
    for index, by in enumerate(group):
        rows = _skeleton(by, listed)
        folds[by] = (index, rows, {row.key: row for row in rows})
    for found in counted:
        for index, rows, by_key in folds.values():
            row = _row_for(rows, by_key, found[group[index]], group[index])
            for name in COUNTS:
                setattr(row, name, getattr(row, name) + (found[name] or 0))
    for found in times:
        for index, rows, by_key in folds.values():
            row = _row_for(rows, by_key, found[group[index]], group[index])
            row.histogram[found["hours"]] = row.histogram.get(found["hours"], 0) + found["count"]
    by_month = folds["month"][1]
    return Breakdowns(
        total=combine(by_month),
        by_month=by_month,
        by_level=folds["level"][1],
        by_category=folds["category"][1],
    )


def cached_breakdowns(council, *, months: MonthSpan) -> Breakdowns:
    """`breakdowns`, kept in the cache until the next rebuild (or CACHE_SECONDS): the public
    figures page of a district is asked for far more often than its figures change."""
    version = cache.get(VERSION_KEY) or 0
    key = (
        f"cases:figures:{council.pk}:{council.path}:{months.first:%Y%m}:{months.last:%Y%m}:"
        f"{version}"
    )
    found = cache.get(key)
    if found is None:
        found = breakdowns(council, months=months)
        cache.set(key, found, CACHE_SECONDS)
    return found


# -- drawing ---------------------------------------------------------------------------------------

CHART_WIDTH = 360
CHART_LABEL = 64
CHART_VALUE = 56
CHART_BAR = 14
CHART_GAP = 8
CHART_INK = "#1d1d1d"
CHART_MUTED = "#595959"
CHART_BAR_FILL = "#1f4e79"  # 8.6:1 on white


def closure_chart(rows: list[FigureRow], *, slug: str = "closure-chart") -> SafeString:
    """Closure rate per month as horizontal bars (0-100 %), an accessible inline SVG with a
    <title> and a <desc>; colours as presentation attributes (the CSP allows no style="")."""
    title = _("Closure rate by month")
    described = [
        f"{row.label}: {row.closure_rate}%" if row.reported else f"{row.label}: —" for row in rows
    ]
    description = _("Cases closed of cases reported, per month of report. %(months)s") % {
        "months": "; ".join(described)
    }
    span = CHART_WIDTH - CHART_LABEL - CHART_VALUE
    height = max(len(rows), 1) * (CHART_BAR + CHART_GAP) + 4
    body = []
    for index, row in enumerate(rows):
        y = index * (CHART_BAR + CHART_GAP) + 2
        rate = row.closure_rate
        length = float(rate or 0) / 100 * span
        shown = f"{rate}%" if rate is not None else "—"
        body.append(
            f'<text x="{CHART_LABEL - 6}" y="{y + CHART_BAR - 2}" text-anchor="end" '
            f'fill="{CHART_INK}">{escape(row.label)}</text>'
        )
        body.append(
            f'<rect x="{CHART_LABEL}" y="{y}" width="{length:.1f}" height="{CHART_BAR}" '
            f'fill="{CHART_BAR_FILL}"><title>{escape(row.label)}: {escape(shown)}</title></rect>'
        )
        body.append(
            f'<text x="{CHART_LABEL + length + 4:.1f}" y="{y + CHART_BAR - 2}" '
            f'fill="{CHART_MUTED}">{escape(shown)}</text>'
        )
    return mark_safe(  # noqa: S308 - every text is escaped; numbers are formatted here
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" '
        f'viewBox="0 0 {CHART_WIDTH} {height}" role="img" '
        f'aria-labelledby="{slug}-title {slug}-desc" font-size="13" font-family="sans-serif">'
        f'<title id="{slug}-title">{escape(title)}</title>'
        f'<desc id="{slug}-desc">{escape(description)}</desc>' + "".join(body) + "</svg>"
    )
