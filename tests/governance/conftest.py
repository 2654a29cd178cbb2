"""Shared helpers of the governance tests: Shanghai times, stored figures, and `metrics_world`,
a township whose records of October to December 2026 have hand-counted figures
(tests/governance/test_metrics.py lists what each figure must be)."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from budgets.models import Participation, PhaseKind, ProgressStatus, ProgressUpdate, Rating
from cases.models import CaseFigure, Category, Whistle
from councils.models import CouncilPage, Household, HouseholdMember
from deliberation.models import Topic, TopicStatus
from disclosure.models import (
    DisclosureRule,
    Frequency,
    Kind,
    PeriodKind,
    Question,
    Record,
    RecordType,
    Status,
)
from governance.models import MetricValue
from meetings import quorum
from meetings.models import (
    Attendance,
    RosterEntry,
    RosterMode,
    Session,
    SessionKind,
    SessionStatus,
)
from tests.budgets.factories import add_proposal, make_cycle
from tests.conftest import isolate_cache_and_layer
from tests.councils.factories import UserFactory, member
from tests.deliberation.factories import HallFactory, TopicFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
OCT, NOV, DEC = datetime.date(2026, 10, 1), datetime.date(2026, 11, 1), datetime.date(2026, 12, 1)
Q4 = OCT
# The clock of the recompute in these tests: after November, in the middle of December.
NOW = datetime.datetime(2026, 12, 15, 12, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _isolated_cache_and_layer(settings, request):
    isolate_cache_and_layer(settings, request)


def at(month: int, day: int, hour: int = 12, minute: int = 0, year: int = 2026):
    """An instant in Shanghai."""
    return datetime.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def figure(council, key: str, start=NOV, kind: str = "month") -> MetricValue:
    return MetricValue.objects.get(
        council=council, metric=key, period_kind=kind, period_start=start
    )


def _record(council, kind, record_type, period_kind, start, end, *, published_at, title):
    return Record.objects.create(
        council=council,
        kind=kind,
        record_type=record_type,
        period_kind=period_kind,
        period_start=start,
        period_end=end,
        title=title,
        status=Status.PUBLISHED if published_at else Status.DRAFT,
        published_at=published_at,
    )


def _session(council, *, kind=SessionKind.REPRESENTATIVES, public=True, entitled, present,
             proxies=0, closed_at, status=SessionStatus.CLOSED, title):  # fmt: skip
    rule = quorum.Rule(quorum=quorum.MORE_THAN_HALF, decision=quorum.MORE_THAN_HALF)
    session = Session.objects.create(
        council=council,
        kind=kind,
        roster_mode=RosterMode.REPRESENTATIVES,
        title=title,
        starts_at=closed_at - datetime.timedelta(hours=2),
        place="村委会",
        convened_by=UserFactory(),
        is_public=public,
        status=status,
        rule=rule.to_dict(),
        entitled_count=entitled,
        opened_at=closed_at - datetime.timedelta(hours=2),
        closed_at=closed_at,
    )
    entries = [
        RosterEntry.objects.create(session=session, person=UserFactory(), name=f"代表{n}")
        for n in range(entitled)
    ]
    for entry in entries[:present]:
        entry.attendance = Attendance.PRESENT
        entry.save()
    for entry in entries[present : present + proxies]:
        entry.attendance, entry.proxy_holder = Attendance.PROXY, entries[0]
        entry.save()
    return session


def _vote_closing(cycle, ends_at):
    phases = cycle.phases.order_by("starts_at")
    vote = phases.get(kind=PhaseKind.VOTE)
    vote.starts_at, vote.ends_at = ends_at - datetime.timedelta(days=7), ends_at
    vote.save()


def _topic(hall, *, created, answered_at=None, status=TopicStatus.OPEN, title):
    topic = TopicFactory(hall=hall, title=title, status=status)
    Topic.objects.filter(pk=topic.pk).update(
        created=created,
        answered_at=answered_at,
        official_answer="已答复" if answered_at else "",
    )
    return topic


def _done(proposal, when):
    update = ProgressUpdate.objects.create(
        proposal=proposal, status=ProgressStatus.DONE, note="完工", by=UserFactory()
    )
    ProgressUpdate.objects.filter(pk=update.pk).update(created=when)


def _rate(proposal, score, when):
    rating = Rating.objects.create(proposal=proposal, user=UserFactory(), score=score)
    Rating.objects.filter(pk=rating.pk).update(created=when)


def _cases(council, month, category, **counts):
    CaseFigure.objects.create(
        council=council,
        council_path=council.path,
        month=month,
        level=Whistle.ROUTINE,
        category=category,
        **counts,
    )


@pytest.fixture
def metrics_world(tree):
    """The records of the township 白沙镇 (village 柳树村 with its grid, village 石桥村)."""
    township, village, grid, other = (
        tree["township"],
        tree["village"],
        tree["grid"],
        tree["other_village"],
    )
    CouncilPage.objects.filter(pk__in=[village.pk, other.pk]).update(
        first_published_at=at(1, 1, year=2025)
    )
    w = {"township": township, "village": village, "grid": grid, "other": other}

    # Disclosure. 柳树村: finance monthly (October's due 10 Nov), Party affairs due 45 days after
    # Q3 (14 Nov), village affairs 50 days after (19 Nov). 石桥村: the statutory quarterly
    # calendar, 10 days of grace (Q3 due 10 Oct, nothing due in November).
    DisclosureRule.objects.create(
        council=village, kind=Kind.FINANCE, frequency=Frequency.MONTHLY, grace_days=10
    )
    DisclosureRule.objects.create(
        council=village, kind=Kind.PARTY, frequency=Frequency.QUARTERLY, grace_days=45
    )
    DisclosureRule.objects.create(
        council=village, kind=Kind.VILLAGE, frequency=Frequency.QUARTERLY, grace_days=50
    )
    oct_start, oct_end = datetime.date(2026, 10, 1), datetime.date(2026, 10, 31)
    q3_start, q3_end = datetime.date(2026, 7, 1), datetime.date(2026, 9, 30)
    w["finance_record"] = _record(
        village, Kind.FINANCE, RecordType.STATEMENT, PeriodKind.MONTH, oct_start, oct_end,
        published_at=at(11, 9), title="2026年10月财务收支",
    )  # fmt: skip
    # 23:30 on the due day in Shanghai (15:30 UTC): on time.
    w["party_record"] = _record(
        village, Kind.PARTY, RecordType.BRANCH_MEETING, PeriodKind.QUARTER, q3_start, q3_end,
        published_at=at(11, 14, 23, 30), title="第三季度三会一课",
    )  # fmt: skip
    # Village affairs of Q3: only a draft, never published (not on time, never listed).
    w["draft_record"] = _record(
        village, Kind.VILLAGE, RecordType.RESOLUTION, PeriodKind.QUARTER, q3_start, q3_end,
        published_at=None, title="未公开的草稿决议",
    )  # fmt: skip
    other_record = _record(
        other, Kind.VILLAGE, RecordType.VILLAGE_OTHER, PeriodKind.AD_HOC,
        datetime.date(2026, 6, 1), datetime.date(2026, 6, 1),
        published_at=at(6, 2), title="石桥村修桥公告",
    )  # fmt: skip

    # Questions on published records.
    def ask(record, council, due, answered=None, text="为什么这笔支出这么高？"):
        return Question.objects.create(
            record=record, council=council, text=text, asked_at=due - datetime.timedelta(days=7),
            due_at=due, answer="已说明" if answered else "", answered_at=answered,
        )  # fmt: skip

    ask(w["finance_record"], village, at(11, 5), at(11, 4), text="问题一：按时答复")
    # Due at 23:30 on 30 November in Shanghai: November's; answered after it: late.
    w["late_question"] = ask(
        w["finance_record"], village, at(11, 30, 23, 30), at(12, 1, 0, 10), text="问题二：迟答"
    )
    ask(other_record, other, at(11, 20), None, text="问题三：没有答复")
    # Due at 00:30 on 1 December in Shanghai (30 November in UTC): December's.
    ask(w["finance_record"], village, at(12, 1, 0, 30), at(11, 30), text="问题四：十二月的")
    ask(w["finance_record"], village, at(12, 20), None, text="问题五：还没到期")

    # Sessions closed in November.
    w["session_quorate"] = _session(
        village, entitled=5, present=2, proxies=1, closed_at=at(11, 10), title="十一月村民代表会议"
    )
    w["session_private"] = _session(
        grid, public=False, entitled=4, present=2, closed_at=at(11, 12), title="网格内部会议"
    )
    _session(
        other, kind=SessionKind.ASSEMBLY, entitled=3, present=0, closed_at=at(11, 15),
        title="石桥村村民会议",
    )  # fmt: skip
    _session(
        village, kind=SessionKind.TWO_COMMITTEES, entitled=3, present=3, closed_at=at(11, 16),
        title="两委会",
    )  # fmt: skip
    _session(
        village, entitled=3, present=3, closed_at=at(11, 18), status=SessionStatus.OPEN,
        title="仍在开的会",
    )  # fmt: skip

    # Budgets. 柳树村: one vote a person, 4 verified residents and 1 person on the register
    # without an account may vote, 2 voted. 石桥村: one vote a household, 3 households, 1 voted.
    residents = [member(village) for _ in range(4)]
    household = Household.objects.create(council=village, number="1号")
    HouseholdMember.objects.create(household=household, name="王大爷", is_head=True)
    w["cycle"] = cycle = make_cycle(village, phase="vote", title="柳树村微实事")
    _vote_closing(cycle, at(11, 20))
    for voter in residents[:2]:
        Participation.objects.create(cycle=cycle, voter=voter)
    heads = [member(other) for _ in range(3)]
    homes = [
        Household.objects.create(council=other, number=f"{n}号", head=head)
        for n, head in enumerate(heads)
    ]
    other_cycle = make_cycle(other, phase="vote", title="石桥村微实事", eligibility="household")
    _vote_closing(other_cycle, at(11, 25))
    Participation.objects.create(cycle=other_cycle, voter=heads[0], household=homes[0])
    # Still voting at the clock (closes on 20 December): not counted in December.
    _vote_closing(make_cycle(village, phase="vote", title="还在投票"), at(12, 20))

    # Projects: p1 done in November (a second "done" in December does not count again), p2 in
    # October, p3 at 23:30 on 29 November in Shanghai. Ratings 5, 4 (柳树村) and 2 (石桥村).
    w["p1"] = p1 = add_proposal(cycle, "修村口路灯", "8000")
    p2 = add_proposal(cycle, "修水渠", "5000")
    p3 = add_proposal(other_cycle, "建儿童角", "6000")
    _done(p1, at(11, 5))
    _done(p1, at(12, 2))
    _done(p2, at(10, 30))
    _done(p3, at(11, 29, 23, 30))
    _rate(p1, 5, at(11, 6))
    _rate(p1, 4, at(11, 7))
    _rate(p3, 2, at(11, 30))

    # Topics. A public hall in 柳树村, a members-only hall in its grid, a public one in 石桥村.
    hall = HallFactory(council=village)
    private_hall = HallFactory(council=grid, is_public=False)
    other_hall = HallFactory(council=other)
    w["topic_answered"] = _topic(
        hall, created=at(11, 2, 10), answered_at=at(11, 2, 13), title="路灯何时修"
    )  # 3 hours
    _topic(hall, created=at(11, 3), title="垃圾桶不够")
    w["topic_private"] = _topic(
        private_hall, created=at(11, 5, 10), answered_at=at(11, 7, 10), title="网格内部议题"
    )  # 48 hours
    _topic(other_hall, created=at(11, 30, 23, 30), answered_at=at(12, 3, 9), title="桥头护栏")
    _topic(hall, created=at(10, 20, 10), answered_at=at(11, 1, 10), title="十月的老问题")  # 288 h
    _topic(hall, created=at(11, 8), answered_at=at(11, 9), status=TopicStatus.MERGED, title="重复")

    # Cases, as cases.figures keeps them (CaseFigure rows per council, month, level, category).
    _cases(grid, NOV, Category.ROADS, reported=4, closed=3, closed_on_time=2, rated=2,
           satisfaction_sum=9)  # fmt: skip
    _cases(grid, NOV, Category.SANITATION, reported=1, closed=1, closed_on_time=0)
    _cases(village, NOV, Category.ROADS, reported=2, closed=1, closed_on_time=1, rated=1,
           satisfaction_sum=3)  # fmt: skip
    _cases(other, NOV, Category.ROADS, reported=1)
    _cases(other, DEC, Category.ROADS, reported=2, closed=2, closed_on_time=2)
    return w


def counts(value: MetricValue) -> tuple:
    return (value.numerator, value.denominator, value.value)


def D(text: str) -> Decimal:  # noqa: N802 - reads like the Decimal it makes
    return Decimal(text)
