import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from councils.models import Household, Membership, Role
from tests.councils.factories import UserFactory, member

pytestmark = pytest.mark.django_db


def url(tree):
    return f"/councils/{tree['village'].pk}/households/"


@pytest.mark.parametrize(
    "role", [None, Role.RESIDENT, Role.REPRESENTATIVE, Role.SUPERVISOR, Role.GRID_WORKER]
)
def test_households_page_is_for_the_committee(client, tree, role):
    client.force_login(member(tree["village"], role) if role else UserFactory())
    assert client.get(url(tree)).status_code == 403
    assert client.post(url(tree), {"number": "1组1号"}).status_code == 403
    assert not Household.objects.exists()


def test_committee_adds_a_household_with_its_representative(client, tree):
    village = tree["village"]
    representative = member(village, Role.REPRESENTATIVE)
    client.force_login(member(village, Role.COMMITTEE))
    response = client.post(url(tree), {"number": "5组3号", "representative": representative.pk})
    assert response.status_code == 302
    household = Household.objects.get(council=village, number="5组3号")
    assert household.representative == representative
    assert representative.public_name in client.get(url(tree)).content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"number": ""}, "Write the house number"),
        ({"number": "号" * 41}, "at most 40 characters"),
        ({"number": "1组1号", "representative": "999999"}, "Select a valid choice"),
    ],
)
def test_household_form_bad_input(client, tree, data, message):
    client.force_login(member(tree["village"], Role.COMMITTEE))
    response = client.post(url(tree), data)
    assert response.status_code == 400 and message in response.content.decode()
    assert not Household.objects.exists()


def test_a_plain_resident_cannot_be_made_representative(client, tree):
    from django.core.exceptions import ValidationError

    from councils.services import save_household

    committee = member(tree["village"], Role.COMMITTEE)
    with pytest.raises(ValidationError, match="verified village representative"):
        save_household(
            council=tree["village"],
            number="1组1号",
            representative=member(tree["village"]),
            by=committee,
        )
    assert not Household.objects.exists()


def test_households_list_query_count_is_constant(client, tree):
    village = tree["village"]
    client.force_login(member(village, Role.COMMITTEE))
    Household.objects.create(council=village, number="0号")
    client.get(url(tree))
    with CaptureQueriesContext(connection) as few:
        client.get(url(tree))
    for i in range(20):
        household = Household.objects.create(council=village, number=f"{i}组", head=UserFactory())
        Membership.objects.create(
            user=household.head, council=village, household=household, status="verified"
        )
    with CaptureQueriesContext(connection) as many:
        client.get(url(tree))
    assert len(many) == len(few)
