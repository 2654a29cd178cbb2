"""A resident on a phone signs in with an SMS code, joins the village, raises a topic and debates it
live with a neighbour: every step through the real pages, in Chromium.
"""

import re

import pytest
from playwright.sync_api import expect

from councils.models import Membership, MembershipStatus, Role
from deliberation.models import Message, Topic
from tests.councils.factories import UserFactory, make_tree, member
from tests.deliberation.factories import HallFactory

pytestmark = pytest.mark.browser

PHONE_NUMBER = "13912345678"


def sms_code(outbox, phone: str) -> str:
    """The six digits of the last SMS sent to `phone`: what the resident reads on their phone."""
    texts = [text for to, text in outbox if to == phone]
    assert texts, f"no SMS was sent to {phone}"
    return re.search(r"\b([0-9]{6})\b", texts[-1]).group(1)


def test_resident_signs_in_by_code_joins_raises_a_topic_and_debates_live(
    open_context, shots, sms_outbox
):
    tree = make_tree()
    village = tree["village"]
    hall = HallFactory(council=village, title="柳树村议事厅")
    committee = member(village)
    member(village, Role.COMMITTEE, user=committee)
    neighbour = member(village)
    resident = UserFactory(phone=PHONE_NUMBER, display_name="李秀英")

    # A visitor's phone: the village page invites them to sign in.
    page = open_context(phone=True)
    page.goto(village.url)
    expect(page.get_by_role("heading", level=1)).to_have_text("柳树村")
    shots(page, "village-as-visitor")
    page.get_by_role("link", name="Sign in to join").click()
    page.get_by_role("link", name="Send me a sign-in code").click()
    page.get_by_label("Mobile number").fill("139 1234 5678")
    shots(page, "request-code")
    page.get_by_role("button", name="Request code").click()
    code_field = page.get_by_label("Code")
    expect(code_field).to_be_visible()  # the server has answered, so the SMS has gone out

    code_field.fill(sms_code(sms_outbox, PHONE_NUMBER))
    shots(page, "enter-code")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("navigation", name="Account")).to_contain_text("李秀英")

    # Join the village with a house number.
    page.goto(village.url)
    page.get_by_role("link", name="Join as a resident").click()
    page.get_by_label("House number").fill("3组12号")
    page.get_by_label("Message to the committee (optional)").fill("我家在村口小卖部旁边。")
    shots(page, "join-form")
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_role("status")).to_contain_text("Your request was sent.")
    expect(page.get_by_text("Your request to join is waiting")).to_be_visible()
    shots(page, "join-requested")
    assert Membership.objects.get(user=resident, council=village).status == "pending"

    # A committee member verifies the request on a desktop.
    desk = open_context(committee)
    desk.goto(village.url)
    desk.get_by_role("link", name="Membership requests and members").click()
    request_row = desk.get_by_role("row").filter(has_text="3组12号")
    shots(desk, "pending-requests")
    request_row.get_by_role("button", name="Verify").click()
    expect(desk.get_by_role("status")).to_contain_text("Membership verified.")
    assert Membership.objects.get(user=resident, council=village).status == (
        MembershipStatus.VERIFIED
    )

    # Now a verified resident: raise a topic in the village's hall.
    page.goto(village.url)
    page.get_by_role("link", name=hall.title).click()
    page.get_by_role("link", name="Raise a topic").click()
    page.get_by_label("Title").fill("村口路面积水，雨天难走")
    page.get_by_label("What is the matter?").fill("下雨后村口的路积水，老人孩子走路不方便。")
    page.get_by_label("Category").select_option(label="Water and drainage")
    page.get_by_label("Where (optional)").fill("3组村口桥头")
    shots(page, "raise-topic")
    page.get_by_role("button", name="Raise the topic").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("村口路面积水，雨天难走")
    topic = Topic.objects.get(title="村口路面积水，雨天难走")
    assert topic.author == resident and topic.hall == hall

    # Two browsers on the topic, both connected live.
    other = open_context(neighbour)
    other.goto(topic.get_absolute_url())
    for browser_page in (page, other):
        expect(browser_page.locator("#live-status")).to_have_text("Live: new messages appear here.")
    shots(page, "topic-live")
    page.evaluate("window.stillTheSamePage = true")

    page.get_by_label("Your message").fill("建议先在桥头挖一条排水沟。")
    page.get_by_role("button", name="Post").click()
    first = other.locator("#messages li.msg").filter(has_text="建议先在桥头挖一条排水沟。")
    expect(first).to_contain_text("李秀英")
    shots(other, "neighbour-sees-message")

    # The neighbour replies to it and supports the topic; the resident's page follows live.
    first.get_by_role("button", name="Reply").click()
    expect(other.get_by_label("In reply to message number (optional)")).to_have_value("1")
    other.get_by_label("Your message").fill("同意，我可以出两天工。")
    other.get_by_role("button", name="Post").click()
    reply = page.locator("#messages li.msg").filter(has_text="同意，我可以出两天工。")
    expect(reply.locator("blockquote")).to_contain_text("#1")
    other.get_by_role("radio", name="Support").check()
    other.get_by_role("button", name="Save my stance").click()
    expect(page.locator('[data-stance="support"]')).to_have_text("1")
    shots(page, "resident-sees-reply-and-support")

    # What the browsers showed is what was stored.
    stored = list(Message.objects.filter(topic=topic).order_by("seq"))
    assert [(m.author, m.body) for m in stored] == [
        (resident, "建议先在桥头挖一条排水沟。"),
        (neighbour, "同意，我可以出两天工。"),
    ]
    assert stored[1].reply_to == stored[0]
    # The resident's message went out over the websocket: the page was never reloaded.
    assert page.evaluate("window.stillTheSamePage") is True
