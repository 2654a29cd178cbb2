"""After the vote: live results, implementation updates and residents' ratings; promotion."""

import json
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.exceptions import PermissionDenied, ValidationError

from budgets import services
from budgets.models import ProgressStatus, Proposal
from councils.models import Role
from tests.budgets.factories import add_proposal, make_cycle, set_phase
from tests.councils.factories import member
from yishi.asgi import application


def closed_cycle(tree):
    cycle = make_cycle(tree["village"], phase="vote", total_amount=Decimal("100"))
    road = add_proposal(cycle, "修路", "60")
    lamps = add_proposal(cycle, "路灯", "60")
    for _ in range(3):
        services.cast_ballot(voter=member(tree["village"]), cycle=cycle, choices={road.pk: 1})
    services.cast_ballot(voter=member(tree["village"]), cycle=cycle, choices={lamps.pk: 1})
    set_phase(cycle, "results")
    return cycle, road, lamps


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_results_are_pushed_live_when_published(tree):
    cycle, road, lamps = await sync_to_async(closed_cycle)(tree)
    committee = await sync_to_async(member)(tree["village"], Role.COMMITTEE)
    watcher = WebsocketCommunicator(
        application, f"/ws/budgets/cycles/{cycle.pk}/", headers=[(b"origin", b"http://testserver")]
    )
    connected, _ = await watcher.connect()
    assert connected
    assert await watcher.receive_nothing(timeout=0.2)  # not published yet: nothing to show
    await sync_to_async(services.publish_results)(by=committee, cycle=cycle)
    frame = json.loads(await watcher.receive_from(timeout=5))
    assert frame["type"] == "results" and [p["title"] for p in frame["funded"]] == ["修路"]
    await watcher.disconnect()
    # A late watcher gets the published results on connect.
    late = WebsocketCommunicator(
        application, f"/ws/budgets/cycles/{cycle.pk}/", headers=[(b"origin", b"http://testserver")]
    )
    await late.connect()
    assert json.loads(await late.receive_from(timeout=5))["funded"][0]["title"] == "修路"
    await late.send_to(text_data='{"type": "post"}')
    assert json.loads(await late.receive_from(timeout=5))["code"] == "read_only"
    await late.disconnect()


@pytest.mark.django_db
def test_progress_only_for_funded_projects_by_the_committee(tree):
    cycle, road, lamps = closed_cycle(tree)
    committee = member(tree["village"], Role.COMMITTEE)
    with pytest.raises(ValidationError, match="Only funded projects"):
        services.post_progress(
            by=committee, proposal=road, status=ProgressStatus.IN_PROGRESS, note="开工"
        )  # results not yet published
    services.publish_results(by=committee, cycle=cycle)
    with pytest.raises(ValidationError, match="Only funded projects"):
        services.post_progress(
            by=committee, proposal=lamps, status=ProgressStatus.DONE, note="完成"
        )
    for role in (Role.RESIDENT, Role.SUPERVISOR, Role.REPRESENTATIVE):
        with pytest.raises(PermissionDenied):
            services.post_progress(
                by=member(tree["village"], role),
                proposal=road,
                status=ProgressStatus.DONE,
                note="完成",
            )
    with pytest.raises(ValidationError, match="cannot be negative"):
        services.post_progress(
            by=committee,
            proposal=road,
            status=ProgressStatus.IN_PROGRESS,
            note="开工",
            spent_so_far=Decimal("-1"),
        )
    update = services.post_progress(
        by=committee,
        proposal=road,
        status=ProgressStatus.DONE,
        note="路修好了",
        spent_so_far=Decimal("58.50"),
    )
    assert update.spent_so_far == Decimal("58.50")


@pytest.mark.django_db
def test_residents_rate_finished_projects_once(tree, client):
    cycle, road, lamps = closed_cycle(tree)
    committee = member(tree["village"], Role.COMMITTEE)
    services.publish_results(by=committee, cycle=cycle)
    resident = member(tree["village"])
    with pytest.raises(ValidationError, match="once it is done"):
        services.rate_project(user=resident, proposal=road, score=5)
    services.post_progress(by=committee, proposal=road, status=ProgressStatus.DONE, note="完工")
    with pytest.raises(PermissionDenied):
        services.rate_project(user=member(tree["other_village"]), proposal=road, score=1)
    with pytest.raises(ValidationError, match="from 1 to 5"):
        services.rate_project(user=resident, proposal=road, score=6)
    services.rate_project(user=resident, proposal=road, score=2)
    services.rate_project(user=resident, proposal=road, score=4, comment="还不错")
    assert road.ratings.get().score == 4
    html = client.get(road.get_absolute_url()).content.decode()
    assert "4.0 out of 5, from 1 residents" in html and "还不错" in html


@pytest.mark.django_db
def test_a_hall_topic_is_promoted_into_a_proposal_with_its_link(tree):
    from deliberation.models import Hall, Topic

    cycle = make_cycle(tree["village"], phase="collect")
    hall = Hall.objects.create(council=tree["village"], title="村民议事厅")
    author = member(tree["village"])
    topic = Topic.objects.create(
        hall=hall, author=author, title="修一条排水沟", description="下雨就淹。"
    )
    with pytest.raises(PermissionDenied):
        services.promote_topic(by=author, topic=topic, cycle=cycle, estimated_cost=Decimal("5"))
    proposal = services.promote_topic(
        by=member(tree["village"], Role.COMMITTEE),
        topic=topic,
        cycle=cycle,
        estimated_cost=Decimal("8000"),
    )
    assert (proposal.source_topic, proposal.author, proposal.title) == (
        topic,
        author,
        "修一条排水沟",
    )
    assert Proposal.objects.get(pk=proposal.pk).debate.hall.council == tree["village"]
    other = Hall.objects.create(council=tree["other_village"], title="邻村议事厅")
    foreign = Topic.objects.create(hall=other, author=author, title="x", description="y")
    with pytest.raises(ValidationError, match="another council"):
        services.promote_topic(
            by=member(tree["village"], Role.COMMITTEE),
            topic=foreign,
            cycle=cycle,
            estimated_cost=Decimal("5"),
        )


@pytest.mark.django_db
def test_promotion_through_the_topic_page(client, tree):
    from deliberation.models import Hall, Topic

    cycle = make_cycle(tree["village"], phase="collect")
    hall = Hall.objects.create(council=tree["village"], title="村民议事厅")
    topic = Topic.objects.create(
        hall=hall, author=member(tree["village"]), title="修水渠", description="灌溉用水不够。"
    )
    url = f"/budgets/topics/{topic.pk}/promote/"
    client.force_login(member(tree["village"]))
    assert client.get(url).status_code == 403
    client.force_login(member(tree["village"], Role.COMMITTEE))
    assert (
        "Promote into a participatory-budget proposal"
        in client.get(topic.get_absolute_url()).content.decode()
    )
    bad = client.post(url, {"cycle": cycle.pk, "estimated_cost": "abc"})
    assert bad.status_code == 400 and "more than 0 yuan" in bad.content.decode()
    response = client.post(url, {"cycle": cycle.pk, "estimated_cost": "15000"})
    proposal = Proposal.objects.get()
    assert response.status_code == 302 and proposal.source_topic == topic
    assert proposal.estimated_cost == Decimal("15000")
