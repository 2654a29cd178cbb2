"""Draft → review (sign off or object) → publish, for every role; more refusals than grants."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from councils.models import Role
from disclosure import services
from disclosure.models import Action, ChainEntry, Kind, PeriodKind, Record, RecordType, Status
from tests.councils.factories import member
from tests.disclosure.factories import draft, line, people, publish, signed_off

pytestmark = pytest.mark.django_db


@pytest.fixture
def p(tree):
    return people(tree)


@pytest.mark.parametrize(
    "who", ["resident", "supervisor", "official", "outsider", "other_resident", "other_official"]
)
def test_only_the_committee_drafts(tree, p, who):
    with pytest.raises(PermissionDenied):
        draft(tree["village"], getattr(p, who))
    assert not Record.objects.exists()


def test_committee_drafts_and_the_step_is_recorded(tree, p):
    record = draft(tree["village"], p.committee)
    assert record.status == Status.DRAFT
    assert record.period_end.isoformat() == "2025-03-31"
    event = record.events.get()
    assert (event.action, event.actor, event.actor_role) == (
        Action.DRAFTED,
        p.committee,
        Role.COMMITTEE,
    )


def test_grids_and_townships_keep_no_ledgers(tree):
    for name in ("township", "grid"):
        official = member(tree[name], Role.COMMITTEE)
        with pytest.raises((ValidationError, PermissionDenied)):
            draft(tree[name], official)
    assert not Record.objects.exists()


@pytest.mark.parametrize("who", ["resident", "supervisor", "official", "outsider"])
def test_only_the_committee_submits(tree, p, who):
    record = draft(tree["village"], p.committee)
    with pytest.raises(PermissionDenied):
        services.submit_for_review(record=record, by=getattr(p, who))
    record.refresh_from_db()
    assert record.status == Status.DRAFT


def test_a_draft_cannot_be_signed_off_before_it_is_submitted(tree, p):
    record = draft(tree["village"], p.committee)
    with pytest.raises(ValidationError):
        services.sign_off_record(record=record, by=p.supervisor)
    assert Record.objects.get().status == Status.DRAFT


@pytest.mark.parametrize("who", ["committee2", "resident", "official", "outsider"])
def test_only_supervisors_sign_off(tree, p, who):
    record = draft(tree["village"], p.committee)
    services.submit_for_review(record=record, by=p.committee)
    with pytest.raises(PermissionDenied):
        services.sign_off_record(record=record, by=getattr(p, who))
    assert Record.objects.get().status == Status.IN_REVIEW


def test_committee_member_who_is_also_supervisor_cannot_sign_off_own_draft(tree, p):
    member(tree["village"], Role.SUPERVISOR, user=p.committee)
    record = draft(tree["village"], p.committee)
    services.submit_for_review(record=record, by=p.committee)
    with pytest.raises(PermissionDenied, match="another supervisor"):
        services.sign_off_record(record=record, by=p.committee)
    assert not p.committee.has_perm("disclosure.sign_off_record", record)
    assert Record.objects.get().status == Status.IN_REVIEW
    services.sign_off_record(record=record, by=p.supervisor)
    assert Record.objects.get().status == Status.SIGNED_OFF


@pytest.mark.parametrize("who", ["supervisor", "committee", "committee2", "official", "resident"])
def test_nobody_publishes_an_unsigned_record(tree, p, who):
    record = draft(tree["village"], p.committee)
    with pytest.raises((ValidationError, PermissionDenied)):
        services.publish_record(record=record, by=getattr(p, who))
    services.submit_for_review(record=record, by=p.committee)
    with pytest.raises((ValidationError, PermissionDenied)):
        services.publish_record(record=record, by=getattr(p, who))
    assert Record.objects.get().status == Status.IN_REVIEW
    assert not ChainEntry.objects.exists()


@pytest.mark.parametrize("who", ["supervisor", "supervisor2", "resident", "official"])
def test_only_the_committee_publishes_a_signed_off_record(tree, p, who):
    record = signed_off(
        draft(tree["village"], p.committee), committee=p.committee, supervisor=p.supervisor
    )
    with pytest.raises(PermissionDenied):
        services.publish_record(record=record, by=getattr(p, who))
    assert Record.objects.get().status == Status.SIGNED_OFF


def test_full_flow_is_recorded_and_published_once(tree, p):
    record = draft(tree["village"], p.committee)
    line(record, p.committee, income=Decimal("12.30"))
    record = publish(record, committee=p.committee, supervisor=p.supervisor, publisher=p.committee2)
    assert record.status == Status.PUBLISHED and record.published_at is not None
    assert [e.action for e in record.events.all()] == [
        Action.DRAFTED,
        Action.LINE_ADDED,  # every preparing step is kept: its author may not sign off
        Action.SUBMITTED,
        Action.SIGNED_OFF,
        Action.PUBLISHED,
    ]
    assert ChainEntry.objects.get().record == record
    with pytest.raises(ValidationError):
        services.publish_record(record=record, by=p.committee)
    assert ChainEntry.objects.count() == 1


def test_objection_needs_a_reason_and_sends_the_draft_back(tree, p):
    record = draft(tree["village"], p.committee)
    services.submit_for_review(record=record, by=p.committee)
    with pytest.raises(ValidationError):
        services.object_to_record(record=record, by=p.supervisor, reason="  ")
    with pytest.raises(PermissionDenied):
        services.object_to_record(record=record, by=p.resident, reason="数字不对")
    with pytest.raises(ValidationError):
        services.update_draft(
            record=record,
            by=p.committee,
            record_type=RecordType.STATEMENT,
            period_kind=PeriodKind.MONTH,
            period_start=record.period_start,
            title="改标题",
        )
    services.object_to_record(record=record, by=p.supervisor, reason="缺少3月15日的凭证")
    record.refresh_from_db()
    assert record.status == Status.DRAFT
    event = record.events.last()
    assert (event.action, event.reason) == (Action.OBJECTED, "缺少3月15日的凭证")
    # editable again
    services.update_draft(
        record=record,
        by=p.committee,
        record_type=RecordType.STATEMENT,
        period_kind=PeriodKind.MONTH,
        period_start=record.period_start,
        title="已补凭证",
    )
    assert Record.objects.get().title == "已补凭证"


def test_supervisor_can_withdraw_a_sign_off_by_objecting_before_publication(tree, p):
    record = signed_off(
        draft(tree["village"], p.committee), committee=p.committee, supervisor=p.supervisor
    )
    services.object_to_record(record=record, by=p.supervisor2, reason="发现重复记账")
    assert Record.objects.get().status == Status.DRAFT
    with pytest.raises(ValidationError):
        services.publish_record(record=record, by=p.committee)


@pytest.mark.parametrize(
    ("kind", "record_type", "field"),
    [
        (Kind.PARTY, RecordType.STATEMENT, "record_type"),
        (Kind.FINANCE, RecordType.WELFARE_LIST, "record_type"),
        ("gossip", RecordType.STATEMENT, "kind"),
    ],
)
def test_a_record_type_belongs_to_its_kind(tree, p, kind, record_type, field):
    with pytest.raises(ValidationError) as error:
        draft(tree["village"], p.committee, kind=kind, record_type=record_type)
    assert field in error.value.message_dict
    assert not Record.objects.exists()


@pytest.mark.parametrize(
    ("period_kind", "start", "end", "field"),
    [
        (PeriodKind.MONTH, "2025-03-02", None, "period_start"),
        (PeriodKind.MONTH, "2025-03-01", "2025-03-30", "period_end"),
        (PeriodKind.QUARTER, "2025-02-01", None, "period_start"),
        (PeriodKind.AD_HOC, "2025-03-10", "2025-03-09", "period_end"),
    ],
)
def test_periods_must_be_whole_and_in_order(tree, p, period_kind, start, end, field):
    import datetime

    with pytest.raises(ValidationError) as error:
        draft(
            tree["village"],
            p.committee,
            kind=Kind.VILLAGE,
            record_type=RecordType.RESOLUTION,
            period_kind=period_kind,
            start=datetime.date.fromisoformat(start),
            end=datetime.date.fromisoformat(end) if end else None,
        )
    assert field in error.value.message_dict
    assert not Record.objects.exists()


def test_quarter_end_is_filled_in(tree, p):
    import datetime

    record = draft(
        tree["village"],
        p.committee,
        period_kind=PeriodKind.QUARTER,
        start=datetime.date(2025, 10, 1),
    )
    assert record.period_end == datetime.date(2025, 12, 31)


@pytest.mark.parametrize(
    ("income", "expense"),
    [
        (None, None),
        ("0", "0"),
        ("10", "5"),
        ("-3", None),
        ("1.234", None),
        ("abc", None),
        ("1000000000000", None),
    ],
)
def test_a_line_has_exactly_one_positive_amount(tree, p, income, expense):
    record = draft(tree["village"], p.committee)
    with pytest.raises(ValidationError):
        line(record, p.committee, income=income, expense=expense)
    assert not record.lines.exists()


def test_a_line_dated_outside_the_period_is_refused(tree, p):
    import datetime

    record = draft(tree["village"], p.committee)
    with pytest.raises(ValidationError, match="period"):
        line(record, p.committee, income="5", day=datetime.date(2025, 4, 1))
    assert not record.lines.exists()


def test_records_without_money_have_no_lines(tree, p):
    record = draft(
        tree["village"],
        p.committee,
        kind=Kind.PARTY,
        record_type=RecordType.BRANCH_MEETING,
        title="3月支部党员大会",
    )
    with pytest.raises(ValidationError):
        line(record, p.committee, income="5")


@pytest.mark.parametrize("who", ["resident", "supervisor", "official", "committee"])
def test_only_the_committee_edits_and_only_drafts(tree, p, who):
    record = draft(tree["village"], p.committee)
    services.submit_for_review(record=record, by=p.committee)
    with pytest.raises((ValidationError, PermissionDenied)):
        line(record, getattr(p, who), income="5")
    assert not record.lines.exists()


def test_the_database_refuses_a_line_with_two_amounts(tree, p):
    from django.db import IntegrityError, transaction

    from disclosure.models import LineItem

    record = draft(tree["village"], p.committee)
    with pytest.raises(IntegrityError), transaction.atomic():
        LineItem.objects.create(
            record=record,
            position=1,
            date=record.period_start,
            description="x",
            income=Decimal("1"),
            expense=Decimal("1"),
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        LineItem.objects.create(
            record=record,
            position=1,
            date=record.period_start,
            description="x",
            income=Decimal("-1"),
        )
