"""The budget pages work without JavaScript, refuse bad input clearly and show the receipt."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from budgets import services
from budgets.models import Ballot, BallotType, Participation, Proposal, ProposalStatus
from councils.models import Role
from tests.budgets.factories import add_proposal, make_cycle, set_phase
from tests.councils.factories import UserFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def cycle(tree):
    cycle = make_cycle(
        tree["village"],
        phase="vote",
        total_amount=Decimal("100000"),
        max_choices=2,
        ballot_type=BallotType.KNAPSACK,
    )
    add_proposal(cycle, "修路", "60000")
    add_proposal(cycle, "路灯", "30000")
    add_proposal(cycle, "儿童角", "20000")
    return cycle


def field(proposal):
    return f"p{proposal.pk}"


def test_cycle_page_shows_phases_and_the_vote_button_to_residents(client, tree, cycle):
    client.force_login(member(tree["village"]))
    html = client.get(cycle.get_absolute_url()).content.decode()
    assert 'aria-current="step"' in html and "Vote" in html
    assert html.index("修路") > 0
    council_html = client.get(tree["village"].url).content.decode()
    assert cycle.title in council_html


def test_vote_without_javascript_then_see_the_receipt(client, tree, cycle):
    road, lamps, corner = Proposal.objects.order_by("pk")
    client.force_login(member(tree["village"]))
    page = client.get(f"/budgets/cycles/{cycle.pk}/vote/").content.decode()
    assert "<script" in page and f'for="p{road.pk}"' in page
    response = client.post(
        f"/budgets/cycles/{cycle.pk}/vote/", {field(road): "1", field(corner): "1", "ballot": "1"}
    )
    assert response.status_code == 302
    receipt_page = client.get(response["Location"]).content.decode()
    code = re.search(r'class="receipt-code"[^>]*>([A-Z0-9-]{19})<', receipt_page).group(1)
    assert "修路" in receipt_page and "儿童角" in receipt_page and "路灯" not in receipt_page
    # The code is shown once: a reload does not show it again.
    assert client.get(response["Location"]).status_code == 302
    # Sealed until the vote closes: the check says so, and finds it after the close.
    early = client.post(f"/budgets/cycles/{cycle.pk}/check/", {"code": code}).content.decode()
    assert "stay sealed until the vote closes" in early and "in the count" not in early
    set_phase(cycle, "results")
    check = client.post(f"/budgets/cycles/{cycle.pk}/check/", {"code": code}).content.decode()
    assert "This ballot is in the count" in check and "修路" in check


def test_over_budget_knapsack_ballot_is_refused_and_kept_on_screen(client, tree, cycle):
    road, lamps, corner = Proposal.objects.order_by("pk")
    client.force_login(member(tree["village"]))
    response = client.post(
        f"/budgets/cycles/{cycle.pk}/vote/",
        {field(road): "1", field(lamps): "1", field(corner): "1"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "more than the budget" in html and "Nothing was recorded" in html
    assert html.count("checked") == 3  # the voter's ticks are kept
    assert not Ballot.objects.exists() and not Participation.objects.exists()


def test_ranked_ballot_with_letters_gets_a_message(client, tree, cycle):
    cycle.ballot_type = BallotType.RANKED
    cycle.save()
    road = Proposal.objects.order_by("pk").first()
    client.force_login(member(tree["village"]))
    response = client.post(f"/budgets/cycles/{cycle.pk}/vote/", {field(road): "一"})
    assert response.status_code == 400
    assert "Write a whole number" in response.content.decode()
    assert not Ballot.objects.exists()


@pytest.mark.parametrize("who", ["anonymous", "outsider", "other_village"])
def test_vote_page_is_closed_to_non_residents(client, tree, cycle, who):
    if who != "anonymous":
        client.force_login(UserFactory() if who == "outsider" else member(tree["other_village"]))
    response = client.get(f"/budgets/cycles/{cycle.pk}/vote/")
    assert response.status_code in (302, 403)
    if who == "anonymous":
        assert "/accounts/login/" in response["Location"]


def test_vote_page_outside_the_vote_phase_says_so(client, tree, cycle):
    set_phase(cycle, "deliberate")
    client.force_login(member(tree["village"]))
    response = client.get(f"/budgets/cycles/{cycle.pk}/vote/", follow=True)
    assert "Voting is not open now" in response.content.decode()


def test_propose_and_review_through_the_pages(client, tree):
    cycle = make_cycle(tree["village"], phase="collect")
    resident = member(tree["village"])
    client.force_login(resident)
    bad = client.post(
        f"/budgets/cycles/{cycle.pk}/propose/",
        {"title": "", "description": "x", "estimated_cost": "-5", "category": "roads"},
    )
    assert bad.status_code == 400 and not Proposal.objects.exists()
    assert "greater than or equal to 0.01" in bad.content.decode()
    response = client.post(
        f"/budgets/cycles/{cycle.pk}/propose/",
        {
            "title": "村口装路灯",
            "description": "晚上太黑，老人出门不安全。",
            "estimated_cost": "12000",
            "category": "safety",
            "location": "村口",
            "beneficiaries": "全村",
        },
    )
    proposal = Proposal.objects.get()
    assert response.status_code == 302 and proposal.author == resident
    assert proposal.debate is not None and proposal.debate.title == "村口装路灯"
    # A resident cannot review; the committee can, with a public reason.
    assert (
        client.post(
            f"/budgets/proposals/{proposal.pk}/review/", {"feasible": "yes", "reason": "好"}
        ).status_code
        == 403
    )
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.SUBMITTED
    client.force_login(member(tree["village"], Role.COMMITTEE))
    client.post(
        f"/budgets/proposals/{proposal.pk}/review/",
        {"feasible": "no", "reason": "", "checked_cost": ""},
    )
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.SUBMITTED
    client.post(
        f"/budgets/proposals/{proposal.pk}/review/",
        {"feasible": "no", "reason": "电网公司负责，已转交。", "checked_cost": ""},
    )
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.REJECTED
    html = client.get(cycle.get_absolute_url()).content.decode()
    assert "电网公司负责，已转交。" in html  # rejected proposals stay visible with the reason


def test_paper_ballot_entry_by_the_committee(client, tree, cycle):
    road = Proposal.objects.order_by("pk").first()
    voter = member(tree["village"])
    client.force_login(member(tree["village"], Role.COMMITTEE))
    wrong = client.post(f"/budgets/cycles/{cycle.pk}/paper/", {"phone": "13000000000"})
    assert wrong.status_code == 400 and "not on the roll" in wrong.content.decode()
    page = client.post(f"/budgets/cycles/{cycle.pk}/paper/", {"phone": voter.phone})
    assert voter.public_name in page.content.decode()
    response = client.post(
        f"/budgets/cycles/{cycle.pk}/paper/",
        {"phone": voter.phone, field(road): "1", "ballot": "1"},
    )
    assert response.status_code == 302
    assert Participation.objects.get().channel == "paper"
    again = client.post(
        f"/budgets/cycles/{cycle.pk}/paper/",
        {"phone": voter.phone, field(road): "1", "ballot": "1"},
    )
    assert "already voted" in again.content.decode()
    set_phase(cycle, "results")
    assert client.get(f"/budgets/cycles/{cycle.pk}/ballots/").status_code == 200  # opens them
    assert Ballot.objects.count() == 1 and Ballot.objects.get().channel == "paper"


@pytest.mark.parametrize("role", [None, Role.RESIDENT, Role.SUPERVISOR])
def test_paper_ballot_page_is_for_the_committee(client, tree, cycle, role):
    client.force_login(member(tree["village"], role) if role else UserFactory())
    assert client.get(f"/budgets/cycles/{cycle.pk}/paper/").status_code == 403


def test_ballot_list_query_count_is_constant(client, tree, cycle):
    road, lamps, corner = Proposal.objects.order_by("pk")
    other = make_cycle(tree["village"], phase="vote", title="另一年")
    other_road = add_proposal(other, "修桥", "30000")
    for _ in range(3):
        services.cast_ballot(
            voter=member(tree["village"]), cycle=cycle, choices={road.pk: 1, corner.pk: 1}
        )
    for _ in range(15):
        services.cast_ballot(voter=member(tree["village"]), cycle=other, choices={other_road.pk: 1})
    set_phase(cycle, "results")
    set_phase(other, "results")
    for c in (cycle, other):
        client.get(f"/budgets/cycles/{c.pk}/ballots/")  # the first view after the close opens
    with CaptureQueriesContext(connection) as few:
        client.get(f"/budgets/cycles/{cycle.pk}/ballots/")
    with CaptureQueriesContext(connection) as many:
        html = client.get(f"/budgets/cycles/{other.pk}/ballots/").content.decode()
    assert html.count("<tr>") == 16
    assert len(many) == len(few)


def test_committee_starts_a_budget_with_its_phases(client, tree):
    from budgets.models import BudgetCycle

    village = tree["village"]
    data = {
        "title": "2027年微实事",
        "description": "",
        "total_amount": "50000",
        "ballot_type": "knapsack",
        "max_choices": "3",
        "min_choices": "1",
        "points": "10",
        "eligibility": "person",
        "rule": "mes-add1",
        "satisfaction": "cost",
        "complete_greedy": "on",
        "objection_days": "7",
        "starts_on": "2027-01-01",
        "collect_days": "14",
        "review_days": "7",
        "deliberate_days": "7",
        "vote_days": "5",
    }
    client.force_login(member(village))
    assert client.post(f"/budgets/new/{village.pk}/", data).status_code == 403
    client.force_login(member(village, Role.COMMITTEE))
    bad = client.post(
        f"/budgets/new/{village.pk}/", {**data, "total_amount": "0", "min_choices": "5"}
    )
    assert bad.status_code == 400 and not BudgetCycle.objects.exists()
    assert "At least m cannot be more than at most k" in bad.content.decode()
    response = client.post(f"/budgets/new/{village.pk}/", data)
    cycle = BudgetCycle.objects.get()
    assert response.status_code == 302
    vote = cycle.phases.get(kind="vote")
    assert (vote.ends_at - vote.starts_at).days == 5
    assert cycle.phases.get(kind="results").starts_at == vote.ends_at


def _png(name="lane.png"):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def test_proposal_with_photos_and_a_fake_photo_refused(client, tree, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    cycle = make_cycle(tree["village"], phase="collect")
    client.force_login(member(tree["village"]))
    data = {
        "title": "修巷道",
        "description": "坑洼积水",
        "estimated_cost": "9000",
        "category": "roads",
    }
    fake = SimpleUploadedFile("lane.png", b"<script>alert(1)</script>", content_type="image/png")
    bad = client.post(f"/budgets/cycles/{cycle.pk}/propose/", {**data, "photo_1": fake})
    assert bad.status_code == 400 and "is not a JPEG, PNG or WebP photo" in bad.content.decode()
    assert not Proposal.objects.exists()
    client.post(
        f"/budgets/cycles/{cycle.pk}/propose/",
        {**data, "photo_1": _png(), "photo_2": _png("b.png")},
    )
    proposal = Proposal.objects.get()
    assert proposal.photos.count() == 2
    assert (
        'alt="Photo 1 of the proposal"' in client.get(proposal.get_absolute_url()).content.decode()
    )
