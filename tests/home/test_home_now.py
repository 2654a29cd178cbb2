"""The home page: a signed-in person lands on their own council(s) and what is happening there now;
a visitor sees the city's public "now"; the five steps lead to the pages where each step is done.
The number of queries does not grow with the tree."""

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from budgets.models import ProgressUpdate
from councils.models import CouncilPage, Level, Role
from deliberation import services as halls
from meetings import services as sessions
from meetings.models import SessionKind
from tests.budgets.factories import add_proposal, make_cycle
from tests.councils.factories import make_council, member
from tests.deliberation.factories import HallFactory, TopicFactory
from tests.disclosure.factories import published_statement

pytestmark = pytest.mark.django_db


def chair_of(council):
    user = member(council)
    member(council, Role.COMMITTEE, user=user)
    return user


def meeting(council, *, title, days=2, is_public=True):
    return sessions.schedule_session(
        actor=chair_of(council),
        council=council,
        kind=SessionKind.REPRESENTATIVES,
        title=title,
        starts_at=timezone.now() + datetime.timedelta(days=days),
        place="村委会",
        is_public=is_public,
    )


def officers(council) -> SimpleNamespace:
    """A committee member and a supervisor of `council` (who publish its records) and a resident."""
    supervisor = member(council)
    member(council, Role.SUPERVISOR, user=supervisor)
    return SimpleNamespace(
        committee=chair_of(council), supervisor=supervisor, resident=member(council)
    )


def village_life(council, name: str) -> dict:
    """One of everything the home page lists, in `council`, titled after `name`."""
    p = officers(council)
    hall = HallFactory(council=council, title=f"{name}议事厅")
    waiting = TopicFactory(hall=hall, title=f"{name}路灯不亮")
    cycle = make_cycle(council, phase="vote", title=f"{name}微实事投票")
    record = published_statement(council, p, title=f"{name}三月收支")
    session = meeting(council, title=f"{name}代表会议")
    return {
        "hall": hall,
        "topic": waiting,
        "cycle": cycle,
        "record": record,
        "session": session,
        "people": p,
    }


@pytest.fixture
def town(tree):
    return {
        "village": village_life(tree["village"], "柳树村"),
        "other": village_life(tree["other_village"], "石桥村"),
    }


def test_a_resident_lands_on_their_own_villages_now(client, tree, town):
    resident = member(tree["village"])
    client.force_login(resident)
    html = client.get("/").content.decode()
    assert "Your council" in html and "柳树村" in html and "Your councils" not in html
    for title in ("柳树村微实事投票", "柳树村路灯不亮", "柳树村三月收支", "柳树村代表会议"):
        assert title in html
    for title in ("石桥村微实事投票", "石桥村路灯不亮", "石桥村三月收支", "石桥村代表会议"):
        assert title not in html


def test_a_visitor_sees_the_citys_public_now_and_the_search(client, tree, town):
    private = HallFactory(council=tree["village"], is_public=False)
    TopicFactory(hall=private, title="只给村民看的议题")
    meeting(tree["village"], title="不公开的会议", is_public=False)
    html = client.get("/").content.decode()
    assert "Happening now across the city" in html and 'role="search"' in html
    assert "青山市" in html  # the city, at the top of the tree
    for title in ("柳树村路灯不亮", "石桥村路灯不亮", "柳树村微实事投票", "石桥村三月收支"):
        assert title in html
    assert "只给村民看的议题" not in html and "不公开的会议" not in html


def test_what_is_not_happening_now_is_left_out(client, tree):
    village = tree["village"]
    p = officers(village)
    hall = HallFactory(council=village)
    answered = TopicFactory(hall=hall, title="已经答复的议题")
    halls.answer_topic(actor=p.committee, topic=answered, answer="已安排")
    closed = TopicFactory(hall=hall, title="已经关闭的议题")
    halls.change_topic_status(actor=p.committee, topic=closed, status="closed", reason="重复")
    make_cycle(village, phase="results", title="投票已结束的预算")
    make_cycle(village, phase="collect", title="还在征集的预算")
    meeting(village, title="下下周的会议", days=9)
    old = published_statement(village, p, title="很久以前的公开")
    type(old).objects.filter(pk=old.pk).update(
        published_at=timezone.now() - datetime.timedelta(days=30)
    )
    client.force_login(p.resident)
    html = client.get("/").content.decode()
    for title in ("已经答复的议题", "已经关闭的议题", "投票已结束的预算", "还在征集的预算"):
        assert title not in html
    assert "下下周的会议" not in html and "很久以前的公开" not in html
    assert "No vote is open." in html and "No meeting in the next seven days." in html


def test_a_township_budget_is_a_vote_open_in_its_villages(client, tree):
    make_cycle(
        tree["township"],
        phase="vote",
        title="白沙镇微实事",
        total_amount=Decimal("200"),
        sub_budgets={tree["village"]: Decimal("100"), tree["other_village"]: Decimal("100")},
    )
    client.force_login(member(tree["village"]))
    assert "白沙镇微实事" in client.get("/").content.decode()


def test_someone_in_several_councils_gets_a_chooser(client, tree, town):
    resident = member(tree["village"])
    member(tree["other_village"], user=resident)
    client.force_login(resident)
    html = client.get("/").content.decode()
    assert "Your councils" in html and "柳树村路灯不亮" in html and "石桥村路灯不亮" in html
    other = tree["other_village"].pk
    assert f'href="?council={other}#now"' in html
    focused = client.get(f"/?council={other}").content.decode()
    assert "石桥村路灯不亮" in focused and "柳树村路灯不亮" not in focused
    # A council that is not theirs is not a choice: they see all of theirs.
    stranger = client.get(f"/?council={tree['far_village'].pk}").content.decode()
    assert "柳树村路灯不亮" in stranger and "石桥村路灯不亮" in stranger


def test_a_signed_in_person_without_a_council_is_told_how_to_join(client, tree, town):
    from tests.councils.factories import UserFactory

    client.force_login(UserFactory())
    html = client.get("/").content.decode()
    assert "not a verified member of any council" in html
    assert "Happening now across the city" in html


def test_the_five_steps_lead_to_the_village_pages(client, tree, town):
    village, life = tree["village"], town["village"]
    resident = member(village)
    committee = life["people"].committee
    hall = life["hall"]
    mine = TopicFactory(hall=hall, author=resident, title="我的议题")
    halls.answer_topic(actor=committee, topic=mine, answer="下周修")
    funded = add_proposal(life["cycle"], "修村口路", 5000)
    ProgressUpdate.objects.create(proposal=funded, status="in_progress", note="开工", by=committee)
    client.force_login(resident)
    steps = client.get("/").context["now"].steps
    assert steps["raise"] == f"/halls/{hall.pk}/topics/new/"
    assert steps["deliberate"] == f"/halls/{hall.pk}/?status=open"
    assert steps["decide"] == f"/budgets/cycles/{life['cycle'].pk}/vote/"
    assert steps["carry_out"] == funded.get_absolute_url()
    assert steps["evaluate"] == f"{mine.get_absolute_url()}#rating"
    for url in steps.values():
        assert client.get(url).status_code == 200


def test_without_votes_decide_leads_to_the_meeting_and_evaluate_to_a_done_project(client, tree):
    village = tree["village"]
    p = officers(village)
    session = meeting(village, title="本周代表会议")
    cycle = make_cycle(village, phase="evaluation")
    done = add_proposal(cycle, "路灯", 800)
    ProgressUpdate.objects.create(proposal=done, status="done", note="完工", by=p.committee)
    client.force_login(p.resident)
    steps = client.get("/").context["now"].steps
    assert steps["decide"] == session.get_absolute_url()
    assert steps["evaluate"] == done.get_absolute_url()
    assert steps["raise"] == steps["deliberate"] == village.url  # no hall yet: the village page


def test_a_visitors_steps_invite_them_to_sign_in_and_to_the_lists(client, tree, town):
    steps = client.get("/").context["now"].steps
    assert steps["raise"].startswith("/accounts/login/")
    assert steps["deliberate"] == "#now-topics"
    assert steps["decide"] == f"/budgets/cycles/{town['village']['cycle'].pk}/vote/" or steps[
        "decide"
    ] == (f"/budgets/cycles/{town['other']['cycle'].pk}/vote/")


def _grow(tree, count: int) -> None:
    """`count` more villages with a hall, topics, a vote, a record and a meeting each."""
    for n in range(count):
        village = make_council(tree["township"], level=Level.VILLAGE, title=f"新村{n}")
        village_life(village, f"新村{n}")
        TopicFactory(hall=HallFactory(council=village), title=f"新村{n}第二议题")


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/").status_code == 200
    return len(captured)


def test_the_number_of_queries_does_not_grow_with_the_city(client, tree, town):
    resident = member(tree["village"])
    member(tree["other_village"], user=resident)
    client.get("/")  # warm: the site's root paths and other per-process caches, once
    anonymous_small = _queries(client)
    client.force_login(resident)
    signed_in_small = _queries(client)

    _grow(tree, 12)
    for village in CouncilPage.objects.filter(title__startswith="新村")[:6]:
        member(village, user=resident)  # more councils of their own, too
    signed_in_big = _queries(client)
    client.logout()
    anonymous_big = _queries(client)
    assert anonymous_big == anonymous_small
    assert signed_in_big == signed_in_small


def test_the_home_page_stays_within_its_query_budget(
    client, tree, town, django_assert_max_num_queries
):
    _grow(tree, 5)
    with django_assert_max_num_queries(20):
        client.get("/")
    resident = member(tree["village"])
    client.force_login(resident)
    client.get("/")  # the session and the user, once
    with django_assert_max_num_queries(25):
        client.get("/")
