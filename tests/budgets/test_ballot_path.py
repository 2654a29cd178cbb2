"""The vote-day ballot path: the cached copy of a cycle, the phase check that counts, and the
receipt carried in a signed cookie instead of a session write. Runs on SQLite (portable path) and
on PostgreSQL (one-statement path) in CI."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils import timezone

from budgets import services
from budgets.ballots import receipt_hash
from budgets.models import (
    Ballot,
    BallotChoice,
    BallotType,
    Participation,
    Phase,
    PhaseKind,
    SealedBallot,
)
from budgets.views import RECEIPT_COOKIE
from tests.budgets.factories import add_proposal, close_vote, make_cycle, set_phase
from tests.councils.factories import member

pytestmark = pytest.mark.django_db


@pytest.fixture
def cycle(tree):
    cycle = make_cycle(
        tree["village"],
        phase="vote",
        total_amount=Decimal("100000"),
        max_choices=2,
        ballot_type=BallotType.APPROVAL,
    )
    add_proposal(cycle, "修路", "60000")
    add_proposal(cycle, "路灯", "30000")
    return cycle


def picks(cycle):
    return {p.pk: 1 for p in cycle.proposals.order_by("pk")[:2]}


def test_the_cached_copy_is_dropped_when_a_proposal_or_phase_changes(tree, cycle):
    first = services.cycle_for_ballot(cycle.pk)
    assert [p.title for p in services.ballot_proposals(first, None)] == ["修路", "路灯"]
    add_proposal(cycle, "儿童角", "20000")
    again = services.cycle_for_ballot(cycle.pk)
    assert [p.title for p in services.ballot_proposals(again, None)] == ["修路", "路灯", "儿童角"]
    set_phase(cycle, PhaseKind.RESULTS)
    assert services.cycle_for_ballot(cycle.pk).phase_at() == PhaseKind.RESULTS


def test_a_stale_cached_copy_never_lets_a_ballot_in_after_the_close(tree, cycle):
    """The copy says the vote is open; the database says it closed a minute ago."""
    stale = services.cycle_for_ballot(cycle.pk)
    Phase.objects.filter(cycle=cycle, kind=PhaseKind.VOTE).update(
        ends_at=timezone.now() - timedelta(minutes=1)
    )  # .update() sends no signal: the cache keeps the stale copy
    assert services.cycle_for_ballot(cycle.pk).phase_at() == PhaseKind.VOTE
    voter = member(tree["village"])
    with pytest.raises(ValidationError) as refused:
        services.cast_ballot(voter=voter, cycle=stale, choices=picks(cycle))
    assert refused.value.code == "phase"
    assert not Participation.objects.exists() and not Ballot.objects.exists()
    services._local_cycles.clear()
    cache.clear()


def test_pages_get_their_own_copies_of_the_shared_proposals(tree, cycle):
    shared = services.cycle_for_ballot(cycle.pk)
    assert services.cycle_for_ballot(cycle.pk) is shared  # the worker's copy
    mine = services.ballot_proposals(shared, None)
    mine[0].chosen_value = 1
    theirs = services.ballot_proposals(shared, None)
    assert not hasattr(theirs[0], "chosen_value") and theirs[0].pk == mine[0].pk


def test_second_ballot_of_a_voter_writes_nothing(tree, cycle):
    voter = member(tree["village"])
    copy = services.cycle_for_ballot(cycle.pk)
    first = services.cast_ballot(voter=voter, cycle=copy, choices=picks(cycle))
    with pytest.raises(ValidationError) as refused:
        services.cast_ballot(voter=voter, cycle=copy, choices=picks(cycle))
    assert refused.value.code == "already_voted"
    assert Participation.objects.count() == SealedBallot.objects.count() == 1
    close_vote(cycle)
    assert Participation.objects.count() == Ballot.objects.count() == 1
    assert BallotChoice.objects.count() == 2
    assert Ballot.objects.get().receipt_hash == receipt_hash(first.receipt_code)


def test_an_empty_approval_ballot_is_recorded(tree, cycle):
    """An abstention: participation and ballot, no choices."""
    cycle.min_choices = 0
    cycle.save()
    voter = member(tree["village"])
    services.cast_ballot(voter=voter, cycle=services.cycle_for_ballot(cycle.pk), choices={})
    close_vote(cycle)
    assert Participation.objects.count() == Ballot.objects.count() == 1
    assert not BallotChoice.objects.exists()


def vote(client, cycle):
    data = {f"p{pk}": "1" for pk in picks(cycle)}
    return client.post(f"/budgets/cycles/{cycle.pk}/vote/", {**data, "ballot": "1"})


def test_the_receipt_travels_in_a_signed_cookie_scoped_to_its_page(client, tree, cycle):
    client.force_login(member(tree["village"]))
    session_before = dict(client.session)
    response = vote(client, cycle)
    assert response.status_code == 302
    cookie = response.cookies[RECEIPT_COOKIE]
    assert cookie["httponly"] and cookie["path"] == response["Location"]
    assert cookie["samesite"] == "Lax" and int(cookie["max-age"]) <= 15 * 60
    assert "sessionid" not in response.cookies  # no session write on vote day
    assert dict(client.session) == session_before
    shown = client.get(response["Location"])
    assert shown.status_code == 200 and "no-store" in shown["Cache-Control"]
    assert shown.cookies[RECEIPT_COOKIE].value == ""  # deleted once shown


def test_a_tampered_receipt_cookie_shows_nothing(client, tree, cycle):
    client.force_login(member(tree["village"]))
    response = vote(client, cycle)
    signed = response.cookies[RECEIPT_COOKIE].value
    client.cookies[RECEIPT_COOKIE] = signed.replace("false", "true", 1)
    tampered = client.get(response["Location"])
    assert tampered.status_code == 302 and tampered["Location"] == cycle.get_absolute_url()
    client.cookies[RECEIPT_COOKIE] = "not even json"
    assert client.get(response["Location"]).status_code == 302


def test_a_receipt_cookie_of_another_cycle_is_not_shown(client, tree, cycle):
    other = make_cycle(tree["village"], phase="vote", title="另一个预算")
    add_proposal(other, "公厕", "10000")
    client.force_login(member(tree["village"]))
    response = vote(client, cycle)
    client.cookies[RECEIPT_COOKIE] = response.cookies[RECEIPT_COOKIE].value
    wrong = client.get(f"/budgets/cycles/{other.pk}/receipt/")
    assert wrong.status_code == 302 and wrong["Location"] == other.get_absolute_url()


def test_vote_page_of_an_unknown_cycle_is_404(client, tree):
    client.force_login(member(tree["village"]))
    assert client.get("/budgets/cycles/999999/vote/").status_code == 404


def test_the_cycle_page_shows_the_turnout_during_the_vote_only(client, tree, cycle):
    for _ in range(2):
        services.cast_ballot(voter=member(tree["village"]), cycle=cycle, choices=picks(cycle))
    html = client.get(cycle.get_absolute_url()).content.decode()
    assert "2 ballots cast so far." in html
    assert f'data-ws="/ws/budgets/cycles/{cycle.pk}/"' in html and "results-live.js" in html
    assert 'data-i18n-turnout="__N__ ballots cast so far."' in html
    set_phase(cycle, PhaseKind.RESULTS)
    html = client.get(cycle.get_absolute_url()).content.decode()
    assert "ballots cast so far" not in html and "results-live.js" not in html


def test_receipt_codes_use_every_letter_in_every_place():
    """80 random bits, five a character: a mistake in the bit arithmetic would leave some
    letter out of some place (the chance that 3,000 good codes miss one is about 1e-40)."""
    import re

    from budgets.ballots import _RECEIPT_ALPHABET, new_receipt_code

    codes = [new_receipt_code() for _ in range(3000)]
    assert all(re.fullmatch(r"([A-Z2-9]{4}-){3}[A-Z2-9]{4}", c) for c in codes)
    assert len(set(codes)) == len(codes)
    letters = [c.replace("-", "") for c in codes]
    for place in range(16):
        assert {code[place] for code in letters} == set(_RECEIPT_ALPHABET)
