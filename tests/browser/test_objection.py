"""结果公示 on a 360-px phone, in Chinese: a resident files an objection (异议) on the results
page, the committee answers it there, and neither page ever scrolls sideways."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from budgets import services
from budgets.models import Objection
from councils.models import Role
from tests.budgets.catalog14 import zh_catalogue  # noqa: F401  (fixture)
from tests.budgets.factories import add_proposal, make_cycle, set_phase
from tests.councils.factories import make_tree, member

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("zh_catalogue")]

REASON = "路灯项目只差几票，希望公开各组的投票人数，并说明长椅为什么没有入选。"
ANSWER = "选票清单已按回执公开，各项目票数可以下载核对；长椅超出剩余预算，所以未入选。"


def no_sideways_scroll(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the page is {width} px wide on a 360-px screen"


def test_a_resident_objects_and_the_committee_answers_on_a_phone(open_context, off_loop, shots):
    village = make_tree()["village"]
    cycle = make_cycle(village, phase="vote", total_amount=Decimal("100000"), title="2026年微实事")
    road = add_proposal(cycle, "修村口排水沟", 60000)
    lamps = add_proposal(cycle, "安装路灯", 50000)
    add_proposal(cycle, "村口长椅（不锈钢，带遮阳棚，共十二张）", 45000)
    for choices in ({road.pk: 1}, {road.pk: 1}, {lamps.pk: 1}):
        off_loop(services.cast_ballot, voter=member(village), cycle=cycle, choices=choices)
    set_phase(cycle, "results")
    services.forget_ballot_cycle(cycle.pk)
    resident = member(village)
    committee = member(village, Role.COMMITTEE)

    page = open_context(resident, phone=True, language="zh-hans")
    page.goto(f"/budgets/cycles/{cycle.pk}/results/")
    expect(page.get_by_role("heading", name="异议", exact=True)).to_be_visible()
    expect(page.get_by_text("目前没有人提出异议。")).to_be_visible()
    no_sideways_scroll(page)
    shots(page, "results")

    # Sent empty, the objection is refused in words and nothing is recorded.
    page.get_by_role("button", name="公开提出异议").click()
    expect(page.get_by_role("alert").first).to_contain_text("请说明您对什么有异议以及理由。")
    assert not Objection.objects.exists()
    no_sideways_scroll(page)
    shots(page, "objection-refused")

    page.get_by_label("您的异议及理由（公开）").fill(REASON)
    page.get_by_role("button", name="公开提出异议").click()
    expect(page.get_by_text("您的异议已公开。村（居）委会将在这里答复。")).to_be_visible()
    filed = page.locator(".objection").first
    expect(filed).to_contain_text(REASON)
    expect(filed).to_contain_text("等待村（居）委会答复")
    no_sideways_scroll(page)
    shots(page, "objection-filed")

    clerk = open_context(committee, phone=True, language="zh-hans")
    clerk.goto(f"/budgets/cycles/{cycle.pk}/results/#objections")
    objection = Objection.objects.get()
    clerk.get_by_role("button", name="公开答复").click()  # empty: refused
    expect(clerk.get_by_role("alert").first).to_contain_text("请填写答复内容。")
    clerk.get_by_label("村（居）委会的答复（公开）").fill(ANSWER)
    clerk.get_by_role("button", name="公开答复").click()
    expect(clerk.get_by_text("您的答复已公开。")).to_be_visible()
    answered = clerk.locator(f"#objection-{objection.pk}")
    expect(answered).to_contain_text(ANSWER)
    expect(answered).to_contain_text("村（居）委会答复")
    expect(clerk.get_by_role("button", name="公开答复")).to_have_count(0)  # answered once
    no_sideways_scroll(clerk)
    shots(clerk, "answered")

    # The resident, and anyone else, reads the answer.
    page.reload()
    expect(page.locator(f"#objection-{objection.pk}")).to_contain_text(ANSWER)
    no_sideways_scroll(page)
    anyone = open_context(phone=True, language="zh-hans")
    anyone.goto(f"/budgets/cycles/{cycle.pk}/results/")
    expect(anyone.locator(f"#objection-{objection.pk}")).to_contain_text(ANSWER)
    expect(anyone.get_by_role("button", name="公开提出异议")).to_have_count(0)
    no_sideways_scroll(anyone)
    shots(anyone, "public")
    objection.refresh_from_db()
    assert objection.answered_by == committee and objection.answer == ANSWER
