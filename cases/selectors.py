"""Read-side queries of cases: the township's board, the department desk, the departments of a
council and the public page. Each answers in a fixed number of queries, whatever the number of
cases (tests/cases/test_desk.py counts them).

Open cases are found through the township they belong to, not only by their council's path: the
partial index on (township, status, level) holds only cases that are not closed, so a district's
or a city's board reads its open cases, not the million closed ones beside them.
"""

import datetime
from typing import TypedDict

from django.core.paginator import Page, Paginator
from django.db.models import BooleanField, Count, ExpressionWrapper, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models import Case, Department, Status, Whistle
from councils.models import CouncilPage, Level

BOARD_LEVELS = (Level.TOWNSHIP, Level.DISTRICT, Level.CITY)

# Age of an open case since it was reported: (key, label, from days, to days); to None is open.
AGE_BUCKETS = (
    ("day", _("Under 1 day"), 0, 1),
    ("days", _("1–3 days"), 1, 3),
    ("week", _("3–7 days"), 3, 7),
    ("month", _("7–30 days"), 7, 30),
    ("older", _("Over 30 days"), 30, None),
)
BUCKET_KEYS = tuple(key for key, *_rest in AGE_BUCKETS)
HANDLING_STATUSES = (Status.ACCEPTED, Status.IN_HAND)


def overdue_q(now: datetime.datetime) -> Q:
    """Past the deadline of the step a case waits for (Case.is_overdue, as a filter)."""
    return Q(status=Status.REPORTED, accept_due__lt=now) | Q(
        status__in=HANDLING_STATUSES, resolve_due__lt=now
    )


def _age_q(now: datetime.datetime, start: int, end: int | None) -> Q:
    """Reported at least `start` and less than `end` days before `now`."""
    q = Q(reported_at__lte=now - datetime.timedelta(days=start)) if start else Q()
    if end is not None:
        q &= Q(reported_at__gt=now - datetime.timedelta(days=end))
    return q


def open_in(council: CouncilPage) -> QuerySet:
    """Open cases that happened in `council` or under it, found through their township (the
    board's index, `cases_open_by_township`, holds every column the counts read, so they are
    counted from the index alone)."""
    cases = Case.objects.open()
    if council.level == Level.TOWNSHIP:
        return cases.filter(township=council)
    if council.level not in (Level.DISTRICT, Level.CITY):
        return cases.in_subtree(council)  # a village or a grid: its few cases, by path
    townships = CouncilPage.objects.filter(path__startswith=council.path, level=Level.TOWNSHIP)
    return cases.filter(township__in=townships.values("pk"))


class LevelCounts(TypedDict):
    level: str
    buckets: list[int]
    overdue: int
    open: int


def board_counts(council: CouncilPage, now: datetime.datetime | None = None) -> dict:
    """The board's table: open cases of the subtree by whistle level and age, with how many are
    overdue. One aggregate query. A small dict of numbers and codes (no labels), so the live
    board can send it as it is:

        {"council": 7, "at": "2026-…", "buckets": ["day", …],
         "rows": [{"level": "routine", "buckets": [n, …], "overdue": n, "open": n}, …],
         "total": {"level": "", "buckets": [n, …], "overdue": n, "open": n}}
    """
    now = now or timezone.now()
    counts = {"open": Count("pk"), "overdue": Count("pk", filter=overdue_q(now))}
    for key, _label, start, end in AGE_BUCKETS:
        counts[key] = Count("pk", filter=_age_q(now, start, end))
    by_level = {
        row["level"]: row for row in open_in(council).order_by().values("level").annotate(**counts)
    }
    rows: list[LevelCounts] = []
    for level in Whistle.values:
        row = by_level.get(level, {})
        rows.append(
            {
                "level": level,
                "buckets": [row.get(key, 0) for key in BUCKET_KEYS],
                "overdue": row.get("overdue", 0),
                "open": row.get("open", 0),
            }
        )
    total: LevelCounts = {
        "level": "",
        "buckets": [sum(row["buckets"][i] for row in rows) for i in range(len(BUCKET_KEYS))],
        "overdue": sum(row["overdue"] for row in rows),
        "open": sum(row["open"] for row in rows),
    }
    return {
        "council": council.pk,
        "at": now.isoformat(),
        "buckets": list(BUCKET_KEYS),
        "rows": rows,
        "total": total,
    }


def board_places(council: CouncilPage) -> list[CouncilPage]:
    """What the board's list can be narrowed to: a township's villages, a district's or a
    city's townships, in tree order. One query."""
    level = Level.VILLAGE if council.level == Level.TOWNSHIP else Level.TOWNSHIP
    return list(
        CouncilPage.objects.filter(path__startswith=council.path, level=level)
        .order_by("path")
        .only("pk", "title", "path", "depth", "level")
    )


def open_cases(
    council: CouncilPage, filters: dict | None = None, *, now: datetime.datetime | None = None
) -> QuerySet:
    """The board's list: open cases of the subtree, overdue first, then the oldest.

    `filters` (all optional, already validated): `level`, `category`, `status` (codes) and
    `place`, a village (on a township's board) or a township (above) under `council`, as a
    CouncilPage. Each case carries `late` (overdue at `now`)."""
    now = now or timezone.now()
    filters = filters or {}
    cases = open_in(council)
    for field in ("level", "category", "status"):
        if filters.get(field):
            cases = cases.filter(**{field: filters[field]})
    place = filters.get("place")
    if place is not None:
        if place.level == Level.TOWNSHIP:
            cases = cases.filter(township=place)
        else:
            cases = cases.filter(council_path__startswith=place.path)
    return (
        cases.select_related("council", "handler_council", "department")
        .annotate(late=ExpressionWrapper(overdue_q(now), output_field=BooleanField()))
        .order_by("-late", "reported_at", "pk")
    )


class _CountedPaginator(Paginator):
    """A paginator told its count (the board's counts already hold it): no second scan."""

    def __init__(self, object_list, per_page, *, count: int):
        super().__init__(object_list, per_page)
        self.__dict__["count"] = count


def open_cases_page(
    council: CouncilPage,
    filters: dict | None = None,
    *,
    page=1,
    per_page: int = 25,
    now: datetime.datetime | None = None,
    count: int | None = None,
) -> Page:
    """One page of open_cases: the database sorts the open cases' keys, then reads the page's
    rows with their councils and department (a city's 50,000 open cases are not each joined to
    the council tree to keep 25). Pass `count` when it is known (the board's total, unfiltered).
    Three queries, two with `count`."""
    now = now or timezone.now()
    keys = open_cases(council, filters, now=now).values_list("pk", flat=True)
    if count is None:
        paginator = Paginator(keys, per_page)
    else:
        paginator = _CountedPaginator(keys, per_page, count=count)
    result = paginator.get_page(page)
    pks = list(result.object_list)
    rows = Case.objects.select_related("council", "handler_council", "department").in_bulk(pks)
    result.object_list = [rows[pk] for pk in pks if pk in rows]
    for case in result.object_list:
        case.late = case.is_overdue(now)
    return result


# -- the department desk ---------------------------------------------------------------------------

DESK_LIMIT = 100
DESK_GROUPS = (
    ("waiting", (Status.REPORTED,)),
    ("handling", HANDLING_STATUSES),
    ("resolved", (Status.RESOLVED,)),
)


def department_desk(department: Department, now: datetime.datetime | None = None) -> dict:
    """A department's open cases in three groups: to report in (accept), in hand, resolved and
    waiting for the reporter; the most pressing first, at most DESK_LIMIT a group, with each
    group's full count and how many are overdue. Four queries."""
    now = now or timezone.now()
    cases = Case.objects.filter(department=department).open()
    counts = cases.order_by().aggregate(
        overdue=Count("pk", filter=overdue_q(now)),
        **{name: Count("pk", filter=Q(status__in=statuses)) for name, statuses in DESK_GROUPS},
    )
    late = ExpressionWrapper(overdue_q(now), output_field=BooleanField())
    groups = {}
    for name, statuses in DESK_GROUPS:
        order = {"waiting": "accept_due", "handling": "resolve_due"}.get(name, "resolved_at")
        groups[name] = list(
            cases.filter(status__in=statuses)
            .select_related("council")
            .annotate(late=late)
            .order_by(order, "pk")[:DESK_LIMIT]
        )
    return {"counts": counts, **groups}


# -- departments of a council ----------------------------------------------------------------------


def departments_of(council: CouncilPage) -> list[Department]:
    """The departments registered under `council`, active first, each with `member_count`,
    `open_count` (its open cases) and its `memberships` with their users. Three queries."""
    from django.db.models import Prefetch

    from cases.models import DepartmentMember

    members = DepartmentMember.objects.select_related("user").order_by("added_at", "pk")
    departments = list(
        Department.objects.filter(council=council)
        .annotate(member_count=Count("memberships"))
        .prefetch_related(Prefetch("memberships", queryset=members))
        .order_by("-active", "name", "pk")
    )
    open_counts = dict(
        Case.objects.open()
        .filter(department__in=[department.pk for department in departments])
        .order_by()
        .values("department")
        .annotate(n=Count("pk"))
        .values_list("department", "n")
    )
    for department in departments:
        department.open_count = open_counts.get(department.pk, 0)
    return departments


# -- the public page -------------------------------------------------------------------------------


def month_start(now: datetime.datetime) -> datetime.datetime:
    """Midnight of the first of `now`'s month, in the site's time zone."""
    local = timezone.localtime(now)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def public_figures(council: CouncilPage, now: datetime.datetime | None = None) -> dict:
    """Counts without names for anyone: open cases now, cases reported and closed this month,
    and the share of this month's cases already closed. Three queries, each on an index; the
    figures pages (cases.figures) roll up the months properly."""
    now = now or timezone.now()
    start = month_start(now)
    subtree = Case.objects.in_subtree(council).order_by()
    this_month = subtree.filter(reported_at__gte=start).aggregate(
        reported=Count("pk"), closed=Count("pk", filter=Q(status=Status.CLOSED))
    )
    # A case closed this month changed this month: the index on changed_at bounds the search.
    closed = subtree.filter(
        changed_at__gte=start, status=Status.CLOSED, closed_at__gte=start
    ).count()
    reported = this_month["reported"]
    return {
        "open": open_in(council).order_by().count(),
        "reported_this_month": reported,
        "closed_this_month": closed,
        "closure_rate": round(100 * this_month["closed"] / reported) if reported else None,
        "since": start,
    }


# What the public list may read: never the reporter, the parties or the description.
PUBLIC_FIELDS = (
    "title",
    "category",
    "place",
    "status",
    "reported_at",
    "closed_at",
    "council__title",
)


class Window:
    """A page of a long list that is not counted (a city's public cases are hundreds of
    thousands): one row more than the page tells whether there is a next one. Reads as a
    Django Page in templates, without the number of pages."""

    paginator = None

    def __init__(self, queryset, number, per_page: int = 25):
        try:
            self.number = max(1, int(number))
        except (TypeError, ValueError):
            self.number = 1
        start = (self.number - 1) * per_page
        rows = list(queryset[start : start + per_page + 1])
        self.object_list = rows[:per_page]
        self._more = len(rows) > per_page

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self):
        return len(self.object_list)

    def has_next(self) -> bool:
        return self._more

    def has_previous(self) -> bool:
        return self.number > 1

    def has_other_pages(self) -> bool:
        return self._more or self.number > 1

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1


def public_cases(council: CouncilPage) -> QuerySet:
    """Cases of the subtree marked public (matters about shared places), newest first, with
    PUBLIC_FIELDS only loaded."""
    return (
        Case.objects.public()
        .in_subtree(council)
        .select_related("council")
        .only(*PUBLIC_FIELDS)
        .order_by("-reported_at", "-pk")
    )


def topic_panel(topic, user) -> dict | None:
    """The panel on a hall topic's page (deliberation.registry): the cases made from it that
    this person may see, and the committee's way to make one. None when there is nothing."""
    made = list(
        Case.objects.filter(topic=topic)
        .select_related("council", "handler_council", "department")
        .order_by("-reported_at")[:5]
    )
    shown = [case for case in made if user.has_perm("cases.view_case", case)]
    can_escalate = user.has_perm("cases.escalate_topic", topic.hall.council) and not any(
        case.is_open for case in made
    )
    if not shown and not can_escalate:
        return None
    return {"topic_cases": shown, "can_escalate_topic": can_escalate}
