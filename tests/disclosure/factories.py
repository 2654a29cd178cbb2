"""People and records for the three openings, built with the real services."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from councils.models import Role
from disclosure import services
from disclosure.models import Kind, PeriodKind, Record, RecordType
from tests.councils.factories import UserFactory, member


@dataclass
class People:
    committee: object
    committee2: object
    supervisor: object
    supervisor2: object
    resident: object
    outsider: object
    official: object
    other_resident: object
    other_official: object


def people(tree) -> People:
    village = tree["village"]

    def resident_with(role):
        user = member(village)
        if role:
            member(village, role, user=user)
        return user

    return People(
        committee=resident_with(Role.COMMITTEE),
        committee2=resident_with(Role.COMMITTEE),
        supervisor=resident_with(Role.SUPERVISOR),
        supervisor2=resident_with(Role.SUPERVISOR),
        resident=resident_with(None),
        outsider=UserFactory(),
        official=member(tree["township"], Role.OFFICIAL),
        other_resident=member(tree["other_village"]),
        other_official=member(tree["other_township"], Role.OFFICIAL),
    )


MARCH = datetime.date(2025, 3, 1)


def draft(
    council,
    by,
    *,
    kind=Kind.FINANCE,
    record_type=RecordType.STATEMENT,
    period_kind=PeriodKind.MONTH,
    start=MARCH,
    end=None,
    title="2025年3月财务收支明细",
    body="",
) -> Record:
    return services.draft_record(
        council=council,
        by=by,
        kind=kind,
        record_type=record_type,
        period_kind=period_kind,
        period_start=start,
        period_end=end,
        title=title,
        body=body,
    )


def line(record, by, *, income=None, expense=None, day=None, description="办公用品", **extra):
    return services.add_line_item(
        record=record,
        by=by,
        date=day or record.period_start,
        description=description,
        income=income,
        expense=expense,
        **extra,
    )


def signed_off(record, *, committee, supervisor) -> Record:
    services.submit_for_review(record=record, by=committee)
    return services.sign_off_record(record=record, by=supervisor)


def publish(record, *, committee, supervisor, publisher=None) -> Record:
    signed_off(record, committee=committee, supervisor=supervisor)
    return services.publish_record(record=record, by=publisher or committee)


def published_statement(council, p: People, *, amounts=("100.00",), start=MARCH, **kwargs):
    """A published monthly statement with one income line per amount."""
    record = draft(council, p.committee, start=start, **kwargs)
    for amount in amounts:
        line(record, p.committee, income=Decimal(amount), description="租金收入")
    return publish(record, committee=p.committee, supervisor=p.supervisor)


def permission_objects(tree) -> dict:
    """Records in each state, drafted by a committee member who is none of the table's people."""
    village = tree["village"]
    drafter = member(village, Role.COMMITTEE)
    reviewer = member(village, Role.SUPERVISOR)

    def fresh(title):
        return draft(village, drafter, title=title)

    in_review = services.submit_for_review(record=fresh("review"), by=drafter)
    signed = signed_off(fresh("signed"), committee=drafter, supervisor=reviewer)
    published = publish(fresh("published"), committee=drafter, supervisor=reviewer)
    return {
        "draft": fresh("draft"),
        "in_review": in_review,
        "signed_off": signed,
        "published": published,
    }
