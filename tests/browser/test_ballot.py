"""A resident casts a knapsack ballot on a phone, then checks by the receipt that it counts."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from budgets import services
from budgets.models import Ballot
from tests.budgets.factories import add_proposal, make_cycle, set_phase
from tests.councils.factories import make_tree, member

pytestmark = pytest.mark.browser


def test_resident_casts_a_knapsack_ballot_and_verifies_the_receipt(open_context, shots):
    village = make_tree()["village"]
    cycle = make_cycle(
        village, ballot_type="knapsack", total_amount=Decimal("100000"), title="2026年微实事"
    )
    drainage = add_proposal(cycle, "修村口排水沟", 60000)
    lights = add_proposal(cycle, "安装路灯", 30000)
    add_proposal(cycle, "建儿童游乐场", 50000)
    resident = member(village)

    page = open_context(resident, phone=True)
    page.goto(cycle.get_absolute_url())
    shots(page, "cycle")
    page.get_by_role("link", name="Vote", exact=True).click()
    running_total = page.locator(".running-total")

    # ballot.js keeps a running total and warns before anything is sent.
    page.get_by_label("修村口排水沟").check()
    page.get_by_label("建儿童游乐场").check()
    expect(running_total).to_have_text("Chosen 110,000 of 100,000 yuan: over budget!")
    shots(page, "over-budget")
    # Sent anyway, the server refuses it and records nothing.
    page.get_by_role("button", name="Cast ballot").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was recorded.")
    assert not Ballot.objects.filter(cycle=cycle).exists()

    page.get_by_label("建儿童游乐场").uncheck()
    page.get_by_label("安装路灯").check()
    expect(running_total).to_have_text("Chosen 90,000 of 100,000 yuan")
    page.get_by_role("button", name="Cast ballot").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Your ballot was recorded")
    code = page.locator(".receipt-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]{4}(-[A-Z0-9]{4}){3}", code), code
    expect(page.get_by_role("main").get_by_role("list")).to_have_text(
        re.compile("修村口排水沟.*安装路灯", re.S)
    )
    shots(page, "receipt")

    # Sealed until the vote closes; then, from another device and without signing in, the
    # receipt is found in the count (checked by POST: the code never enters a URL).
    assert not Ballot.objects.filter(cycle=cycle).exists()
    set_phase(cycle, "results")
    services.forget_ballot_cycle(cycle.pk)
    check = open_context(phone=True)
    check.goto(cycle.get_absolute_url())
    check.get_by_role("link", name="Check my receipt").click()
    check.get_by_label("Receipt code").fill(code.lower())
    check.get_by_role("button", name="Check").click()
    found = check.get_by_role("status")
    expect(found).to_contain_text("This ballot is in the count:")
    expect(found).to_contain_text("修村口排水沟")
    expect(found).to_contain_text("安装路灯")
    expect(found).not_to_contain_text("建儿童游乐场")
    assert code not in check.url and code.lower() not in check.url
    shots(check, "receipt-found")

    # A mistyped code is not.
    check.get_by_label("Receipt code").fill("ABCD-EFGH-JKLM-NPQR")
    check.get_by_role("button", name="Check").click()
    expect(check.get_by_role("alert")).to_contain_text("No ballot has that receipt code.")

    ballot = Ballot.objects.get(cycle=cycle)
    assert {choice.proposal for choice in ballot.choices.all()} == {drainage, lights}
