"""Issue 14, point 5: the committee runs its council from its own pages, and every act is logged.

Halls and councils set up, roles assigned and removed (with the 4/5 rule of art. 25 and the
committee/supervisor exclusion of art. 32), household heads and representatives, and the log
read by the supervisory committee and the township. Refusals outnumber successes.
"""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from councils import services
from councils.models import (
    CouncilAction,
    CouncilPage,
    Household,
    Level,
    Membership,
    MembershipStatus,
    Role,
)
from deliberation import services as hall_services
from deliberation.models import Hall
from meetings import services as sessions
from meetings.models import SessionKind
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


def refused_people(tree):
    """Everyone who must not run the village: (name, user or None for anonymous)."""
    village = tree["village"]
    return [
        ("anonymous", None),
        ("outsider", UserFactory()),
        ("resident", villager(village)),
        ("representative", villager(village, Role.REPRESENTATIVE)),
        ("supervisor", villager(village, Role.SUPERVISOR)),
        ("grid_worker", member(tree["grid"], Role.GRID_WORKER)),
        ("other_committee", villager(tree["other_village"], Role.COMMITTEE)),
        ("other_official", member(tree["other_township"], Role.OFFICIAL)),
    ]


def post_as(client, user, url, data):
    client.logout()
    if user is not None:
        client.force_login(user)
    return client.post(url, data)


# --- halls and councils ---------------------------------------------------------------------------


def hall_url(council):
    return f"/halls/councils/{council.pk}/halls/new/"


def test_committee_opens_a_hall_from_the_council_page(client, tree, committee):
    village = tree["village"]
    client.force_login(committee)
    page = client.get(village.url).content.decode()
    assert hall_url(village) in page
    response = client.post(
        hall_url(village), {"place": "here", "title": "老年人议事厅", "is_public": "on"}
    )
    hall = Hall.objects.get(council=village, title="老年人议事厅")
    assert response.status_code == 302 and response["Location"] == hall.get_absolute_url()
    action = CouncilAction.objects.get(council=village)
    assert (action.verb, action.actor) == ("create_hall", committee)
    assert "老年人议事厅" in action.target


def test_committee_sets_up_a_council_of_rural_worthies_with_its_hall(client, tree, committee):
    village = tree["village"]
    client.force_login(committee)
    response = client.post(
        hall_url(village),
        {
            "place": "new:worthies",
            "new_council_title": "柳树村新乡贤参事会",
            "title": "乡贤议事厅",
            "is_public": "on",
        },
    )
    assert response.status_code == 302
    worthies = CouncilPage.objects.child_of(village).get(title="柳树村新乡贤参事会")
    assert worthies.level == Level.WORTHIES and worthies.live
    assert worthies.revisions.get().user == committee  # published through a revision
    assert Hall.objects.get(council=worthies).title == "乡贤议事厅"
    assert list(CouncilAction.objects.filter(council=village).values_list("verb", flat=True)) == [
        "create_hall",
        "create_council",
    ]


@pytest.mark.parametrize("level", ["children", "grid"])
def test_committee_sets_up_a_childrens_council_or_a_grid(tree, committee, level):
    hall = hall_services.create_hall(
        by=committee,
        council=tree["village"],
        title="议事厅",
        new_council_level=level,
        new_council_title="新的议事会",
    )
    assert hall.council.level == level
    assert hall.council.get_parent().pk == tree["village"].pk


def test_committee_opens_a_hall_in_an_existing_grid_and_logs_it_on_the_village(
    client, tree, committee
):
    client.force_login(committee)
    grid = tree["grid"]
    response = client.post(hall_url(tree["village"]), {"place": str(grid.pk), "title": "网格议事"})
    assert response.status_code == 302
    assert Hall.objects.filter(council=grid, title="网格议事").exists()
    assert CouncilAction.objects.get().council_id == tree["village"].pk


def test_township_official_opens_a_hall(client, tree):
    client.force_login(member(tree["township"], Role.OFFICIAL))
    response = client.post(hall_url(tree["village"]), {"place": "here", "title": "镇村议事厅"})
    assert response.status_code == 302
    assert Hall.objects.filter(title="镇村议事厅").exists()


def test_nobody_else_opens_a_hall_or_sets_up_a_council(client, tree):
    village = tree["village"]
    for name, user in refused_people(tree):
        response = post_as(
            client,
            user,
            hall_url(village),
            {"place": "new:children", "new_council_title": "儿童议事会", "title": "儿童议事厅"},
        )
        if user is None:
            assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        else:
            assert response.status_code == 403, name
    assert not Hall.objects.exists()
    assert not CouncilPage.objects.filter(level=Level.CHILDREN).exists()
    assert not CouncilAction.objects.exists()


def test_other_villages_committee_cannot_set_up_a_council_here(tree):
    other = villager(tree["other_village"], Role.COMMITTEE)
    with pytest.raises(PermissionDenied):
        services.create_sub_council(
            by=other, village=tree["village"], level=Level.GRID, title="第9网格"
        )
    with pytest.raises(PermissionDenied):
        hall_services.create_hall(by=other, council=tree["grid"], title="网格议事厅")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"place": "here", "title": ""}, "Write a title of at least 2 characters."),
        ({"place": "here", "title": "厅"}, "Write a title of at least 2 characters."),
        ({"place": "nowhere", "title": "议事厅"}, "Choose the council the hall is for."),
        (
            {"place": "new:grid", "new_council_title": "", "title": "议事厅"},
            "Name the new council (at least 2 characters).",
        ),
    ],
)
def test_bad_hall_input_is_explained_and_kept(client, tree, committee, data, message):
    client.force_login(committee)
    response = client.post(hall_url(tree["village"]), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    if data.get("title"):
        assert f'value="{data["title"]}"' in html  # what was typed is not lost
    assert not Hall.objects.exists() and not CouncilAction.objects.exists()
    assert CouncilPage.objects.child_of(tree["village"]).count() == 1  # only the grid


def test_councils_are_set_up_only_under_a_village_and_with_a_new_name(tree, committee):
    official = member(tree["township"], Role.OFFICIAL)
    with pytest.raises(PermissionDenied):  # the committee holds no role in the grid
        services.create_sub_council(
            by=committee, village=tree["grid"], level="grid", title="子网格"
        )
    with pytest.raises(ValidationError, match="A village sets up"):
        services.create_sub_council(by=official, village=tree["grid"], level="grid", title="子网格")
    with pytest.raises(ValidationError, match="A village sets up"):
        services.create_sub_council(
            by=committee, village=tree["village"], level="village", title="新村"
        )
    services.create_sub_council(by=committee, village=tree["village"], level="grid", title="二网格")
    with pytest.raises(ValidationError, match="already exists"):
        services.create_sub_council(
            by=committee, village=tree["village"], level="grid", title="二网格"
        )
    assert CouncilAction.objects.count() == 1


# --- roles ----------------------------------------------------------------------------------------


def roles_url(tree):
    return f"/councils/{tree['village'].pk}/roles/"


def test_committee_assigns_a_representative_from_the_roles_page(client, tree, committee):
    village = tree["village"]
    resident = villager(village)
    client.force_login(committee)
    assert roles_url(tree) in client.get(village.url).content.decode()
    response = client.post(roles_url(tree), {"role": "representative", "person": resident.pk})
    assert response.status_code == 302
    membership = Membership.objects.get(user=resident, role=Role.REPRESENTATIVE)
    assert membership.status == MembershipStatus.VERIFIED and membership.decided_by == committee
    action = CouncilAction.objects.get()
    assert action.verb == "grant_role" and resident.public_name in action.target


def test_committee_makes_someone_a_grid_worker_by_phone(client, tree, committee):
    worker = UserFactory()
    client.force_login(committee)
    response = client.post(
        roles_url(tree),
        {"role": "grid_worker", "phone": f"+86 {worker.phone}", "grid": tree["grid"].pk},
    )
    assert response.status_code == 302
    assert Membership.objects.get(user=worker).council_id == tree["grid"].pk


def test_no_one_is_committee_member_and_supervisor(client, tree, committee):
    client.force_login(committee)
    response = client.post(roles_url(tree), {"role": "supervisor", "person": committee.pk})
    assert response.status_code == 400
    assert "art. 32" in response.content.decode()
    assert not Membership.objects.filter(user=committee, role=Role.SUPERVISOR).exists()
    assert not CouncilAction.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"role": "", "person": ""}, "Choose the role."),
        ({"role": "committee", "person": ""}, "Choose the role."),
        ({"role": "representative"}, "Choose the person who takes the role."),
        ({"role": "grid_worker", "phone": "13900000000", "grid": ""}, "No account has this phone"),
        ({"role": "grid_worker", "phone": "x"}, "No account has this phone number"),
    ],
)
def test_bad_role_input_is_explained(client, tree, committee, data, message):
    client.force_login(committee)
    response = client.post(roles_url(tree), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Membership.objects.filter(role=Role.REPRESENTATIVE).count() == 0


def test_representatives_are_verified_residents_of_the_village(tree, committee):
    stranger = member(tree["other_village"])
    with pytest.raises(ValidationError, match="verified resident"):
        services.assign_role(
            by=committee, village=tree["village"], role=Role.REPRESENTATIVE, user=stranger
        )
    with pytest.raises(ValidationError, match="grid"):
        services.assign_role(
            by=committee, village=tree["village"], role=Role.GRID_WORKER, user=stranger
        )


def test_nobody_else_assigns_roles(client, tree):
    resident = villager(tree["village"])
    for name, user in refused_people(tree):
        response = post_as(
            client, user, roles_url(tree), {"role": "representative", "person": resident.pk}
        )
        assert response.status_code in (302, 403), name
        if user is not None:
            assert response.status_code == 403, name
    assert not Membership.objects.filter(role=Role.REPRESENTATIVE, user=resident).exists()


def remove_url(membership):
    return f"/councils/roles/{membership.pk}/remove/"


def test_committee_removes_a_representative_with_a_reason(client, tree, committee):
    village = tree["village"]
    rep = villager(village, Role.REPRESENTATIVE)
    household = Household.objects.create(council=village, number="1组1号", representative=rep)
    membership = Membership.objects.get(user=rep, role=Role.REPRESENTATIVE)
    client.force_login(committee)
    response = client.post(remove_url(membership), {"reason": "迁出本村"})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.REVOKED
    assert membership.decision_reason == "迁出本村"
    household.refresh_from_db()
    assert household.representative is None
    action = CouncilAction.objects.get()
    assert (action.verb, action.reason) == ("revoke_role", "迁出本村")


def test_removing_a_role_needs_a_reason_and_the_committee(client, tree, committee):
    rep = villager(tree["village"], Role.REPRESENTATIVE)
    membership = Membership.objects.get(user=rep, role=Role.REPRESENTATIVE)
    client.force_login(committee)
    response = client.post(remove_url(membership), {"reason": ""})
    assert response.status_code == 302
    assert "Say why the role ends" in client.get(response["Location"]).content.decode()
    for name, user in refused_people(tree):
        response = post_as(client, user, remove_url(membership), {"reason": "不称职"})
        assert response.status_code in ((302,) if user is None else (403,)), name
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.VERIFIED
    assert not CouncilAction.objects.exists()


def test_committee_and_resident_roles_are_not_removed_from_this_page(client, tree, committee):
    other = villager(tree["village"], Role.COMMITTEE)
    client.force_login(committee)
    for membership in Membership.objects.filter(user=other):
        assert client.post(remove_url(membership), {"reason": "换届"}).status_code == 404
    assert Membership.objects.filter(user=other, status=MembershipStatus.VERIFIED).count() == 2


def schedule_meeting(tree, committee):
    return sessions.schedule_session(
        actor=committee,
        council=tree["village"],
        kind=SessionKind.REPRESENTATIVES,
        title="村民代表会议",
        starts_at=timezone.now() + datetime.timedelta(days=2),
        place="村委会",
    )


def test_removing_a_representative_is_refused_when_a_meeting_would_break_four_fifths(
    tree, committee
):
    # 1 committee member + 4 representatives: 4 of 5 is exactly four fifths.
    village = tree["village"]
    reps = [villager(village, Role.REPRESENTATIVE) for _ in range(4)]
    assert services.representatives_share(village) == (4, 5)
    schedule_meeting(tree, committee)
    membership = Membership.objects.get(user=reps[0], role=Role.REPRESENTATIVE)
    with pytest.raises(ValidationError, match="four fifths"):
        services.remove_role(by=committee, membership=membership, reason="迁出本村")
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.VERIFIED
    # Appoint the replacement first: then the removal keeps 4 of 5.
    services.assign_role(
        by=committee, village=village, role=Role.REPRESENTATIVE, user=villager(village)
    )
    services.remove_role(by=committee, membership=membership, reason="迁出本村")
    assert services.representatives_share(village) == (4, 5)


def test_removing_a_representative_without_a_meeting_scheduled_is_allowed_and_flagged(
    client, tree, committee
):
    village = tree["village"]
    reps = [villager(village, Role.REPRESENTATIVE) for _ in range(4)]
    membership = Membership.objects.get(user=reps[0], role=Role.REPRESENTATIVE)
    services.remove_role(by=committee, membership=membership, reason="迁出本村")
    client.force_login(committee)
    page = client.get(roles_url(tree)).content.decode()
    assert "at least four fifths" in page  # 3 of 4: the page warns before the next meeting


def test_a_committee_member_who_is_a_representative_counts_as_committee(tree, committee):
    village = tree["village"]
    member(village, Role.REPRESENTATIVE, user=committee)
    [villager(village, Role.REPRESENTATIVE) for _ in range(3)]
    assert services.representatives_share(village) == (3, 4)
    assert not services.meets_four_fifths(3, 4)
    assert services.meets_four_fifths(4, 5) and services.meets_four_fifths(0, 0)


# --- households ---------------------------------------------------------------------------------


def households_url(tree):
    return f"/councils/{tree['village'].pk}/households/"


def test_committee_sets_the_head_and_the_representative(client, tree, committee):
    village = tree["village"]
    head, rep = villager(village), villager(village, Role.REPRESENTATIVE)
    client.force_login(committee)
    response = client.post(
        households_url(tree), {"number": "2组7号", "head": head.pk, "representative": rep.pk}
    )
    assert response.status_code == 302
    household = Household.objects.get(number="2组7号")
    assert (household.head, household.representative) == (head, rep)
    assert Membership.objects.get(user=head, role=Role.RESIDENT).household == household
    assert CouncilAction.objects.get().verb == "set_household"
    # The change link fills the form with what is there, so nothing is lost by saving again.
    form = client.get(households_url(tree) + "?number=2组7号").content.decode()
    assert f'<option value="{head.pk}" selected>' in form


def test_a_head_is_a_verified_resident_of_no_other_household(tree, committee):
    village = tree["village"]
    head = villager(village)
    services.save_household(council=village, number="1组1号", head=head, by=committee)
    with pytest.raises(ValidationError, match="registered in household 1组1号"):
        services.save_household(council=village, number="1组2号", head=head, by=committee)
    with pytest.raises(ValidationError, match="verified resident"):
        services.save_household(
            council=village, number="1组2号", head=member(tree["other_village"]), by=committee
        )
    # Changing only the representative keeps the head.
    services.save_household(council=village, number="1组1号", by=committee)
    assert Household.objects.get(number="1组1号").head == head


def test_nobody_else_sets_household_heads(client, tree):
    head = villager(tree["village"])
    for name, user in refused_people(tree):
        response = post_as(
            client, user, households_url(tree), {"number": "1组1号", "head": head.pk}
        )
        assert response.status_code in ((302,) if user is None else (403,)), name
    assert not Household.objects.exists()


# --- the log ------------------------------------------------------------------------------------


def actions_url(tree):
    return f"/councils/{tree['village'].pk}/actions/"


def test_supervisors_and_the_township_read_the_log(client, tree, committee):
    services.assign_role(
        by=committee,
        village=tree["village"],
        role=Role.REPRESENTATIVE,
        user=villager(tree["village"]),
    )
    readers = [
        committee,
        villager(tree["village"], Role.SUPERVISOR),
        member(tree["township"], Role.OFFICIAL),
    ]
    for user in readers:
        client.force_login(user)
        assert "Assigned a role" in client.get(actions_url(tree)).content.decode()


def test_others_do_not_read_the_log(client, tree):
    refused = [(n, u) for n, u in refused_people(tree) if n not in ("supervisor", "anonymous")]
    for name, user in refused:
        client.force_login(user)
        assert client.get(actions_url(tree)).status_code == 403, name
    client.logout()
    assert client.get(actions_url(tree)).status_code == 302


def test_the_log_is_append_only(tree, committee):
    action = services.log_action(
        council=tree["village"], actor=committee, verb="create_hall", target="议事厅"
    )
    action.reason = "改"
    with pytest.raises(ValidationError):
        action.save()
    with pytest.raises(ValidationError):
        action.delete()
