"""Issue 17 on a 360-px phone in Chinese: a resident raises a topic, the committee answers it,
and the bell on the resident's page, open all along, counts the notification without a reload;
the inbox shows it unread, opening it marks it read; the settings page fits the phone. axe finds
nothing serious on either page."""

import re

import pytest
from playwright.sync_api import expect

from councils.models import Role
from deliberation import services as deliberation
from notifications import services as notifications
from notifications.kinds import Kind
from notifications.models import Notification
from tests.browser.test_accessibility import FAILING_IMPACTS, axe_findings
from tests.councils.factories import make_tree, member
from tests.deliberation.factories import HallFactory

pytestmark = pytest.mark.browser

FITS = "document.documentElement.scrollWidth <= 360"


def a_raised_topic():
    village = make_tree()["village"]
    committee = member(village)
    member(village, Role.COMMITTEE, user=committee)
    resident = member(village)
    hall = HallFactory(council=village, title="柳树村议事厅")
    topic = deliberation.raise_topic(
        author=resident,
        hall=hall,
        title="村口路灯坏了，晚上看不见路",
        description="村口的两盏路灯坏了一个月，老人晚上出门不方便。",
    )
    return committee, resident, topic


def answer(committee, resident, topic) -> int:
    """The committee answers through the service. Once answering a topic tells the asker
    (deliberation's own notice), that is the notification; until then it is raised here as
    the same event would be. Returns the resident's unread count."""
    deliberation.answer_topic(actor=committee, topic=topic, answer="已报修，本周五前修好。")
    if not Notification.objects.filter(recipient=resident, kind=Kind.TOPIC_ANSWERED).exists():
        notifications.notify(
            kind=Kind.TOPIC_ANSWERED,
            recipients=[resident],
            event_key=f"topic:{topic.pk}:answered",
            url=topic.get_absolute_url(),
            council=topic.hall.council,
            params={"title": topic.title},
        )
    return Notification.objects.filter(recipient=resident, read_at__isnull=True).count()


def no_serious_findings(page, axe_source):
    serious = [f for f in axe_findings(page, axe_source) if f["impact"] in FAILING_IMPACTS]
    assert not serious, serious


def test_the_bell_counts_an_answer_live_and_the_inbox_reads_it(
    open_context, off_loop, shots, axe_source
):
    committee, resident, topic = off_loop(a_raised_topic)
    before = Notification.objects.filter(recipient=resident, read_at__isnull=True).count()

    page = open_context(resident, phone=True, language="zh-hans")
    page.goto(topic.get_absolute_url())
    bell = page.locator("#notification-bell")
    expect(bell).to_have_attribute("data-live", "on")  # the socket is open, the count read
    expect(bell).to_have_attribute("data-count", str(before))
    assert page.evaluate(FITS), "the page with the bell is wider than the phone"
    shots(page, "topic-before-the-answer")
    page.evaluate("window.stillTheSamePage = true")

    unread = off_loop(answer, committee, resident, topic)
    assert unread > before
    expect(bell.locator(".bell-number")).to_have_text(str(unread))
    expect(bell.locator(".bell-count")).to_be_visible()
    expect(bell).to_have_attribute("data-count", str(unread))
    assert page.evaluate("window.stillTheSamePage") is True  # never reloaded
    shots(page, "topic-bell-counts-the-answer")

    # The inbox: the answer on top, unread in words; opening it reads it.
    bell.click()
    expect(page).to_have_url(re.compile(r"/notifications/$"))
    newest = page.locator("li.inbox-item").first
    expect(newest).to_have_class(re.compile(r"\bunread\b"))
    expect(newest.locator(".inbox-flag")).to_be_visible()
    expect(newest).to_contain_text(topic.title)
    assert page.evaluate(FITS), "the inbox is wider than the phone"
    shots(page, "inbox")
    no_serious_findings(page, axe_source)

    newest.locator("a.inbox-link").click()
    expect(page).to_have_url(re.compile(re.escape(topic.get_absolute_url()) + "$"))
    left = Notification.objects.filter(recipient=resident, read_at__isnull=True).count()
    assert left == unread - 1
    expect(page.locator("#notification-bell")).to_have_attribute("data-count", str(left))

    # The settings, on the phone.
    page.goto("/notifications/settings/")
    assert page.evaluate(FITS), "the settings page is wider than the phone"
    shots(page, "settings")
    no_serious_findings(page, axe_source)
