"""Demo registers for the first demo village, lived through the real services: a pond and its
lease to a person who pays late (the first year's rent booked six weeks after it was due, the
second year's not at all), an old school building sold by a resolution of the representatives'
meeting, and farmland contracted to a cooperative by another resolution, its first payment on
time. Every version, resolution and ledger record is drafted by the committee, signed off by a
supervisor and published by another committee member; at the end the receipts are matched to
their contracts and the payments' flags stored, as the sweep would within a minute
(assets.payments).

Meetings close their votes "now" (meetings.services has no clock to set), so a resolution made by
the demo is dated today: the sale and the contracting take effect today, and the pond lease,
which began more than a year ago, is recorded after the fact and shown as irregular (a lease
made without a meeting: the case the registers are there to show).

Idempotent: a village that already has register entries is left alone.
"""

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from assets import payments, services
from assets.models import Entry, Register
from councils.demo import DEMO_VILLAGES
from councils.models import Membership, MembershipStatus, Role
from disclosure import services as disclosure
from disclosure.models import Kind, PeriodKind, RecordType
from meetings import services as meetings
from meetings.models import Attendance, SessionKind, VoteChoice

YEAR = datetime.timedelta(days=365)
# The pond lease began this many days ago; its first year's rent came this many days late.
POND_LEASE_AGE_DAYS = 400
POND_RENT_DAYS_LATE = 45
POND_RENT = Decimal("6000.00")
POND_YEARS = 5
LAND_FEE = Decimal("8500.00")
LAND_YEARS = 10


def _people(village, role) -> list:
    return [
        m.user
        for m in Membership.objects.filter(
            council=village, role=role, status=MembershipStatus.VERIFIED
        )
        .select_related("user")
        .order_by("user_id")
    ]


def _publish_version(version, committee, supervisor, publisher):
    version = services.submit_version(version=version, by=committee)
    disclosure.sign_off_record(record=version.record, by=supervisor)
    disclosure.publish_record(record=version.record, by=publisher)
    version.refresh_from_db()
    return version


def _publish_record(record, committee, supervisor, publisher):
    disclosure.submit_for_review(record=record, by=committee)
    disclosure.sign_off_record(record=record, by=supervisor)
    return disclosure.publish_record(record=record, by=publisher)


def _resolutions(village, chair, titles: list[tuple[str, str]]) -> list:
    """A representatives' meeting held today that carries each (title, text); closed, and each
    resolution disclosed in the village-affairs ledger."""
    ahead = datetime.timedelta(days=meetings.notice_days(SessionKind.REPRESENTATIVES), minutes=5)
    session = meetings.schedule_session(
        actor=chair,
        council=village,
        kind=SessionKind.REPRESENTATIVES,
        title="村民代表会议：集体资产处置和土地发包",
        starts_at=timezone.now() + ahead,
        place="村委会会议室",
    )
    session = meetings.open_session(actor=chair, session=session, early=True)
    for entry in session.roster.all().order_by("pk"):
        meetings.record_attendance(actor=chair, session=session, entry=entry, present=True)
    carried = []
    for title, text in titles:
        motion = meetings.add_motion(actor=chair, session=session, title=title, text=text)
        motion = meetings.open_vote(actor=chair, motion=motion)
        for entry in session.roster.filter(attendance=Attendance.PRESENT).order_by("pk"):
            meetings.cast_vote(voter=entry.person, motion=motion, choice=VoteChoice.YES)
        carried.append(meetings.close_vote(actor=chair, motion=motion))
    meetings.close_session(actor=chair, session=session)
    for motion in carried:
        motion.refresh_from_db()
    return carried


def _receipts(village, committee, supervisor, publisher, day, lines) -> None:
    """A monthly finance statement for the month of `day` with the receipts `lines`:
    (date, description, voucher, amount, counterparty)."""
    month = day.replace(day=1)
    record = disclosure.draft_record(
        council=village,
        by=committee,
        kind=Kind.FINANCE,
        record_type=RecordType.STATEMENT,
        period_kind=PeriodKind.MONTH,
        period_start=month,
        title=f"{month.year}年{month.month}月集体资源发包收入明细",
        body="租金、承包费收入，凭证可到村委会查阅。",
    )
    for date, description, voucher, amount, counterparty in lines:
        disclosure.add_line_item(
            record=record,
            by=committee,
            date=date,
            description=description,
            income=amount,
            voucher_number=voucher,
            account="发包及上交收入",
            counterparty=counterparty,
        )
    _publish_record(record, committee, supervisor, publisher)


@transaction.atomic
def build(village) -> int:
    if village.slug != DEMO_VILLAGES[0] or Entry.objects.filter(council=village).exists():
        return 0
    committee, supervisors = _people(village, Role.COMMITTEE), _people(village, Role.SUPERVISOR)
    if not committee or not supervisors:
        return 0
    clerk, publisher, supervisor = committee[0], committee[-1], supervisors[0]
    today = timezone.localdate()

    def publish(version):
        return _publish_version(version, clerk, supervisor, publisher)

    def draft(register, fields, **extra):
        return services.draft_entry(
            council=village, by=clerk, register=register, fields=fields, **extra
        )

    # The pond, and its lease to a person, made more than a year ago without a meeting.
    pond = publish(
        draft(
            Register.RESOURCE,
            {
                "name": "村东鱼塘",
                "category": "pond",
                "location": "村东头，村道南侧",
                "area": "12.50",
                "boundaries": "东至水渠，南至村道，西至林地，北至农田",
                "map_reference": "村土地利用现状图 3号图斑",
            },
        )
    )
    pond_start = today - datetime.timedelta(days=POND_LEASE_AGE_DAYS)
    pond_lease = publish(
        draft(
            Register.CONTRACT,
            {
                "name": "村东鱼塘租赁合同",
                "contract_kind": "lease",
                "counterparty_kind": "person",
                "counterparty": "李国强",  # kept only as 李*强
                "subject": pond.entry,
                "starts_on": pond_start,
                "ends_on": pond_start + POND_YEARS * YEAR - datetime.timedelta(days=1),
                "price": str(POND_RENT * POND_YEARS),
                "description": "原村委会与承租人签订，未经村民代表会议讨论，本次登记时补录。",
            },
            installments=[(pond_start + n * YEAR, POND_RENT) for n in range(POND_YEARS)],
            after_the_fact=True,
        )
    )
    # The old school building and the farmland, and the meeting that decided on both today.
    school = publish(
        draft(
            Register.ASSET,
            {
                "name": "旧村小学校舍",
                "category": "building",
                "location": "村西头老学校",
                "book_value": "150000.00",
                "description": "砖混结构两层，建筑面积约420平方米，学校撤并后闲置。",
            },
        )
    )
    farmland = publish(
        draft(
            Register.RESOURCE,
            {
                "name": "北片集体耕地",
                "category": "land",
                "location": "村北，灌渠两侧",
                "area": "85.00",
                "boundaries": "东至灌渠，南至村北路，西至邻村界，北至防护林",
            },
        )
    )
    sale, contracting = _resolutions(
        village,
        clerk,
        [
            (
                "关于公开出售旧村小学校舍的决议",
                "旧村小学校舍经评估作价，公开竞价出售，底价18万元，收入纳入村集体账户。",
            ),
            (
                "关于北片集体耕地发包给青山果业合作社的决议",
                "北片集体耕地85亩，承包期10年，每年承包费8500元，每年年初交清。",
            ),
        ],
    )
    for motion in (sale, contracting):
        record = meetings.publish_resolution(actor=clerk, motion=motion)
        _publish_record(record, clerk, supervisor, publisher)
    publish(
        services.draft_version(
            entry=school.entry,
            by=clerk,
            fields={
                "name": "旧村小学校舍",
                "category": "building",
                "location": "村西头老学校",
                "book_value": "150000.00",
                "disposal": "sale",
                "disposal_value": "180000.00",
                "disposed_on": today,
                "resolution": sale,
                "change_reason": "经村民代表会议决议，公开竞价出售。",
            },
        )
    )
    land_contract = publish(
        draft(
            Register.CONTRACT,
            {
                "name": "北片集体耕地承包合同",
                "contract_kind": "contracting",
                "counterparty_kind": "organisation",
                "counterparty": "青山果业合作社",
                "subject": farmland.entry,
                "starts_on": today,
                "ends_on": today + LAND_YEARS * YEAR - datetime.timedelta(days=1),
                "price": str(LAND_FEE * LAND_YEARS),
                "resolution": contracting,
            },
            installments=[(today + n * YEAR, LAND_FEE) for n in range(LAND_YEARS)],
        )
    )
    # The ledger: the pond's first year paid six weeks late, its second year not yet (overdue);
    # the farmland's first year paid the day it fell due.
    pond_code, land_code = pond_lease.entry.code, land_contract.entry.code
    paid_late = pond_start + datetime.timedelta(days=POND_RENT_DAYS_LATE)
    _receipts(
        village,
        clerk,
        supervisor,
        publisher,
        paid_late,
        [(paid_late, f"村东鱼塘第1年租金 {pond_code}", f"收-{pond_code}", POND_RENT, "李*强")],
    )
    _receipts(
        village,
        clerk,
        supervisor,
        publisher,
        today,
        [
            (
                today,
                f"北片耕地第1年承包费 {land_code}",
                f"收-{land_code}",
                LAND_FEE,
                "青山果业合作社",
            )
        ],
    )
    # What the sweep does every minute, done now: the receipts matched, the flags stored.
    payments.refresh_village(
        village.pk,
        grace_days=services.thresholds_for(village).grace_days,
        today=today,
        now=timezone.now(),
    )
    return 6
