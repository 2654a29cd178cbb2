"""An override that takes funded spending past the budget needs an explicit confirmation and is
shown on the results page, per village share in a township cycle (issue 14, point 6)."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from budgets import services
from budgets.models import ResultOverride
from councils.models import Role
from tests.budgets.catalog14 import speak, zh_catalogue  # noqa: F401  (fixture)
from tests.budgets.factories import add_proposal, make_cycle, set_phase
from tests.councils.factories import member

# Tests in Chinese read the issue-14 messages even before they are merged into locale/.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("zh_catalogue")]

REASON = "村民代表会议决定两项都做，差额由村集体补足。"


@pytest.fixture
def closed(tree):
    """Budget 100: the road (60) wins; the lamps (60) and the bench (50) do not fit."""
    cycle = make_cycle(tree["village"], phase="vote", total_amount=Decimal("100"))
    cycle.road = add_proposal(cycle, "修路", "60")
    cycle.lamps = add_proposal(cycle, "路灯", "60")
    cycle.bench = add_proposal(cycle, "长椅", "50")
    for _ in range(3):
        services.cast_ballot(voter=member(tree["village"]), cycle=cycle, choices={cycle.road.pk: 1})
    services.cast_ballot(voter=member(tree["village"]), cycle=cycle, choices={cycle.lamps.pk: 1})
    set_phase(cycle, "results")
    return cycle


@pytest.fixture
def committee(tree):
    return member(tree["village"], Role.COMMITTEE)


def override_url(proposal):
    return reverse("budgets:override", args=[proposal.pk])


def test_funding_past_the_budget_is_refused_without_confirmation(closed, committee):
    with pytest.raises(ValidationError, match="over the budget") as refused:
        services.override_result(by=committee, proposal=closed.lamps, funded=True, reason=REASON)
    assert refused.value.code == "over_budget"
    assert "120" in refused.value.messages[0] and "20" in refused.value.messages[0]
    assert not ResultOverride.objects.exists()  # rolled back


def test_a_confirmed_override_past_the_budget_is_saved_and_shown(client, closed, committee):
    services.override_result(
        by=committee, proposal=closed.lamps, funded=True, reason=REASON, confirm_over_budget=True
    )
    (result,) = services.compute_results(closed)
    assert (result.used, result.budget, result.over_by) == (
        Decimal("120"),
        Decimal("100"),
        Decimal("20"),
    )
    html = client.get(reverse("budgets:results", args=[closed.pk])).content.decode()
    assert "Over the budget." in html
    assert "Funded total 120.00 yuan of a budget of 100.00 yuan: over by 20.00 yuan." in html
    assert REASON in html


def test_an_override_within_the_budget_needs_no_confirmation(client, closed, committee):
    services.override_result(
        by=committee, proposal=closed.road, funded=False, reason="上级已经拨款修这条路了。"
    )
    services.override_result(by=committee, proposal=closed.lamps, funded=True, reason=REASON)
    (result,) = services.compute_results(closed)
    assert result.over_by == 0
    html = client.get(reverse("budgets:results", args=[closed.pk])).content.decode()
    assert "Over the budget." not in html


def test_unfunding_never_needs_confirmation(closed, committee):
    services.override_result(
        by=committee, proposal=closed.road, funded=False, reason="上级已经拨款修这条路了。"
    )
    assert ResultOverride.objects.get().funded is False


def test_a_second_override_that_goes_past_the_budget_asks_again(closed, committee):
    services.override_result(
        by=committee, proposal=closed.road, funded=False, reason="上级已经拨款修这条路了。"
    )
    services.override_result(by=committee, proposal=closed.bench, funded=True, reason=REASON)
    with pytest.raises(ValidationError, match="10.00 yuan over the budget"):
        services.override_result(by=committee, proposal=closed.lamps, funded=True, reason=REASON)
    assert set(ResultOverride.objects.values_list("proposal", flat=True)) == {
        closed.road.pk,
        closed.bench.pk,
    }


def test_only_the_committee_overrides(tree, closed):
    for role in (Role.RESIDENT, Role.SUPERVISOR, Role.REPRESENTATIVE):
        with pytest.raises(PermissionDenied):
            services.override_result(
                by=member(tree["village"], role),
                proposal=closed.lamps,
                funded=True,
                reason=REASON,
                confirm_over_budget=True,
            )
    assert not ResultOverride.objects.exists()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_form_refuses_without_the_tick_in_words(client, closed, committee, language):
    client.force_login(committee)
    speak(client, language)
    page = client.get(closed.lamps.get_absolute_url()).content.decode()
    assert 'name="confirm_over_budget"' in page
    assert (
        "I confirm spending over the budget" if language == "en" else "我确认超出预算支出"
    ) in page
    response = client.post(
        override_url(closed.lamps), {"funded": "yes", "reason": REASON}, follow=True
    )
    says = (
        "Funding this project brings the funded total to 120.00 yuan, 20.00 yuan over the "
        "budget of 100.00 yuan."
        if language == "en"
        else "资助此项目后，资助总额为 120.00 元，超出 100.00 元的预算 20.00 元。"
    )
    assert says in response.content.decode()
    assert not ResultOverride.objects.exists()
    client.post(
        override_url(closed.lamps),
        {"funded": "yes", "reason": REASON, "confirm_over_budget": "on"},
    )
    assert ResultOverride.objects.get().funded is True
    html = client.get(reverse("budgets:results", args=[closed.pk])).content.decode()
    says = (
        "over by 20.00 yuan"
        if language == "en"
        else "资助总额 120.00 元，预算 100.00 元：超出 20.00 元。"
    )
    assert says in html


def test_each_village_share_is_checked_on_its_own(tree):
    """In a township cycle, a village going past its own share is over budget even when the
    township's total is not."""
    committee = member(tree["village"], Role.COMMITTEE)
    cycle = make_cycle(
        tree["village"],
        phase="vote",
        total_amount=Decimal("200"),
        sub_budgets={tree["village"]: Decimal("100"), tree["other_village"]: Decimal("100")},
    )
    ours, theirs = cycle.sub_budgets.order_by("council__title")
    ours, theirs = (ours, theirs) if ours.council == tree["village"] else (theirs, ours)
    road = add_proposal(cycle, "修路", "60", sub_budget=ours)
    lamps = add_proposal(cycle, "路灯", "60", sub_budget=ours)
    add_proposal(cycle, "修桥", "10", sub_budget=theirs)
    services.cast_ballot(voter=member(tree["village"]), cycle=cycle, choices={road.pk: 1})
    set_phase(cycle, "results")
    # 120 of the township's 200 is funded, but 120 of the village's 100.
    with pytest.raises(ValidationError, match="over the budget"):
        services.override_result(by=committee, proposal=lamps, funded=True, reason=REASON)
    services.override_result(
        by=committee, proposal=lamps, funded=True, reason=REASON, confirm_over_budget=True
    )
    by_share = {r.sub_budget.pk: r for r in services.compute_results(cycle)}
    assert by_share[ours.pk].over_by == Decimal("20") and by_share[theirs.pk].over_by == 0
