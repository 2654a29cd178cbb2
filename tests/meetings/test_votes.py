"""Roster snapshot, roll call, proxies and roll-call votes through the real services."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from councils.models import Household, Membership, MembershipStatus, Role
from meetings import services as sessions
from meetings.models import Attendance, MajorityKind, MotionStatus, RosterMode, SessionKind, Vote
from tests.councils.factories import UserFactory, member
from tests.meetings.conftest import entry_of, mark_present, opened, representatives, scheduled

pytestmark = pytest.mark.django_db


def meeting(chair, village, size: int, present: int, **kwargs):
    """A representatives' meeting of `size` members (the chair included), `present` of them in."""
    reps = representatives(village, size - 1)
    session = opened(chair, village, **kwargs)
    mark_present(chair, session, [chair, *reps][:present])
    return session, reps


def motion_open(chair, session, majority=MajorityKind.SESSION):
    motion = sessions.add_motion(
        actor=chair, session=session, title="硬化村口道路", majority=majority
    )
    return sessions.open_vote(actor=chair, motion=motion)


def vote_all(motion, users, choice):
    for user in users:
        sessions.cast_vote(voter=user, motion=motion, choice=choice)


# --- roster --------------------------------------------------------------------------------------


def test_roster_is_committee_and_representatives_and_frozen_at_opening(chair, village):
    reps = representatives(village, 3)
    member(village)  # a plain resident: not on a representatives' roster
    session = opened(chair, village)
    assert set(session.roster.values_list("person_id", flat=True)) == {chair.pk} | {
        r.pk for r in reps
    }
    assert session.entitled_count == 4
    Membership.objects.filter(user=reps[0], role=Role.REPRESENTATIVE).update(
        status=MembershipStatus.REVOKED
    )
    representatives(village, 2)
    session.refresh_from_db()
    assert session.roster.count() == 4 and session.entitled_count == 4


def test_household_roster_counts_every_household_in_the_denominator(chair, village):
    heads = [member(village) for _ in range(3)]
    for i, head in enumerate(heads):
        Household.objects.create(council=village, number=f"{i + 1}号", head=head)
    Household.objects.create(council=village, number="99号")  # no head on record
    session = opened(chair, village, kind=SessionKind.ASSEMBLY, roster_mode=RosterMode.HOUSEHOLDS)
    assert session.roster.count() == 3
    assert session.entitled_count == 4


def test_assembly_of_residents_takes_every_verified_resident(chair, village, tree):
    residents = [member(village) for _ in range(4)]
    member(village, status=MembershipStatus.PENDING)
    member(tree["other_village"])
    session = opened(chair, village, kind=SessionKind.ASSEMBLY)
    people = set(session.roster.values_list("person_id", flat=True))
    assert people == {chair.pk} | {r.pk for r in residents}


def test_roster_mode_must_fit_the_kind(chair, village):
    with pytest.raises(ValidationError):
        scheduled(chair, village, roster_mode=RosterMode.HOUSEHOLDS)


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.REPRESENTATIVE, Role.SUPERVISOR])
def test_only_the_committee_schedules(village, role):
    user = member(village, role)
    with pytest.raises(PermissionDenied):
        scheduled(user, village)


def test_only_the_chair_opens(chair, village):
    (rep,) = representatives(village, 1)
    session = scheduled(chair, village)
    with pytest.raises(PermissionDenied):
        sessions.open_session(early=True, actor=rep, session=session)
    sessions.open_session(early=True, actor=chair, session=session)
    with pytest.raises(ValidationError):
        sessions.open_session(early=True, actor=chair, session=session)


# --- quorum through the services ----------------------------------------------------------------


@pytest.mark.parametrize(("present", "met"), [(6, True), (5, False)])
def test_quorum_of_nine_members(chair, village, present, met):
    session, _ = meeting(chair, village, 9, present)
    numbers = sessions.attendance_numbers(session)
    assert (numbers["present"], numbers["entitled"], numbers["quorum_met"]) == (present, 9, met)
    assert numbers["quorum_needed"] == 6


@pytest.mark.parametrize(("present", "met"), [(7, True), (6, False)])
def test_quorum_of_ten_members(chair, village, present, met):
    session, _ = meeting(chair, village, 10, present)
    assert sessions.attendance_numbers(session)["quorum_met"] is met


def test_a_vote_without_quorum_has_no_result_but_no_quorum(chair, village):
    session, reps = meeting(chair, village, 9, 5)
    motion = motion_open(chair, session)
    vote_all(motion, [chair, *reps[:4]], "yes")
    motion = sessions.close_vote(actor=chair, motion=motion)
    assert motion.result == "no_quorum"


def test_exactly_half_of_those_present_is_not_a_majority(chair, village):
    session, reps = meeting(chair, village, 10, 10)
    motion = motion_open(chair, session)
    vote_all(motion, [chair, *reps[:4]], "yes")
    vote_all(motion, reps[4:], "no")
    assert sessions.close_vote(actor=chair, motion=motion).result == "failed"


def test_half_plus_one_of_those_present_passes(chair, village):
    session, reps = meeting(chair, village, 10, 10)
    motion = motion_open(chair, session)
    vote_all(motion, [chair, *reps[:5]], "yes")
    vote_all(motion, reps[5:], "abstain")
    assert sessions.close_vote(actor=chair, motion=motion).result == "passed"


def test_qualified_majority_of_all_members(chair, village):
    session, reps = meeting(chair, village, 12, 9)
    motion = motion_open(chair, session, MajorityKind.TWO_THIRDS_MEMBERS)
    vote_all(motion, [chair, *reps[:6]], "yes")  # 7 of 12 < 2/3 though 7 of 9 present
    assert sessions.close_vote(actor=chair, motion=motion).result == "failed"
    assert motion.rule["decision_base"] == "members"


def test_the_rule_is_frozen_with_the_motion(chair, village):
    session, reps = meeting(chair, village, 9, 9)
    motion = motion_open(chair, session, MajorityKind.TWO_THIRDS_PRESENT)
    vote_all(motion, [chair, *reps[:5]], "yes")
    motion = sessions.close_vote(actor=chair, motion=motion)
    type(session).objects.filter(pk=session.pk).update(rule={})  # the session rule is lost
    motion.refresh_from_db()
    assert sessions.result_of(motion) == "passed" == motion.result
    assert motion.rule["decision"] == {"numerator": 2, "denominator": 3, "strict": False}


# --- votes ---------------------------------------------------------------------------------------


def test_double_vote_is_refused(chair, village):
    session, reps = meeting(chair, village, 3, 3)
    motion = motion_open(chair, session)
    sessions.cast_vote(voter=reps[0], motion=motion, choice="yes")
    with pytest.raises(ValidationError) as error:
        sessions.cast_vote(voter=reps[0], motion=motion, choice="no")
    assert error.value.code == "already_voted"
    assert Vote.objects.filter(motion=motion).count() == 1


def test_the_database_refuses_a_second_vote_row(chair, village):
    session, reps = meeting(chair, village, 2, 2)
    motion = motion_open(chair, session)
    vote = sessions.cast_vote(voter=reps[0], motion=motion, choice="yes")
    with pytest.raises(IntegrityError), transaction.atomic():
        Vote.objects.create(motion=motion, entry=vote.entry, cast_by=reps[0], choice="no")


def test_votes_cannot_be_changed_in_place(chair, village):
    session, reps = meeting(chair, village, 2, 2)
    vote = sessions.cast_vote(voter=reps[0], motion=motion_open(chair, session), choice="yes")
    vote.choice = "no"
    with pytest.raises(ValidationError):
        vote.save()


def test_vote_after_close_is_refused(chair, village):
    session, reps = meeting(chair, village, 3, 3)
    motion = motion_open(chair, session)
    sessions.close_vote(actor=chair, motion=motion)
    with pytest.raises(ValidationError) as error:
        sessions.cast_vote(voter=reps[0], motion=motion, choice="yes")
    assert error.value.code == "vote_closed"
    assert not Vote.objects.exists()


def test_vote_before_open_is_refused(chair, village):
    session, reps = meeting(chair, village, 3, 3)
    motion = sessions.add_motion(actor=chair, session=session, title="议案")
    with pytest.raises(ValidationError):
        sessions.cast_vote(voter=reps[0], motion=motion, choice="yes")


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.SUPERVISOR])
def test_a_person_off_the_roster_cannot_vote(chair, village, role):
    session, _ = meeting(chair, village, 3, 3)
    motion = motion_open(chair, session)
    outsider = member(village, role)
    with pytest.raises(PermissionDenied):
        sessions.cast_vote(voter=outsider, motion=motion, choice="yes")
    with pytest.raises(PermissionDenied):
        sessions.cast_vote(voter=UserFactory(), motion=motion, choice="yes")
    assert not Vote.objects.exists()


def test_a_representative_appointed_after_opening_cannot_vote(chair, village):
    session, _ = meeting(chair, village, 3, 3)
    motion = motion_open(chair, session)
    (late,) = representatives(village, 1)
    with pytest.raises(PermissionDenied):
        sessions.cast_vote(voter=late, motion=motion, choice="yes")


def test_a_member_absent_when_the_vote_opened_cannot_vote(chair, village):
    session, reps = meeting(chair, village, 4, 3)
    motion = motion_open(chair, session)
    mark_present(chair, session, [reps[2]])
    with pytest.raises(ValidationError) as error:
        sessions.cast_vote(voter=reps[2], motion=motion, choice="yes")
    assert error.value.code == "not_present"


def test_a_bad_choice_is_refused(chair, village):
    session, reps = meeting(chair, village, 2, 2)
    with pytest.raises(ValidationError):
        sessions.cast_vote(voter=reps[0], motion=motion_open(chair, session), choice="maybe")
    assert not Vote.objects.exists()


def test_only_one_vote_open_at_a_time(chair, village):
    session, _ = meeting(chair, village, 2, 2)
    motion_open(chair, session)
    with pytest.raises(ValidationError):
        motion_open(chair, session)


@pytest.mark.parametrize("role", [Role.REPRESENTATIVE, Role.SUPERVISOR, Role.RESIDENT])
def test_only_the_chair_opens_and_closes_votes(chair, village, role):
    session, reps = meeting(chair, village, 2, 2)
    motion = sessions.add_motion(actor=chair, session=session, title="议案")
    user = reps[0] if role == Role.REPRESENTATIVE else member(village, role)
    with pytest.raises(PermissionDenied):
        sessions.open_vote(actor=user, motion=motion)
    motion = sessions.open_vote(actor=chair, motion=motion)
    with pytest.raises(PermissionDenied):
        sessions.close_vote(actor=user, motion=motion)
    motion.refresh_from_db()
    assert motion.status == MotionStatus.OPEN


# --- proxies -------------------------------------------------------------------------------------


def test_a_proxy_counts_toward_quorum_and_the_holder_votes_for_the_giver(chair, village):
    session, reps = meeting(chair, village, 9, 5)  # 5 of 9: no quorum yet
    giver, holder = entry_of(session, reps[6]), entry_of(session, reps[0])
    assert not sessions.attendance_numbers(session)["quorum_met"]
    sessions.record_proxy(actor=chair, session=session, giver=giver, holder=holder)
    numbers = sessions.attendance_numbers(session)
    assert (numbers["attending"], numbers["proxies"], numbers["present"]) == (5, 1, 6)
    assert numbers["quorum_met"]
    motion = motion_open(chair, session)
    assert motion.present_count == 6
    vote = sessions.cast_vote(voter=reps[0], motion=motion, choice="yes", on_behalf_of=giver)
    assert vote.by_proxy and vote.entry == giver and vote.cast_by == reps[0]
    sessions.cast_vote(voter=reps[0], motion=motion, choice="no")  # and their own vote
    with pytest.raises(ValidationError):
        sessions.cast_vote(voter=reps[0], motion=motion, choice="no", on_behalf_of=giver)
    assert Vote.objects.filter(motion=motion).count() == 2


def test_only_the_holder_votes_for_the_giver(chair, village):
    session, reps = meeting(chair, village, 5, 4)
    giver = entry_of(session, reps[3])
    sessions.record_proxy(
        actor=chair, session=session, giver=giver, holder=entry_of(session, reps[0])
    )
    motion = motion_open(chair, session)
    with pytest.raises(PermissionDenied):
        sessions.cast_vote(voter=reps[1], motion=motion, choice="yes", on_behalf_of=giver)
    with pytest.raises(ValidationError):  # the giver is not present and cannot vote
        sessions.cast_vote(voter=reps[3], motion=motion, choice="yes")
    assert not Vote.objects.exists()


def test_a_holder_may_hold_only_as_many_proxies_as_the_rule_allows(chair, village):
    session, reps = meeting(chair, village, 6, 3)
    holder = entry_of(session, reps[0])
    sessions.record_proxy(
        actor=chair, session=session, giver=entry_of(session, reps[3]), holder=holder
    )
    with pytest.raises(ValidationError) as error:
        sessions.record_proxy(
            actor=chair, session=session, giver=entry_of(session, reps[4]), holder=holder
        )
    assert error.value.code == "too_many_proxies"
    assert entry_of(session, reps[4]).attendance == Attendance.ABSENT


def test_a_rule_allowing_two_proxies_allows_two(chair, village):
    session, reps = meeting(chair, village, 6, 3)
    type(session).objects.filter(pk=session.pk).update(
        rule={**session.rule, "max_proxies_per_holder": 2}
    )
    holder = entry_of(session, reps[0])
    for giver in reps[3:5]:
        sessions.record_proxy(
            actor=chair, session=session, giver=entry_of(session, giver), holder=holder
        )
    assert holder.proxies_held.count() == 2


def test_proxies_do_not_count_when_the_rule_says_so(chair, village):
    session, reps = meeting(chair, village, 9, 5)
    type(session).objects.filter(pk=session.pk).update(
        rule={**session.rule, "proxies_count": False}
    )
    session.refresh_from_db()
    giver = entry_of(session, reps[6])
    sessions.record_proxy(
        actor=chair, session=session, giver=giver, holder=entry_of(session, reps[0])
    )
    assert not sessions.attendance_numbers(session)["quorum_met"]
    motion = motion_open(chair, session)
    assert motion.present_count == 5
    with pytest.raises((PermissionDenied, ValidationError)):
        sessions.cast_vote(voter=reps[0], motion=motion, choice="yes", on_behalf_of=giver)


@pytest.mark.parametrize("case", ["giver_present", "holder_absent", "self"])
def test_bad_proxies_are_refused(chair, village, case):
    session, reps = meeting(chair, village, 5, 3)
    present, absent = entry_of(session, reps[0]), entry_of(session, reps[3])
    giver, holder = {
        "giver_present": (present, entry_of(session, reps[1])),
        "holder_absent": (absent, entry_of(session, reps[2 + 1 + 0])),
        "self": (present, present),
    }[case]
    with pytest.raises(ValidationError):
        sessions.record_proxy(actor=chair, session=session, giver=giver, holder=holder)
    assert not session.roster.filter(attendance=Attendance.PROXY).exists()


def test_a_proxy_giver_who_arrives_takes_their_seat_back(chair, village):
    session, reps = meeting(chair, village, 4, 3)
    giver = entry_of(session, reps[2])
    sessions.record_proxy(
        actor=chair, session=session, giver=giver, holder=entry_of(session, reps[0])
    )
    mark_present(chair, session, [reps[2]])
    giver.refresh_from_db()
    assert giver.attendance == Attendance.PRESENT and giver.proxy_holder is None


def test_a_holder_leaving_takes_the_proxies_away(chair, village):
    session, reps = meeting(chair, village, 4, 3)
    giver, holder = entry_of(session, reps[2]), entry_of(session, reps[0])
    sessions.record_proxy(actor=chair, session=session, giver=giver, holder=holder)
    sessions.record_attendance(actor=chair, session=session, entry=holder, present=False)
    giver.refresh_from_db()
    assert giver.attendance == Attendance.ABSENT
    assert sessions.attendance_numbers(session)["present"] == 2


def test_the_database_refuses_a_proxy_without_holder(chair, village):
    session, reps = meeting(chair, village, 2, 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        session.roster.filter(person=reps[0]).update(attendance=Attendance.PROXY)
