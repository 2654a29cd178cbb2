import pytest
from django.core.management import CommandError, call_command

from core.models import User
from councils.models import CouncilPage, Household, Level, Membership, MembershipStatus, Role

pytestmark = pytest.mark.django_db


def snapshot():
    return (
        CouncilPage.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
        Household.objects.count(),
    )


def test_demo_city_is_complete_and_idempotent(settings):
    settings.DEBUG = True
    call_command("load_demo_data", households=4)
    first = snapshot()
    call_command("load_demo_data", households=4)
    assert snapshot() == first
    villages = CouncilPage.objects.filter(level=Level.VILLAGE).count()
    assert 18 <= villages <= 30
    assert CouncilPage.objects.filter(level=Level.GRID).count() >= villages
    for level in (Level.CITY, Level.DISTRICT, Level.TOWNSHIP, Level.WORTHIES, Level.CHILDREN):
        assert CouncilPage.objects.filter(level=level).exists(), level
    verified = Membership.objects.filter(status=MembershipStatus.VERIFIED)
    assert set(verified.values_list("role", flat=True)) == set(Role.values)
    assert Membership.objects.filter(status=MembershipStatus.PENDING).count() == villages
    assert not User.objects.filter(real_name="").exclude(is_superuser=True).exists()


def test_demo_data_refuses_to_run_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("load_demo_data")
    assert not CouncilPage.objects.exists()
