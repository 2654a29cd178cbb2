"""Issue 13, point 10: one person never holds the committee and the supervisory committee of one
council (村民委员会组织法 art. 32). Refused in the services, in every form that makes memberships
(the Wagtail admin validates the model), and never created by the demo city."""

from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db.models import Count
from django.forms import modelform_factory

from councils.models import CouncilPage, Level, Membership, MembershipStatus, Role
from councils.services import grant_role, verify_membership
from tests.councils.factories import UserFactory, member

pytestmark = pytest.mark.django_db

ART_32 = "art. 32"


@pytest.mark.parametrize(
    "held, granted", [(Role.COMMITTEE, Role.SUPERVISOR), (Role.SUPERVISOR, Role.COMMITTEE)]
)
def test_granting_the_other_committee_is_refused(tree, held, granted):
    user = member(tree["village"], held)
    with pytest.raises(ValidationError, match=ART_32):
        grant_role(user=user, council=tree["village"], role=granted)
    assert not Membership.objects.filter(user=user, role=granted).exists()


def test_granting_by_a_committee_member_is_refused_too(tree):
    chair = member(tree["village"], Role.COMMITTEE)
    user = member(tree["village"], Role.COMMITTEE)
    with pytest.raises(ValidationError, match=ART_32):
        grant_role(user=user, council=tree["village"], role=Role.SUPERVISOR, by=chair)


def test_a_pending_request_for_the_other_committee_counts(tree):
    user = member(tree["village"], Role.COMMITTEE, status=MembershipStatus.PENDING)
    with pytest.raises(ValidationError, match=ART_32):
        grant_role(user=user, council=tree["village"], role=Role.SUPERVISOR)


def test_verifying_a_conflicting_request_is_refused(tree):
    official = member(tree["township"], Role.OFFICIAL)
    user = member(tree["village"], Role.SUPERVISOR)
    pending = Membership.objects.create(
        user=user, council=tree["village"], role=Role.COMMITTEE, status=MembershipStatus.PENDING
    )
    with pytest.raises(ValidationError, match=ART_32):
        verify_membership(membership_id=pending.pk, by=official)
    pending.refresh_from_db()
    assert pending.status == MembershipStatus.PENDING


def test_the_admin_form_refuses_the_pair(tree):
    user = member(tree["village"], Role.COMMITTEE)
    form_class = modelform_factory(Membership, fields=["user", "council", "role", "status"])
    form = form_class(
        data={
            "user": user.pk,
            "council": tree["village"].pk,
            "role": Role.SUPERVISOR,
            "status": MembershipStatus.VERIFIED,
        }
    )
    assert not form.is_valid()
    assert ART_32 in " ".join(form.errors["role"])


def test_the_wagtail_admin_refuses_the_pair(client, tree):
    admin = UserFactory(is_superuser=True, is_staff=True)
    user = member(tree["village"], Role.SUPERVISOR)
    client.force_login(admin)
    response = client.post(
        "/admin/memberships/new/",
        {
            "user": user.pk,
            "council": tree["village"].pk,
            "role": Role.COMMITTEE,
            "status": MembershipStatus.VERIFIED,
        },
    )
    assert response.status_code in (200, 400)  # the form again, with the error
    assert ART_32 in response.content.decode()
    assert not Membership.objects.filter(user=user, role=Role.COMMITTEE).exists()


def test_a_revoked_role_no_longer_conflicts(tree):
    user = member(tree["village"], Role.COMMITTEE, status=MembershipStatus.REVOKED)
    assert grant_role(user=user, council=tree["village"], role=Role.SUPERVISOR).is_verified


def test_the_two_roles_in_different_councils_are_fine(tree):
    user = member(tree["village"], Role.COMMITTEE)
    assert grant_role(user=user, council=tree["other_village"], role=Role.SUPERVISOR).is_verified


def test_the_demo_city_pairs_no_one_and_its_ledgers_verify(settings):
    settings.DEBUG = True
    call_command("load_demo_data", households=2)
    pairs = (
        Membership.objects.filter(
            status__in=[MembershipStatus.PENDING, MembershipStatus.VERIFIED],
            role__in=[Role.COMMITTEE, Role.SUPERVISOR],
        )
        .values("user", "council")
        .annotate(roles=Count("role", distinct=True))
        .filter(roles__gt=1)
    )
    assert not pairs.exists()
    assert CouncilPage.objects.filter(level=Level.VILLAGE).exists()
    call_command("verify_ledgers", "--no-files", stdout=StringIO())  # raises on any problem
