"""Issue 14, point 5: the committee ends a budget phase early or extends it, with a public reason
kept in the cycle's history; later phases move with it; a vote whose ballots were opened is never
reopened. Refusals outnumber successes."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from budgets import services
from budgets.models import PHASE_ORDER, Phase, PhaseChange
from councils.models import CouncilAction, Role
from tests.budgets.factories import add_proposal, close_vote, make_cycle
from tests.councils.factories import UserFactory, member

pytestmark = pytest.mark.django_db


def villager(village, role=None):
    user = member(village)
    if role:
        member(village, role, user=user)
    return user


@pytest.fixture
def committee(tree):
    return villager(tree["village"], Role.COMMITTEE)


def phases(cycle):
    return list(Phase.objects.filter(cycle=cycle).order_by("starts_at"))


def assert_contiguous(cycle):
    items = phases(cycle)
    assert [p.kind for p in items] == PHASE_ORDER
    for before, after in zip(items, items[1:], strict=False):
        assert before.ends_at == after.starts_at
        assert before.ends_at > before.starts_at


def url(cycle):
    return f"/budgets/cycles/{cycle.pk}/phases/"


def test_committee_extends_the_proposal_phase_and_later_phases_move_with_it(
    client, tree, committee
):
    cycle = make_cycle(tree["village"], phase="collect")
    before = {p.kind: (p.starts_at, p.ends_at) for p in phases(cycle)}
    new_end = before["collect"][1] + timedelta(days=3)
    client.force_login(committee)
    response = client.post(
        url(cycle),
        {
            "phase": "collect",
            "new_end": timezone.localtime(new_end).strftime("%Y-%m-%d %H:%M"),
            "reason": "农忙，多留三天收集提议",
        },
    )
    assert response.status_code == 302
    assert_contiguous(cycle)
    after = {p.kind: (p.starts_at, p.ends_at) for p in phases(cycle)}
    moved = after["review"][0] - before["review"][0]
    assert timedelta(days=3) - timedelta(minutes=1) < moved <= timedelta(days=3)
    for kind in PHASE_ORDER[1:]:  # each later phase keeps its length
        assert after[kind][1] - after[kind][0] == before[kind][1] - before[kind][0]
    change = PhaseChange.objects.get()
    assert (change.phase, change.kind, change.by) == ("collect", "extend", committee)
    assert CouncilAction.objects.get().verb == "change_phase"
    page = client.get(cycle.get_absolute_url()).content.decode()
    assert "农忙，多留三天收集提议" in page  # the reason is public
    client.logout()
    assert "农忙，多留三天收集提议" in client.get(cycle.get_absolute_url()).content.decode()


def test_ending_the_vote_early_stops_ballots_and_is_shown_prominently(client, tree, committee):
    village = tree["village"]
    cycle = make_cycle(village, phase="vote")
    road = add_proposal(cycle, "修路", "30000")
    services.change_phase_end(
        by=committee, cycle=cycle, phase="vote", new_end=timezone.now(), reason="台风停电，提前结束"
    )
    assert_contiguous(cycle)
    cycle.refresh_from_db()
    assert cycle.phase_at() == "results"
    with pytest.raises(ValidationError):
        services.cast_ballot(voter=member(village), cycle=cycle, choices={road.pk: 1})
    page = client.get(cycle.get_absolute_url()).content.decode()
    assert "The vote was ended early" in page and "台风停电，提前结束" in page


def test_a_closed_vote_can_be_reopened_only_while_its_ballots_are_sealed(tree, committee):
    cycle = make_cycle(tree["village"], phase="results")
    services.change_phase_end(
        by=committee,
        cycle=cycle,
        phase="vote",
        new_end=timezone.now() + timedelta(hours=2),
        reason="系统故障，延长投票两小时",
    )
    cycle.refresh_from_db()
    assert cycle.phase_at() == "vote"
    assert_contiguous(cycle)
    close_vote(cycle)
    cycle.refresh_from_db()
    assert cycle.ballots_opened_at is not None
    with pytest.raises(ValidationError, match="can no longer be changed or reopened"):
        services.change_phase_end(
            by=committee,
            cycle=cycle,
            phase="vote",
            new_end=timezone.now() + timedelta(days=1),
            reason="再延长一天",
        )
    assert PhaseChange.objects.count() == 1


@pytest.mark.parametrize(
    ("phase", "shift", "reason", "message"),
    [
        ("vote", timedelta(days=1), "", "Give residents the reason"),
        ("vote", timedelta(days=1), "太短", "Give residents the reason"),
        ("vote", -timedelta(days=30), "改到过去", "The new end is in the past"),
        ("collect", timedelta(days=1), "提议期已过", "This phase is over"),
        ("nonsense", timedelta(days=1), "没有这个阶段", "no such phase"),
    ],
)
def test_bad_changes_are_refused_and_change_nothing(tree, committee, phase, shift, reason, message):
    cycle = make_cycle(tree["village"], phase="vote")
    before = [(p.starts_at, p.ends_at) for p in phases(cycle)]
    with pytest.raises(ValidationError, match=message):
        services.change_phase_end(
            by=committee, cycle=cycle, phase=phase, new_end=timezone.now() + shift, reason=reason
        )
    assert [(p.starts_at, p.ends_at) for p in phases(cycle)] == before
    assert not PhaseChange.objects.exists() and not CouncilAction.objects.exists()


def test_a_new_end_before_the_phase_starts_is_refused(tree, committee):
    cycle = make_cycle(tree["village"], phase="collect")
    review = next(p for p in phases(cycle) if p.kind == "review")
    with pytest.raises(ValidationError, match="after the phase starts"):
        services.change_phase_end(
            by=committee,
            cycle=cycle,
            phase="review",
            new_end=review.starts_at - timedelta(hours=1),
            reason="审核提前结束",
        )


def test_only_the_committee_moves_the_calendar(client, tree):
    village = tree["village"]
    cycle = make_cycle(village, phase="collect")
    refused = {
        "outsider": UserFactory(),
        "resident": villager(village),
        "representative": villager(village, Role.REPRESENTATIVE),
        "supervisor": villager(village, Role.SUPERVISOR),
        "official": member(tree["township"], Role.OFFICIAL),
        "other_committee": villager(tree["other_village"], Role.COMMITTEE),
    }
    data = {"phase": "collect", "end_now": "on", "reason": "提前结束收集"}
    for name, user in refused.items():
        with pytest.raises(PermissionDenied):
            services.change_phase_end(
                by=user, cycle=cycle, phase="collect", new_end=timezone.now(), reason="提前结束"
            )
        client.force_login(user)
        assert client.post(url(cycle), data).status_code == 403, name
        assert client.get(url(cycle)).status_code == 403, name
    client.logout()
    response = client.post(url(cycle), data)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not PhaseChange.objects.exists()
    assert cycle.phase_at() == "collect"


def test_the_form_explains_what_is_missing_and_keeps_the_reason(client, tree, committee):
    cycle = make_cycle(tree["village"], phase="collect")
    client.force_login(committee)
    response = client.post(url(cycle), {"phase": "collect", "reason": "村民要求延长"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Give the new end date and time, or choose to end it now." in html
    assert "村民要求延长" in html
    response = client.post(url(cycle), {"phase": "collect", "new_end": "明天", "reason": "延长"})
    assert "Write the date and time like 2026-09-15 19:30." in response.content.decode()
    assert not PhaseChange.objects.exists()


def test_the_history_is_append_only(tree, committee):
    cycle = make_cycle(tree["village"], phase="collect")
    change = services.change_phase_end(
        by=committee, cycle=cycle, phase="collect", new_end=timezone.now(), reason="提前结束收集"
    )
    assert change.kind == "end_early"
    change.reason = "改写理由"
    with pytest.raises(ValidationError):
        change.save()
    with pytest.raises(ValidationError):
        change.delete()
