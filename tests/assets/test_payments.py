"""Contracts drive the ledger: receipts matched from hand-made published ledgers (built with the
real disclosure services), payments allocated oldest due first, statuses against the township's
grace days, and the stored states the pages read (assets.payments)."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from freezegun import freeze_time

from assets import payments, services
from assets.models import (
    ContractState,
    InstallmentState,
    PaymentStatus,
    Receipt,
    Register,
)
from disclosure import services as disclosure
from tests.assets.factories import people, publish_version, published_pond
from tests.disclosure.factories import draft, line, publish

D = datetime.date
Y = Decimal
NOW = timezone.make_aware(datetime.datetime(2025, 10, 1, 9, 0))
OCTOBER = D(2025, 10, 1)
# Three payments of 10,000 yuan; the township's grace is the default 15 days.
SCHEDULE = [(D(2025, 3, 1), "10000"), (D(2025, 6, 1), "10000"), (D(2025, 9, 1), "10000")]


# --- pure: the code, the allocation, the status ---------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "HT-001",
        "收HT-001租金",
        "ht-001",
        "(Ht-001)",
        "HT-001/2025年租金",
        "记-03-HT-001",
        "HT-001。",
    ],
)
def test_the_whole_code_is_found_in_any_case(text):
    assert payments.code_pattern("HT-001").search(text)


@pytest.mark.parametrize("text", ["HT-0011", "XHT-001", "HT-001-2", "HT-001_B", "HT-001A", "HT-01"])
def test_a_code_inside_a_longer_code_is_not_found(text):
    assert not payments.code_pattern("HT-001").search(text)


def test_payments_fill_the_oldest_due_first_and_the_rest_is_left_over():
    schedule = [(D(2025, 6, 1), Y("100")), (D(2025, 3, 1), Y("100"))]
    rows, left_over = payments.allocate(
        schedule,
        [(D(2025, 5, 1), Y("150")), (D(2025, 2, 1), Y("30")), (D(2025, 7, 1), Y("40"))],
        today=D(2025, 12, 31),
    )
    assert [(r.due_on, r.paid, r.paid_on) for r in rows] == [
        (D(2025, 3, 1), Y("100"), D(2025, 5, 1)),  # 30 in February, 70 of May's 150
        (D(2025, 6, 1), Y("100"), D(2025, 7, 1)),  # May's other 80, then 20 of July's 40
    ]
    assert left_over == Y("20")


def test_a_payment_dated_after_the_day_asked_about_does_not_count_yet():
    rows, left_over = payments.allocate(
        [(D(2025, 3, 1), Y("100"))], [(D(2025, 3, 2), Y("100"))], today=D(2025, 3, 1)
    )
    assert (rows[0].paid, rows[0].paid_on, left_over) == (Y("0"), None, Y("0"))


def test_a_reversed_line_and_its_reversal_drop_out_together():
    receipts = [(1, None, D(2025, 3, 1), Y("100")), (2, 1, D(2025, 3, 5), Y("-100"))]
    receipts.append((3, None, D(2025, 4, 1), Y("90")))
    assert payments.effective_payments(receipts) == [(D(2025, 4, 1), Y("90"))]


MARCH_1 = D(2025, 3, 1)


def status(paid="0", paid_on=None, today=MARCH_1, grace=15, amount="100"):
    return payments.installment_status(
        due_on=D(2025, 3, 1),
        amount=Y(amount),
        paid=Y(paid),
        paid_on=paid_on,
        today=today,
        grace_days=grace,
    )


def test_paid_on_the_last_day_of_grace_is_on_time_and_the_day_after_is_late():
    assert status("100", D(2025, 3, 16)) == (PaymentStatus.PAID, 0)
    assert status("100", D(2025, 3, 17)) == (PaymentStatus.PAID_LATE, 16)
    assert status("100", D(2025, 3, 17), grace=16) == (PaymentStatus.PAID, 0)
    assert status("100", D(2025, 2, 1)) == (PaymentStatus.PAID, 0)


def test_unpaid_is_overdue_only_after_the_grace():
    assert status(today=D(2025, 3, 16)) == (PaymentStatus.DUE_SOON, 0)
    assert status(today=D(2025, 3, 17)) == (PaymentStatus.OVERDUE, 16)
    assert status("40", today=D(2025, 3, 16)) == (PaymentStatus.PARTLY_PAID, 0)
    assert status("40", today=D(2025, 3, 17)) == (PaymentStatus.OVERDUE, 16)
    assert status(today=D(2025, 3, 17), grace=0) == (PaymentStatus.OVERDUE, 16)
    assert status(today=D(2025, 3, 1), grace=0) == (PaymentStatus.DUE_SOON, 0)


def test_due_soon_is_within_thirty_days():
    assert status(today=D(2025, 1, 30)) == (PaymentStatus.DUE_SOON, 0)
    assert status(today=D(2025, 1, 29)) == (PaymentStatus.NOT_DUE, 0)


# --- with the real services --------------------------------------------------------------------


def contract(village, p, *, code="HT-001", schedule=SCHEDULE, pond=None):
    """A published lease of the village's pond with `schedule` (thresholds high enough that no
    resolution is needed: the township set them in `p`'s world, see `world`)."""
    pond = pond or published_pond(village, p)
    total = sum((Y(amount) for _day, amount in schedule), Y("0"))
    version = services.draft_entry(
        council=village,
        by=p.committee,
        register=Register.CONTRACT,
        code=code,
        fields={
            "name": f"鱼塘租赁合同{code}",
            "contract_kind": "lease",
            "counterparty_kind": "person",
            "counterparty": "王小英",
            "starts_on": "2025-01-01",
            "ends_on": "2027-12-31",
            "price": str(total),
            "subject": pond.entry,
        },
        installments=schedule,
    )
    return publish_version(version, p).entry


def ledger(village, p, month, *lines, published=True):
    """A monthly statement of 2025 with (day, income, text fields) lines, published."""
    record = draft(village, p.committee, start=D(2025, month, 1), title=f"2025年{month}月收支")
    for day, income, fields in lines:
        fields = {"description": "租金收入", **fields}
        line(record, p.committee, income=Y(income), day=D(2025, month, day), **fields)
    if published:
        publish(record, committee=p.committee, supervisor=p.supervisor)
    return record


@pytest.fixture
def world(tree):
    p = people(tree)
    services.set_thresholds(township=tree["township"], by=p.official, lease_amount="1000000")
    return tree, p


def states(entry):
    return [
        (s.installment.due_on, s.status, s.paid, s.paid_on, s.days_late)
        for s in InstallmentState.objects.filter(installment__version__entry=entry)
        .select_related("installment")
        .order_by("installment__due_on")
    ]


def test_on_time_late_and_partly_paid_then_overdue_from_a_hand_made_ledger(world):
    tree, p = world
    village = tree["village"]
    lease = contract(village, p)
    ledger(village, p, 3, (10, "10000", {"voucher_number": "记-03-HT-001"}))
    ledger(village, p, 6, (30, "10000", {"description": "鱼塘租金 ht-001"}))
    ledger(village, p, 9, (5, "4000", {"account": "承包收入/HT-001"}))
    counts = payments.sweep(today=OCTOBER, now=NOW)
    assert counts["contract_receipts"] == 3 and counts["contract_states"] == 1
    assert states(lease) == [
        (D(2025, 3, 1), PaymentStatus.PAID, Y("10000"), D(2025, 3, 10), 0),
        (D(2025, 6, 1), PaymentStatus.PAID_LATE, Y("10000"), D(2025, 6, 30), 29),
        (D(2025, 9, 1), PaymentStatus.OVERDUE, Y("4000"), None, 30),
    ]
    state = ContractState.objects.get(contract=lease)
    assert (state.overdue_count, state.overdue_amount, state.late_count) == (1, Y("6000"), 1)
    assert (state.due, state.paid, state.scheduled) == (Y("30000"), Y("24000"), Y("30000"))
    assert state.council_id == village.pk and state.flagged


def test_before_the_grace_has_passed_the_last_payment_is_partly_paid_not_overdue(world):
    tree, p = world
    lease = contract(tree["village"], p)
    ledger(tree["village"], p, 9, (5, "4000", {"description": "HT-001"}))
    payments.sweep(today=D(2025, 9, 16), now=NOW)
    assert [s[1] for s in states(lease)] == [
        PaymentStatus.OVERDUE,  # March and June: nothing paid, the 4,000 paid March in part
        PaymentStatus.OVERDUE,
        PaymentStatus.DUE_SOON,
    ]
    assert states(lease)[0][2] == Y("4000")  # oldest due first
    state = ContractState.objects.get(contract=lease)
    assert (state.overdue_count, state.overdue_amount) == (2, Y("16000"))


def test_lines_that_do_not_pay_the_contract_are_not_counted(world):
    tree, p = world
    village, other = tree["village"], tree["other_village"]
    lease = contract(village, p)
    # Another village's ledger names the same code; so does this village's unpublished draft,
    # an expense, a longer code and a resident's lookalike.
    other_p = people({**tree, "village": other})
    ledger(other, other_p, 3, (10, "10000", {"description": "HT-001 租金"}))
    ledger(village, p, 3, (10, "10000", {"description": "HT-001 租金"}), published=False)
    record = draft(village, p.committee, start=D(2025, 4, 1), title="2025年4月收支")
    line(record, p.committee, expense=Y("500"), day=D(2025, 4, 2), description="退HT-001押金")
    line(record, p.committee, income=Y("700"), day=D(2025, 4, 3), description="HT-0011 租金")
    line(record, p.committee, income=Y("800"), day=D(2025, 4, 4), description="XHT-001")
    publish(record, committee=p.committee, supervisor=p.supervisor)
    payments.sweep(today=OCTOBER, now=NOW)
    assert not Receipt.objects.exists()
    state = ContractState.objects.get(contract=lease)
    assert (state.paid, state.overdue_count, state.overdue_amount) == (Y("0"), 3, Y("30000"))


def test_a_code_that_is_a_prefix_of_another_pays_only_its_own_contract(world):
    tree, p = world
    village = tree["village"]
    pond = published_pond(village, p)
    short = contract(village, p, code="HT-001", pond=pond)
    long = contract(village, p, code="HT-0011", pond=pond)
    ledger(village, p, 3, (2, "10000", {"voucher_number": "HT-0011"}), (3, "10000", {}))
    both = ledger(village, p, 4, (1, "5", {"description": "HT-001 与 HT-0011 合收"}))
    counts = payments.sweep(today=OCTOBER, now=NOW)
    receipts = {r.contract_id: r.line.date for r in Receipt.objects.select_related("line")}
    assert receipts == {long.pk: D(2025, 3, 2)}
    assert not Receipt.objects.filter(line__record=both).exists()  # ambiguous: pays neither
    assert counts["contract_receipts_ambiguous"] == 1
    assert ContractState.objects.get(contract=short).paid == Y("0")
    assert ContractState.objects.get(contract=long).paid == Y("10000")


def test_a_reversal_takes_back_what_its_line_paid(world):
    tree, p = world
    village = tree["village"]
    lease = contract(village, p)
    march = ledger(village, p, 3, (10, "10000", {"description": "HT-001 租金"}))
    payments.sweep(today=OCTOBER, now=NOW)
    assert states(lease)[0][1] == PaymentStatus.PAID
    correction = disclosure.correct_record(original=march, by=p.committee, reason="记错了村")
    later = NOW + datetime.timedelta(hours=1)
    payments.sweep(today=OCTOBER, now=later)
    assert Receipt.objects.count() == 1  # a draft correction reverses nothing yet
    publish(correction, committee=p.committee, supervisor=p.supervisor2)
    payments.sweep(today=OCTOBER, now=later + datetime.timedelta(hours=1))
    reversal = Receipt.objects.get(line__record=correction)
    assert reversal.contract == lease and reversal.line.income == Y("-10000")
    state = ContractState.objects.get(contract=lease)
    assert (state.paid, state.overdue_count, state.overdue_amount) == (Y("0"), 3, Y("30000"))
    assert states(lease)[0][1:3] == (PaymentStatus.OVERDUE, Y("0"))


def test_the_townships_grace_days_decide_what_is_late(world):
    tree, p = world
    village = tree["village"]
    lease = contract(village, p)
    ledger(village, p, 3, (31, "10000", {"description": "HT-001"}))
    payments.sweep(today=D(2025, 4, 15), now=NOW)
    assert states(lease)[0][1:] == (PaymentStatus.PAID_LATE, Y("10000"), D(2025, 3, 31), 30)
    services.set_thresholds(township=tree["township"], by=p.official, grace_days=30)
    counts = payments.sweep(today=D(2025, 4, 15), now=NOW + datetime.timedelta(hours=1))
    assert counts["contract_states"] == 1  # the grace changed: worked on again
    assert states(lease)[0][1] == PaymentStatus.PAID
    assert ContractState.objects.get(contract=lease).grace_days == 30


def test_another_townships_grace_is_not_used(world):
    tree, p = world
    services.set_thresholds(township=tree["other_township"], by=p.other_official, grace_days=90)
    assert payments.grace_days_of({tree["village"].pk: tree["village"].path}) == {
        tree["village"].pk: 15
    }
    assert payments.grace_days_of({tree["far_village"].pk: tree["far_village"].path}) == {
        tree["far_village"].pk: 90
    }


def test_the_sweep_works_again_only_on_what_changed(world, django_assert_max_num_queries):
    tree, p = world
    village = tree["village"]
    minute = datetime.timedelta(minutes=1)
    with freeze_time(NOW) as clock:
        lease = contract(village, p)
        # A village is worked on again for PUBLISH_MARGIN after its last publication.
        clock.tick(payments.PUBLISH_MARGIN + minute)
        assert payments.sweep()["contract_states"] == 1
        first = ContractState.objects.get(contract=lease)
        assert first.as_of == OCTOBER
        clock.tick(minute)
        with django_assert_max_num_queries(5):
            assert payments.sweep()["contract_states"] == 0
        # A finance record published: the village is matched and stored again, in the minute.
        ledger(village, p, 3, (10, "10000", {"description": "HT-001"}))
        clock.tick(minute)
        assert payments.sweep()["contract_receipts"] == 1
        assert ContractState.objects.get(contract=lease).paid == Y("10000")
        # Worked on again until a computation comes PUBLISH_MARGIN after the publication.
        clock.tick(payments.PUBLISH_MARGIN)
        assert payments.sweep()["contract_states"] == 1
        clock.tick(minute)
        assert payments.sweep()["contract_states"] == 0
        # The next day: statuses move with the calendar.
        clock.tick(datetime.timedelta(days=1))
        assert payments.sweep()["contract_states"] == 1
        assert ContractState.objects.get(contract=lease).as_of == OCTOBER + datetime.timedelta(
            days=1
        )


def test_the_sweep_is_registered_with_the_reaper():
    from core.tasks import SWEEPS

    assert "assets.payments.sweep" in SWEEPS


def test_a_new_version_brings_its_schedule(world):
    tree, p = world
    village = tree["village"]
    lease = contract(village, p)
    ledger(village, p, 3, (10, "10000", {"description": "HT-001"}))
    payments.sweep(today=OCTOBER, now=NOW)
    latest = lease.versions.get(number=1)
    version = services.draft_version(
        entry=lease,
        by=p.committee,
        fields={
            "name": latest.name,
            "contract_kind": "lease",
            "counterparty_kind": "organisation",
            "counterparty": "青山水产合作社",
            "starts_on": "2025-01-01",
            "ends_on": "2027-12-31",
            "price": "30000",
            "subject": latest.subject,
            "change_reason": "改为两期付款",
        },
        installments=[(D(2025, 3, 1), "10000"), (D(2025, 12, 1), "20000")],
    )
    publish_version(version, p)
    payments.sweep(today=OCTOBER, now=NOW + datetime.timedelta(hours=1))
    state = ContractState.objects.get(contract=lease)
    assert state.version_id == version.pk and not state.flagged
    assert [s[1] for s in states(lease)] == [PaymentStatus.PAID, PaymentStatus.NOT_DUE]
    assert InstallmentState.objects.count() == 2  # the old schedule's states are gone


def test_a_draft_contract_has_no_state_and_takes_no_receipt(world):
    tree, p = world
    village = tree["village"]
    services.draft_entry(
        council=village,
        by=p.committee,
        register=Register.CONTRACT,
        code="HT-009",
        fields={
            "name": "草稿合同",
            "contract_kind": "lease",
            "counterparty_kind": "organisation",
            "counterparty": "青山水产合作社",
            "starts_on": "2025-01-01",
            "ends_on": "2025-12-31",
            "price": "100",
        },
        installments=[(D(2025, 3, 1), "100")],
    )
    ledger(village, p, 3, (10, "100", {"description": "HT-009"}))
    assert payments.sweep(today=OCTOBER, now=NOW)["contract_states"] == 0
    assert not Receipt.objects.exists() and not ContractState.objects.exists()


# --- the contract's page -------------------------------------------------------------------------


def _page(client, entry):
    response = client.get(entry.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def test_the_contract_page_shows_each_payment_in_words_and_links_the_receipts(client, world):
    tree, p = world
    village = tree["village"]
    lease = contract(village, p)
    march = ledger(village, p, 3, (10, "10000", {"voucher_number": "记-7", "account": "HT-001"}))
    ledger(village, p, 6, (30, "10000", {"description": "HT-001"}))
    ledger(village, p, 9, (5, "4000", {"description": "HT-001"}))
    payments.sweep(today=OCTOBER, now=NOW)
    client.force_login(p.resident)
    page = _page(client, lease)
    assert "Payments of this contract are late or missing." in page
    assert "1 payment overdue: 6,000.00 yuan missing." in page
    assert "1 payment was made late." in page
    assert "Paid on time (2025-03-10)" in page
    assert "Paid late: 2025-06-30, 29 days after the due date" in page
    assert "Overdue by 30 days: 6,000.00 yuan missing" in page
    assert f'href="{march.get_absolute_url()}"' in page and "记-7" in page
    assert "As of 2025-10-01" in page and "more than 15 days" in page


def test_a_contract_paid_on_time_is_not_flagged_and_the_public_sees_it(client, world):
    tree, p = world
    lease = contract(tree["village"], p, schedule=[(D(2025, 3, 1), "100")])
    ledger(tree["village"], p, 3, (1, "100", {"description": "HT-001"}))
    payments.sweep(today=OCTOBER, now=NOW)
    page = _page(client, lease)  # not signed in
    assert "No payment of this contract is late or missing." in page
    assert "Payments of this contract are late" not in page
    assert "Paid on time (2025-03-01)" in page


def test_before_the_first_sweep_the_page_shows_the_schedule_and_says_so(client, world):
    tree, p = world
    lease = contract(tree["village"], p)
    page = _page(client, lease)
    assert "it is not ready yet" in page and "2025-06-01" in page
    assert "late or missing" not in page


def test_the_contract_page_reads_no_ledger_line_but_its_receipts(client, world):
    """The statuses are stored: the page's queries do not grow with the receipts."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    tree, p = world
    village = tree["village"]
    lease = contract(village, p)
    ledger(village, p, 3, (10, "100", {"description": "HT-001"}))
    payments.sweep(today=OCTOBER, now=NOW)
    _page(client, lease)
    with CaptureQueriesContext(connection) as few:
        _page(client, lease)
    ledger(village, p, 4, *[(day, "100", {"description": "HT-001"}) for day in range(1, 9)])
    payments.sweep(today=OCTOBER, now=NOW + datetime.timedelta(hours=1))
    with CaptureQueriesContext(connection) as more:
        page = _page(client, lease)
    assert page.count("(reversal)") == 0 and page.count("line ") >= 9
    assert len(more) == len(few)
    lines = [q["sql"] for q in more if '"disclosure_lineitem"' in q["sql"]]
    assert len(lines) == 1 and '"assets_receipt"' in lines[0]


# --- the ledger's record page links back ---------------------------------------------------------


def test_a_receipt_on_the_ledgers_record_page_links_to_its_contract(client, world):
    tree, p = world
    village = tree["village"]
    lease = contract(village, p)
    march = ledger(
        village,
        p,
        3,
        (1, "50", {"description": "卖废品"}),
        (10, "10000", {"description": "HT-001 租金"}),
    )
    payments.sweep(today=OCTOBER, now=NOW)
    page = client.get(march.get_absolute_url()).content.decode()
    assert "Payments on contracts" in page
    assert f'<a href="{lease.get_absolute_url()}">contract HT-001</a>' in page
    assert "Line 2 (2025-03-10, 10,000.00 yuan)" in page and "Line 1 (" not in page


def test_a_record_without_receipts_shows_no_contract_panel(client, world):
    tree, p = world
    village = tree["village"]
    contract(village, p)
    other = ledger(village, p, 3, (1, "50", {"description": "卖废品"}))
    draft_one = ledger(village, p, 4, (1, "10000", {"description": "HT-001"}), published=False)
    payments.sweep(today=OCTOBER, now=NOW)
    assert "Payments on contracts" not in client.get(other.get_absolute_url()).content.decode()
    client.force_login(p.committee)
    page = client.get(draft_one.get_absolute_url()).content.decode()
    assert "Payments on contracts" not in page
    assert payments.receipts_panel(draft_one, p.committee) is None


def test_one_village_that_fails_does_not_hold_up_the_others(world, monkeypatch):
    from django.db import DatabaseError

    tree, p = world
    village, other = tree["village"], tree["other_village"]
    contract(village, p)
    contract(other, people({**tree, "village": other}))
    real = payments.refresh_village

    def broken(village_id, **kwargs):
        if village_id == village.pk:
            raise DatabaseError("written by another sweep at once")
        return real(village_id, **kwargs)

    monkeypatch.setattr(payments, "refresh_village", broken)
    counts = payments.sweep(today=OCTOBER, now=NOW)
    assert (counts["contract_villages_failed"], counts["contract_states"]) == (1, 1)
    assert list(ContractState.objects.values_list("council_id", flat=True)) == [other.pk]
    monkeypatch.setattr(payments, "refresh_village", real)
    assert payments.sweep(today=OCTOBER, now=NOW)["contract_states"] == 2
