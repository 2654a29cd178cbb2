import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.models import User
from councils import services
from councils.models import Household, Membership, MembershipStatus, Role
from councils.predicates import roles_in
from tests.councils.factories import UserFactory, member

pytestmark = pytest.mark.django_db


def fresh(user):
    return User.objects.get(pk=user.pk)


def test_request_counts_only_after_a_committee_member_verifies_it(tree):
    village = tree["village"]
    applicant = UserFactory()
    committee = member(village, Role.COMMITTEE)
    membership = services.request_membership(
        user=applicant, council=village, house_number="3组12号"
    )
    assert membership.status == MembershipStatus.PENDING
    assert roles_in(fresh(applicant), village) == frozenset()
    assert not fresh(applicant).has_perm("councils.join_council", village)

    services.verify_membership(membership_id=membership.pk, by=committee)

    membership.refresh_from_db()
    assert membership.status == MembershipStatus.VERIFIED
    assert membership.decided_by == committee
    assert membership.household == Household.objects.get(council=village, number="3组12号")
    assert roles_in(fresh(applicant), village) == {Role.RESIDENT}
    # Residents carry down to the village's grids, not up to the township or sideways.
    assert roles_in(fresh(applicant), tree["grid"]) == {Role.RESIDENT}
    assert roles_in(fresh(applicant), tree["township"]) == frozenset()
    assert roles_in(fresh(applicant), tree["other_village"]) == frozenset()


def test_township_official_verifies_in_villages_below(tree):
    request = services.request_membership(user=UserFactory(), council=tree["village"])
    official = member(tree["township"], Role.OFFICIAL)
    services.verify_membership(membership_id=request.pk, by=official)
    assert Membership.objects.get(pk=request.pk).is_verified


@pytest.mark.parametrize(
    "who",
    [
        "resident",
        "representative",
        "supervisor",
        "grid_worker",
        "other_official",
        "other_committee",
        "outsider",
        "applicant_self",
    ],
)
def test_only_committee_or_official_above_may_verify(tree, who):
    village = tree["village"]
    applicant = UserFactory()
    request = services.request_membership(user=applicant, council=village)
    deciders = {
        "resident": lambda: member(village),
        "representative": lambda: member(village, Role.REPRESENTATIVE),
        "supervisor": lambda: member(village, Role.SUPERVISOR),
        "grid_worker": lambda: member(tree["grid"], Role.GRID_WORKER),
        "other_official": lambda: member(tree["other_township"], Role.OFFICIAL),
        "other_committee": lambda: member(tree["other_village"], Role.COMMITTEE),
        "outsider": UserFactory,
        "applicant_self": lambda: applicant,
    }
    with pytest.raises(PermissionDenied):
        services.verify_membership(membership_id=request.pk, by=deciders[who]())
    assert Membership.objects.get(pk=request.pk).status == MembershipStatus.PENDING


def test_committee_member_cannot_verify_their_own_request(tree):
    village = tree["village"]
    committee = member(village, Role.COMMITTEE)
    request = services.request_membership(user=committee, council=village)
    with pytest.raises(PermissionDenied):
        services.verify_membership(membership_id=request.pk, by=fresh(committee))


def test_a_second_request_is_refused_with_a_message(tree):
    applicant = UserFactory()
    services.request_membership(user=applicant, council=tree["village"])
    with pytest.raises(ValidationError, match="already asked"):
        services.request_membership(user=applicant, council=tree["village"])
    assert Membership.objects.filter(user=applicant).count() == 1


@pytest.mark.parametrize("level", ["city", "district", "township"])
def test_residents_cannot_join_administrative_levels(tree, level):
    with pytest.raises(ValidationError, match="Residents join a village"):
        services.request_membership(user=UserFactory(), council=tree[level])
    assert not Membership.objects.exists()


def test_rejection_needs_a_reason_and_is_final(tree):
    village = tree["village"]
    committee = member(village, Role.COMMITTEE)
    request = services.request_membership(user=UserFactory(), council=village)
    with pytest.raises(ValidationError):
        services.reject_membership(membership_id=request.pk, by=committee, reason="   ")
    services.reject_membership(membership_id=request.pk, by=committee, reason="查无此户")
    with pytest.raises(ValidationError, match="already been decided"):
        services.verify_membership(membership_id=request.pk, by=committee)
    assert Membership.objects.get(pk=request.pk).decision_reason == "查无此户"


def test_a_rejected_applicant_may_ask_again(tree):
    village = tree["village"]
    applicant = UserFactory()
    committee = member(village, Role.COMMITTEE)
    first = services.request_membership(user=applicant, council=village)
    services.reject_membership(membership_id=first.pk, by=committee, reason="门牌号不对")
    second = services.request_membership(user=applicant, council=village, house_number="1组1号")
    assert second.pk != first.pk and second.status == MembershipStatus.PENDING


def test_grant_role_needs_assign_permission(tree):
    village = tree["village"]
    resident = member(village)
    with pytest.raises(PermissionDenied):
        services.grant_role(
            user=UserFactory(), council=village, role=Role.REPRESENTATIVE, by=resident
        )
    committee = member(village, Role.COMMITTEE)
    target = member(village)
    services.grant_role(user=target, council=village, role=Role.REPRESENTATIVE, by=committee)
    assert roles_in(fresh(target), village) == {Role.RESIDENT, Role.REPRESENTATIVE}
