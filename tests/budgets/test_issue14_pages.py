"""Issue 14, point 6, on the pages: the ballot page tells a voter who voted before they fill it
in again; reported spending that differs from the accounts is flagged; a topic promoted into a
proposal and the proposal link to each other."""

from decimal import Decimal

import pytest
from django.urls import reverse

from budgets import services as budget_services
from budgets.models import ProgressStatus
from councils.models import Role
from deliberation.models import Hall, Topic
from tests.budgets.catalog14 import speak, zh_catalogue  # noqa: F401  (fixture)
from tests.budgets.factories import add_proposal, make_cycle, set_phase
from tests.councils.factories import member
from tests.disclosure.factories import draft, line, people, publish

# Tests in Chinese read the issue-14 messages even before they are merged into locale/.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("zh_catalogue")]


# --- the ballot page: "you have already voted", before the form ------------------------------


@pytest.fixture
def voting(tree):
    cycle = make_cycle(tree["village"], phase="vote")
    cycle.road = add_proposal(cycle, "修路", "30000")
    add_proposal(cycle, "路灯", "20000")
    return cycle


ALREADY = {
    "en": (
        "You have already voted.",
        "Check a receipt",
        "You may still change it 3 times before the vote closes",
        "Replace my ballot with this one",
    ),
    "zh-hans": ("您已经投过票。", "查验回执"),
}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_voter_who_voted_is_told_so_before_filling_the_ballot_in(client, tree, voting, language):
    voter = member(tree["village"])
    budget_services.cast_ballot(voter=voter, cycle=voting, choices={voting.road.pk: 1})
    client.force_login(voter)
    speak(client, language)
    response = client.get(reverse("budgets:vote", args=[voting.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for words in ALREADY[language]:
        assert words in html, words
    assert reverse("budgets:check_receipt", args=[voting.pk]) in html
    # The notice comes before the ballot form.
    assert html.index(ALREADY[language][0]) < html.index('class="card ballot"')


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_voter_who_has_not_voted_sees_no_such_notice(client, tree, voting, language):
    client.force_login(member(tree["village"]))
    speak(client, language)
    html = client.get(reverse("budgets:vote", args=[voting.pk])).content.decode()
    assert ALREADY[language][0] not in html and 'name="replace"' not in html


def test_a_voter_who_used_every_change_is_told_and_offered_none(client, tree, voting):
    voter = member(tree["village"])
    budget_services.cast_ballot(voter=voter, cycle=voting, choices={voting.road.pk: 1})
    for _ in range(voting.max_replacements):
        budget_services.cast_ballot(
            voter=voter, cycle=voting, choices={voting.road.pk: 1}, replace=True
        )
    client.force_login(voter)
    html = client.get(reverse("budgets:vote", args=[voting.pk])).content.decode()
    assert "You have already voted." in html
    assert "as many times as this vote allows" in html and 'name="replace"' not in html


def test_a_paper_voter_is_told_the_ballot_cannot_change_online(client, tree, voting):
    voter = member(tree["village"])
    budget_services.enter_paper_ballot(
        officer=member(tree["village"], Role.COMMITTEE),
        cycle=voting,
        choices={voting.road.pk: 1},
        voter=voter,
    )
    client.force_login(voter)
    html = client.get(reverse("budgets:vote", args=[voting.pk])).content.decode()
    assert "You have already voted." in html and "cannot be changed online" in html
    assert 'name="replace"' not in html


# --- reported spending against the accounts -------------------------------------------------


@pytest.fixture
def p(tree):
    return people(tree)


@pytest.fixture
def road(tree, p):
    cycle = make_cycle(tree["village"], phase="vote", total_amount=Decimal("10000"))
    road = add_proposal(cycle, "修路", "10000")
    for _ in range(3):
        budget_services.cast_ballot(
            voter=member(tree["village"]), cycle=cycle, choices={road.pk: 1}
        )
    set_phase(cycle, "results")
    budget_services.publish_results(by=p.committee, cycle=cycle)
    return road


def book(tree, p, road, amount):
    record = draft(tree["village"], p.committee, title="2025年3月账目")
    line(record, p.committee, expense=amount, description="工程款", project=road.pk)
    publish(record, committee=p.committee, supervisor=p.supervisor)


def report(p, road, spent):
    return budget_services.post_progress(
        by=p.committee,
        proposal=road,
        status=ProgressStatus.IN_PROGRESS,
        note="开工",
        spent_so_far=Decimal(spent),
    )


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_reported_spending_that_differs_from_the_accounts_is_flagged(
    client, tree, p, road, language
):
    book(tree, p, road, "4000.00")
    report(p, road, "6500")
    speak(client, language)
    html = client.get(road.get_absolute_url()).content.decode()
    if language == "en":
        assert "The reported spending does not match the accounts." in html
        assert (
            "The latest progress update reports 6,500.00 yuan spent; the published accounts "
            "show 4,000.00 yuan for this project (a difference of 2,500.00 yuan)." in html
        )
    else:
        assert "上报的支出与账目不符。" in html
        assert "最近一次进展报告称已支出 6500.00 元" in html and "相差 2500.00 元" in html


def test_matching_spending_is_not_flagged(client, tree, p, road):
    book(tree, p, road, "4000.00")
    report(p, road, "4000")
    html = client.get(road.get_absolute_url()).content.decode()
    assert "does not match the accounts" not in html


def test_only_the_latest_report_counts(client, tree, p, road):
    book(tree, p, road, "4000.00")
    report(p, road, "1000")
    report(p, road, "4000")
    assert "does not match" not in client.get(road.get_absolute_url()).content.decode()


def test_spending_reported_with_nothing_in_the_accounts_is_flagged(client, tree, p, road):
    report(p, road, "300")
    html = client.get(road.get_absolute_url()).content.decode()
    assert "does not match the accounts" in html and "show 0.00 yuan" in html


def test_nothing_is_flagged_before_any_report(client, tree, p, road):
    book(tree, p, road, "4000.00")
    assert "does not match" not in client.get(road.get_absolute_url()).content.decode()


def test_a_draft_record_is_not_the_accounts(client, tree, p, road):
    record = draft(tree["village"], p.committee, title="未公开的账目")
    line(record, p.committee, expense="300.00", description="工程款", project=road.pk)
    report(p, road, "300")
    assert "does not match the accounts" in client.get(road.get_absolute_url()).content.decode()


# --- topic ↔ proposal -----------------------------------------------------------------------


def test_a_promoted_topic_and_its_proposal_link_to_each_other(client, tree):
    cycle = make_cycle(tree["village"], phase="collect")
    hall = Hall.objects.create(council=tree["village"], title="村民议事厅")
    topic = Topic.objects.create(
        hall=hall, author=member(tree["village"]), title="修一条排水沟", description="下雨就淹。"
    )
    committee = member(tree["village"], Role.COMMITTEE)
    client.force_login(committee)
    response = client.post(
        reverse("budgets:promote", args=[topic.pk]),
        {"cycle": cycle.pk, "estimated_cost": "8000"},
    )
    proposal = topic.promoted_proposals.get()
    assert response["Location"] == proposal.get_absolute_url()
    client.logout()
    topic_page = client.get(topic.get_absolute_url()).content.decode()
    assert "This topic became a participatory-budget proposal:" in topic_page
    assert f'href="{proposal.get_absolute_url()}"' in topic_page
    proposal_page = client.get(proposal.get_absolute_url()).content.decode()
    assert (
        f'href="{topic.get_absolute_url()}"' in proposal_page and "from the topic" in proposal_page
    )
    # ... and the proposal's own debate, which is a topic too, both ways.
    assert f'href="{proposal.debate.get_absolute_url()}"' in proposal_page
    debate_page = client.get(proposal.debate.get_absolute_url()).content.decode()
    assert "This is the debate of a participatory-budget proposal:" in debate_page
    assert f'href="{proposal.get_absolute_url()}"' in debate_page


def test_a_topic_never_promoted_links_to_no_proposal(client, tree):
    hall = Hall.objects.create(council=tree["village"], title="村民议事厅")
    topic = Topic.objects.create(
        hall=hall, author=member(tree["village"]), title="修一条排水沟", description="下雨就淹。"
    )
    html = client.get(topic.get_absolute_url()).content.decode()
    assert "became a participatory-budget proposal" not in html
    assert "/budgets/proposals/" not in html


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_link_reads_in_both_languages(client, tree, language):
    cycle = make_cycle(tree["village"], phase="collect")
    hall = Hall.objects.create(council=tree["village"], title="村民议事厅")
    topic = Topic.objects.create(
        hall=hall, author=member(tree["village"]), title="修一条排水沟", description="下雨就淹。"
    )
    budget_services.promote_topic(
        by=member(tree["village"], Role.COMMITTEE),
        topic=topic,
        cycle=cycle,
        estimated_cost=Decimal("8000"),
    )
    speak(client, language)
    html = client.get(topic.get_absolute_url()).content.decode()
    assert (
        "This topic became a participatory-budget proposal:"
        if language == "en"
        else "此议题已转为参与式预算项目提案："
    ) in html
