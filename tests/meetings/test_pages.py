"""Session pages: readable without JavaScript, forms that refuse bad input and save nothing,
query counts that do not grow with the roster."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from councils.models import Role
from meetings import services as sessions
from meetings.models import AgendaItem, Minutes, Motion, Session, Vote
from tests.councils.factories import member
from tests.meetings.conftest import entry_of, mark_present, opened, representatives, scheduled

pytestmark = pytest.mark.django_db


def voting_session(chair, village, size):
    reps = representatives(village, size)
    session = opened(chair, village)
    mark_present(chair, session, [chair, *reps])
    motion = sessions.open_vote(
        actor=chair, motion=sessions.add_motion(actor=chair, session=session, title="修路")
    )
    for rep in reps:
        sessions.cast_vote(voter=rep, motion=motion, choice="yes")
    return session, reps, motion


def test_anyone_reads_a_public_session_and_its_screen_without_javascript(client, chair, village):
    session, reps, motion = voting_session(chair, village, 3)
    page = client.get(session.get_absolute_url())
    assert page.status_code == 200
    html = page.content.decode()
    assert "修路" in html and reps[0].public_name in html
    assert "<script>" not in html and "style=" not in html
    screen = client.get(reverse("meetings:session_screen", args=[session.pk]))
    assert screen.status_code == 200
    assert 'data-field="yes">3<' in screen.content.decode()
    assert session.check_in_code not in screen.content.decode() or not session.check_in_code


def test_the_screen_shows_the_code_only_to_the_chair(client, chair, village):
    session = opened(chair, village)
    code = sessions.open_check_in(actor=chair, session=session)
    url = reverse("meetings:session_screen", args=[session.pk])
    assert code not in client.get(url).content.decode()
    (rep,) = representatives(village, 1)
    client.force_login(rep)
    assert code not in client.get(url).content.decode()
    client.force_login(chair)
    assert code in client.get(url).content.decode()


def test_a_private_session_is_hidden_from_outsiders(client, chair, village, tree):
    session = opened(chair, village, is_public=False)
    assert client.get(session.get_absolute_url()).status_code == 403
    client.force_login(member(tree["other_village"]))
    assert client.get(session.get_absolute_url()).status_code == 403
    client.force_login(member(village))
    assert client.get(session.get_absolute_url()).status_code == 200


def test_session_page_query_count_is_the_same_for_3_and_30_members(client, chair, village):
    small, _, _ = voting_session(chair, village, 3)
    big, _, _ = voting_session(chair, village, 30)
    sessions.close_vote(actor=chair, motion=small.motions.get())
    sessions.close_vote(actor=chair, motion=big.motions.get())
    client.force_login(chair)
    numbers = []
    for session in (small, big, small):
        with CaptureQueriesContext(connection) as queries:
            client.get(session.get_absolute_url())
        numbers.append(len(queries))
    assert numbers[1] == numbers[2]


def test_voting_through_the_form(client, chair, village):
    reps = representatives(village, 2)
    session = opened(chair, village)
    mark_present(chair, session, [chair, *reps])
    motion = sessions.open_vote(
        actor=chair, motion=sessions.add_motion(actor=chair, session=session, title="修路")
    )
    client.force_login(reps[0])
    page = client.get(session.get_absolute_url()).content.decode()
    assert reverse("meetings:cast_vote", args=[motion.pk]) in page
    url = reverse("meetings:cast_vote", args=[motion.pk])
    response = client.post(url, {"choice": "no"}, follow=True)
    assert Vote.objects.get().choice == "no"
    assert "recorded" in response.content.decode()
    response = client.post(url, {"choice": "yes"}, follow=True)
    assert Vote.objects.count() == 1
    assert "already been cast" in response.content.decode()


@pytest.mark.parametrize("choice", ["", "maybe"])
def test_a_vote_form_with_bad_input_saves_nothing(client, chair, village, choice):
    session, reps, motion = voting_session(chair, village, 0)
    client.force_login(chair)
    response = client.post(
        reverse("meetings:cast_vote", args=[motion.pk]), {"choice": choice}, follow=True
    )
    assert "Choose for, against or abstain." in response.content.decode()
    assert not Vote.objects.exists()


def test_a_resident_cannot_vote_through_the_form(client, chair, village):
    session, _, motion = voting_session(chair, village, 1)
    client.force_login(member(village))
    response = client.post(
        reverse("meetings:cast_vote", args=[motion.pk]), {"choice": "yes"}, follow=True
    )
    assert "roster" in response.content.decode()
    assert Vote.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"title": "", "place": "礼堂", "starts_at": "2026-09-15T19:30"},
            "Give the meeting a title.",
        ),
        ({"title": "会议", "place": "", "starts_at": "2026-09-15T19:30"}, "Say where the meeting"),
        ({"title": "会议", "place": "礼堂", "starts_at": "明天"}, "Write the date and time like"),
        (
            {
                "title": "会议",
                "place": "礼堂",
                "starts_at": "2026-09-15T19:30",
                "roster_mode": "households",
            },
            "cannot use that roster",
        ),
    ],
)
def test_scheduling_with_bad_input_says_why_and_saves_nothing(
    client, chair, village, data, message
):
    client.force_login(chair)
    response = client.post(
        reverse("meetings:schedule_session", args=[village.pk]),
        {"kind": "representatives", "is_public": "on", **data},
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Session.objects.exists()


# Ten days ahead and more, as the law asks of a villagers' assembly.
ASSEMBLY_DAY = (timezone.localtime() + datetime.timedelta(days=12)).strftime("%Y-%m-%dT19:30")


def test_scheduling_through_the_form(client, chair, village):
    client.force_login(chair)
    response = client.post(
        reverse("meetings:schedule_session", args=[village.pk]),
        {
            "kind": "assembly",
            "roster_mode": "households",
            "title": "村民会议",
            "place": "村小学操场",
            "starts_at": ASSEMBLY_DAY,
        },
    )
    session = Session.objects.get()
    assert response.status_code == 302 and response["Location"] == session.get_absolute_url()
    assert session.rule["quorum"] == {"numerator": 2, "denominator": 3, "strict": False}


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.REPRESENTATIVE, Role.SUPERVISOR])
def test_only_the_committee_reaches_the_scheduling_form(client, village, role):
    client.force_login(member(village, role))
    assert client.get(reverse("meetings:schedule_session", args=[village.pk])).status_code == 403


def test_agenda_and_motion_forms_refuse_empty_titles(client, chair, village):
    session = scheduled(chair, village)
    client.force_login(chair)
    response = client.post(reverse("meetings:add_agenda_item", args=[session.pk]), {"title": ""})
    assert response.status_code == 400 and "Write the agenda item." in response.content.decode()
    response = client.post(
        reverse("meetings:add_motion", args=[session.pk]), {"title": "", "majority": "session"}
    )
    assert response.status_code == 400 and "Write the motion." in response.content.decode()
    assert not AgendaItem.objects.exists() and not Motion.objects.exists()


def test_a_wrong_check_in_code_is_explained(client, chair, village):
    (rep,) = representatives(village, 1)
    session = opened(chair, village)
    code = sessions.open_check_in(actor=chair, session=session)
    client.force_login(rep)
    url = reverse("meetings:check_in", args=[session.pk])
    response = client.post(url, {"code": "12"})
    assert response.status_code == 400 and "six digits" in response.content.decode()
    wrong = "000000" if code != "000000" else "111111"
    response = client.post(url, {"code": wrong})
    assert response.status_code == 400 and "not the code shown" in response.content.decode()
    assert entry_of(session, rep).attendance == "absent"
    client.post(url, {"code": code})
    assert entry_of(session, rep).attendance == "present"


@pytest.mark.parametrize("action", ["open", "check-in-open", "close"])
def test_a_representative_cannot_run_the_chair_buttons(client, chair, village, action):
    (rep,) = representatives(village, 1)
    session = scheduled(chair, village)
    client.force_login(rep)
    url = reverse("meetings:session_action", args=[session.pk, action])
    assert client.post(url).status_code == 403
    session.refresh_from_db()
    assert session.status == "scheduled"


def test_published_minutes_refuse_a_form_post(client, chair, village):
    session, _, motion = voting_session(chair, village, 1)
    sessions.close_vote(actor=chair, motion=motion)
    sessions.close_session(actor=chair, session=session)
    minutes = sessions.draft_minutes(actor=chair, session=session, narrative="原文")
    sessions.publish_minutes(actor=chair, minutes=minutes)
    client.force_login(chair)
    client.post(reverse("meetings:edit_minutes", args=[minutes.pk]), {"narrative": "改写"})
    client.post(reverse("meetings:write_minutes", args=[session.pk]), {"narrative": "改写"})
    client.post(reverse("meetings:publish_minutes", args=[minutes.pk]))
    minutes.refresh_from_db()
    assert minutes.narrative == "原文" and Minutes.objects.count() == 1
    page = client.get(minutes.get_absolute_url())
    assert page.status_code == 200 and "原文" in page.content.decode()


def test_minutes_page_is_printable_and_public_once_published(client, chair, village):
    session, reps, motion = voting_session(chair, village, 2)
    sessions.close_vote(actor=chair, motion=motion)
    sessions.close_session(actor=chair, session=session)
    minutes = sessions.draft_minutes(actor=chair, session=session, narrative="纪要正文")
    assert client.get(minutes.get_absolute_url()).status_code == 403  # a draft
    sessions.publish_minutes(actor=chair, minutes=minutes)
    html = client.get(minutes.get_absolute_url()).content.decode()
    assert "纪要正文" in html and reps[1].public_name in html and "css/sessions.css" in html


def test_the_council_page_lists_its_sessions(client, chair, village):
    session = scheduled(chair, village)
    html = client.get(village.url).content.decode()
    assert session.get_absolute_url() in html
