"""Every ballot type, valid and invalid; eligibility; paper ballots; receipts; replacement."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from budgets import services
from budgets.models import (
    Ballot,
    BallotChoice,
    BallotType,
    Eligibility,
    Participation,
    SealedBallot,
)
from councils.models import Household, MembershipStatus, Role
from tests.budgets.factories import add_proposal, close_vote, make_cycle, set_phase
from tests.councils.factories import UserFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def cycle(tree):
    return make_cycle(
        tree["village"],
        phase="vote",
        total_amount=Decimal("100000"),
        max_choices=2,
        min_choices=1,
        points=10,
    )


@pytest.fixture
def projects(cycle):
    return [
        add_proposal(cycle, "修路", "60000"),
        add_proposal(cycle, "路灯", "30000"),
        add_proposal(cycle, "儿童角", "20000"),
    ]


def cast(cycle, voter, picks, **kwargs):
    return services.cast_ballot(voter=voter, cycle=cycle, choices=picks, **kwargs)


def use(cycle, ballot_type):
    cycle.ballot_type = ballot_type
    cycle.save()


# -- ballot types ---------------------------------------------------------------------------


def test_approval_ballot_is_stored_without_the_voter(tree, cycle, projects):
    voter = member(tree["village"])
    result = cast(cycle, voter, {projects[0].pk: 1, projects[2].pk: 1})
    assert not Ballot.objects.exists()  # sealed until the vote closes
    assert SealedBallot.objects.get().participation.voter == voter
    close_vote(cycle)
    assert not SealedBallot.objects.exists()
    ballot = Ballot.objects.get()
    assert sorted(ballot.choices.values_list("proposal_id", flat=True)) == [
        projects[0].pk,
        projects[2].pk,
    ]
    assert Participation.objects.get().voter == voter
    assert not [
        f
        for f in Ballot._meta.get_fields()
        if getattr(f, "related_model", None)
        and f.related_model.__name__ in ("User", "Participation")
    ]
    assert services.find_ballot(cycle=cycle, receipt_code=result.receipt_code) == ballot


@pytest.mark.parametrize(
    ("ballot_type", "picks", "message"),
    [
        (BallotType.APPROVAL, {0: 1, 1: 1, 2: 1}, "at most 2 projects"),
        (BallotType.APPROVAL, {}, "at least 1 project"),
        (BallotType.KNAPSACK, {0: 1, 1: 1, 2: 1}, "more than the budget"),
        (BallotType.KNAPSACK, {}, "Your ballot is empty"),
        (BallotType.CUMULATIVE, {0: 6, 1: 5}, "You gave 11 points but have only 10"),
        (BallotType.CUMULATIVE, {0: -1, 1: 5}, "cannot be negative"),
        (BallotType.RANKED, {0: 1, 1: 1}, "same rank"),
        (BallotType.RANKED, {0: 1, 1: 3}, "without gaps"),
        (BallotType.RANKED, {0: 1, 1: 2, 2: 3}, "at most 2 projects"),
        (BallotType.RANKED, {}, "Your ballot is empty"),
    ],
)
def test_invalid_ballots_are_refused_with_a_reason(
    tree, cycle, projects, ballot_type, picks, message
):
    use(cycle, ballot_type)
    with pytest.raises(ValidationError) as error:
        cast(cycle, member(tree["village"]), {projects[i].pk: v for i, v in picks.items()})
    assert message in " ".join(error.value.messages)
    assert not Participation.objects.exists() and not Ballot.objects.exists()


@pytest.mark.parametrize(
    ("ballot_type", "picks", "stored"),
    [
        (BallotType.KNAPSACK, {0: 1, 1: 1}, {0: 1, 1: 1}),
        (BallotType.CUMULATIVE, {0: 7, 2: 3, 1: 0}, {0: 7, 2: 3}),
        (BallotType.RANKED, {2: 1, 0: 2}, {2: 1, 0: 2}),
        (BallotType.APPROVAL, {1: 1}, {1: 1}),
    ],
)
def test_valid_ballots_of_each_type(tree, cycle, projects, ballot_type, picks, stored):
    use(cycle, ballot_type)
    cast(cycle, member(tree["village"]), {projects[i].pk: v for i, v in picks.items()})
    close_vote(cycle)
    assert dict(BallotChoice.objects.values_list("proposal_id", "value")) == {
        projects[i].pk: v for i, v in stored.items()
    }


def test_a_project_not_on_the_ballot_is_refused(tree, cycle, projects):
    unreviewed = add_proposal(cycle, "未审核", "100", feasible=False)
    with pytest.raises(ValidationError, match="not on this ballot"):
        cast(cycle, member(tree["village"]), {unreviewed.pk: 1})


# -- phases and eligibility ---------------------------------------------------------------------


@pytest.mark.parametrize("phase", ["collect", "review", "deliberate", "results", "evaluation"])
def test_voting_only_in_the_vote_phase(tree, cycle, projects, phase):
    set_phase(cycle, phase)
    with pytest.raises(ValidationError, match="Voting is not open"):
        cast(cycle, member(tree["village"]), {projects[0].pk: 1})
    assert not Participation.objects.exists()


@pytest.mark.parametrize(
    "who", ["outsider", "applicant", "other_village", "township_official", "committee_only"]
)
def test_only_verified_residents_vote(tree, cycle, projects, who):
    voter = {
        "outsider": UserFactory,
        "applicant": lambda: member(tree["village"], status=MembershipStatus.PENDING),
        "other_village": lambda: member(tree["other_village"]),
        "township_official": lambda: member(tree["township"], Role.OFFICIAL),
        "committee_only": lambda: member(tree["village"], Role.COMMITTEE),
    }[who]()
    with pytest.raises(PermissionDenied):
        cast(cycle, voter, {projects[0].pk: 1})
    assert not Participation.objects.exists()


def test_grid_residents_count_as_village_residents(tree, cycle, projects):
    cast(cycle, member(tree["village"]), {projects[0].pk: 1})
    assert Participation.objects.count() == 1


def test_household_mode_one_vote_per_household_cast_by_the_head(tree, cycle, projects):
    cycle.eligibility = Eligibility.HOUSEHOLD
    cycle.save()
    head, spouse = member(tree["village"]), member(tree["village"])
    household = Household.objects.create(council=tree["village"], number="1组1号", head=head)
    with pytest.raises(PermissionDenied, match="household head"):
        cast(cycle, spouse, {projects[0].pk: 1})
    cast(cycle, head, {projects[0].pk: 1})
    assert Participation.objects.get().household == household
    with pytest.raises(ValidationError, match="already voted"):
        cast(cycle, head, {projects[1].pk: 1})


def test_voting_twice_is_refused_unless_replacing(tree, cycle, projects):
    voter = member(tree["village"])
    cast(cycle, voter, {projects[0].pk: 1})
    with pytest.raises(ValidationError, match="already voted"):
        cast(cycle, voter, {projects[1].pk: 1})
    assert (Participation.objects.count(), SealedBallot.objects.count()) == (1, 1)


# -- paper ballots -------------------------------------------------------------------------------


def test_paper_then_online_for_the_same_person_is_refused(tree, cycle, projects):
    officer = member(tree["village"], Role.COMMITTEE)
    voter = member(tree["village"])
    result = services.enter_paper_ballot(
        officer=officer, cycle=cycle, voter=voter, choices={projects[0].pk: 1}
    )
    assert result.channel == "paper"
    assert Participation.objects.get().entered_by == officer
    with pytest.raises(ValidationError, match="already voted"):
        cast(cycle, voter, {projects[1].pk: 1})
    with pytest.raises(ValidationError, match="paper ballot cannot be replaced"):
        cast(cycle, voter, {projects[1].pk: 1}, replace=True)
    close_vote(cycle)
    assert Ballot.objects.get().channel == "paper"


def test_online_then_paper_for_the_same_person_is_refused(tree, cycle, projects):
    officer = member(tree["village"], Role.COMMITTEE)
    voter = member(tree["village"])
    cast(cycle, voter, {projects[0].pk: 1})
    with pytest.raises(ValidationError, match="already voted"):
        services.enter_paper_ballot(
            officer=officer, cycle=cycle, voter=voter, choices={projects[1].pk: 1}
        )
    assert SealedBallot.objects.count() == 1
    close_vote(cycle)
    assert Ballot.objects.get().channel == "online"


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.SUPERVISOR, Role.REPRESENTATIVE])
def test_only_the_committee_enters_paper_ballots(tree, cycle, projects, role):
    with pytest.raises(PermissionDenied):
        services.enter_paper_ballot(
            officer=member(tree["village"], role),
            cycle=cycle,
            voter=member(tree["village"]),
            choices={projects[0].pk: 1},
        )


# -- receipts and replacement -----------------------------------------------------------------


def test_receipt_finds_exactly_the_ballot_cast(tree, cycle, projects):
    first = cast(cycle, member(tree["village"]), {projects[0].pk: 1})
    second = cast(cycle, member(tree["village"]), {projects[1].pk: 1})
    assert services.find_ballot(cycle=cycle, receipt_code=first.receipt_code) is None  # sealed
    close_vote(cycle)
    found = services.find_ballot(cycle=cycle, receipt_code=first.receipt_code.lower())
    assert [c.proposal for c in found.choices.all()] == [projects[0]]
    assert services.find_ballot(cycle=cycle, receipt_code=second.receipt_code).pk != found.pk
    assert services.find_ballot(cycle=cycle, receipt_code="AAAA-BBBB-CCCC-DDDD") is None


def test_replacing_a_ballot_keeps_one_ballot_per_participation(tree, cycle, projects):
    voter = member(tree["village"])
    first = cast(cycle, voter, {projects[0].pk: 1})
    second = cast(cycle, voter, {projects[1].pk: 1}, replace=True)
    assert second.replaced and second.replacements_left == cycle.max_replacements - 1
    close_vote(cycle)
    assert services.find_ballot(cycle=cycle, receipt_code=first.receipt_code) is None
    assert [
        c.proposal
        for c in services.find_ballot(cycle=cycle, receipt_code=second.receipt_code).choices.all()
    ] == [projects[1]]
    assert (Participation.objects.get().replacements, Ballot.objects.count()) == (1, 1)


def test_replacing_without_having_voted_changes_nothing(tree, cycle, projects):
    with pytest.raises(ValidationError, match="no ballot to replace"):
        cast(cycle, member(tree["village"]), {projects[1].pk: 1}, replace=True)
    assert not Participation.objects.exists() and not SealedBallot.objects.exists()


def test_no_replacement_after_the_vote_closes(tree, cycle, projects):
    voter = member(tree["village"])
    first = cast(cycle, voter, {projects[0].pk: 1})
    set_phase(cycle, "results")
    with pytest.raises(ValidationError, match="Voting is not open"):
        cast(cycle, voter, {projects[1].pk: 1}, replace=True)
    close_vote(cycle)
    found = services.find_ballot(cycle=cycle, receipt_code=first.receipt_code)
    assert [c.proposal for c in found.choices.all()] == [projects[0]]
