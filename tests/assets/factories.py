"""Registers built with the real services: people, carried motions, published entries."""

import datetime

from django.utils import timezone

from assets import services
from assets.models import Register
from councils.models import Role
from disclosure import services as disclosure
from meetings import services as sessions
from meetings.models import SessionKind
from tests.councils.factories import member
from tests.disclosure.factories import People, people  # noqa: F401 (re-exported)


def motion(
    village,
    chair,
    *,
    kind=SessionKind.REPRESENTATIVES,
    title="关于出租村集体鱼塘的决议",
    carried=True,
    closed=True,
):
    """A motion of a closed session of `village`, carried (or lost) by three representatives."""
    ahead = datetime.timedelta(days=sessions.notice_days(kind), hours=1)
    session = sessions.schedule_session(
        actor=chair,
        council=village,
        kind=kind,
        title="村民代表会议",
        starts_at=timezone.now() + ahead,
        place="村委会",
    )
    voters = []
    for _ in range(3):
        user = member(village)
        member(village, Role.REPRESENTATIVE, user=user)
        voters.append(user)
    session = sessions.open_session(early=True, actor=chair, session=session)
    for user in voters:
        sessions.record_attendance(
            actor=chair, session=session, entry=session.roster.get(person=user), present=True
        )
    sessions.record_attendance(
        actor=chair, session=session, entry=session.roster.get(person=chair), present=True
    )
    made = sessions.add_motion(actor=chair, session=session, title=title)
    made = sessions.open_vote(actor=chair, motion=made)
    for user in [*voters, chair]:
        sessions.cast_vote(voter=user, motion=made, choice="yes" if carried else "no")
    made = sessions.close_vote(actor=chair, motion=made)
    if closed:
        sessions.close_session(actor=chair, session=session)
    made.refresh_from_db()
    return made


POND = {
    "name": "村东鱼塘",
    "category": "pond",
    "location": "村东头",
    "area": "12.5",
    "boundaries": "东至水渠，南至村道，西至林地，北至农田",
}


def publish_version(version, p: People):
    disclosure.sign_off_record(
        record=services.submit_version(version=version, by=p.committee).record,
        by=p.supervisor,
    )
    disclosure.publish_record(record=version.record, by=p.committee2)
    version.refresh_from_db()
    version.record.refresh_from_db()
    return version


def published_pond(village, p: People):
    version = services.draft_entry(
        council=village, by=p.committee, register=Register.RESOURCE, fields=POND
    )
    return publish_version(version, p)


def lease_fields(subject, **extra):
    """A three-year lease of `subject` to a person, starting today, for 30,000 yuan."""
    today = timezone.localdate()
    return {
        "name": "村东鱼塘租赁合同",
        "contract_kind": "lease",
        "counterparty_kind": "person",
        "counterparty": "王小英",
        "starts_on": today.isoformat(),
        "ends_on": (today + datetime.timedelta(days=3 * 365)).isoformat(),
        "price": "30000",
        "subject": subject,
        **extra,
    }


OFFICE = {"name": "旧村委办公楼", "category": "building", "book_value": "80000"}
COMPUTER = {"name": "办公电脑", "category": "equipment", "book_value": "3000"}


def sold_a_month_ago(asset: dict) -> dict:
    """`asset`'s fields with its sale for 120,000 yuan, which took effect 30 days ago."""
    return {
        **asset,
        "disposal": "sale",
        "disposal_value": "120000",
        "disposed_on": (timezone.localdate() - datetime.timedelta(days=30)).isoformat(),
        "change_reason": "已出售",
    }


def written_off_today(asset: dict) -> dict:
    return {
        **asset,
        "disposal": "write_off",
        "disposed_on": timezone.localdate().isoformat(),
        "change_reason": "已损坏报废",
    }


def published_asset(village, p: People, fields: dict):
    version = services.draft_entry(
        council=village, by=p.committee, register=Register.ASSET, fields=fields
    )
    return publish_version(version, p)
