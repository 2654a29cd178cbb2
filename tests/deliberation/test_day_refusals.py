"""A refused registration or outcome is explained on the page the villager lands on.

The day page shows the registration form only before the day to someone not yet registered,
and the outcome form only after the day has begun and until the outcome is published; a post
outside those states used to re-render the page with a form (and its error) nobody could see.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from freezegun import freeze_time

from deliberation import services
from deliberation.models import ConsultationDay, DayRegistration

pytestmark = pytest.mark.django_db


@pytest.fixture
def day(hall, committee):
    return services.schedule_consultation_day(
        actor=committee,
        hall=hall,
        title="民情恳谈日",
        starts_at=timezone.now() + timedelta(days=3),
        place="村委会",
        officials="李明（镇党委副书记）",
    )


def post(client, name, day, data):
    response = client.post(reverse(f"deliberation:{name}", args=[day.pk]), data, follow=True)
    assert response.redirect_chain == [(day.get_absolute_url(), 302)]
    return response.content.decode()


def test_registering_twice_says_you_are_registered(client, day, resident):
    services.register_for_day(user=resident, day=day, note="说说修路")
    client.force_login(resident)
    page = post(client, "register_for_day", day, {"note": "长" * 301})  # a bad form, too
    assert escape("You are already registered for this day.") in page
    assert "at most 300 characters" not in page
    assert DayRegistration.objects.get().note == "说说修路"


def test_registering_once_the_day_has_begun_says_so(client, day, resident):
    client.force_login(resident)
    with freeze_time(day.starts_at + timedelta(hours=1)):
        page = post(client, "register_for_day", day, {"note": "我来晚了"})
    assert "This consultation day has already begun." in page
    assert not DayRegistration.objects.exists()


def test_outcome_before_the_day_says_when_it_can_be_published(client, day, committee):
    client.force_login(committee)
    page = post(client, "publish_outcome", day, {"outcome": ""})
    assert "The outcome can be published once the day has begun." in page
    assert ConsultationDay.objects.get().outcome_published_at is None


def test_a_second_outcome_says_the_first_is_published(client, day, committee):
    client.force_login(committee)
    with freeze_time(day.starts_at + timedelta(hours=3)):
        services.publish_day_outcome(actor=committee, day=day, outcome="路灯下周修好。")
        page = post(client, "publish_outcome", day, {"outcome": "改主意了"})
    assert "The outcome of this day was already published." in page
    assert ConsultationDay.objects.get().outcome == "路灯下周修好。"
