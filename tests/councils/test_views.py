import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from councils.models import Membership, MembershipStatus, Role
from tests.councils.factories import UserFactory, member

pytestmark = pytest.mark.django_db


def test_anonymous_join_goes_to_sign_in(client, tree):
    response = client.get(f"/councils/{tree['village'].pk}/join/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_join_form_sends_a_request(client, tree):
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        f"/councils/{tree['village'].pk}/join/", {"house_number": "2组5号", "message": "我家在村口"}
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user=user)
    assert (membership.status, membership.house_number) == (MembershipStatus.PENDING, "2组5号")
    page = client.get(tree["village"].url).content.decode()
    assert "waiting for the committee" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"house_number": ""}, "Write your house number"),
        ({"house_number": "号" * 41}, "at most 40 characters"),
        ({"house_number": "1号", "message": "长" * 301}, "at most 300 characters"),
    ],
)
def test_join_form_bad_input_keeps_nothing_and_says_why(client, tree, data, message):
    client.force_login(UserFactory())
    response = client.post(f"/councils/{tree['village'].pk}/join/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Membership.objects.exists()


def test_join_form_in_chinese(client, tree, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(UserFactory())
    response = client.post(f"/councils/{tree['village'].pk}/join/", {"house_number": ""})
    assert "请填写门牌号" in response.content.decode()


def test_joining_a_township_is_refused_with_a_message(client, tree):
    client.force_login(UserFactory())
    response = client.get(f"/councils/{tree['township'].pk}/join/", follow=True)
    assert "You cannot ask to join this council" in response.content.decode()
    assert not Membership.objects.exists()


@pytest.mark.parametrize("role", [None, Role.RESIDENT, Role.REPRESENTATIVE, Role.GRID_WORKER])
def test_members_page_is_closed_to_non_officers(client, tree, role):
    user = member(tree["village"], role) if role else UserFactory()
    client.force_login(user)
    assert client.get(f"/councils/{tree['village'].pk}/members/").status_code == 403


def test_real_names_are_shown_to_the_committee_only(client, tree):
    village = tree["village"]
    applicant = UserFactory(real_name="王秀英", display_name="秀英奶奶")
    Membership.objects.create(user=applicant, council=village, house_number="1组1号")
    client.force_login(member(village, Role.COMMITTEE))
    html = client.get(f"/councils/{village.pk}/members/").content.decode()
    assert "王秀英" in html and "秀英奶奶" in html
    # Nowhere public: the council page and the search page show no real name.
    client.logout()
    assert "王秀英" not in client.get(village.url).content.decode()


def test_committee_verifies_and_rejects_through_the_page(client, tree):
    village = tree["village"]
    first = Membership.objects.create(user=UserFactory(), council=village, house_number="1组1号")
    second = Membership.objects.create(user=UserFactory(), council=village, house_number="9组9号")
    client.force_login(member(village, Role.COMMITTEE))
    client.post(f"/councils/memberships/{first.pk}/verify/")
    response = client.post(
        f"/councils/memberships/{second.pk}/reject/", {"reason": ""}, follow=True
    )
    assert "Give the applicant a reason" in response.content.decode()
    client.post(f"/councils/memberships/{second.pk}/reject/", {"reason": "查无此户"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (MembershipStatus.VERIFIED, MembershipStatus.REJECTED)


def test_resident_cannot_verify_through_the_page(client, tree):
    request = Membership.objects.create(user=UserFactory(), council=tree["village"])
    client.force_login(member(tree["village"]))
    assert client.post(f"/councils/memberships/{request.pk}/verify/").status_code == 403
    request.refresh_from_db()
    assert request.status == MembershipStatus.PENDING


def test_verify_needs_post(client, tree):
    request = Membership.objects.create(user=UserFactory(), council=tree["village"])
    client.force_login(member(tree["village"], Role.COMMITTEE))
    assert client.get(f"/councils/memberships/{request.pk}/verify/").status_code == 405


def test_members_list_query_count_does_not_grow_with_rows(client, tree):
    village = tree["village"]
    client.force_login(member(village, Role.COMMITTEE))
    url = f"/councils/{village.pk}/members/?status=pending"
    for _ in range(3):
        Membership.objects.create(user=UserFactory(), council=village, house_number="1组1号")
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(30):
        Membership.objects.create(user=UserFactory(), council=village, house_number="1组1号")
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.content.decode().count("<tr>") == 34  # header + 33 rows
    assert len(many) == len(few)


def test_profile_keeps_real_name_apart_and_validates(client, user):
    client.force_login(user)
    response = client.post("/councils/me/", {"display_name": "李", "real_name": "李建国"})
    assert response.status_code == 400
    assert "at least 2 characters" in response.content.decode()
    user.refresh_from_db()
    assert user.real_name != "李建国"
    client.post("/councils/me/", {"display_name": "老李", "real_name": "李建国"})
    user.refresh_from_db()
    assert (user.display_name, user.real_name, user.public_name) == ("老李", "李建国", "老李")
