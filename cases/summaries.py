"""一周一结: every grid's and village's week of cases, built on Monday, noted and signed.

`build_week(week_start=)` makes or refreshes the WeeklySummary of every grid and village for
the week from Monday 00:00 to the next Monday 00:00 (settings.TIME_ZONE, Asia/Shanghai), with
a handful of set-based queries for all councils at once (counts grouped by the case's council,
rolled up in Python from grids into their village: a village's week holds its grids' cases
too). A signed summary is never changed: building the week again refreshes unsigned ones only.

The figures (the JSON kept on the summary):

    new             {"routine", "priority", "difficult", "total"}: cases reported in the week
    closed          cases closed in the week (whenever reported)
    open_at_end     cases reported before the week's end and not closed before it
    overdue_at_end  {"routine", "priority", "difficult", "total"}: of those, cases still open
                    when built whose current step's deadline had passed by the week's end
                    (the deadlines as they stand when built: on Monday, the week's end)
    new_signals     up to 10 new priority or difficult cases, difficult first, then by time:
                    [{"id", "title", "level"}]
    reopened        reopenings in the week (a reporter's dissatisfied rating)
    rated           ratings given in the week (confirmed or reopened)
    satisfaction    their mean, rounded to two places, or None

The reaper's `sweep` starts `build_week_job` on the task runner for last week when last week
has no summary yet (on Monday in normal running; a day later if the reaper was down), once:
a queued, running, done or recently failed run for that week is not started again.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import (
    OPEN_STATUSES,
    Case,
    CaseEvent,
    EventKind,
    Status,
    WeeklySummary,
    Whistle,
)
from core import tasks as core_tasks
from core.permissions import require_perm
from councils.models import CouncilPage, Level

SIGNALS = 10
SIGNAL_LEVELS = (Whistle.DIFFICULT, Whistle.PRIORITY)  # in this order on the summary
SUMMARY_LEVELS = (Level.GRID, Level.VILLAGE)
# A failed build is not started again before this has passed.
FAILED_BACKOFF = datetime.timedelta(hours=1)
WRITE_BATCH = 500


def week_bounds(week_start: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """Monday 00:00 and the next Monday 00:00 in the site's time zone."""
    zone = ZoneInfo(settings.TIME_ZONE)
    start = datetime.datetime.combine(week_start, datetime.time(), tzinfo=zone)
    end = datetime.datetime.combine(
        week_start + datetime.timedelta(days=7), datetime.time(), tzinfo=zone
    )
    return start, end


def monday_of(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def last_week(now: datetime.datetime | None = None) -> datetime.date:
    """The Monday of the week before this one (in the site's time zone)."""
    return monday_of(timezone.localdate(now)) - datetime.timedelta(days=7)


def _by_level(counts: dict[str, int]) -> dict[str, int]:
    out = {level: counts.get(level, 0) for level in Whistle.values}
    out["total"] = sum(out.values())
    return out


def _empty() -> dict:
    return {
        "new": defaultdict(int),
        "closed": 0,
        "open_at_end": 0,
        "overdue_at_end": defaultdict(int),
        "new_signals": [],
        "reopened": 0,
        "rated": 0,
        "satisfaction_sum": 0,
    }


def _finished(gathered: dict, week_start: datetime.date) -> dict:
    mean = None
    if gathered["rated"]:
        mean = float(
            (Decimal(gathered["satisfaction_sum"]) / Decimal(gathered["rated"])).quantize(
                Decimal("0.01"), ROUND_HALF_UP
            )
        )
    return {
        "week_start": week_start.isoformat(),
        "week_end": (week_start + datetime.timedelta(days=6)).isoformat(),
        "new": _by_level(gathered["new"]),
        "closed": gathered["closed"],
        "open_at_end": gathered["open_at_end"],
        "overdue_at_end": _by_level(gathered["overdue_at_end"]),
        "new_signals": gathered["new_signals"][:SIGNALS],
        "reopened": gathered["reopened"],
        "rated": gathered["rated"],
        "satisfaction": mean,
    }


def _subtrees(paths: list[str]) -> Q | None:
    """Cases under the given councils (None: no filter, cheaper than a long OR)."""
    if not paths or len(paths) > 100:
        return None
    q = Q()
    for path in paths:
        q |= Q(council_path__startswith=path)
    return q


def gather_week(week_start: datetime.date, councils: list[tuple[int, str]]) -> dict[int, dict]:
    """The week's figures of each (id, path) council: six queries for all of them."""
    start, end = week_bounds(week_start)
    by_path = {path: pk for pk, path in councils}
    steplen = CouncilPage.steplen
    gathered = {pk: _empty() for pk, _path in councils}

    def targets(path: str) -> list[dict]:
        """The council where a case happened and those above it that have a summary."""
        prefixes = (path[:length] for length in range(steplen, len(path) + 1, steplen))
        return [gathered[by_path[p]] for p in prefixes if p in by_path]

    cases = Case.objects.all()
    events = CaseEvent.objects.all()
    scope = _subtrees(sorted(by_path))
    if scope is not None:
        cases = cases.filter(scope)
        events = events.filter(case__in=Case.objects.filter(scope).values("pk"))
    this_week = Q(reported_at__gte=start, reported_at__lt=end)

    for row in (
        cases.filter(this_week).values("council_path", "level").annotate(n=Count("pk")).order_by()
    ):
        for target in targets(row["council_path"]):
            target["new"][row["level"]] += row["n"]

    # A case closed in the week changed in it: changed_at narrows the scan to an index.
    for row in (
        cases.filter(changed_at__gte=start, closed_at__gte=start, closed_at__lt=end)
        .values("council_path")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        for target in targets(row["council_path"]):
            target["closed"] += row["n"]

    # Open at the end: open now, or closed since the end (so changed since the end).
    overdue = Q(status=Status.REPORTED, accept_due__lt=end) | Q(
        status__in=(Status.ACCEPTED, Status.IN_HAND), resolve_due__lt=end
    )
    for row in (
        cases.filter(reported_at__lt=end)
        .filter(Q(status__in=OPEN_STATUSES) | Q(changed_at__gte=end, closed_at__gte=end))
        .values("council_path", "level")
        .annotate(n=Count("pk"), overdue=Count("pk", filter=overdue))
        .order_by()
    ):
        for target in targets(row["council_path"]):
            target["open_at_end"] += row["n"]
            target["overdue_at_end"][row["level"]] += row["overdue"]

    rank = {level: index for index, level in enumerate(SIGNAL_LEVELS)}
    signals = (
        cases.filter(this_week, level__in=SIGNAL_LEVELS)
        .values_list("council_path", "pk", "title", "level", "reported_at")
        .order_by()
    )
    for path, pk, title, level, _reported_at in sorted(
        signals, key=lambda s: (rank[s[3]], s[4], s[1])
    ):
        for target in targets(path):
            if len(target["new_signals"]) < SIGNALS:
                target["new_signals"].append({"id": pk, "title": title, "level": level})

    # Events of the week belong to cases that changed in the week (changed_at is bumped by
    # every step): the join reaches them through that index.
    week_events = events.filter(case__changed_at__gte=start, at__gte=start, at__lt=end)
    for row in (
        week_events.filter(kind=EventKind.REOPENED)
        .values("case__council_path")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        for target in targets(row["case__council_path"]):
            target["reopened"] += row["n"]
    for row in (
        week_events.filter(
            kind__in=(EventKind.CONFIRMED, EventKind.REOPENED), satisfaction__isnull=False
        )
        .values("case__council_path")
        .annotate(n=Count("pk"), total=Sum("satisfaction"))
        .order_by()
    ):
        for target in targets(row["case__council_path"]):
            target["rated"] += row["n"]
            target["satisfaction_sum"] += row["total"] or 0

    return {pk: _finished(figures, week_start) for pk, figures in gathered.items()}


def _summary_councils(councils: Iterable | None) -> list[tuple[int, str]]:
    found = CouncilPage.objects.filter(level__in=SUMMARY_LEVELS)
    if councils is not None:
        found = found.filter(pk__in=[getattr(council, "pk", council) for council in councils])
    return list(found.order_by("path").values_list("pk", "path"))


def build_week(
    *,
    week_start: datetime.date,
    councils: Iterable | None = None,
    now: datetime.datetime | None = None,
) -> int:
    """Make or refresh the summaries of the week from `week_start` (a Monday) for every grid
    and village (or those of `councils`). Signed summaries are left as they are. Returns how
    many summaries were made or refreshed."""
    if week_start.weekday() != 0:
        raise ValidationError(_("A week starts on a Monday."))
    now = now or timezone.now()
    targets = _summary_councils(councils)
    if not targets:
        return 0
    figures = gather_week(week_start, targets)
    with transaction.atomic():
        existing = {
            summary.council_id: summary
            for summary in WeeklySummary.objects.select_for_update()
            .filter(week_start=week_start, council_id__in=list(figures))
            .only("pk", "council_id", "signed_at")
        }
        refreshed = []
        for council_id, summary in existing.items():
            if summary.signed_at is None:
                summary.figures, summary.built_at = figures[council_id], now
                refreshed.append(summary)
        WeeklySummary.objects.bulk_update(
            refreshed, ["figures", "built_at"], batch_size=WRITE_BATCH
        )
        made = [
            WeeklySummary(
                council_id=council_id, week_start=week_start, figures=values, built_at=now
            )
            for council_id, values in figures.items()
            if council_id not in existing
        ]
        WeeklySummary.objects.bulk_create(made, batch_size=WRITE_BATCH, ignore_conflicts=True)
    return len(refreshed) + len(made)


@transaction.atomic
def sign_summary(
    *, user, summary: WeeklySummary, note: str, now: datetime.datetime | None = None
) -> WeeklySummary:
    """The grid worker (or the village committee) adds the week's note and signs. A signed
    summary is archived as it is: a second signature, or any change, is refused."""
    from cases.services import _check_text

    now = now or timezone.now()
    summary = WeeklySummary.objects.select_for_update().select_related("council").get(pk=summary.pk)
    require_perm(
        user,
        "cases.sign_summary",
        summary.council,
        _("Only the grid worker or the village committee signs this week's summary."),
    )
    if summary.signed_at is not None:
        raise ValidationError(_("This summary is already signed; a signed summary is archived."))
    note = (note or "").strip()
    ProhibitNullCharactersValidator()(note)
    if len(note) > 4000:
        raise ValidationError({"note": _("Keep the note under 4,000 characters.")})
    _check_text(public=False, note=note)
    summary.note = note
    summary.signed_by = user
    summary.signed_at = now
    summary.save(update_fields=["note", "signed_by", "signed_at"])
    return summary


# -- on the task runner ----------------------------------------------------------------------------


@core_tasks.tracked(max_attempts=3, timeout=datetime.timedelta(minutes=30))
def build_week_job(*, progress, week_start: str) -> dict:
    """The task runner's build of one week's summaries (started by `sweep`)."""
    progress(0)
    made = build_week(week_start=datetime.date.fromisoformat(week_start))
    return {"summaries": made}


BUILD_WEEK = f"{build_week_job.__module__}.{build_week_job.__qualname__}"


def sweep(now: datetime.datetime | None = None) -> dict[str, int]:
    """The reaper's minute: start building last week's summaries once, when they are missing
    (and there are cases and councils to summarise)."""
    from core.models import TaskRun, TaskRunStatus

    now = now or timezone.now()
    week_start = last_week(now)
    if WeeklySummary.objects.filter(week_start=week_start).exists():
        return {"weekly_summaries_started": 0}
    newest = TaskRun.objects.filter(work=BUILD_WEEK).order_by("-pk").first()
    if newest is not None and newest.kwargs.get("week_start") == week_start.isoformat():
        recently_failed = newest.status == TaskRunStatus.FAILED and (
            newest.finished_at is None or now - newest.finished_at < FAILED_BACKOFF
        )
        if newest.status != TaskRunStatus.FAILED or recently_failed:
            return {"weekly_summaries_started": 0}
    if (
        not Case.objects.exists()
        or not CouncilPage.objects.filter(level__in=SUMMARY_LEVELS).exists()
    ):
        return {"weekly_summaries_started": 0}
    core_tasks.start(build_week_job, week_start=week_start.isoformat())
    return {"weekly_summaries_started": 1}
