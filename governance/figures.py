"""Governance metrics, precomputed per council and period from the records (governance.metrics).

Write side. `recompute(period_kind=, period_start=)` computes every metric of METRICS for every
live council and one month or one quarter, and replaces that period's MetricValue rows:

1. per metric (or per family of metrics read from the same rows) one query over the raw rows of
   the period, grouped by the council the record belongs to (a record's own council: a grid, a
   village, a township); the few metrics whose rule is not arithmetic SQL (quorum under each
   session's stored rule, the disclosure calendar) read one row per counted item and decide
   in Python;
2. the counts are rolled up the tree in Python: a council's figure counts its own rows and
   those of every council under it (a village counts its grids; a township its villages), from
   the councils' ids and paths read once;
3. the period's stored rows are compared with the new counts: only the rows that changed are
   written again (deleted, then bulk_create), in one transaction, and the big screens of the
   councils whose figures changed are told after it commits (governance.live.figures_changed).
   A recompute that finds everything as it was writes nothing: unchanged rows keep their
   `computed_at`, which is what the index's sweep compares its scores with (governance.index).

The number of queries does not depend on the number of councils. A quarter is computed from
the raw rows of the whole quarter; since every counted item falls in exactly one month (by the
instant its rule names), a quarter's counts are the sums of its three months' counts. Periods
are read in settings.TIME_ZONE (Asia/Shanghai), as cases.figures: a question due at 23:30 in
Shanghai on 30 November is November's, whatever the UTC date.

What each metric counts (docs/governance.md, "Metrics", says the same for readers):

- disclosure_on_time: the disclosure obligations of villages (disclosure.schedule: each kind,
  monthly or quarterly, due `grace_days` after its period ends) whose due date falls in the
  period; on time: the first published record satisfying it was published (local date) on or
  before the due date. An obligation not yet due and not yet met is not counted yet.
- questions_on_time: residents' questions (质询) whose `due_at` falls in the period and that are
  answered or past due; on time: answered at or before `due_at`.
- meetings_held / quorum_rate: representatives' meetings and villagers' assemblies closed in
  the period; quorum: the roll call at the close (present, plus proxies where the session's
  rule counts them) reached the quorum of the session's own stored rule (meetings.quorum).
- budget_turnout: of budget cycles whose vote phase ended in the period (and before now), the
  participations (one per voter, however often a ballot was replaced) over those eligible: in
  a one-person-one-vote cycle the verified residents of the voting councils plus the people on
  their household registers without an account; in a household cycle their households. The
  voting councils are the cycle's sub-budgets' councils, or its own. Eligible is counted at
  recompute time (budgets keeps no frozen count). A cycle counts in its own council.
- projects_finished: proposals whose first "done" progress update was posted in the period,
  counted in the council of their sub-budget, or of their cycle.
- project_rating: ratings (1-5) of projects posted in the period: their sum over their count.
- topics_answered: hall topics raised in the period (merged topics excluded) that have an
  official answer now, of all raised.
- topic_answer_hours: the median time from raising to answer of topics answered in the period,
  in CloseBucket hours (whole hours rounded up, whole days past 48 hours), from the histogram.
- case_closure, case_on_time, case_satisfaction: cases by the month of their report, read from
  cases' precomputed CaseFigure rows (cases.figures): closed of reported, closed on time of
  closed, the mean satisfaction of rated cases; as the cases figures page shows them.

Percentages are Decimal rounded half up to one place, ratings to two, medians whole hours;
None when the denominator is 0. A count (sessions held, projects finished) is never None.

The reaper's `sweep` (every minute) starts `build_recent`, a tracked job on the task runner,
when the last one finished RECOMPUTE_EVERY ago: it recomputes this month, the previous month,
this quarter, and the previous quarter while its last month is the previous month.
`manage.py governance_figures` backfills.
"""

import dataclasses
import datetime
from collections import defaultdict
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Count, F, Min, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from budgets.models import (
    BudgetCycle,
    Eligibility,
    PhaseKind,
    ProgressStatus,
    ProgressUpdate,
    Rating,
    SubBudget,
)
from cases.figures import CloseBucket, lower_median, month_bounds, next_month, percent
from cases.models import CaseFigure
from core import tasks as core_tasks
from councils.models import CouncilPage, Household, HouseholdMember, Level, Membership, Role
from councils.models import MembershipStatus as MStatus
from deliberation.models import Topic, TopicStatus
from disclosure import schedule
from disclosure.models import DisclosureRule, Kind, Question, Record, Status
from governance import live
from governance.metrics import METRICS, Unit
from governance.models import MetricValue, PeriodKind
from meetings import quorum
from meetings.models import Attendance, Session, SessionKind, SessionStatus

BATCH_SIZE = 2000
# What a MetricValue row holds besides its key and time: a recompute that finds the same leaves
# the row alone.
STORED_FIELDS = ("council_path", "council_level", "numerator", "denominator", "value", "histogram")
# The sweep recomputes the recent periods at most this often.
RECOMPUTE_EVERY = datetime.timedelta(minutes=10)
FAILED_BACKOFF = datetime.timedelta(minutes=10)
KEEP_RUNS = datetime.timedelta(days=1)
# The sessions whose quorum the law sets for residents' self-government (村民代表会议, 村民会议).
COUNTED_SESSION_KINDS = (SessionKind.REPRESENTATIVES, SessionKind.ASSEMBLY)
# Years a period may name (a page asked for year 1 or 9999 gets a 404, not a 500).
YEARS = range(2000, 2100)


# -- periods ---------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Period:
    """A month or a quarter (starting on 1 January, April, July or October)."""

    kind: str
    start: datetime.date

    def __post_init__(self):
        if self.kind not in PeriodKind.values:
            raise ValueError(f"no period of kind {self.kind!r}")
        if self.start.day != 1 or (self.kind == PeriodKind.QUARTER and self.start.month % 3 != 1):
            raise ValueError(f"{self.start} does not start a {self.kind}")

    @classmethod
    def containing(cls, kind: str, day: datetime.date) -> "Period":
        if kind == PeriodKind.QUARTER:
            return cls(kind, day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1))
        return cls(kind, day.replace(day=1))

    @property
    def months(self) -> list[datetime.date]:
        count = 3 if self.kind == PeriodKind.QUARTER else 1
        out = [self.start]
        while len(out) < count:
            out.append(next_month(out[-1]))
        return out

    @property
    def end(self) -> datetime.date:
        """The first day after the period."""
        return next_month(self.months[-1])

    def bounds(self) -> tuple[datetime.datetime, datetime.datetime]:
        """The instants where the period starts and the next one starts, in the site's zone."""
        return month_bounds(self.start)[0], month_bounds(self.months[-1])[1]

    @property
    def slug(self) -> str:
        if self.kind == PeriodKind.QUARTER:
            return f"{self.start.year}-Q{(self.start.month + 2) // 3}"
        return f"{self.start.year}-{self.start.month:02d}"

    @property
    def label(self) -> str:
        if self.kind == PeriodKind.QUARTER:
            return _("%(year)d Q%(quarter)d") % {
                "year": self.start.year,
                "quarter": (self.start.month + 2) // 3,
            }
        return _("%(year)d-%(month)02d") % {"year": self.start.year, "month": self.start.month}

    def previous(self) -> "Period":
        return Period.containing(self.kind, self.start - datetime.timedelta(days=1))


def parse_period(text: str) -> Period | None:
    """ "2026-11" (a month) or "2026-Q4" (a quarter); None for anything else."""
    try:
        year_text, rest = (text or "").split("-")
        year = int(year_text)
        if len(year_text) != 4 or year not in YEARS:
            return None
        if rest[:1] in ("Q", "q"):
            quarter = int(rest[1:])
            if len(rest) != 2 or not 1 <= quarter <= 4:
                return None
            return Period(PeriodKind.QUARTER, datetime.date(year, 3 * quarter - 2, 1))
        if len(rest) != 2:
            return None
        return Period(PeriodKind.MONTH, datetime.date(year, int(rest), 1))
    except ValueError:
        return None


# -- counts and values -----------------------------------------------------------------------------


@dataclasses.dataclass
class Counts:
    numerator: int = 0
    denominator: int = 0
    histogram: dict[int, int] = dataclasses.field(default_factory=dict)

    def add(self, other: "Counts") -> None:
        self.numerator += other.numerator
        self.denominator += other.denominator
        for hours, count in other.histogram.items():
            self.histogram[hours] = self.histogram.get(hours, 0) + count


def value_of(unit: str, counts: Counts) -> Decimal | None:
    """The figure shown, from the counts: see governance.metrics.Unit."""
    if unit == Unit.COUNT:
        return Decimal(counts.numerator)
    if unit == Unit.PERCENT:
        return percent(counts.numerator, counts.denominator)
    if unit == Unit.RATING:
        if not counts.denominator:
            return None
        return (Decimal(counts.numerator) / Decimal(counts.denominator)).quantize(
            Decimal("0.01"), ROUND_HALF_UP
        )
    if unit == Unit.HOURS:
        median = lower_median(counts.histogram)
        return None if median is None else Decimal(median)
    raise ValueError(f"unknown unit {unit!r}")


# Leaf counts: {metric key: {council id: Counts}}, the council being the record's own.
Leaves = dict[str, dict[int, Counts]]


def _leaves() -> Leaves:
    return {key: defaultdict(Counts) for key in METRICS}


# -- what is counted: one base selection per family, shared with the evidence pages ----------------


def questions_counted(start, end, now):
    """Questions due in [start, end) that are answered or past due at `now`."""
    return Question.objects.filter(due_at__gte=start, due_at__lt=end).filter(
        Q(answered_at__isnull=False) | Q(due_at__lt=now)
    )


QUESTION_ON_TIME = Q(answered_at__isnull=False, answered_at__lte=F("due_at"))


def sessions_counted(start, end):
    return Session.objects.filter(
        status=SessionStatus.CLOSED,
        closed_at__gte=start,
        closed_at__lt=end,
        kind__in=COUNTED_SESSION_KINDS,
    ).annotate(
        n_present=Count("roster", filter=Q(roster__attendance=Attendance.PRESENT)),
        n_proxies=Count("roster", filter=Q(roster__attendance=Attendance.PROXY)),
    )


def reached_quorum(rule: dict, entitled: int, present: int, proxies: int) -> bool:
    """Whether a closed session's roll call reached the quorum of its own stored rule."""
    counting = quorum.Rule.from_dict(rule)
    counted = quorum.present_for_quorum(counting, attending=present, proxies=proxies)
    return quorum.quorum_met(counting, entitled=entitled, present=counted)


def cycles_counted(start, end, now):
    """Budget cycles whose vote phase ended in [start, end) and before `now`."""
    return BudgetCycle.objects.filter(
        phases__kind=PhaseKind.VOTE,
        phases__ends_at__gte=start,
        phases__ends_at__lt=min(end, now),
    )


def eligible_counts(cycles: list[tuple[int, str]]) -> dict[int, int]:
    """{cycle id: eligible voters} for (cycle id, eligibility) pairs: four queries in all."""
    ids = [pk for pk, _ in cycles]
    if not ids:
        return {}
    voting = defaultdict(list)
    for cycle_id, council_id in SubBudget.objects.filter(cycle_id__in=ids).values_list(
        "cycle_id", "council_id"
    ):
        voting[cycle_id].append(council_id)
    for cycle_id, council_id in BudgetCycle.objects.filter(pk__in=ids).values_list(
        "pk", "council_id"
    ):
        voting.setdefault(cycle_id, [council_id])
    councils = sorted({c for found in voting.values() for c in found})
    residents = dict(
        Membership.objects.filter(
            council_id__in=councils, role=Role.RESIDENT, status=MStatus.VERIFIED
        )
        .values("council_id")
        .annotate(n=Count("user_id", distinct=True))
        .values_list("council_id", "n")
        .order_by()
    )
    unregistered = dict(
        HouseholdMember.objects.filter(household__council_id__in=councils, user__isnull=True)
        .values("household__council_id")
        .annotate(n=Count("pk"))
        .values_list("household__council_id", "n")
        .order_by()
    )
    households = dict(
        Household.objects.filter(council_id__in=councils)
        .values("council_id")
        .annotate(n=Count("pk"))
        .values_list("council_id", "n")
        .order_by()
    )
    out = {}
    for cycle_id, eligibility in cycles:
        if eligibility == Eligibility.HOUSEHOLD:
            out[cycle_id] = sum(households.get(c, 0) for c in voting[cycle_id])
        else:
            out[cycle_id] = sum(
                residents.get(c, 0) + unregistered.get(c, 0) for c in voting[cycle_id]
            )
    return out


def finished_projects(start, end):
    """(proposal id, council id, finished at) of proposals whose first "done" update was
    posted in [start, end)."""
    return (
        ProgressUpdate.objects.filter(status=ProgressStatus.DONE)
        .values("proposal_id")
        .annotate(
            finished=Min("created"),
            council=Coalesce("proposal__sub_budget__council_id", "proposal__cycle__council_id"),
        )
        .filter(finished__gte=start, finished__lt=end)
        .order_by()
    )


def ratings_counted(start, end):
    return Rating.objects.filter(created__gte=start, created__lt=end).annotate(
        council=Coalesce("proposal__sub_budget__council_id", "proposal__cycle__council_id")
    )


def topics_raised(start, end):
    return Topic.objects.filter(created__gte=start, created__lt=end).exclude(
        status=TopicStatus.MERGED
    )


def topics_answered_in(start, end):
    return (
        Topic.objects.filter(answered_at__gte=start, answered_at__lt=end)
        .exclude(status=TopicStatus.MERGED)
        .annotate(bucket=CloseBucket("created", "answered_at"))
    )


@dataclasses.dataclass
class Obligation:
    """One disclosure obligation due in the period (disclosure.schedule's calendar)."""

    council_id: int
    kind: str
    period: schedule.Period
    due: datetime.date
    record_id: int | None = None
    published_at: datetime.datetime | None = None

    @property
    def on_time(self) -> bool:
        return (
            self.published_at is not None
            and timezone.localtime(self.published_at).date() <= self.due
        )

    def counted(self, today: datetime.date) -> bool:
        """Met, or past its due date: an obligation not yet due and not yet met waits."""
        return self.published_at is not None or today > self.due

    @property
    def kind_label(self) -> str:
        return Kind(self.kind).label


def obligations_due(period: Period, *, today: datetime.date, under: str | None = None):
    """The disclosure obligations of live villages (at or under the path `under`) due in the
    period, each with the record that met it, if any: three queries, whatever the count."""
    villages = CouncilPage.objects.live().filter(level=Level.VILLAGE)
    rules = DisclosureRule.objects.filter(council__level=Level.VILLAGE)
    records = Record.objects.filter(status=Status.PUBLISHED, council__level=Level.VILLAGE)
    if under is not None:
        villages = villages.filter(path__startswith=under)
        rules = rules.filter(council__path__startswith=under)
        records = records.filter(council__path__startswith=under)
    found_rules = {(r.council_id, r.kind): r for r in rules}
    graces = [r.grace_days for r in found_rules.values()] + [schedule.default_grace_days()]
    # A quarter's obligation is due `grace` after it ends: its records started at most a
    # quarter (92 days) before that.
    earliest = period.start - datetime.timedelta(days=max(graces) + 92)
    published = defaultdict(list)
    for row in (
        records.filter(period_start__gte=earliest, period_start__lt=period.end)
        .values_list(
            "council_id", "kind", "record_type", "period_start", "period_end", "published_at", "pk"
        )
        .order_by("published_at", "pk")
    ):
        published[(row[0], row[1])].append(row)
    out = []
    for council_id, first_published in villages.values_list("id", "first_published_at"):
        live_since = timezone.localtime(first_published).date() if first_published else today
        for kind in Kind.values:
            rule = found_rules.get((council_id, kind))
            frequency = rule.frequency if rule else schedule.DEFAULT_FREQUENCY[kind]
            grace = datetime.timedelta(
                days=rule.grace_days if rule else schedule.default_grace_days()
            )
            calendar = schedule.period_containing(
                schedule.FREQUENCY_PERIOD[frequency], period.start - grace
            )
            types = schedule.SATISFYING_TYPES[kind]
            while calendar.end + grace < period.end:
                due = calendar.end + grace
                if due >= period.start and calendar.start >= live_since:
                    match = next(
                        (
                            row
                            for row in published[(council_id, kind)]
                            if calendar.start <= row[3]
                            and row[4] <= calendar.end
                            and (types is None or row[2] in types)
                        ),
                        None,
                    )
                    out.append(
                        Obligation(
                            council_id=council_id,
                            kind=kind,
                            period=calendar,
                            due=due,
                            record_id=match[6] if match else None,
                            published_at=match[5] if match else None,
                        )
                    )
                calendar = calendar.following()
    return out


# -- collecting ------------------------------------------------------------------------------------


def _collect_disclosure(leaves: Leaves, period: Period, now) -> None:
    today = timezone.localdate(now)
    target = leaves["disclosure_on_time"]
    for obligation in obligations_due(period, today=today):
        if obligation.counted(today):
            target[obligation.council_id].denominator += 1
            target[obligation.council_id].numerator += int(obligation.on_time)


def _collect_questions(leaves: Leaves, period: Period, now) -> None:
    start, end = period.bounds()
    rows = (
        questions_counted(start, end, now)
        .values("council_id")
        .annotate(n=Count("pk"), on_time=Count("pk", filter=QUESTION_ON_TIME))
        .order_by()
    )
    for row in rows:
        leaves["questions_on_time"][row["council_id"]].add(Counts(row["on_time"], row["n"]))


def _collect_sessions(leaves: Leaves, period: Period, now) -> None:
    start, end = period.bounds()
    rows = sessions_counted(start, end).values_list(
        "council_id", "rule", "entitled_count", "n_present", "n_proxies"
    )
    for council_id, rule, entitled, present, proxies in rows:
        leaves["meetings_held"][council_id].numerator += 1
        counts = leaves["quorum_rate"][council_id]
        counts.denominator += 1
        counts.numerator += int(reached_quorum(rule, entitled, present, proxies))


def _collect_budgets(leaves: Leaves, period: Period, now) -> None:
    start, end = period.bounds()
    cycles = list(
        cycles_counted(start, end, now)
        .annotate(n_ballots=Count("participations", distinct=True))
        .values_list("pk", "council_id", "eligibility", "n_ballots")
        .distinct()
    )
    eligible = eligible_counts([(pk, eligibility) for pk, _, eligibility, _ in cycles])
    for pk, council_id, _eligibility, ballots in cycles:
        leaves["budget_turnout"][council_id].add(Counts(ballots, eligible.get(pk, 0)))
    for row in finished_projects(start, end):
        leaves["projects_finished"][row["council"]].numerator += 1
    ratings = (
        ratings_counted(start, end)
        .values("council")
        .annotate(n=Count("pk"), total=Sum("score"))
        .order_by()
    )
    for row in ratings:
        leaves["project_rating"][row["council"]].add(Counts(row["total"] or 0, row["n"]))


def _collect_topics(leaves: Leaves, period: Period, now) -> None:
    start, end = period.bounds()
    raised = (
        topics_raised(start, end)
        .values("hall__council_id")
        .annotate(n=Count("pk"), answered=Count("pk", filter=Q(answered_at__isnull=False)))
        .order_by()
    )
    for row in raised:
        leaves["topics_answered"][row["hall__council_id"]].add(Counts(row["answered"], row["n"]))
    timed = (
        topics_answered_in(start, end)
        .values("hall__council_id", "bucket")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in timed:
        counts = leaves["topic_answer_hours"][row["hall__council_id"]]
        counts.add(Counts(0, row["n"], {row["bucket"]: row["n"]}))


def _collect_cases(leaves: Leaves, period: Period, now) -> None:
    rows = (
        CaseFigure.objects.filter(month__in=period.months)
        .values("council_id")
        .annotate(
            reported=Sum("reported"),
            closed=Sum("closed"),
            on_time=Sum("closed_on_time"),
            rated=Sum("rated"),
            satisfaction=Sum("satisfaction_sum"),
        )
        .order_by()
    )
    for row in rows:
        council_id = row["council_id"]
        leaves["case_closure"][council_id].add(Counts(row["closed"], row["reported"]))
        leaves["case_on_time"][council_id].add(Counts(row["on_time"], row["closed"]))
        leaves["case_satisfaction"][council_id].add(Counts(row["satisfaction"], row["rated"]))


COLLECTORS = (
    _collect_disclosure,
    _collect_questions,
    _collect_sessions,
    _collect_budgets,
    _collect_topics,
    _collect_cases,
)


def collect(period: Period, now) -> Leaves:
    """Every metric's counts by the council each counted item belongs to."""
    leaves = _leaves()
    for collector in COLLECTORS:
        collector(leaves, period, now)
    return leaves


def roll_up(leaves: Leaves, paths: dict[int, str]) -> Leaves:
    """Each council's counts: its own and those of every council under it. `paths` are the
    path of every council ({id: path}, read once); a council's counts go to each council whose
    path is a prefix of its path."""
    by_path = {path: pk for pk, path in paths.items()}
    step = CouncilPage.steplen
    rolled = _leaves()
    for key, by_council in leaves.items():
        for council_id, counts in by_council.items():
            path = paths.get(council_id)
            if path is None:
                continue
            for length in range(step, len(path) + 1, step):
                ancestor = by_path.get(path[:length])
                if ancestor is not None:
                    rolled[key][ancestor].add(counts)
    return rolled


# -- writing ---------------------------------------------------------------------------------------


def recompute(
    *,
    period_kind: str,
    period_start: datetime.date,
    council_ids: Iterable[int] | None = None,
    now: datetime.datetime | None = None,
) -> int:
    """Recompute every metric of every live council (or of `council_ids` only: the counts are
    still read for everything, since a council's figure includes its subtree) for the month or
    quarter starting on `period_start`, and bring the period's rows up to date in one
    transaction: a row whose counts did not change is left as it was (its `computed_at` too),
    a changed one is written again with `computed_at=now`, the row of a council no longer live
    goes. Returns how many MetricValue rows were written or deleted: 0 when nothing changed,
    and then nothing is written and no screen is told (so the index's sweep, which compares
    `computed_at` with its scores', stays still too)."""
    now = now or timezone.now()
    period = Period(period_kind, period_start)
    councils = list(CouncilPage.objects.values_list("id", "path", "level", "live"))
    rolled = roll_up(collect(period, now), {pk: path for pk, path, _, _ in councils})
    wanted = None if council_ids is None else set(council_ids)
    targets = [
        (pk, path, level)
        for pk, path, level, is_live in councils
        if is_live and (wanted is None or pk in wanted)
    ]
    old = MetricValue.objects.filter(period_kind=period.kind, period_start=period.start)
    if wanted is not None:
        old = old.filter(council_id__in=sorted(wanted))
    stored = {
        (council_id, metric): (pk, rest)
        for pk, council_id, metric, *rest in old.values_list(
            "pk", "council_id", "metric", *STORED_FIELDS
        )
    }
    rows, replaced = [], []
    for key, metric in METRICS.items():
        for pk, path, level in targets:
            counts = rolled[key].get(pk) or Counts()
            fields = [
                path,
                level,
                counts.numerator,
                counts.denominator,
                value_of(metric.unit, counts),
                {str(h): n for h, n in sorted(counts.histogram.items())},
            ]
            found = stored.pop((pk, key), None)
            if found is not None:
                if found[1] == fields:
                    continue
                replaced.append(found[0])
            rows.append(
                MetricValue(
                    council_id=pk,
                    period_kind=period.kind,
                    period_start=period.start,
                    metric=key,
                    computed_at=now,
                    **dict(zip(STORED_FIELDS, fields, strict=True)),
                )
            )
    # What is left was stored for a council that is no longer live (or no longer exists).
    gone = [pk for pk, _ in stored.values()]
    if not rows and not gone:
        return 0
    with transaction.atomic():
        doomed = replaced + gone
        for start in range(0, len(doomed), BATCH_SIZE):
            MetricValue.objects.filter(pk__in=doomed[start : start + BATCH_SIZE]).delete()
        MetricValue.objects.bulk_create(rows, batch_size=BATCH_SIZE)
        live.figures_changed(sorted({row.council_id for row in rows}))
    return len(rows) + len(gone)


def recent_periods(today: datetime.date) -> list[Period]:
    """This month, the previous month, this quarter, and the previous quarter while the
    previous month belongs to it (late answers to December's questions still reach Q4)."""
    month = Period.containing(PeriodKind.MONTH, today)
    quarter = Period.containing(PeriodKind.QUARTER, today)
    periods = [month, month.previous(), quarter]
    if month.previous().start < quarter.start:
        periods.append(quarter.previous())
    return periods


def recompute_recent(*, now: datetime.datetime | None = None, progress=None) -> int:
    now = now or timezone.now()
    periods = recent_periods(timezone.localdate(now))
    written = 0
    for done, period in enumerate(periods, start=1):
        written += recompute(period_kind=period.kind, period_start=period.start, now=now)
        if progress is not None:
            progress(done, len(periods))
    return written


@core_tasks.tracked(max_attempts=3, timeout=datetime.timedelta(minutes=30))
def build_recent(*, progress) -> dict:
    """The task runner's recompute of the recent periods (started by `sweep`)."""
    return {"rows": recompute_recent(progress=progress)}


BUILD_RECENT = f"{build_recent.__module__}.{build_recent.__qualname__}"


def sweep(now: datetime.datetime | None = None) -> dict[str, int]:
    """The reaper's minute (core.tasks.register_sweep): start `build_recent` unless one is
    queued or running, one finished less than RECOMPUTE_EVERY ago, or one failed a moment ago."""
    from core.models import TaskRun, TaskRunStatus

    now = now or timezone.now()
    runs = TaskRun.objects.filter(work=BUILD_RECENT)
    newest = runs.order_by("-pk").first()
    if newest is not None:
        if not newest.is_finished:
            return {"governance_figures_started": 0}
        wait = FAILED_BACKOFF if newest.status == TaskRunStatus.FAILED else RECOMPUTE_EVERY
        if newest.finished_at is not None and now - newest.finished_at < wait:
            return {"governance_figures_started": 0}
    done = runs.filter(status=TaskRunStatus.DONE)
    last_done = done.order_by("-pk").values_list("pk", flat=True).first()
    if last_done is not None:
        done.filter(pk__lt=last_done, created_at__lt=now - KEEP_RUNS).delete()
    core_tasks.start(build_recent)
    return {"governance_figures_started": 1}


def first_day_with_data() -> datetime.date | None:
    """The earliest day anything counted happened (for `governance_figures --all`)."""
    found = [
        Record.objects.aggregate(d=Min("published_at"))["d"],
        Question.objects.aggregate(d=Min("due_at"))["d"],
        Session.objects.aggregate(d=Min("closed_at"))["d"],
        BudgetCycle.objects.aggregate(d=Min("phases__ends_at"))["d"],
        ProgressUpdate.objects.aggregate(d=Min("created"))["d"],
        Topic.objects.aggregate(d=Min("created"))["d"],
    ]
    days = [timezone.localtime(d).date() for d in found if d is not None]
    month = CaseFigure.objects.aggregate(d=Min("month"))["d"]
    if month is not None:
        days.append(month)
    # Disclosure obligations start with the first full period after a village went live.
    live_since = CouncilPage.objects.filter(level=Level.VILLAGE).aggregate(
        d=Min("first_published_at")
    )["d"]
    if live_since is not None:
        days.append(timezone.localtime(live_since).date())
    return min(days) if days else None
