"""The registers' demo (assets.demo): one village with a pond leased to a person who pays late,
a building sold by a resolution, farmland contracted by another, all published through the real
services, and the ledger lines that pay the contracts; running it again adds nothing."""

import datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Q, Sum
from django.utils import timezone

from assets import demo, services
from assets.models import (
    ContractState,
    Disposal,
    Entry,
    EntryVersion,
    Installment,
    PaymentStatus,
    Receipt,
    Register,
)
from councils import registry
from councils.demo import DEMO_VILLAGES, DemoBuilder
from councils.models import CouncilPage
from disclosure.models import Kind, LineItem, Record, Status
from meetings.models import Motion, Session, SessionKind, SessionStatus
from tests.councils.factories import home_page

pytestmark = pytest.mark.django_db


@pytest.fixture
def city():
    home_page()
    DemoBuilder(households_per_village=2).build()
    return {v.slug: v for v in CouncilPage.objects.filter(slug__in=DEMO_VILLAGES)}


def counts() -> tuple:
    return tuple(
        model.objects.count()
        for model in (Entry, EntryVersion, Installment, Record, LineItem, Session, Motion)
    )


def current(village, register):
    return list(services.current_versions(village, register))


def test_the_demo_village_gets_a_late_pond_lease_a_sale_and_a_land_contract(city):
    village = city[DEMO_VILLAGES[0]]
    assert demo.build(village) > 0
    today = timezone.localdate()
    resources = {v.category: v for v in current(village, Register.RESOURCE)}
    pond, land = resources["pond"], resources["land"]
    contracts = {v.subject_id: v for v in current(village, Register.CONTRACT)}
    lease, contracting = contracts[pond.entry_id], contracts[land.entry_id]

    # The pond lease: a person, masked; recorded after the fact without a resolution.
    assert lease.contract_kind == "lease" and lease.counterparty == "李*强"
    assert lease.irregular and lease.resolution is None
    assert lease.starts_on < today - datetime.timedelta(days=365)
    due = list(lease.installments.order_by("due_on"))
    assert len(due) == 5 and sum(i.amount for i in due) == lease.price
    # Its ledger: the first year's rent 45 days late, the second year's (due 35 days ago) absent.
    pond_lines = LineItem.objects.filter(
        record__status=Status.PUBLISHED, record__kind=Kind.FINANCE, income__gt=0
    ).filter(
        Q(description__contains=lease.entry.code) | Q(voucher_number__contains=lease.entry.code)
    )
    assert [(line.date - due[0].due_on).days for line in pond_lines] == [45]
    assert pond_lines.get().income == due[0].amount
    assert due[1].due_on < today - datetime.timedelta(days=15)
    assert "李国强" not in "".join(
        LineItem.objects.values_list("counterparty", flat=True)
    ) + "".join(Record.objects.values_list("body", flat=True))

    # The farmland: contracted to a cooperative (kept whole) by a resolution, paid on time.
    assert contracting.counterparty == "青山果业合作社" and not contracting.irregular
    land_lines = LineItem.objects.filter(
        record__status=Status.PUBLISHED, description__contains=contracting.entry.code
    )
    first_due = contracting.installments.order_by("due_on").first()
    assert [(line.date, line.income) for line in land_lines] == [
        (first_due.due_on, first_due.amount)
    ]

    # The building: v1 on the register, v2 sold by a carried motion of a closed meeting.
    (school,) = current(village, Register.ASSET)
    assert school.number == 2 and school.disposal == Disposal.SALE
    assert school.record.corrects_id == school.entry.versions.get(number=1).record_id
    for version in (school, contracting):
        motion = version.resolution
        assert motion.passed and motion.is_closed
        assert motion.session.council_id == village.pk
        assert motion.session.kind == SessionKind.REPRESENTATIVES
        assert motion.session.status == SessionStatus.CLOSED
        assert services.resolution_problem(motion, village, version.disposed_on) is None
        assert motion.resolution_record.status == Status.PUBLISHED
        assert str(motion.pk) in version.record.body

    # The receipts link back to their contracts; the pond is flagged, the farmland is not.
    assert set(Receipt.objects.values_list("contract_id", "line__income")) == {
        (lease.entry_id, due[0].amount),
        (contracting.entry_id, first_due.amount),
    }
    pond_state = ContractState.objects.get(contract=lease.entry)
    assert (pond_state.late_count, pond_state.overdue_count, pond_state.overdue_amount) == (
        1,
        1,
        due[1].amount,
    )
    assert [i.state.status for i in lease.installments.order_by("due_on")][:3] == [
        PaymentStatus.PAID_LATE,
        PaymentStatus.OVERDUE,
        PaymentStatus.NOT_DUE,
    ]
    land_state = ContractState.objects.get(contract=contracting.entry)
    assert not land_state.flagged and land_state.paid == first_due.amount
    assert first_due.state.status == PaymentStatus.PAID

    # Everything was published through review, and the checks hold.
    versions = EntryVersion.objects.filter(entry__council=village)
    assert versions.count() == 6
    assert set(versions.values_list("record__status", flat=True)) == {Status.PUBLISHED}
    assert services.verify_registers(council_id=village.pk) == []
    from disclosure.services import verify_chain

    assert verify_chain(council_id=village.pk).ok


def test_running_the_demo_again_adds_nothing_and_other_villages_get_no_registers(city):
    village = city[DEMO_VILLAGES[0]]
    demo.build(village)
    before = counts()
    assert demo.build(village) == 0
    for other in DEMO_VILLAGES[1:]:
        assert demo.build(city[other]) == 0
    assert counts() == before
    assert not Entry.objects.exclude(council=village).exists()


def test_load_demo_data_builds_the_registers_once_alongside_the_ledgers_and_meetings(
    settings, monkeypatch
):
    settings.DEBUG = True
    home_page()
    # The builders the registers' demo lives beside (the whole demo city is the cases' test).
    wanted = {"records", "sessions", "registers"}
    builders = [b for b in registry.DEMO_BUILDERS if b.name in wanted]
    assert {b.name for b in builders} == wanted
    monkeypatch.setattr("councils.management.commands.load_demo_data.DEMO_BUILDERS", builders)
    out = StringIO()
    call_command("load_demo_data", households=2, stdout=out)
    assert "6 registers" in out.getvalue()
    before = counts()
    out = StringIO()
    call_command("load_demo_data", households=2, stdout=out)
    assert "0 registers" in out.getvalue()
    assert counts() == before
    village = CouncilPage.objects.get(slug=DEMO_VILLAGES[0])
    assert Entry.objects.filter(council=village).count() == 5
    assert (
        Installment.objects.filter(version__entry__council=village).aggregate(total=Sum("amount"))[
            "total"
        ]
        == Decimal("6000.00") * 5 + Decimal("8500.00") * 10
    )
