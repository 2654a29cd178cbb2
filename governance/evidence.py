"""What a figure counts, item by item, so that anyone can check it (the evidence pages).

`evidence_for(council, metric_key, period)` lists the items a metric of `council` (and
everything under it) counts in a period, read with the same selections as the recompute
(governance.figures), each with the link to its own public page and whether it counted in the
numerator; and the counts recomputed from that list. Only what is public is listed: published
records and the questions on them, public sessions, budget cycles and their projects, topics of
public halls. Sessions that are not public and topics of members-only halls are counted in the
figure, so they are added to the recount as anonymous numbers, never named. Cases are not
public: their evidence is the anonymous counts by month, level and category (cases.figures),
with a link to the cases figures page.

A township, a district or a city (`lists_children`) is not itemised: a district's subtree may
hold thousands of villages. `children_figures(council, metric_key, period, stored=)` reads the
stored figures of the councils right below it in one query, each with the link to its own
evidence page, adds their counts up, and says what the council's own figure counts beyond them.

`evidence_url(council, metric_key, period_kind, period_start)` is the page's address, for the
other pages that show a figure.
"""

import dataclasses
import datetime
from decimal import Decimal

from django.db.models import Count, Q
from django.db.models.functions import Length
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from budgets.models import Proposal
from cases import figures as case_figures
from councils.models import CouncilPage, Level
from disclosure.models import Record
from governance import figures
from governance.figures import Counts, Period
from governance.metrics import METRICS
from governance.models import MetricValue

CASE_METRICS = ("case_closure", "case_on_time", "case_satisfaction")

# The exact rule of each metric, on its evidence page (docs/governance.md says the same).
RULES = {
    "disclosure_on_time": gettext_lazy(
        "Each village must publish each kind of disclosure every quarter (or every month where "
        "its calendar says so), within its grace days after the period ends. Counted: those "
        "deadlines that fall in this period and have passed or been met. On time: the first "
        "published record for that period was published on or before the deadline day."
    ),
    "questions_on_time": gettext_lazy(
        "Counted: residents' questions whose answer was due in this period, once answered or "
        "past due. On time: answered no later than the moment it was due."
    ),
    "meetings_held": gettext_lazy(
        "Counted: village representatives' meetings and villagers' assemblies closed in this "
        "period."
    ),
    "quorum_rate": gettext_lazy(
        "Counted: village representatives' meetings and villagers' assemblies closed in this "
        "period. Reached quorum: at the close, those present (and proxies, where the meeting's "
        "rule counts them) reached the quorum of the meeting's own rule."
    ),
    "budget_turnout": gettext_lazy(
        "Counted: budget votes that closed in this period. Turnout: residents who voted (once "
        "each, however often they changed their ballot), of those who may vote: verified "
        "residents and people on the household register without an account, or households "
        "where the vote is one per household. Who may vote is counted as of the last "
        "recomputation."
    ),
    "projects_finished": gettext_lazy(
        "Counted: funded projects whose first progress update saying they are done was posted "
        "in this period."
    ),
    "project_rating": gettext_lazy(
        "Counted: residents' ratings of projects (1 to 5) given in this period; the figure is "
        "their mean."
    ),
    "topics_answered": gettext_lazy(
        "Counted: hall topics raised in this period, except those merged into another topic. "
        "Answered: the topic has an official answer now."
    ),
    "topic_answer_hours": gettext_lazy(
        "Counted: hall topics answered in this period. Each is timed from when it was raised to "
        "its answer, in whole hours rounded up (whole days beyond two days); the figure is the "
        "time within which half of them were answered."
    ),
    "case_closure": gettext_lazy(
        "Counted: cases reported in this period, by the month of their report. Closed: closed now."
    ),
    "case_on_time": gettext_lazy(
        "Counted: cases reported in this period and closed. On time: closed by the deadline "
        "promised at the report."
    ),
    "case_satisfaction": gettext_lazy(
        "Counted: cases reported in this period whose reporter rated the outcome (1 to 5); the "
        "figure is the mean rating."
    ),
}


def evidence_url(council, metric_key: str, period_kind: str, period_start: datetime.date) -> str:
    """The evidence page of one figure: /governance/councils/<id>/metrics/<key>/<period>/."""
    period = Period(period_kind, period_start)
    council_id = getattr(council, "pk", council)
    return reverse("governance:evidence", args=[council_id, metric_key, period.slug])


@dataclasses.dataclass
class Item:
    """One counted thing, as the evidence page lists it."""

    title: str
    url: str
    council: str
    when: datetime.datetime | datetime.date | None
    outcome: str
    counts: bool  # counted in the numerator (on time, reached quorum, answered ...)
    detail: str = ""

    @property
    def when_label(self) -> str:
        if isinstance(self.when, datetime.datetime):
            return timezone.localtime(self.when).strftime("%Y-%m-%d %H:%M")
        return self.when.isoformat() if self.when else ""


@dataclasses.dataclass
class Evidence:
    items: list[Item]
    counts: Counts  # recomputed from the items and the anonymous ones
    hidden: int = 0  # counted, not public: not listed
    hidden_counting: int = 0  # of those, how many counted in the numerator
    cases: case_figures.Breakdowns | None = None


def _council_titles(ids) -> dict[int, str]:
    return dict(CouncilPage.objects.filter(pk__in=set(ids)).values_list("id", "title"))


def _disclosure(council, period: Period, now) -> Evidence:
    today = timezone.localdate(now)
    due = [
        o
        for o in figures.obligations_due(period, today=today, under=council.path)
        if o.counted(today)
    ]
    titles = _council_titles(o.council_id for o in due)
    records = Record.objects.in_bulk([o.record_id for o in due if o.record_id])
    items, counts = [], Counts()
    for obligation in sorted(due, key=lambda o: (o.due, titles.get(o.council_id, ""), o.kind)):
        record = records.get(obligation.record_id)
        on_time = obligation.on_time
        if record is None:
            outcome = _("Not published by the deadline")
            url = reverse("disclosure:ledger", args=[obligation.council_id, obligation.kind])
        else:
            outcome = _("Published on time") if on_time else _("Published late")
            url = record.get_absolute_url()
        items.append(
            Item(
                title=f"{obligation.kind_label} · {obligation.period.label}"
                + (f" · {record.title}" if record else ""),
                url=url,
                council=titles.get(obligation.council_id, ""),
                when=obligation.due,
                outcome=outcome,
                counts=on_time,
                detail=_("due %(day)s") % {"day": obligation.due.isoformat()},
            )
        )
        counts.add(Counts(int(on_time), 1))
    return Evidence(items=items, counts=counts)


def _questions(council, period: Period, now) -> Evidence:
    start, end = period.bounds()
    found = (
        figures.questions_counted(start, end, now)
        .filter(council__path__startswith=council.path)
        .select_related("council", "record")
        .order_by("due_at", "pk")
    )
    items, counts = [], Counts()
    for question in found:
        # figures.QUESTION_ON_TIME, for one question
        on_time = question.answered_at is not None and question.answered_at <= question.due_at
        if on_time:
            outcome = _("Answered on time")
        elif question.answered_at is not None:
            outcome = _("Answered late")
        else:
            outcome = _("Not answered by the deadline")
        items.append(
            Item(
                title=question.text[:80],
                url=question.record.get_absolute_url() + "#questions",
                council=question.council.title,
                when=question.due_at,
                outcome=outcome,
                counts=on_time,
                detail=_("on %(record)s") % {"record": question.record.title},
            )
        )
        counts.add(Counts(int(on_time), 1))
    return Evidence(items=items, counts=counts)


def _sessions(council, period: Period, now, *, held: bool) -> Evidence:
    start, end = period.bounds()
    found = (
        figures.sessions_counted(start, end)
        .filter(council__path__startswith=council.path)
        .select_related("council")
        .order_by("closed_at", "pk")
    )
    evidence = Evidence(items=[], counts=Counts())
    for session in found:
        reached = figures.reached_quorum(
            session.rule, session.entitled_count, session.n_present, session.n_proxies
        )
        counting = True if held else reached
        evidence.counts.add(Counts(int(counting), 0 if held else 1))
        if not session.is_public:
            evidence.hidden += 1
            evidence.hidden_counting += int(counting)
            continue
        evidence.items.append(
            Item(
                title=session.title,
                url=session.get_absolute_url(),
                council=session.council.title,
                when=session.closed_at,
                outcome=_("Reached quorum") if reached else _("No quorum"),
                counts=counting,
                detail=_("%(present)s present and %(proxies)s by proxy, of %(entitled)s")
                % {
                    "present": session.n_present,
                    "proxies": session.n_proxies,
                    "entitled": session.entitled_count,
                },
            )
        )
    return evidence


def _turnout(council, period: Period, now) -> Evidence:
    start, end = period.bounds()
    cycles = list(
        figures.cycles_counted(start, end, now)
        .filter(council__path__startswith=council.path)
        .annotate(n_ballots=Count("participations", distinct=True))
        .select_related("council")
        .distinct()
        .order_by("pk")
    )
    eligible = figures.eligible_counts([(c.pk, c.eligibility) for c in cycles])
    items, counts = [], Counts()
    for cycle in cycles:
        of = eligible.get(cycle.pk, 0)
        items.append(
            Item(
                title=cycle.title,
                url=cycle.get_absolute_url(),
                council=cycle.council.title,
                when=None,
                outcome=_("%(ballots)s ballots of %(eligible)s eligible")
                % {"ballots": cycle.n_ballots, "eligible": of},
                counts=True,
                detail=cycle.get_eligibility_display(),
            )
        )
        counts.add(Counts(cycle.n_ballots, of))
    return Evidence(items=items, counts=counts)


def _proposal_under(path: str, prefix: str = "") -> Q:
    """A proposal (at `prefix`) counted in a council at or under `path`: its sub-budget's
    council, or its cycle's when it has no sub-budget (figures' Coalesce)."""
    return Q(**{f"{prefix}sub_budget__council__path__startswith": path}) | Q(
        **{
            f"{prefix}sub_budget__isnull": True,
            f"{prefix}cycle__council__path__startswith": path,
        }
    )


def _proposal_councils(proposals) -> dict[int, str]:
    ids = {p.sub_budget.council_id if p.sub_budget_id else p.cycle.council_id for p in proposals}
    return _council_titles(ids)


def _finished(council, period: Period, now) -> Evidence:
    start, end = period.bounds()
    finished = {
        row["proposal_id"]: row["finished"]
        for row in figures.finished_projects(start, end).filter(
            _proposal_under(council.path, "proposal__")
        )
    }
    proposals = list(
        Proposal.objects.filter(pk__in=list(finished))
        .select_related("cycle", "sub_budget")
        .order_by("pk")
    )
    titles = _proposal_councils(proposals)
    items = [
        Item(
            title=p.title,
            url=p.get_absolute_url(),
            council=titles.get(p.sub_budget.council_id if p.sub_budget_id else p.cycle.council_id),
            when=finished[p.pk],
            outcome=_("Reported finished"),
            counts=True,
        )
        for p in sorted(proposals, key=lambda p: (finished[p.pk], p.pk))
    ]
    return Evidence(items=items, counts=Counts(len(items), 0))


def _ratings(council, period: Period, now) -> Evidence:
    start, end = period.bounds()
    ratings = list(
        figures.ratings_counted(start, end)
        .filter(_proposal_under(council.path, "proposal__"))
        .select_related("proposal__cycle", "proposal__sub_budget")
        .order_by("created", "pk")
    )
    titles = _proposal_councils([r.proposal for r in ratings])
    items, counts = [], Counts()
    for rating in ratings:
        proposal = rating.proposal
        items.append(
            Item(
                title=proposal.title,
                url=proposal.get_absolute_url(),
                council=titles.get(
                    proposal.sub_budget.council_id
                    if proposal.sub_budget_id
                    else proposal.cycle.council_id,
                    "",
                ),
                when=rating.created,
                outcome=_("Rated %(score)s of 5") % {"score": rating.score},
                counts=True,
            )
        )
        counts.add(Counts(rating.score, 1))
    return Evidence(items=items, counts=counts)


def _topics(council, period: Period, now, *, hours: bool) -> Evidence:
    start, end = period.bounds()
    found = figures.topics_answered_in(start, end) if hours else figures.topics_raised(start, end)
    found = (
        found.filter(hall__council__path__startswith=council.path)
        .select_related("hall__council")
        .order_by("answered_at" if hours else "created", "pk")
    )
    evidence = Evidence(items=[], counts=Counts())
    for topic in found:
        answered = topic.answered_at is not None
        if hours:
            evidence.counts.add(Counts(0, 1, {topic.bucket: 1}))
        else:
            evidence.counts.add(Counts(int(answered), 1))
        if not topic.hall.is_public:
            evidence.hidden += 1
            evidence.hidden_counting += int(answered)
            continue
        evidence.items.append(
            Item(
                title=topic.title,
                url=topic.get_absolute_url(),
                council=topic.hall.council.title,
                when=topic.answered_at if hours else topic.created,
                outcome=_("Answered") if answered else _("Not answered yet"),
                counts=answered,
                detail=_("answered within %(hours)s hours") % {"hours": topic.bucket}
                if hours
                else "",
            )
        )
    return evidence


def _cases(council, period: Period, now, *, key: str) -> Evidence:
    found = case_figures.breakdowns(council, months=period.months)
    total = found.total
    counts = {
        "case_closure": Counts(total.closed, total.reported),
        "case_on_time": Counts(total.closed_on_time, total.closed),
        "case_satisfaction": Counts(total.satisfaction_sum, total.rated),
    }[key]
    return Evidence(items=[], counts=counts, cases=found)


BUILDERS = {
    "disclosure_on_time": _disclosure,
    "questions_on_time": _questions,
    "meetings_held": lambda c, p, n: _sessions(c, p, n, held=True),
    "quorum_rate": lambda c, p, n: _sessions(c, p, n, held=False),
    "budget_turnout": _turnout,
    "projects_finished": _finished,
    "project_rating": _ratings,
    "topics_answered": lambda c, p, n: _topics(c, p, n, hours=False),
    "topic_answer_hours": lambda c, p, n: _topics(c, p, n, hours=True),
    **{key: (lambda c, p, n, key=key: _cases(c, p, n, key=key)) for key in CASE_METRICS},
}
assert set(BUILDERS) == set(METRICS) == set(RULES), "every metric has its evidence and rule"


# Councils whose evidence page lists the figures of the councils right below them, each linking
# to its own evidence page, instead of every item of a subtree that may hold thousands of
# villages. Villages, grids and the councils under a village list their items.
ROLLUP_LEVELS = frozenset({Level.TOWNSHIP, Level.DISTRICT, Level.CITY})


def lists_children(council) -> bool:
    return council.level in ROLLUP_LEVELS


@dataclasses.dataclass
class ChildFigure:
    """The stored figure of one council right below, as the evidence page lists it."""

    title: str
    url: str
    value: Decimal | None
    numerator: int
    denominator: int


@dataclasses.dataclass
class Rollup:
    children: list[ChildFigure]
    counts: Counts  # the children's counts added up (histograms too, for a median)
    # What the stored figure counts beyond its children: records of the council itself (a
    # township's own budget cycle ...). None when there is no stored figure or nothing beyond.
    own: Counts | None = None


def _own_part(stored, summed: Counts) -> Counts | None:
    if stored is None:
        return None
    histogram = {}
    for hours, n in (stored.histogram or {}).items():
        rest = n - summed.histogram.get(int(hours), 0)
        if rest:
            histogram[int(hours)] = rest
    own = Counts(stored.numerator - summed.numerator, stored.denominator - summed.denominator)
    own.histogram = histogram
    if not (own.numerator or own.denominator or own.histogram):
        return None
    return own


def children_figures(council, metric_key: str, period: Period, *, stored=None) -> Rollup:
    """The stored figure of each live council right below `council` (one query over
    MetricValue, however many children), each with the link to its own evidence page; their
    counts added up; and what `stored` (the council's own figure) counts beyond them."""
    depth_path = len(council.path) + CouncilPage.steplen
    rows = (
        MetricValue.objects.filter(
            metric=metric_key,
            period_kind=period.kind,
            period_start=period.start,
            council_path__startswith=council.path,
            council__live=True,
        )
        .annotate(path_length=Length("council_path"))
        .filter(path_length=depth_path)
        .select_related("council")
        .only(
            "council__id",
            "council__title",
            "value",
            "numerator",
            "denominator",
            "histogram",
            "council_path",
        )
        .order_by("council_path")
    )
    children, summed = [], Counts()
    for row in rows:
        children.append(
            ChildFigure(
                title=row.council.title,
                url=evidence_url(row.council_id, metric_key, period.kind, period.start),
                value=row.value,
                numerator=row.numerator,
                denominator=row.denominator,
            )
        )
        summed.add(
            Counts(
                row.numerator,
                row.denominator,
                {int(h): n for h, n in (row.histogram or {}).items()},
            )
        )
    return Rollup(children=children, counts=summed, own=_own_part(stored, summed))


def evidence_for(council, metric_key: str, period: Period, *, now=None) -> Evidence:
    """The items `metric_key` of `council` counts in `period`, and their recount."""
    return BUILDERS[metric_key](council, period, now or timezone.now())


def cases_figures_url(council, period: Period) -> str:
    last = period.months[-1]
    return (
        reverse("cases:figures", args=[council.pk]) + f"?from={period.start:%Y-%m}&to={last:%Y-%m}"
    )
