"""`Membership.objects.roles_of` (one hand-written query, the permission checks' hot path) says
exactly what the ORM's `effective_in` says, for every person and every council of a tree."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from councils.models import Membership, MembershipStatus, Role
from councils.predicates import roles_in
from tests.councils.factories import UserFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(tree):
    resident = member(tree["village"])
    official = member(tree["township"], Role.OFFICIAL)
    both = member(tree["village"], Role.COMMITTEE)
    member(tree["grid"], Role.GRID_WORKER, user=both)
    member(tree["city"], Role.RESIDENT, user=both)
    supervisor = member(tree["village"], Role.SUPERVISOR)  # does not carry down
    pending = member(tree["village"], status=MembershipStatus.PENDING)
    revoked = member(tree["township"], Role.OFFICIAL, status=MembershipStatus.REVOKED)
    elsewhere = member(tree["far_village"], Role.REPRESENTATIVE)
    nobody = UserFactory()
    return [resident, official, both, supervisor, pending, revoked, elsewhere, nobody]


def test_roles_of_agrees_with_effective_in_everywhere(tree, people):
    checked = 0
    for user in people:
        for council in tree.values():
            expected = frozenset(
                Membership.objects.filter(user=user)
                .effective_in(council)
                .values_list("role", flat=True)
            )
            assert Membership.objects.roles_of(user.pk, council) == expected, (user, council)
            checked += bool(expected)
    assert checked >= 10  # the fixture really gives people roles in many councils


def test_what_carries_down_and_what_does_not(tree, people):
    resident, official, both, supervisor, pending, revoked, elsewhere, nobody = people
    assert Membership.objects.roles_of(resident.pk, tree["grid"]) == {Role.RESIDENT}
    assert Membership.objects.roles_of(resident.pk, tree["township"]) == frozenset()
    assert Membership.objects.roles_of(official.pk, tree["grid"]) == {Role.OFFICIAL}
    assert Membership.objects.roles_of(official.pk, tree["other_township"]) == frozenset()
    assert Membership.objects.roles_of(both.pk, tree["grid"]) == {
        Role.GRID_WORKER,
        Role.RESIDENT,
    }
    assert Membership.objects.roles_of(supervisor.pk, tree["grid"]) == frozenset()
    assert Membership.objects.roles_of(pending.pk, tree["village"]) == frozenset()
    assert Membership.objects.roles_of(revoked.pk, tree["village"]) == frozenset()
    assert Membership.objects.roles_of(elsewhere.pk, tree["village"]) == frozenset()
    assert Membership.objects.roles_of(both.pk, tree["city"]) == {Role.RESIDENT}


def test_roles_in_asks_once_per_council_and_request(tree, people):
    resident = people[0]
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            assert roles_in(resident, tree["village"]) == {Role.RESIDENT}
    assert len(queries) <= 2  # the memberships, and the village's ancestors unless known
    fresh = UserFactory.build(pk=resident.pk)  # the next request: a new user object
    with CaptureQueriesContext(connection) as queries:
        assert roles_in(fresh, tree["village"]) == {Role.RESIDENT}
    assert len(queries) == 1  # the ancestors are kept by the worker


def test_a_village_moved_to_another_township_gets_that_townships_officials(tree):
    """The worker keeps each council's ancestor ids; a move in the tree drops them."""
    official = member(tree["other_township"], Role.OFFICIAL)
    village = tree["village"]
    assert roles_in(UserFactory.build(pk=official.pk), village) == frozenset()
    assert tree["township"].pk in village.ancestor_ids()
    village.move(tree["other_township"], pos="last-child")
    village.refresh_from_db()
    assert tree["other_township"].pk in village.ancestor_ids()
    assert Membership.objects.roles_of(official.pk, village) == {Role.OFFICIAL}


def test_roles_in_reads_a_persons_memberships_once_for_every_council(tree, people):
    both = people[2]
    with CaptureQueriesContext(connection) as queries:
        for council in tree.values():
            roles_in(both, council)
    assert len(queries) <= 1 + len(tree)  # one for the memberships, at most one per council
    assert sum("councils_membership" in q["sql"] for q in queries.captured_queries) == 1
