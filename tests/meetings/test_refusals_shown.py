"""A refused check-in or minutes correction is explained to the person refused.

The session page shows the check-in form only to a member on the roster, not yet present, while
check-in is open; the minutes page shows the correction form only to the committee and only
until a correction exists. A post outside those cases used to re-render the page with a form
(and its error) that the page did not show.
"""

import pytest
from django.urls import reverse
from django.utils.html import escape

from meetings import services as sessions
from meetings.models import Minutes
from tests.councils.factories import member
from tests.meetings.conftest import entry_of, mark_present, opened, representatives, scheduled

pytestmark = pytest.mark.django_db


def check_in(client, session, code):
    return client.post(reverse("meetings:check_in", args=[session.pk]), {"code": code}, follow=True)


def landed_on(response, obj) -> str:
    assert response.redirect_chain == [(obj.get_absolute_url(), 302)]
    return response.content.decode()


def test_a_member_already_present_is_told_so_whatever_the_code(client, chair, village):
    (rep,) = representatives(village, 1)
    session = opened(chair, village)
    mark_present(chair, session, [rep])
    sessions.open_check_in(actor=chair, session=session)
    client.force_login(rep)
    page = landed_on(check_in(client, session, "12"), session)
    assert "You are checked in." in page and "The code has six digits." not in page


def test_checking_in_before_check_in_opens_says_it_is_not_open(client, chair, village):
    (rep,) = representatives(village, 1)
    session = opened(chair, village)
    client.force_login(rep)
    page = landed_on(check_in(client, session, "12"), session)
    assert "Check-in is not open." in page
    assert entry_of(session, rep).attendance == "absent"


def test_checking_in_before_the_meeting_opens_says_it_is_not_in_progress(client, chair, village):
    (rep,) = representatives(village, 1)
    session = scheduled(chair, village)
    client.force_login(rep)
    page = landed_on(check_in(client, session, "123456"), session)
    assert "The session is not in progress." in page
    assert not session.roster.filter(attendance="present").exists()


def test_someone_not_on_the_roster_is_told_why_they_cannot_check_in(client, chair, village):
    session = opened(chair, village)
    sessions.open_check_in(actor=chair, session=session)
    client.force_login(member(village))  # a resident: may watch a public meeting, not check in
    response = client.post(reverse("meetings:check_in", args=[session.pk]), {"code": ""})
    assert response.status_code == 403
    assert "You are not on the roster of this meeting." in response.content.decode()


@pytest.fixture
def published_minutes(chair, village):
    session = opened(chair, village)
    sessions.close_session(actor=chair, session=session)
    minutes = sessions.draft_minutes(actor=chair, session=session, narrative="纪要原文")
    return sessions.publish_minutes(actor=chair, minutes=minutes)


def correct(client, minutes, data, **kwargs):
    return client.post(reverse("meetings:correct_minutes", args=[minutes.pk]), data, **kwargs)


def test_a_representative_asking_for_a_correction_is_told_who_corrects(
    client, village, published_minutes
):
    (rep,) = representatives(village, 1)
    client.force_login(rep)
    response = correct(client, published_minutes, {"narrative": "", "correction_reason": ""})
    assert response.status_code == 403
    assert "Only the committee corrects published minutes." in response.content.decode()
    assert Minutes.objects.count() == 1


def test_correcting_corrected_minutes_points_to_the_correction(client, chair, published_minutes):
    sessions.correct_minutes(actor=chair, minutes=published_minutes, narrative="改", reason="错")
    client.force_login(chair)
    response = correct(
        client, published_minutes, {"narrative": "", "correction_reason": ""}, follow=True
    )
    page = landed_on(response, published_minutes)
    assert escape("These minutes have already been corrected; correct the correction.") in page
    assert Minutes.objects.count() == 2
