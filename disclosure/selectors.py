"""Read-side queries for the public ledgers and the dashboards, flat and bounded in queries."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from councils.models import CouncilPage, Level
from disclosure.hashchain import canonical_bytes, content_of, records_with_content
from disclosure.models import (
    ChainEntry,
    ChainHead,
    Kind,
    LineItem,
    PeriodKind,
    Question,
    Record,
    RecordEvent,
    Status,
)
from disclosure.schedule import (
    ObligationStatus,
    disclosing_councils_under,
    obligations_for,
    period_containing,
)

LINES_PER_PAGE = 100
RECORDS_PER_PAGE = 20

LEDGER_TITLES = {
    Kind.PARTY: _("Party affairs disclosure"),
    Kind.VILLAGE: _("Village affairs disclosure"),
    Kind.FINANCE: _("Financial disclosure"),
}


@dataclass(frozen=True)
class Ledger:
    """A council's ledger of one kind: its published records of that kind."""

    council_id: int
    kind: str

    @property
    def title(self) -> str:
        return str(LEDGER_TITLES[self.kind])

    @property
    def is_party(self) -> bool:
        return self.kind == Kind.PARTY

    @property
    def is_finance(self) -> bool:
        return self.kind == Kind.FINANCE

    def get_absolute_url(self) -> str:
        return reverse("disclosure:ledger", args=[self.council_id, self.kind])


def ledgers_section(council: CouncilPage, user) -> dict:
    """Section provider for the council page: the three ledgers and what is overdue."""
    if council.level == Level.VILLAGE:
        overdue = [o for o in obligations_for([council]).get(council.pk, []) if o.is_overdue]
        context = {
            "ledgers": [Ledger(council.pk, kind) for kind in Kind.values],
            "overdue_disclosures": overdue,
        }
    elif council.level in (Level.TOWNSHIP, Level.DISTRICT, Level.CITY):
        context = {"overdue_disclosures": []}
    else:
        return {}
    if user.has_perm("disclosure.view_dashboard", council):
        context["disclosure_dashboard_url"] = reverse("disclosure:dashboard", args=[council.pk])
    return context


def _totals(queryset) -> dict:
    totals = queryset.aggregate(
        income=Sum("income", default=Decimal("0")), expense=Sum("expense", default=Decimal("0"))
    )
    totals["balance"] = totals["income"] - totals["expense"]
    return totals


def ledger_years(council, kind: str) -> list[int]:
    return sorted(
        {
            d.year
            for d in Record.objects.filter(
                council=council, kind=kind, status=Status.PUBLISHED
            ).dates("period_start", "year")
        },
        reverse=True,
    )


def ledger_page(council, kind: str, *, year: int | None, record_type: str, page, user):
    """One page of a ledger's records, newest period first, each with its totals."""
    queryset = Record.objects.filter(council=council, kind=kind)
    if not user.has_perm("disclosure.view_dashboard", council):
        queryset = queryset.filter(status=Status.PUBLISHED)
    if year:
        queryset = queryset.filter(period_start__year=year)
    if record_type:
        queryset = queryset.filter(record_type=record_type)
    queryset = (
        queryset.with_totals()
        .select_related("chain_entry")
        .annotate(correction_count=Count("corrections", distinct=True))
        .order_by("-period_start", "-published_at", "-pk")
    )
    return Paginator(queryset, RECORDS_PER_PAGE).get_page(page)


def record_lines(record: Record, *, page):
    queryset = (
        LineItem.objects.filter(record=record).select_related("reverses").order_by("position")
    )
    return Paginator(queryset, LINES_PER_PAGE).get_page(page), _totals(
        LineItem.objects.filter(record=record)
    )


def record_detail(record: Record) -> dict:
    """What the record page shows besides its lines, in a handful of queries."""
    corrections = list(
        Record.objects.filter(corrects=record).only("id", "title", "status", "published_at")
    )
    head = ChainHead.objects.filter(council_id=record.council_id).first()
    return {
        "events": list(record.events.select_related("actor").order_by("created", "pk")),
        "attachments": list(record.attachments.all()),
        "questions": list(
            record.questions.select_related("asked_by", "answered_by").order_by("asked_at")
        ),
        "corrections": corrections,
        "published_corrections": [c for c in corrections if c.status == Status.PUBLISHED],
        "chain_entry": ChainEntry.objects.filter(record=record).first(),
        "chain_head": head,
    }


def parse_period(value: str) -> tuple[str, datetime.date] | None:
    """'2025-03' is a month, '2025-Q1' a quarter."""
    try:
        year_text, rest = value.split("-", 1)
        year = int(year_text)
        if rest.upper().startswith("Q"):
            quarter = int(rest[1:])
            if not 1 <= quarter <= 4:
                return None
            return PeriodKind.QUARTER, datetime.date(year, 3 * quarter - 2, 1)
        month = int(rest)
        return PeriodKind.MONTH, datetime.date(year, month, 1)
    except (ValueError, TypeError):
        return None


def finance_period(council, period_kind: str, start: datetime.date, *, page):
    """Every published financial line of a month or quarter, paginated, with exact totals."""
    period = period_containing(period_kind, start)
    records = Record.objects.filter(
        council=council,
        kind=Kind.FINANCE,
        status=Status.PUBLISHED,
        period_start__gte=period.start,
        period_end__lte=period.end,
    )
    lines = (
        LineItem.objects.filter(record__in=records)
        .select_related("reverses")
        .order_by("date", "record_id", "position")
    )
    return (
        period,
        Paginator(lines, LINES_PER_PAGE).get_page(page),
        _totals(LineItem.objects.filter(record__in=records)),
        list(records.only("id", "title", "period_kind", "period_start", "period_end")),
    )


def chain_export(council) -> dict:
    """The council's chain with each record's canonical content, for anyone to recompute."""
    head = ChainHead.objects.filter(council_id=council.pk).first()
    entries = list(
        ChainEntry.objects.filter(council=council)
        .order_by("position")
        .values("position", "record_id", "previous_hash", "content_hash", "entry_hash")
    )
    records = records_with_content().in_bulk([e["record_id"] for e in entries])
    exported = []
    for entry in entries:
        record = records.get(entry["record_id"])
        content = content_of(record) if record else None
        exported.append(
            {
                **entry,
                "record": entry.pop("record_id"),
                "canonical": canonical_bytes(content).decode("utf-8") if content else None,
                "content": content,
            }
        )
    return {
        "council": council.pk,
        "title": council.title,
        "algorithm": "sha256",
        "genesis": "0" * 64,
        "content_hash": "sha256(canonical UTF-8 bytes), lowercase hex",
        "entry_hash": "sha256(previous_hash + content_hash as ASCII hex text), lowercase hex",
        "documentation": "docs/ledgers.md",
        "head": {
            "position": head.position if head else 0,
            "entry_hash": head.entry_hash if head else "0" * 64,
        },
        "entries": exported,
    }


# --- dashboards ---------------------------------------------------------------------------------


def village_dashboard(council, *, page, now=None) -> dict:
    now = now or timezone.now()
    obligations = obligations_for([council], today=timezone.localdate(now)).get(council.pk, [])
    open_questions = list(
        Question.objects.open()
        .filter(council=council)
        .select_related("record", "asked_by")
        .order_by("due_at")
    )
    for question in open_questions:
        question.overdue = question.is_overdue(now)
    history = (
        RecordEvent.objects.filter(record__council=council)
        .select_related("record", "actor")
        .order_by("-created", "-pk")
    )
    return {
        "review_queue": list(
            Record.objects.filter(council=council, status__in=[Status.IN_REVIEW, Status.SIGNED_OFF])
            .select_related("created_by")
            .order_by("updated_at")
        ),
        "drafts": list(
            Record.objects.filter(council=council, status=Status.DRAFT).order_by("-updated_at")
        ),
        "overdue": [o for o in obligations if o.is_overdue],
        "due": [o for o in obligations if o.status == ObligationStatus.DUE],
        "late": [o for o in obligations if o.is_late],
        "open_questions": open_questions,
        "history": Paginator(history, 30).get_page(page),
    }


@dataclass
class VillageRow:
    council: CouncilPage
    overdue: list
    late: int
    overdue_questions: int
    in_review: int

    @property
    def needs_attention(self) -> bool:
        return bool(self.overdue or self.overdue_questions)


def rollup(council, *, now=None) -> list[VillageRow]:
    """Every village under a township, district or city, the late ones first: five queries."""
    now = now or timezone.now()
    villages = list(disclosing_councils_under(council))
    ids = [v.pk for v in villages]
    obligations = obligations_for(villages, today=timezone.localdate(now))
    late_questions = dict(
        Question.objects.overdue(now)
        .filter(council_id__in=ids)
        .values_list("council_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    in_review = dict(
        Record.objects.filter(council_id__in=ids, status__in=[Status.IN_REVIEW, Status.SIGNED_OFF])
        .values_list("council_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    rows = [
        VillageRow(
            council=village,
            overdue=[o for o in obligations.get(village.pk, []) if o.is_overdue],
            late=sum(1 for o in obligations.get(village.pk, []) if o.is_late),
            overdue_questions=late_questions.get(village.pk, 0),
            in_review=in_review.get(village.pk, 0),
        )
        for village in villages
    ]
    rows.sort(key=lambda r: (not r.needs_attention, -len(r.overdue), r.council.path))
    return rows


# --- micro-projects and finance (docs/finance-tools.md) ----------------------------------------


def funded_projects(council) -> dict[int, str]:
    """Funded micro-projects of the council's budget cycles whose results are published, as
    budgets stored them at publication (budgets.selectors.funded_proposals; no tally here).
    {proposal id: title}."""
    from budgets.models import BudgetCycle
    from budgets.selectors import funded_proposals

    funded = {}
    cycles = BudgetCycle.objects.filter(
        council_id=council.pk, results_published_at__isnull=False
    ).order_by("pk")
    for cycle in cycles:
        for proposal in funded_proposals(cycle):
            funded[proposal.pk] = proposal.title
    return funded


def funded_project_ids(council) -> frozenset[int]:
    return frozenset(funded_projects(council))


VARIANCE_WARNING = Decimal("0.10")


@dataclass(frozen=True)
class ProjectSpending:
    """Budgeted against spent for one micro-project, from published finance lines."""

    budgeted: Decimal
    spent: Decimal
    lines: int
    records: list

    @property
    def variance(self) -> Decimal:
        return self.spent - self.budgeted

    @property
    def remaining(self) -> Decimal:
        return max(self.budgeted - self.spent, Decimal("0"))

    @property
    def percent_spent(self) -> int:
        if not self.budgeted:
            return 0
        return int((self.spent * 100 / self.budgeted).to_integral_value())

    @property
    def over_budget(self) -> bool:
        return self.spent > self.budgeted

    @property
    def far_over_budget(self) -> bool:
        """More than 10% over: the supervisory committee should ask why."""
        return self.spent > self.budgeted * (1 + VARIANCE_WARNING)


def project_spending(proposal) -> ProjectSpending | None:
    """What was spent on a micro-project: expense lines tagged with it in published records.

    Reversing lines (红字冲销) carry the tag of the line they reverse and a negative amount,
    so a corrected line counts once. Two queries. None when nothing was ever booked.
    """
    lines = LineItem.objects.filter(project=proposal, record__status=Status.PUBLISHED)
    totals = lines.aggregate(spent=Sum("expense", default=Decimal("0")), n=Count("pk"))
    if not totals["n"]:
        return None
    records = list(
        Record.objects.filter(lines__in=lines)
        .distinct()
        .only("id", "title", "period_kind", "period_start", "period_end")
        .order_by("period_start", "pk")[:20]
    )
    return ProjectSpending(
        budgeted=proposal.cost,
        spent=totals["spent"],
        lines=totals["n"],
        records=records,
    )


def spending_panel(proposal, user) -> dict:
    """The proposal page's "budgeted and spent" panel (registered in budgets.registry): the
    published accounts' spending on the project and, when the latest progress update reports a
    different figure (nothing booked counts as 0 yuan), the mismatch to ask about."""
    spending = project_spending(proposal)
    return {"spending": spending, "spending_mismatch": spending_mismatch(proposal, spending)}


def spending_mismatch(proposal, spending) -> dict | None:
    latest = proposal.updates.order_by("-created", "-pk").first()
    if latest is None:
        return None
    booked = spending.spent if spending else Decimal("0")
    if latest.spent_so_far == booked:
        return None
    return {
        "reported": latest.spent_so_far,
        "booked": booked,
        "difference": abs(latest.spent_so_far - booked),
        "when": latest.created,
    }


def published_finance_lines(council):
    """Every line of the council's published financial records (what charts and exports sum)."""
    return LineItem.objects.filter(
        record__council=council, record__kind=Kind.FINANCE, record__status=Status.PUBLISHED
    )


OTHER_ACCOUNTS_AFTER = 10


def finance_chart_data(council, *, year: int | None = None) -> dict:
    """Sums for the finance charts, four aggregate queries whatever the number of lines."""
    from django.db.models.functions import TruncMonth

    lines = published_finance_lines(council)
    opening = Decimal("0")
    if year:
        before = _totals(lines.filter(date__lt=datetime.date(year, 1, 1)))
        opening = before["balance"]
        lines = lines.filter(date__year=year)
    months = list(
        lines.annotate(month=TruncMonth("date"))
        .values("month")
        .annotate(income=Sum("income"), expense=Sum("expense"))
        .order_by("month")
    )
    for month in months:
        if isinstance(month["month"], datetime.datetime):
            month["month"] = month["month"].date()
    accounts = list(
        lines.values("account")
        .annotate(total=Sum("expense"))
        .filter(total__gt=0)
        .order_by("-total", "account")
        .values_list("account", "total")
    )
    if len(accounts) > OTHER_ACCOUNTS_AFTER:
        rest = sum((total for _a, total in accounts[OTHER_ACCOUNTS_AFTER - 1 :]), Decimal(0))
        accounts = accounts[: OTHER_ACCOUNTS_AFTER - 1] + [(str(_("Other accounts")), rest)]
    projects = list(
        lines.filter(project__isnull=False)
        .values("project_id", "project__title")
        .annotate(total=Sum("expense"))
        .order_by("-total", "project_id")
    )
    return {
        "opening": opening,
        "months": months,
        "accounts": [(account or str(_("(no account)")), total) for account, total in accounts],
        "projects": [(f"{p['project_id']} {p['project__title']}", p["total"]) for p in projects],
    }


def finance_years(council) -> list[int]:
    return sorted(
        {d.year for d in published_finance_lines(council).dates("date", "year")}, reverse=True
    )


def record_totals_by_account(record: Record) -> list[dict]:
    """A long record's lines summed per account, for the printed notice."""
    return list(
        LineItem.objects.filter(record=record)
        .values("account")
        .annotate(income=Sum("income"), expense=Sum("expense"), n=Count("pk"))
        .order_by("account")
    )


def check_against_chain(record: Record, value: str) -> bool | None:
    """Does a hash from the paper (or a QR code) match this record's chain entry?"""
    value = "".join((value or "").split()).lower()
    if not value:
        return None
    entry = ChainEntry.objects.filter(record=record).values("entry_hash", "content_hash").first()
    return bool(entry) and value in (entry["entry_hash"], entry["content_hash"])
