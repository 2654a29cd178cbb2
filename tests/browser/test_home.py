"""The home page on a 360-px phone in Chinese: a resident lands on their village's "happening now"
and each of the five steps leads to the page where that step is done. And a topic's answer reaches
the asker's open page live, who then rates it (评事)."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from budgets.models import ProgressUpdate
from councils.models import Role
from deliberation import services as hall_services
from deliberation.models import TopicRating
from meetings import services as sessions
from meetings.models import SessionKind
from tests.budgets.factories import add_proposal, make_cycle
from tests.councils.factories import make_tree, member
from tests.deliberation.factories import HallFactory, TopicFactory

pytestmark = pytest.mark.browser


def committee_of(council):
    user = member(council)
    member(council, Role.COMMITTEE, user=user)
    return user


def assert_fits(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"{page.url} is {width}px wide on a 360-px screen"


def test_a_resident_lands_on_their_village_and_the_five_steps_lead_somewhere(
    open_context, shots, off_loop
):
    tree = make_tree()
    village = tree["village"]
    hall = HallFactory(council=village, title="柳树村民主议事厅")
    committee = committee_of(village)
    resident = member(village)
    mine = TopicFactory(hall=hall, author=resident, title="村口路灯不亮，晚上看不清路")
    TopicFactory(hall=hall, title="垃圾清运时间能否改到早上七点以前")
    TopicFactory(hall=HallFactory(council=tree["other_village"]), title="石桥村的议题")
    cycle = make_cycle(village, phase="vote", title="2026年柳树村微实事")
    funded = add_proposal(cycle, "硬化3组到村委会的道路", 50000)
    ProgressUpdate.objects.create(
        proposal=funded, status="in_progress", note="已开工", by=committee
    )
    off_loop(
        sessions.schedule_session,
        actor=committee,
        council=village,
        kind=SessionKind.REPRESENTATIVES,
        title="第三季度村民代表会议",
        starts_at=timezone.now() + datetime.timedelta(days=2),
        place="村委会二楼会议室",
    )
    off_loop(
        hall_services.answer_topic,
        actor=committee,
        topic=mine,
        answer="已报修，本周内修好。",
    )

    page = open_context(resident, phone=True, language="zh-hans")
    page.goto("/")
    now = page.locator("#now")
    expect(page.locator("#mine")).to_contain_text("您所在的村（社区）")
    expect(page.get_by_role("heading", name="柳树村", exact=True)).to_be_visible()
    expect(now.get_by_role("heading", level=2)).to_have_text("您村里正在进行的事")
    expect(now.locator("#now-votes")).to_contain_text("2026年柳树村微实事")
    expect(now.locator("#now-topics")).to_contain_text("垃圾清运时间能否改到早上七点以前")
    expect(now.locator("#now-meetings")).to_contain_text("第三季度村民代表会议")
    expect(now).not_to_contain_text("石桥村的议题")
    assert_fits(page)
    shots(page, "home-signed-in")

    steps = page.locator("ol.five-steps")
    expected = [
        ("提事", f"/halls/{hall.pk}/topics/new/", "提出议题"),
        ("议事", f"/halls/{hall.pk}/", "柳树村民主议事厅"),
        ("定事", f"/budgets/cycles/{cycle.pk}/vote/", "2026年柳树村微实事"),
        ("办事", funded.get_absolute_url(), "硬化3组到村委会的道路"),
        ("评事", mine.get_absolute_url(), "村口路灯不亮，晚上看不清路"),
    ]
    for name, path, shows in expected:
        page.goto("/")
        steps.get_by_role("link", name=name, exact=True).click()
        page.wait_for_load_state()
        assert page.url.split("?")[0].split("#")[0].endswith(path), (name, page.url)
        expect(page.locator("main")).to_contain_text(shows)
        assert_fits(page)
        shots(page, f"step-{path.strip('/').replace('/', '-')}")


def test_a_visitor_sees_the_city_and_the_search_on_a_phone(open_context, shots):
    tree = make_tree()
    TopicFactory(hall=HallFactory(council=tree["village"]), title="村口路灯不亮")
    page = open_context(phone=True, language="zh-hans")
    page.goto("/")
    expect(page.get_by_role("search")).to_be_visible()
    expect(page.locator("#now-topics")).to_contain_text("村口路灯不亮")
    expect(page.get_by_role("link", name="青山市")).to_be_visible()
    assert_fits(page)
    shots(page, "home-visitor")


def test_the_answer_reaches_the_askers_page_live_and_the_asker_rates_it(open_context, shots):
    tree = make_tree()
    village = tree["village"]
    hall = HallFactory(council=village, title="柳树村民主议事厅")
    committee = committee_of(village)
    asker = member(village)
    topic = TopicFactory(hall=hall, author=asker, title="村口路灯不亮，晚上看不清路")

    page = open_context(asker, phone=True, language="zh-hans")
    page.goto(topic.get_absolute_url())
    expect(page.locator("#live-status")).to_have_text("实时：新发言会自动出现在这里。")
    expect(page.locator("#topic-status")).to_have_text("讨论中")
    page.evaluate("window.stillTheSamePage = true")

    desk = open_context(committee)
    desk.goto(topic.get_absolute_url())
    desk.get_by_label("Official answer").fill("已报修，电工周三来换灯泡。\n\n费用由村集体承担。")
    desk.get_by_role("button", name="Publish the answer").click()
    expect(desk.locator("ul.messages")).to_contain_text("The official answer was published.")

    answer = page.locator("#answer")
    expect(answer).to_contain_text("已报修，电工周三来换灯泡。")
    expect(answer).to_contain_text("费用由村集体承担。")
    expect(answer.get_by_role("heading")).to_have_text("官方答复")
    expect(page.locator("#topic-status")).to_have_text("村（居）委会已接单")
    expect(page.locator("#topic-status")).to_have_class("status status-taken_up")
    assert page.evaluate("window.stillTheSamePage") is True  # no reload
    assert_fits(page)
    shots(page, "answer-arrived-live")

    # 评事: the rating form is there once the page is loaded again (it needs the answer).
    page.reload()
    rating = page.locator("#rating")
    rating.get_by_label("4 · 满意").check()
    rating.get_by_label("意见（选填）").fill("修得快，谢谢。")
    assert_fits(page)
    shots(page, "rating-form")
    rating.get_by_role("button", name="提交评价").click()
    expect(page.locator("#rating")).to_contain_text("4/5")
    expect(page.locator("#rating")).to_contain_text("修得快，谢谢。")
    assert_fits(page)
    shots(page, "rated")
    stored = TopicRating.objects.get()
    assert (stored.topic_id, stored.author_id, stored.score) == (topic.pk, asker.pk, 4)
