"""Budgets tell residents (issue 17): a phase opened, the vote closes tomorrow, results are
published; proposals can be followed (budgets.notices, budgets.apps)."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from budgets import notices
from budgets import services as budgets
from budgets.models import Eligibility, Phase, PhaseKind
from councils.models import Household, HouseholdMember, MembershipStatus, Role
from notifications import delivery, registry
from notifications.kinds import SPECS, Kind, render
from notifications.models import Fanout, Follow, Notification
from tests.budgets.factories import add_proposal, close_vote, make_cycle, set_phase
from tests.councils.factories import UserFactory, member

pytestmark = pytest.mark.django_db

DAYTIME = "2026-12-01 02:00:00+00:00"  # 10:00 in China


@pytest.fixture(autouse=True)
def queue_only(settings):
    """Tasks are queued, not run: each test expands its fan-outs itself."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


@pytest.fixture
def frozen():
    with freeze_time(DAYTIME) as clock:
        yield clock


@pytest.fixture
def people(tree, frozen):
    """Residents of the village, and everyone who is not one."""
    village = tree["village"]
    committee = member(village)
    member(village, Role.COMMITTEE, user=committee)
    return {
        "resident": member(village),
        "township_resident": member(tree["township"]),  # a resident's role carries down
        "committee": committee,
        # Not residents of the village's cycle:
        "committee_only": member(village, Role.COMMITTEE),
        "supervisor_only": member(village, Role.SUPERVISOR),
        "grid_resident": member(tree["grid"]),  # roles do not carry up
        "applicant": member(village, status=MembershipStatus.PENDING),
        "other_village": member(tree["other_village"]),
        "far_village": member(tree["far_village"]),
        "official": member(tree["township"], Role.OFFICIAL),
        "outsider": UserFactory(),
    }


RESIDENTS = {"resident", "township_resident", "committee"}


def expand_all() -> int:
    return sum(delivery.expand(pk) for pk in Fanout.objects.values_list("pk", flat=True))


def told(event_key: str, people: dict) -> set[str]:
    ids = set(Notification.objects.filter(event_key=event_key).values_list("recipient", flat=True))
    return {name for name, user in people.items() if user.pk in ids}


def test_an_open_proposal_phase_is_announced_to_the_cycles_residents_only(tree, people):
    cycle = make_cycle(tree["village"], phase="collect")
    assert notices.sweep() == {"budget_announcements": 1, "budget_vote_reminders": 0}
    collect = cycle.phases.get(kind=PhaseKind.COLLECT)
    key = f"budget-phase:{collect.pk}"
    expand_all()
    assert told(key, people) == RESIDENTS
    notification = Notification.objects.filter(event_key=key).first()
    assert notification.kind == Kind.BUDGET_PHASE_OPENED
    assert notification.council == tree["village"]
    assert notification.url == reverse("budgets:cycle", args=[cycle.pk])
    assert notification.params["cycle"] == cycle.title
    assert notification.params["phase_kind"] == PhaseKind.COLLECT
    # The end, in China time, to the minute.
    assert notification.params["until"] == timezone.localtime(collect.ends_at).strftime(
        "%Y-%m-%d %H:%M"
    )


def test_the_sweep_run_twice_announces_once(tree, people):
    make_cycle(tree["village"], phase="collect")
    notices.sweep()
    expand_all()
    before = Notification.objects.count()
    assert notices.sweep()["budget_announcements"] == 0
    assert expand_all() == 0
    assert Notification.objects.count() == before == len(RESIDENTS)
    assert Fanout.objects.count() == 1


def test_the_vote_is_announced_when_it_opens_by_the_clock(tree, people, frozen):
    cycle = make_cycle(tree["village"], phase="deliberate")
    notices.sweep()
    assert not Fanout.objects.exists()  # proposals are over, the vote not started
    vote = cycle.phases.get(kind=PhaseKind.VOTE)
    frozen.move_to(vote.starts_at + datetime.timedelta(seconds=30))
    assert notices.announce_open_phases() == 1
    expand_all()
    assert told(f"budget-phase:{vote.pk}", people) == RESIDENTS
    assert notices.announce_open_phases() == 0


@pytest.mark.parametrize("phase", ["review", "deliberate", "implementation", "evaluation"])
def test_other_phases_are_not_announced(tree, people, phase):
    make_cycle(tree["village"], phase=phase)
    assert notices.announce_open_phases() == 0
    assert not Fanout.objects.exists()


def test_a_township_cycle_tells_the_residents_of_the_villages_with_a_share(tree, people):
    budgets.create_cycle(
        by=None,
        council=tree["township"],
        title="白沙镇微实事",
        total_amount=Decimal("100000"),
        starts_at=timezone.now() - datetime.timedelta(hours=1),
        sub_budgets={tree["village"]: Decimal("50000")},
    )
    notices.sweep()
    expand_all()
    (key,) = Fanout.objects.values_list("event_key", flat=True)
    # The other village has no share; the far village is in another township.
    assert told(key, people) == RESIDENTS
    assert Notification.objects.filter(event_key=key).first().council == tree["township"]


# --- The reminder a day before the vote closes --------------------------------------------------


@pytest.fixture
def voting(tree, people):
    cycle = make_cycle(tree["village"], phase="vote")
    project = add_proposal(cycle, "路灯", "1000")
    notices.sweep()  # the vote's own announcement
    Fanout.objects.all().delete()
    return cycle, project


def vote(cycle, project, voter):
    budgets.cast_ballot(voter=voter, cycle=cycle, choices={project.pk: 1})


def closing_key(cycle) -> str:
    return f"vote-closing:{cycle.phases.get(kind=PhaseKind.VOTE).pk}"


def test_no_reminder_while_the_vote_has_more_than_a_day_to_run(voting, frozen):
    cycle, _project = voting
    ends = cycle.phases.get(kind=PhaseKind.VOTE).ends_at
    frozen.move_to(ends - datetime.timedelta(hours=24, minutes=1))
    assert notices.remind_closing_votes() == 0
    frozen.move_to(ends)  # closed: too late
    assert notices.remind_closing_votes() == 0
    assert not Fanout.objects.exists()


def test_the_reminder_goes_once_to_those_who_may_vote_and_have_not(tree, people, voting, frozen):
    cycle, project = voting
    extra = {"online_voter": member(tree["village"]), "paper_voter": member(tree["village"])}
    vote(cycle, project, extra["online_voter"])
    budgets.enter_paper_ballot(
        officer=people["committee"],
        cycle=cycle,
        voter=extra["paper_voter"],
        choices={project.pk: 1},
    )
    vote(cycle, project, people["township_resident"])
    everyone = {**people, **extra}
    ends = cycle.phases.get(kind=PhaseKind.VOTE).ends_at
    frozen.move_to(ends - datetime.timedelta(hours=23))
    assert notices.sweep()["budget_vote_reminders"] == 1
    expand_all()
    assert told(closing_key(cycle), everyone) == {"resident", "committee"}
    # Run again, and again an hour before the close: nobody is reminded twice.
    assert notices.sweep()["budget_vote_reminders"] == 0
    frozen.move_to(ends - datetime.timedelta(hours=1))
    assert notices.sweep()["budget_vote_reminders"] == 0
    assert expand_all() == 0
    assert Notification.objects.filter(event_key=closing_key(cycle)).count() == 2


def test_the_reminder_reads_the_same_for_everyone_and_says_nothing_of_them(
    tree, people, voting, frozen
):
    cycle, project = voting
    for _ in range(3):
        member(tree["village"])
    vote(cycle, project, member(tree["village"]))
    frozen.move_to(cycle.phases.get(kind=PhaseKind.VOTE).ends_at - datetime.timedelta(hours=2))
    notices.remind_closing_votes()
    expand_all()
    reminders = list(Notification.objects.filter(event_key=closing_key(cycle)))
    assert len(reminders) == 6  # the three residents and the three new ones
    assert {n.kind for n in reminders} == {Kind.VOTE_CLOSING}
    params = {tuple(sorted(n.params.items())) for n in reminders}
    assert len(params) == 1 and set(reminders[0].params) == {"cycle", "until"}
    texts = {render(SPECS[n.kind].text, n.params) for n in reminders}
    short = {render(SPECS[n.kind].sms, {**n.params, "link": n.url}) for n in reminders}
    assert len(texts) == 1 and len(short) == 1
    assert {n.url for n in reminders} == {reverse("budgets:cycle", args=[cycle.pk])}


def test_who_votes_before_the_reminder_is_expanded_is_not_reminded(people, voting, frozen):
    cycle, project = voting
    frozen.move_to(cycle.phases.get(kind=PhaseKind.VOTE).ends_at - datetime.timedelta(hours=3))
    notices.remind_closing_votes()
    vote(cycle, project, people["resident"])  # between the sweep and its task
    expand_all()
    assert told(closing_key(cycle), people) == {"committee", "township_resident"}


def test_in_household_mode_only_heads_of_households_that_have_not_voted_are_reminded(
    tree, people, frozen
):
    village = tree["village"]
    cycle = make_cycle(village, phase="vote", eligibility=Eligibility.HOUSEHOLD)
    project = add_proposal(cycle, "路灯", "1000")
    heads = {name: member(village) for name in ("waiting", "voted", "voted_on_paper")}
    spouse = member(village)
    households = {
        name: Household.objects.create(council=village, number=f"1组{n}号", head=head)
        for n, (name, head) in enumerate(heads.items())
    }
    vote(cycle, project, heads["voted"])
    # The household's vote entered on paper from the register (an entry with no account).
    entry = HouseholdMember.objects.create(
        household=households["voted_on_paper"], name="户主", is_head=True
    )
    budgets.enter_paper_ballot(
        officer=people["committee"], cycle=cycle, member=entry, choices={project.pk: 1}
    )
    frozen.move_to(cycle.phases.get(kind=PhaseKind.VOTE).ends_at - datetime.timedelta(hours=5))
    notices.remind_closing_votes()
    expand_all()
    assert told(closing_key(cycle), {**people, **heads, "spouse": spouse}) == {"waiting"}


def test_no_reminder_once_the_ballots_are_opened(voting, frozen):
    cycle, _project = voting
    vote_phase = cycle.phases.get(kind=PhaseKind.VOTE)
    type(cycle).objects.filter(pk=cycle.pk).update(ballots_opened_at=timezone.now())
    frozen.move_to(vote_phase.ends_at - datetime.timedelta(hours=2))
    assert notices.remind_closing_votes() == 0


def test_each_batch_of_non_voters_is_one_query(people, voting):
    cycle, project = voting
    vote(cycle, project, people["resident"])
    args = notices.audience_args(cycle, voters=True)
    with CaptureQueriesContext(connection) as queries:
        first = notices.non_voter_ids(0, 1, **args)
        rest = notices.non_voter_ids(first[-1], 10, **args)
    assert len(queries) == 2
    assert first + rest == sorted([people["committee"].pk, people["township_resident"].pk])
    # Without the precomputed councils the resolver still answers the same.
    assert notices.non_voter_ids(0, 10, cycle_id=cycle.pk) == first + rest


def test_the_audiences_are_registered():
    assert registry.audience("budget_non_voters") is notices.non_voter_ids
    assert registry.audience("budget_residents") is notices.resident_ids


# --- Results --------------------------------------------------------------------------------


@pytest.fixture
def counted(tree, people):
    cycle = make_cycle(tree["village"], phase="vote")
    project = add_proposal(cycle, "路灯", "1000")
    vote(cycle, project, people["resident"])
    close_vote(cycle)
    Fanout.objects.all().delete()
    return cycle


def test_published_results_are_announced_to_the_residents_but_the_publisher(people, counted):
    cycle = budgets.publish_results(by=people["committee"], cycle=counted)
    (fanout,) = Fanout.objects.all()
    published = cycle.results_published_at.timestamp()
    assert fanout.event_key == f"budget-results:{cycle.pk}:{published:.0f}"
    expand_all()
    assert told(fanout.event_key, people) == {"resident", "township_resident"}
    assert fanout.params["phase_kind"] == PhaseKind.RESULTS
    results = cycle.phases.get(kind=PhaseKind.RESULTS)
    assert fanout.params["until"] == timezone.localtime(results.ends_at).strftime("%Y-%m-%d %H:%M")
    # The sweep finds the publication already announced.
    assert notices.sweep() == {"budget_announcements": 0, "budget_vote_reminders": 0}
    assert Fanout.objects.count() == 1


def test_a_refused_publication_announces_nothing(people, counted):
    with pytest.raises(Exception, match="committee"):
        budgets.publish_results(by=people["resident"], cycle=counted)
    assert not Fanout.objects.exists()


def test_the_sweep_catches_up_a_publication_whose_announcement_is_missing(people, counted):
    type(counted).objects.filter(pk=counted.pk).update(results_published_at=timezone.now())
    assert notices.announce_open_phases() == 1
    assert notices.announce_open_phases() == 0
    expand_all()
    (key,) = Fanout.objects.values_list("event_key", flat=True)
    assert told(key, people) == RESIDENTS  # nobody published it here


def test_the_sweep_runs_with_the_reapers(tree, people):
    from core import tasks

    make_cycle(tree["village"], phase="collect")
    counts = tasks.reap_stalled()
    assert counts["budget_announcements"] == 1
    assert Fanout.objects.get().kind == Kind.BUDGET_PHASE_OPENED


def test_the_phase_of_a_moved_calendar_is_announced_once(tree, people, frozen):
    cycle = make_cycle(tree["village"], phase="collect")
    notices.announce_open_phases()
    set_phase(cycle, "collect")  # the calendar moved; the same phase is still open
    assert notices.announce_open_phases() == 0
    assert Phase.objects.filter(cycle=cycle).count() == 7


# --- Following a proposal ---------------------------------------------------------------------


def test_a_proposal_can_be_followed_from_its_page(client, tree, people):
    cycle = make_cycle(tree["village"], phase="collect")
    proposal = add_proposal(cycle, "路灯", "1000")
    assert registry.followable(proposal) == "budgets.view_cycle"
    url = reverse("budgets:proposal", args=[proposal.pk])
    assert 'action="/notifications/follow/"' not in client.get(url).content.decode()
    client.force_login(people["resident"])
    page = client.get(url).content.decode()
    assert f'value="budgets.proposal:{proposal.pk}"' in page
    response = client.post(
        reverse("notifications:follow"), {"target": f"budgets.proposal:{proposal.pk}", "next": url}
    )
    assert response.status_code == 302
    assert Follow.objects.filter(user=people["resident"], target=f"budgets.proposal:{proposal.pk}")
