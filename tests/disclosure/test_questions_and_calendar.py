"""Questions (质询) with deadlines, and the disclosure calendar at period boundaries."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from freezegun import freeze_time

from councils.models import CouncilPage, Level
from disclosure import services
from disclosure.models import DisclosureRule, Frequency, Kind, Question, RecordType
from disclosure.schedule import obligations_for, overdue_for
from disclosure.selectors import rollup
from tests.councils.factories import make_council
from tests.disclosure.factories import draft, people, publish, published_statement

pytestmark = pytest.mark.django_db


@pytest.fixture
def p(tree):
    return people(tree)


# --- questions ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["outsider", "other_resident", "official", "other_official"])
def test_only_verified_residents_of_the_village_ask(tree, p, who):
    record = published_statement(tree["village"], p)
    with pytest.raises(PermissionDenied):
        services.ask_question(record=record, by=getattr(p, who), text="这笔钱用在哪里？")
    assert not Question.objects.exists()


def test_nobody_asks_about_a_draft(tree, p):
    record = draft(tree["village"], p.committee)
    with pytest.raises(PermissionDenied):
        services.ask_question(record=record, by=p.resident, text="这笔钱用在哪里？")


def test_a_question_is_due_in_ten_days_by_default_and_configurable(tree, p, settings):
    record = published_statement(tree["village"], p)
    with freeze_time("2025-04-01 02:00:00"):
        question = services.ask_question(record=record, by=p.resident, text="租金为何减少？")
    assert question.due_at - question.asked_at == datetime.timedelta(days=10)
    settings.YISHI_QUESTION_DEADLINE_DAYS = 3
    question = services.ask_question(record=record, by=p.resident, text="修路花了多少？")
    assert question.due_at - question.asked_at == datetime.timedelta(days=3)


def test_overdue_questions_are_flagged_and_answers_are_final(tree, p):
    record = published_statement(tree["village"], p)
    with freeze_time("2025-04-01 02:00:00"):
        question = services.ask_question(record=record, by=p.resident, text="租金为何减少？")
    with freeze_time("2025-04-11 02:00:00"):
        assert not question.is_overdue() and not Question.objects.overdue().exists()
    with freeze_time("2025-04-11 02:00:01"):
        assert question.is_overdue() and Question.objects.overdue().get() == question
    for who in ("resident", "supervisor", "official"):
        with pytest.raises(PermissionDenied):
            services.answer_question(question=question, by=getattr(p, who), answer="因为…")
    with pytest.raises(ValidationError):
        services.answer_question(question=question, by=p.committee, answer=" ")
    with freeze_time("2025-04-12 02:00:00"):
        services.answer_question(question=question, by=p.committee, answer="一户退租。")
    question.refresh_from_db()
    assert question.answered_late and not Question.objects.open().exists()
    with pytest.raises(ValidationError):
        services.answer_question(question=question, by=p.committee2, answer="补充")


@pytest.mark.parametrize("text", ["", "问", "x" * 2001])
def test_bad_questions_are_refused(tree, p, text):
    record = published_statement(tree["village"], p)
    with pytest.raises(ValidationError):
        services.ask_question(record=record, by=p.resident, text=text)
    assert not Question.objects.exists()


def test_questions_and_answers_are_public(client, tree, p):
    record = published_statement(tree["village"], p)
    question = services.ask_question(record=record, by=p.resident, text="租金为何减少？")
    services.answer_question(question=question, by=p.committee, answer="一户退租。")
    html = client.get(record.get_absolute_url()).content.decode()
    assert "租金为何减少？" in html and "一户退租。" in html
    assert p.resident.public_name in html and p.resident.real_name not in html


def test_overdue_questions_reach_the_supervisors_dashboard(client, tree, p):
    record = published_statement(tree["village"], p)
    with freeze_time("2025-04-01 02:00:00"):
        services.ask_question(record=record, by=p.resident, text="租金为何减少？")
    client.force_login(p.supervisor)
    with freeze_time("2025-04-20"):
        html = client.get(f"/disclosure/{tree['village'].pk}/dashboard/").content.decode()
    assert "租金为何减少？" in html and "Overdue" in html
    client.force_login(p.official)
    with freeze_time("2025-04-20"):
        html = client.get(f"/disclosure/{tree['township'].pk}/dashboard/").content.decode()
    assert tree["village"].title in html


@pytest.mark.parametrize("who", ["resident", "outsider", "other_official"])
def test_dashboards_are_for_committee_supervisors_and_officials_above(client, tree, p, who):
    client.force_login(getattr(p, who))
    assert client.get(f"/disclosure/{tree['village'].pk}/dashboard/").status_code == 403
    assert client.get(f"/disclosure/{tree['township'].pk}/dashboard/").status_code == 403


# --- calendar -------------------------------------------------------------------------------


def live_since(council, day: str):
    CouncilPage.objects.filter(pk=council.pk).update(
        first_published_at=datetime.datetime.fromisoformat(day + "T00:00:00+08:00")
    )
    council.refresh_from_db()
    return council


def overdue_labels(council, today):
    return [(o.kind, o.period.label) for o in overdue_for([council], today=today)[council.pk]]


def test_quarter_deadline_boundary(tree):
    village = live_since(tree["village"], "2024-12-15")
    # Q1 2025 ends 31 March; due 10 April; overdue from 11 April (Beijing time)
    assert overdue_labels(village, datetime.date(2025, 4, 10)) == []
    assert overdue_labels(village, datetime.date(2025, 4, 11)) == [
        (Kind.FINANCE, "2025 Q1"),
        (Kind.PARTY, "2025 Q1"),
        (Kind.VILLAGE, "2025 Q1"),
    ]


def test_today_is_the_beijing_date(tree):
    village = live_since(tree["village"], "2024-12-15")
    with freeze_time("2025-04-10 15:59:59"):  # 23:59:59 in Beijing
        assert overdue_for([village])[village.pk] == []
    with freeze_time("2025-04-10 16:00:00"):  # 00:00 on 11 April in Beijing
        assert len(overdue_for([village])[village.pk]) == 3


def test_monthly_finance_rule_and_month_ends(tree, p):
    village = live_since(tree["village"], "2024-12-20")
    DisclosureRule.objects.create(
        council=village, kind=Kind.FINANCE, frequency=Frequency.MONTHLY, grace_days=5
    )
    finance = lambda today: [  # noqa: E731
        label for kind, label in overdue_labels(village, today) if kind == Kind.FINANCE
    ]
    assert finance(datetime.date(2025, 2, 5)) == []  # January due 5 February
    assert finance(datetime.date(2025, 2, 6)) == ["2025-01"]
    assert finance(datetime.date(2025, 3, 5)) == ["2025-01"]  # February (28 days) due 5 March
    assert finance(datetime.date(2025, 3, 6)) == ["2025-01", "2025-02"]


def test_published_statement_satisfies_and_late_is_recorded(tree, p):
    village = live_since(tree["village"], "2024-12-15")
    with freeze_time("2025-04-05 02:00:00"):
        published_statement(village, p, start=datetime.date(2025, 3, 1))
    with freeze_time("2025-04-15 02:00:00"):
        party = draft(
            village,
            p.committee,
            kind=Kind.PARTY,
            record_type=RecordType.BRANCH_MEETING,
            title="一季度三会一课",
            period_kind="quarter",
            start=datetime.date(2025, 1, 1),
        )
        publish(party, committee=p.committee, supervisor=p.supervisor)
    obligations = obligations_for([village], today=datetime.date(2025, 4, 20))[village.pk]
    status = {o.kind: o.status for o in obligations}
    assert status == {Kind.FINANCE: "on_time", Kind.PARTY: "late", Kind.VILLAGE: "overdue"}


def test_a_new_council_owes_nothing_for_periods_before_it_went_live(tree):
    village = live_since(tree["village"], "2025-02-01")
    # Q1 started before going live: first obligation is Q2, due 10 July
    assert overdue_labels(village, datetime.date(2025, 7, 10)) == []
    assert len(overdue_labels(village, datetime.date(2025, 7, 11))) == 3


def test_rollup_names_the_late_villages_in_bounded_queries(tree, p):
    for name in ("village", "other_village", "far_village"):
        live_since(tree[name], "2024-12-15")
    today = datetime.datetime(2025, 4, 20, 4, tzinfo=datetime.UTC)
    with CaptureQueriesContext(connection) as few:
        rows = rollup(tree["district"], now=today)
    assert {r.council.title for r in rows if r.overdue} == {"柳树村", "石桥村", "桃源村"}
    for n in range(6):
        village = make_council(tree["township"], level=Level.VILLAGE, title=f"新村{n}")
        live_since(village, "2024-12-15")
    with CaptureQueriesContext(connection) as many:
        rows = rollup(tree["district"], now=today)
    assert len(rows) == 9 and len(many) == len(few) <= 6
    township_rows = rollup(tree["township"], now=today)
    assert "桃源村" not in {r.council.title for r in township_rows}
