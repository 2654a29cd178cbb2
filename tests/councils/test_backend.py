"""The authentication backend loads the signed-in user with their verified memberships in one
query, and the permission checks of the request then need no query of their own."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from councils.backends import AuthenticationBackend
from councils.models import MembershipStatus, Role
from councils.predicates import roles_in
from tests.councils.factories import UserFactory, member

pytestmark = pytest.mark.django_db


def test_the_user_comes_with_their_verified_memberships(tree):
    user = member(tree["village"])
    member(tree["grid"], Role.GRID_WORKER, user=user)
    member(tree["far_village"], status=MembershipStatus.PENDING, user=user)
    for council in ("village", "grid", "far_village"):
        tree[council].ancestor_ids()  # known to the worker
    with CaptureQueriesContext(connection) as queries:
        loaded = AuthenticationBackend().get_user(str(user.pk))
        assert loaded == user and loaded.phone == user.phone
        assert roles_in(loaded, tree["village"]) == {Role.RESIDENT}
        assert roles_in(loaded, tree["grid"]) == {Role.RESIDENT, Role.GRID_WORKER}
        assert roles_in(loaded, tree["far_village"]) == frozenset()  # pending counts nothing
    assert len(queries) == 1
    assert not hasattr(loaded, "membership_role")


def test_a_person_with_no_membership_is_loaded_too(tree):
    user = UserFactory()
    loaded = AuthenticationBackend().get_user(user.pk)
    assert loaded == user and roles_in(loaded, tree["village"]) == frozenset()


@pytest.mark.parametrize("user_id", ["999999", "not a number", ""])
def test_unknown_or_malformed_ids_load_nobody(user_id):
    assert AuthenticationBackend().get_user(user_id) is None


def test_a_deactivated_person_is_not_signed_in(tree):
    user = member(tree["village"])
    user.is_active = False
    user.save()
    assert AuthenticationBackend().get_user(user.pk) is None


def test_a_signed_in_page_asks_for_the_memberships_once(client, tree):
    from budgets.models import PhaseKind
    from tests.budgets.factories import make_cycle

    cycle = make_cycle(tree["village"], phase=PhaseKind.VOTE)
    client.force_login(member(tree["village"]))
    client.get(f"/budgets/cycles/{cycle.pk}/vote/")  # warm: the worker learns the ancestors
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/budgets/cycles/{cycle.pk}/vote/").status_code == 200
    membership_queries = [q for q in queries.captured_queries if "councils_membership" in q["sql"]]
    assert len(membership_queries) == 1 and "core_user" in membership_queries[0]["sql"]
