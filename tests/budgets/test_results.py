"""Results: hidden until the vote closes, computed by the cycle's rule, explained, overridable."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from budgets import services
from budgets.models import SubBudget, TallyRule
from councils.models import Role
from tests.budgets.factories import add_proposal, make_cycle, set_phase
from tests.councils.factories import member

pytestmark = pytest.mark.django_db


@pytest.fixture
def voted(tree):
    """Greedy picks the two most approved; MES gives the minority's project a share."""
    cycle = make_cycle(tree["village"], phase="vote", total_amount=Decimal("100"), max_choices=3)
    a, b, c = (
        add_proposal(cycle, "A", "50"),
        add_proposal(cycle, "B", "50"),
        add_proposal(cycle, "C", "50"),
    )
    for _ in range(6):
        services.cast_ballot(voter=member(tree["village"]), cycle=cycle, choices={a.pk: 1, b.pk: 1})
    for _ in range(4):
        services.cast_ballot(voter=member(tree["village"]), cycle=cycle, choices={c.pk: 1})
    set_phase(cycle, "results")
    return cycle, (a, b, c)


def funded(cycle):
    return sorted(
        row.proposal.title
        for result in services.compute_results(cycle)
        for row in result.projects
        if row.funded
    )


def test_greedy_and_equal_shares_differ_as_they_should(voted):
    cycle, _ = voted
    cycle.rule = TallyRule.GREEDY
    cycle.save()
    assert funded(cycle) == ["A", "B"]
    cycle.rule = TallyRule.MES_ADD1
    cycle.complete_greedy = True
    cycle.save()
    assert funded(cycle) == ["A", "C"]


def test_results_explain_every_project(voted):
    cycle, (a, b, c) = voted
    [result] = services.compute_results(cycle)
    rows = {row.proposal.title: row for row in result.projects}
    assert (rows["A"].votes, rows["B"].votes, rows["C"].votes) == (6, 6, 4)
    assert rows["A"].explanation["funded"] and "payments" in rows["A"].explanation
    assert rows["B"].explanation["reason"] in ("unaffordable", "did not fit")
    assert result.used == Decimal("100") and result.ballots == 10


def test_results_page_is_hidden_until_the_vote_closes(client, voted):
    cycle, _ = voted
    set_phase(cycle, "vote")
    response = client.get(f"/budgets/cycles/{cycle.pk}/results/")
    assert response.status_code == 403
    assert "hidden until the vote closes" in response.content.decode()
    assert client.get(f"/budgets/cycles/{cycle.pk}/ballots.pb").status_code == 403
    set_phase(cycle, "results")
    html = client.get(f"/budgets/cycles/{cycle.pk}/results/").content.decode()
    assert "Method of Equal Shares" in html and "C" in html


def test_publishing_needs_the_committee_and_a_closed_vote(tree, voted):
    cycle, _ = voted
    with pytest.raises(PermissionDenied):
        services.publish_results(by=member(tree["village"], Role.SUPERVISOR), cycle=cycle)
    committee = member(tree["village"], Role.COMMITTEE)
    set_phase(cycle, "vote")
    with pytest.raises(ValidationError, match="after the vote closes"):
        services.publish_results(by=committee, cycle=cycle)
    set_phase(cycle, "results")
    assert services.publish_results(by=committee, cycle=cycle).results_published_at


def test_override_needs_a_published_reason(tree, voted):
    cycle, (a, b, c) = voted
    committee = member(tree["village"], Role.COMMITTEE)
    with pytest.raises(ValidationError, match="at least 10 characters"):
        services.override_result(by=committee, proposal=c, funded=False, reason="不行")
    with pytest.raises(PermissionDenied):
        services.override_result(
            by=member(tree["village"]),
            proposal=c,
            funded=False,
            reason="选址在基本农田上，不能施工。",
        )
    services.override_result(
        by=committee, proposal=c, funded=False, reason="选址在基本农田上，不能施工。"
    )
    assert "C" not in funded(cycle)


def test_pabulib_download_recomputes_to_the_same_winners(client, voted):
    from budgets.tally.pabulib import parse_pabulib
    from budgets.tally.rules import tally

    cycle, _ = voted
    text = client.get(f"/budgets/cycles/{cycle.pk}/ballots.pb").content.decode()
    election = parse_pabulib(text)
    assert len(election.ballots) == 10
    outcome = tally(
        election.instance,
        election.ballots,
        rule=cycle.rule,
        sat=cycle.satisfaction,
        complete_greedy=cycle.complete_greedy,
    )
    titles = {pk: p.extra.get("name") for pk, p in election.instance.projects.items()}
    assert sorted(titles[pk] for pk in outcome.selected) == funded(cycle)


def test_sub_budgets_tally_each_village_apart(tree):
    township = tree["township"]
    cycle = make_cycle(
        township,
        phase="vote",
        total_amount=Decimal("200"),
        sub_budgets={tree["village"]: Decimal("100"), tree["other_village"]: Decimal("100")},
    )
    here, there = (
        SubBudget.objects.get(cycle=cycle, council=tree[k]) for k in ("village", "other_village")
    )
    mine = add_proposal(cycle, "本村", "80", sub_budget=here)
    add_proposal(cycle, "邻村甲", "60", sub_budget=there)
    theirs = add_proposal(cycle, "邻村乙", "60", sub_budget=there)
    voter = member(tree["village"])
    with pytest.raises(ValidationError, match="not on this ballot"):
        services.cast_ballot(voter=voter, cycle=cycle, choices={theirs.pk: 1})
    services.cast_ballot(voter=voter, cycle=cycle, choices={mine.pk: 1})
    for _ in range(2):
        services.cast_ballot(
            voter=member(tree["other_village"]), cycle=cycle, choices={theirs.pk: 1}
        )
    set_phase(cycle, "results")
    results = services.compute_results(cycle)
    assert sorted(r.ballots for r in results) == [1, 2]
    # Each share is spent on its own village's projects: 80 of 100 here, 60 of 100 there.
    assert funded(cycle) == ["本村", "邻村乙"]
