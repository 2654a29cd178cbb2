"""Departments of a council (register, members by phone, deactivate) and a department's desk:
who may see them (more refusals than permissions), what the desk shows, and query counts that
do not grow with the cases or the members."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.models import Department, DepartmentKind, DepartmentMember, Status, Whistle
from councils.models import CouncilAction
from tests.cases.conftest import grid_report
from tests.councils.factories import UserFactory

pytestmark = pytest.mark.django_db

HOUR = datetime.timedelta(hours=1)


def register(tree, people, name="白沙派出所", council="township", kind=DepartmentKind.POLICE):
    official = (
        people["district_official"] if council in ("district", "city") else people["official"]
    )
    return services.register_department(user=official, council=tree[council], name=name, kind=kind)


def staffed(tree, people, name="白沙派出所", **kwargs):
    """A department with one member (a police officer, say, who lives nowhere in the tree)."""
    office = register(tree, people, name, **kwargs)
    officer = UserFactory()
    DepartmentMember.objects.create(department=office, user=officer)
    return office, officer


def whistled(tree, people, office, *, title, age=HOUR, **kwargs):
    now = timezone.now()
    case = grid_report(tree, people, title=title, now=now - age, **kwargs)
    return services.whistle_case(
        user=people["official"], case=case, department=office, reason="", now=now - age
    )


def departments_url(council):
    return reverse("cases:departments", args=[council.pk])


def desk_url(office):
    return reverse("cases:department_desk", args=[office.pk])


# -- the department desk ---------------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in_from_a_desk(client, tree, people):
    office = register(tree, people)
    response = client.get(desk_url(office))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


@pytest.mark.parametrize(
    "who",
    [
        "resident",
        "committee",
        "grid_worker",
        "supervisor",
        "representative",
        "other_official",
        "other_committee",
    ],
)
def test_a_desk_is_refused_to_those_outside_the_department(client, tree, people, who):
    office = register(tree, people)
    client.force_login(people[who])
    assert client.get(desk_url(office)).status_code == 403


def test_a_member_of_another_department_is_refused_this_desk(client, tree, people):
    police, _officer = staffed(tree, people)
    _justice, clerk = staffed(tree, people, "司法所")
    _far, far_clerk = staffed(tree, people, "桃源派出所", council="district")
    for outsider in (clerk, far_clerk):
        client.force_login(outsider)
        assert client.get(desk_url(police)).status_code == 403


def test_an_unknown_desk_is_not_found(client, people):
    client.force_login(people["official"])
    assert client.get(reverse("cases:department_desk", args=[999999])).status_code == 404


def test_the_desk_shows_the_cases_to_report_in_in_hand_and_resolved(client, tree, people):
    office, officer = staffed(tree, people)
    late = whistled(tree, people, office, title="深夜噪音扰民", age=30 * HOUR)
    waiting = whistled(tree, people, office, title="路口无人指挥")
    in_hand = whistled(tree, people, office, title="电动车被盗")
    services.accept_case(user=officer, case=in_hand)
    resolved = whistled(tree, people, office, title="醉酒闹事", level=Whistle.DIFFICULT)
    services.accept_case(user=officer, case=resolved)
    services.resolve_case(user=officer, case=resolved, outcome="已调解")
    grid_report(tree, people, title="村里自己处理的事")  # not whistled
    other, _clerk = staffed(tree, people, "城管中队")
    whistled(tree, people, other, title="占道经营")
    client.force_login(officer)
    response = client.get(desk_url(office))
    assert response.status_code == 200
    desk = response.context["desk"]
    assert [c.pk for c in desk["waiting"]] == [late.pk, waiting.pk]  # by accept deadline
    assert [c.late for c in desk["waiting"]] == [True, False]
    assert [c.pk for c in desk["handling"]] == [in_hand.pk]
    assert [c.pk for c in desk["resolved"]] == [resolved.pk]
    assert desk["counts"] == {"waiting": 2, "handling": 1, "resolved": 1, "overdue": 1}
    html = response.content.decode()
    for title in ("深夜噪音扰民", "路口无人指挥", "电动车被盗", "醉酒闹事"):
        assert title in html
    assert "村里自己处理的事" not in html and "占道经营" not in html
    assert reverse("cases:case", args=[late.pk]) in html
    assert timezone.localtime(late.accept_due).strftime("%Y-%m-%d %H:%M") in html
    assert html.count('class="tag"') == 1
    # A member does not manage the departments: no link to them.
    assert departments_url(tree["township"]) not in html


def test_the_township_official_and_the_district_see_a_desk(client, tree, people):
    office, _officer = staffed(tree, people)
    for who in ("official", "district_official"):
        client.force_login(people[who])
        response = client.get(desk_url(office))
        assert response.status_code == 200
        assert departments_url(tree["township"]) in response.content.decode()


def test_a_former_member_is_refused_the_desk(client, tree, people):
    office, officer = staffed(tree, people)
    services.remove_department_member(user=people["official"], department=office, member=officer)
    client.force_login(officer)
    assert client.get(desk_url(office)).status_code == 403


def test_desk_queries_do_not_grow_with_the_cases(client, tree, people, django_assert_num_queries):
    office, officer = staffed(tree, people)
    client.force_login(officer)
    url = desk_url(office)
    client.get(url)
    for n in range(2):
        whistled(tree, people, office, title=f"第{n}件")
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    for n in range(18):
        case = whistled(
            tree,
            people,
            office,
            title=f"另{n}件",
            council=tree["other_village"] if n % 2 else tree["grid"],
            reporter=people["official"],
        )
        if n % 3:
            services.accept_case(user=officer, case=case)
    with django_assert_num_queries(len(queries)):
        response = client.get(url)
    assert len(response.context["desk"]["handling"]) == 12


# -- departments of a council ----------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in_from_the_departments(client, tree):
    url = departments_url(tree["township"])
    assert client.get(url).status_code == 302
    response = client.post(url, {"name": "派出所", "kind": "police"})
    assert response.status_code == 302
    assert not Department.objects.exists()


@pytest.mark.parametrize(
    "who",
    [
        "resident",
        "committee",
        "grid_worker",
        "supervisor",
        "representative",
        "other_official",
        "other_committee",
    ],
)
def test_departments_are_refused_to_all_but_the_officials(client, tree, people, who):
    office, officer = staffed(tree, people)
    client.force_login(people[who])
    url = departments_url(tree["township"])
    assert client.get(url).status_code == 403
    assert client.post(url, {"name": "司法所", "kind": "justice"}).status_code == 403
    members = reverse("cases:department_members", args=[office.pk])
    newcomer = UserFactory()
    data = {f"d{office.pk}-phone": newcomer.phone, f"d{office.pk}-action": "add"}
    assert client.post(members, data).status_code == 403
    remove = reverse("cases:remove_department_member", args=[office.pk, officer.pk])
    assert client.post(remove).status_code == 403
    deactivate = reverse("cases:deactivate_department", args=[office.pk])
    assert client.post(deactivate).status_code == 403
    assert list(Department.objects.values_list("name", "active")) == [("白沙派出所", True)]
    assert list(DepartmentMember.objects.values_list("user", flat=True)) == [officer.pk]


def test_a_department_member_does_not_manage_the_departments(client, tree, people):
    _office, officer = staffed(tree, people)
    client.force_login(officer)
    assert client.get(departments_url(tree["township"])).status_code == 403


def test_departments_belong_to_a_township_or_above(client, tree, people):
    client.force_login(people["official"])
    assert client.get(departments_url(tree["village"])).status_code == 403


def test_official_registers_a_department(client, tree, people):
    client.force_login(people["official"])
    url = departments_url(tree["township"])
    response = client.post(url, {"name": " 白沙司法所 ", "kind": "justice"}, follow=True)
    assert response.status_code == 200
    office = Department.objects.get()
    assert (office.name, office.kind, office.council) == ("白沙司法所", "justice", tree["township"])
    assert "白沙司法所" in response.content.decode()
    assert CouncilAction.objects.filter(council=tree["township"], verb="add_department").exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "kind": "police"}, "Give the department's name."),
        ({"name": "派出所", "kind": "army"}, "Select a valid choice."),
        ({"name": "派" * 81, "kind": "police"}, "at most 80 characters"),
        ({"name": "白沙派出所", "kind": "police"}, "already registered here"),
    ],
)
def test_a_bad_department_is_refused_and_the_input_kept(client, tree, people, data, message):
    register(tree, people)
    client.force_login(people["official"])
    response = client.post(departments_url(tree["township"]), data)
    assert response.status_code == 400
    assert Department.objects.count() == 1
    html = response.content.decode()
    assert message in html.replace("&#x27;", "'")
    if data["name"]:
        assert f'value="{data["name"]}"' in html


def test_district_registers_its_own_departments(client, tree, people):
    client.force_login(people["district_official"])
    response = client.post(
        departments_url(tree["district"]), {"name": "区生态环境局", "kind": "environment"}
    )
    assert response.status_code == 302
    assert Department.objects.get().council == tree["district"]
    # The township's officials do not manage the district's departments.
    client.force_login(people["official"])
    assert client.get(departments_url(tree["district"])).status_code == 403


def _members(client, office, phone, action):
    return client.post(
        reverse("cases:department_members", args=[office.pk]),
        {f"d{office.pk}-phone": phone, f"d{office.pk}-action": action},
        follow=action != "bad",
    )


def test_members_are_added_and_removed_by_phone(client, tree, people):
    office = register(tree, people)
    officer = UserFactory(display_name="李警官")
    client.force_login(people["official"])
    response = _members(client, office, f"+86 {officer.phone[:3]} {officer.phone[3:]}", "add")
    assert response.status_code == 200
    assert list(office.members.all()) == [officer]
    assert "李警官" in response.content.decode()
    _members(client, office, officer.phone, "add")  # twice is once
    assert office.memberships.count() == 1
    response = _members(client, office, officer.phone, "remove")
    assert not office.memberships.exists()
    assert "no longer a member" in response.content.decode()


def test_an_unknown_phone_is_refused_with_a_clear_message(client, tree, people):
    office = register(tree, people)
    client.force_login(people["official"])
    url = reverse("cases:department_members", args=[office.pk])
    for phone in ("13900000000", "", "not a phone"):
        response = client.post(url, {f"d{office.pk}-phone": phone, f"d{office.pk}-action": "add"})
        assert response.status_code == 400
        html = response.content.decode()
        if phone == "":
            assert "Write the phone number of their account." in html
        else:
            assert "No account has this phone number" in html
            assert f'value="{phone}"' in html
    assert not office.memberships.exists()


def test_a_member_form_without_add_or_remove_says_so(client, tree, people):
    office = register(tree, people)
    client.force_login(people["official"])
    response = _members(client, office, people["resident"].phone, "bad")
    assert response.status_code == 400
    assert "Choose to add or to remove the person." in response.content.decode()
    assert not office.memberships.exists()


def test_removing_someone_who_is_not_a_member_says_so(client, tree, people):
    office, _officer = staffed(tree, people)
    client.force_login(people["official"])
    response = _members(client, office, people["resident"].phone, "remove")
    assert "not a member of the department" in response.content.decode()
    assert office.memberships.count() == 1


def test_the_remove_button_beside_a_member(client, tree, people):
    office, officer = staffed(tree, people)
    other, clerk = staffed(tree, people, "司法所")
    client.force_login(people["official"])
    # A member of another department cannot be removed through this one.
    wrong = reverse("cases:remove_department_member", args=[office.pk, clerk.pk])
    assert client.post(wrong).status_code == 404
    assert client.get(wrong).status_code == 405
    url = reverse("cases:remove_department_member", args=[office.pk, officer.pk])
    assert client.post(url).status_code == 302
    assert not office.memberships.exists()
    assert other.memberships.count() == 1


def test_a_department_with_open_cases_is_not_deactivated(client, tree, people):
    office, officer = staffed(tree, people)
    case = whistled(tree, people, office, title="打架斗殴")
    client.force_login(people["official"])
    url = reverse("cases:deactivate_department", args=[office.pk])
    response = client.post(url, follow=True)
    assert "still holds open cases" in response.content.decode()
    office.refresh_from_db()
    assert office.active
    services.accept_case(user=officer, case=case)
    services.resolve_case(user=officer, case=case, outcome="已处理")
    services.confirm_case(user=people["grid_worker"], case=case, satisfaction=5)
    response = client.post(url, follow=True)
    assert "no longer active" in response.content.decode()
    office.refresh_from_db()
    assert not office.active
    # Deactivating twice is refused; it is not whistled in any more.
    assert "This department is no longer active." in client.post(url, follow=True).content.decode()
    other = grid_report(tree, people, title="又一件")
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.whistle_case(user=people["official"], case=other, department=office, reason="")


def test_department_list_counts_members_and_open_cases(client, tree, people):
    office, officer = staffed(tree, people)
    DepartmentMember.objects.create(department=office, user=UserFactory())
    whistled(tree, people, office, title="一")
    closed = whistled(tree, people, office, title="二")
    services.accept_case(user=officer, case=closed)
    services.resolve_case(user=officer, case=closed, outcome="好")
    services.confirm_case(user=people["grid_worker"], case=closed, satisfaction=5)
    register(tree, people, "城管中队", kind=DepartmentKind.URBAN)
    client.force_login(people["official"])
    departments = client.get(departments_url(tree["township"])).context["departments"]
    counts = {d.name: (d.member_count, d.open_count) for d in departments}
    assert counts == {"白沙派出所": (2, 1), "城管中队": (0, 0)}
    assert Department.objects.get(name="白沙派出所").cases.filter(status=Status.CLOSED).count() == 1


def test_department_list_queries_do_not_grow(client, tree, people, django_assert_num_queries):
    client.force_login(people["official"])
    url = departments_url(tree["township"])
    first, officer = staffed(tree, people)
    second, _clerk = staffed(tree, people, "城管中队")
    client.get(url)
    for n in range(2):
        whistled(tree, people, first, title=f"第{n}件")
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    for n in range(18):
        whistled(tree, people, second if n % 2 else first, title=f"另{n}件")
    for _n in range(5):
        DepartmentMember.objects.create(department=second, user=UserFactory())
    staffed(tree, people, "司法所")
    with django_assert_num_queries(len(queries)):
        response = client.get(url)
    counts = {d.name: (d.member_count, d.open_count) for d in response.context["departments"]}
    assert counts == {"白沙派出所": (1, 11), "城管中队": (6, 9), "司法所": (1, 0)}
