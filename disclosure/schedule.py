"""The disclosure calendar: what each village must publish, by when, and what is overdue.

The statutory minimum (Organic Law of Villagers' Committees, art. 30; see docs/disclosure.md):
every kind at least once a quarter; finance every month where a council sets it so (many
transactions); major matters at once (those cannot be scheduled and are not checked here). A
period's disclosure is due `grace_days` after the period ends. Obligations start with the first
full period after the council went live on Yishi and are checked over a bounded look-back window.

Everything here works on many councils at once with a fixed number of queries, so that a township
or a district sees which of its villages are late without a query per village.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from councils.models import CouncilPage, Level
from disclosure.models import (
    DisclosureRule,
    Frequency,
    Kind,
    PeriodKind,
    Record,
    RecordType,
    Status,
    period_label,
)

DEFAULT_FREQUENCY = {
    Kind.PARTY: Frequency.QUARTERLY,
    Kind.VILLAGE: Frequency.QUARTERLY,
    Kind.FINANCE: Frequency.QUARTERLY,
}
# Which records satisfy a kind's obligation; None means any record of that kind.
SATISFYING_TYPES = {Kind.FINANCE: {RecordType.STATEMENT}, Kind.PARTY: None, Kind.VILLAGE: None}
FREQUENCY_PERIOD = {Frequency.MONTHLY: PeriodKind.MONTH, Frequency.QUARTERLY: PeriodKind.QUARTER}


def default_grace_days() -> int:
    return int(getattr(settings, "YISHI_DISCLOSURE_GRACE_DAYS", 10))


def lookback_months() -> int:
    return int(getattr(settings, "YISHI_DISCLOSURE_LOOKBACK_MONTHS", 12))


@dataclass(frozen=True)
class Period:
    kind: str
    start: datetime.date
    end: datetime.date

    @property
    def label(self) -> str:
        return period_label(self.kind, self.start, self.end)

    def following(self) -> "Period":
        return period_containing(self.kind, self.end + datetime.timedelta(days=1))


def _month_end(year: int, month: int) -> datetime.date:
    if month == 12:
        return datetime.date(year, 12, 31)
    return datetime.date(year, month + 1, 1) - datetime.timedelta(days=1)


def period_containing(kind: str, day: datetime.date) -> Period:
    if kind == PeriodKind.MONTH:
        return Period(kind, day.replace(day=1), _month_end(day.year, day.month))
    if kind == PeriodKind.QUARTER:
        first_month = 3 * ((day.month - 1) // 3) + 1
        return Period(
            kind, datetime.date(day.year, first_month, 1), _month_end(day.year, first_month + 2)
        )
    raise ValueError(f"no calendar period of kind {kind!r}")


class ObligationStatus(models.TextChoices):
    """Where a period's disclosure stands; computed, never stored."""

    ON_TIME = "on_time", _("published on time")
    LATE = "late", _("published late")
    OVERDUE = "overdue", _("overdue")
    DUE = "due", _("due soon")  # the period is over, the deadline not yet passed


@dataclass
class Obligation:
    council_id: int
    council_title: str
    kind: str
    period: Period
    due: datetime.date
    published_at: datetime.datetime | None
    record_id: int | None
    status: ObligationStatus

    @property
    def kind_label(self) -> str:
        return Kind(self.kind).label

    @property
    def is_overdue(self) -> bool:
        return self.status == ObligationStatus.OVERDUE

    @property
    def is_late(self) -> bool:
        return self.status == ObligationStatus.LATE

    @property
    def status_label(self) -> str:
        return ObligationStatus(self.status).label


def disclosing_councils_under(council: CouncilPage):
    """The villages and communities at or under `council`, which keep the three ledgers."""
    return (
        CouncilPage.objects.live()
        .filter(path__startswith=council.path, level=Level.VILLAGE)
        .only("id", "title", "path", "depth", "url_path", "level", "first_published_at")
        .order_by("path")
    )


def obligations_for(councils, *, today: datetime.date | None = None) -> dict[int, list[Obligation]]:
    """Every obligation of `councils` in the look-back window: two queries, whatever the count."""
    today = today or timezone.localdate()
    councils = list(councils)
    if not councils:
        return {}
    ids = [c.pk for c in councils]
    rules = {(r.council_id, r.kind): r for r in DisclosureRule.objects.filter(council_id__in=ids)}
    window_start = _months_before(today, lookback_months())
    published = defaultdict(list)
    for row in (
        Record.objects.filter(
            council_id__in=ids, status=Status.PUBLISHED, period_end__gte=window_start
        )
        .values_list(
            "council_id", "kind", "record_type", "period_start", "period_end", "published_at", "pk"
        )
        .order_by("published_at")
    ):
        published[(row[0], row[1])].append(row)

    result: dict[int, list[Obligation]] = {}
    for council in councils:
        live_since = (
            timezone.localtime(council.first_published_at).date()
            if council.first_published_at
            else today
        )
        obligations = []
        for kind in Kind.values:
            rule = rules.get((council.pk, kind))
            frequency = rule.frequency if rule else DEFAULT_FREQUENCY[kind]
            grace = rule.grace_days if rule else default_grace_days()
            period_kind = FREQUENCY_PERIOD[frequency]
            period = period_containing(period_kind, max(live_since, window_start))
            if period.start < live_since:
                period = period.following()  # only full periods after going live
            types = SATISFYING_TYPES[kind]
            while period.end < today:
                due = period.end + datetime.timedelta(days=grace)
                match = next(
                    (
                        row
                        for row in published[(council.pk, kind)]
                        if period.start <= row[3]
                        and row[4] <= period.end
                        and (types is None or row[2] in types)
                    ),
                    None,
                )
                if match:
                    published_on = timezone.localtime(match[5]).date()
                    status = (
                        ObligationStatus.ON_TIME if published_on <= due else ObligationStatus.LATE
                    )
                else:
                    status = ObligationStatus.OVERDUE if today > due else ObligationStatus.DUE
                obligations.append(
                    Obligation(
                        council_id=council.pk,
                        council_title=council.title,
                        kind=kind,
                        period=period,
                        due=due,
                        published_at=match[5] if match else None,
                        record_id=match[6] if match else None,
                        status=status,
                    )
                )
                period = period.following()
        obligations.sort(key=lambda o: (o.due, o.kind))
        result[council.pk] = obligations
    return result


def overdue_for(councils, *, today: datetime.date | None = None) -> dict[int, list[Obligation]]:
    return {
        council_id: [o for o in obligations if o.is_overdue]
        for council_id, obligations in obligations_for(councils, today=today).items()
    }


def _months_before(day: datetime.date, months: int) -> datetime.date:
    month_index = day.year * 12 + (day.month - 1) - months
    return datetime.date(month_index // 12, month_index % 12 + 1, 1)
