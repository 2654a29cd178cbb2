"""Three openings: a committee member drafts a finance record, a supervisor signs it off, the
committee publishes it and a visitor reads it on a phone."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from councils.models import Role
from disclosure.models import Record, Status
from tests.councils.factories import make_tree, member

pytestmark = pytest.mark.browser


def last_month_start():
    first = timezone.localdate().replace(day=1)
    return (first - timezone.timedelta(days=1)).replace(day=1)


def test_committee_drafts_supervisor_signs_off_visitor_reads(open_context, shots):
    village = make_tree()["village"]
    committee = member(village)
    member(village, Role.COMMITTEE, user=committee)
    supervisor = member(village)
    member(village, Role.SUPERVISOR, user=supervisor)
    month = last_month_start()
    title = f"{month.year}年{month.month}月财务收支明细"

    desk = open_context(committee)
    desk.goto(village.url)
    desk.get_by_role("link", name="Financial disclosure").click()
    desk.get_by_role("link", name="Draft a new record").click()
    desk.get_by_label("Type of record").select_option(label="Income and expense statement")
    desk.get_by_label(re.compile(r"^Period\b")).select_option(label="Month")
    desk.get_by_label("First day of the period").fill(month.isoformat())
    desk.get_by_label("Title").fill(title)
    desk.get_by_label("Text").fill("本月收支如下，欢迎村民监督。")
    shots(desk, "draft-form")
    desk.get_by_role("button", name="Save draft").click()
    expect(desk.get_by_role("status")).to_contain_text("Draft saved.")
    record = Record.objects.get(title=title)
    assert record.status == Status.DRAFT and record.created_by == committee

    def add_line(description, field, amount):
        desk.get_by_label(re.compile(r"^Date\b")).fill(month.replace(day=15).isoformat())
        desk.get_by_label("Voucher number").fill("记-015")
        desk.get_by_label("Account (subject)").fill("管理费用")
        desk.get_by_label("Description").fill(description)
        desk.get_by_label(field).fill(amount)
        desk.get_by_role("button", name="Add line").click()
        expect(desk.get_by_role("status")).to_contain_text("Line added.")

    add_line("村委会办公用品", "Expense (yuan)", "1280.50")
    add_line("鱼塘承包租金", "Income (yuan)", "5000")
    shots(desk, "draft-with-lines")
    desk.get_by_role("button", name="Send to the supervisory committee").click()
    expect(desk.get_by_role("status")).to_contain_text("Sent to the supervisory committee")

    # Nobody outside sees a record before it is published.
    visitor = open_context(phone=True)
    response = visitor.goto(record.get_absolute_url())
    assert response.status == 404

    review = open_context(supervisor)
    review.goto(record.get_absolute_url())
    expect(review.get_by_role("table")).to_contain_text("村委会办公用品")
    shots(review, "supervisor-reviews")
    review.get_by_role("button", name="Sign off").click()
    expect(review.get_by_role("status")).to_contain_text("You signed off this record.")

    desk.reload()
    desk.get_by_role("button", name="Publish").click()
    expect(desk.get_by_role("status")).to_contain_text("Published and added to the council's")
    record.refresh_from_db()
    assert record.status == Status.PUBLISHED

    # A visitor finds it from the village page, with its lines, totals and hash-chain proof.
    visitor.goto(village.url)
    visitor.get_by_role("link", name="Financial disclosure").click()
    shots(visitor, "ledger")
    visitor.get_by_role("link", name=title).click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text(title)
    lines = visitor.get_by_role("table")
    expect(lines).to_contain_text("村委会办公用品")
    expect(lines).to_contain_text("鱼塘承包租金")
    expect(lines.get_by_role("row", name="Balance (income − expense)")).to_contain_text("3,719.50")
    proof = visitor.get_by_role("region", name="Proof that nothing changed")
    expect(proof).to_contain_text(record.chain_entry.entry_hash)
    # Visitors read; they get no button to change anything.
    expect(visitor.get_by_role("button", name="Publish")).to_have_count(0)
    expect(visitor.get_by_role("button", name="Add line")).to_have_count(0)
    shots(visitor, "record-as-visitor")
