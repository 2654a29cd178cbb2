"""Meetings tell the people who may attend (issue 17): a session called, moved, cancelled; its
minutes published (meetings.notices, meetings.services)."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from councils.models import Household, MembershipStatus, Role
from meetings import notices
from meetings import services as sessions
from meetings.models import RosterMode, Session, SessionKind, SessionStatus
from notifications import delivery, registry
from notifications.kinds import Kind
from notifications.models import Fanout, Notification
from tests.conftest import isolate_cache_and_layer
from tests.councils.factories import UserFactory, member

pytestmark = pytest.mark.django_db

DAYTIME = "2026-12-01 02:00:00+00:00"  # 10:00 in China
STARTS = datetime.datetime(2026, 12, 3, 11, 30, tzinfo=datetime.UTC)  # 19:30 in China
ASSEMBLY_STARTS = datetime.datetime(2026, 12, 12, 11, 30, tzinfo=datetime.UTC)  # ten days ahead


@pytest.fixture(autouse=True)
def queue_only(settings, request):
    """Tasks are queued, not run: each test expands its fan-outs itself."""
    isolate_cache_and_layer(settings, request)
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time(DAYTIME) as clock:
        yield clock


@pytest.fixture
def people(tree):
    village = tree["village"]

    def resident_with(role, council=village):
        user = member(council)
        member(council, role, user=user)
        return user

    return {
        "chair": resident_with(Role.COMMITTEE),
        "committee": resident_with(Role.COMMITTEE),
        "representative": resident_with(Role.REPRESENTATIVE),
        "representative_2": resident_with(Role.REPRESENTATIVE),
        # Not on a representatives' meeting's roster:
        "resident": member(village),
        "supervisor": resident_with(Role.SUPERVISOR),
        "pending_representative": member(
            village, Role.REPRESENTATIVE, status=MembershipStatus.PENDING
        ),
        "grid_representative": member(tree["grid"], Role.REPRESENTATIVE),
        "other_representative": resident_with(Role.REPRESENTATIVE, tree["other_village"]),
        "official": member(tree["township"], Role.OFFICIAL),
        "township_resident": member(tree["township"]),
        "outsider": UserFactory(),
    }


ROSTER = {"committee", "representative", "representative_2"}  # and the chair, who acts


def expand_all() -> int:
    return sum(delivery.expand(pk) for pk in Fanout.objects.values_list("pk", flat=True))


def told(kind: str, people: dict) -> set[str]:
    ids = set(Notification.objects.filter(kind=kind).values_list("recipient", flat=True))
    return {name for name, user in people.items() if user.pk in ids}


def call(people, village, kind=SessionKind.REPRESENTATIVES, **kwargs):
    default = ASSEMBLY_STARTS if kind == SessionKind.ASSEMBLY else STARTS
    return sessions.schedule_session(
        actor=people["chair"],
        council=village,
        kind=kind,
        title=kwargs.pop("title", "第四季度村民代表会议"),
        starts_at=kwargs.pop("starts_at", default),
        place=kwargs.pop("place", "村委会二楼会议室"),
        **kwargs,
    )


def test_a_called_meeting_tells_its_roster_and_nobody_else(tree, people):
    session = call(people, tree["village"])
    expand_all()
    assert told(Kind.MEETING_CALLED, people) == ROSTER
    notification = Notification.objects.filter(kind=Kind.MEETING_CALLED).first()
    assert notification.params == {
        "council": tree["village"].title,
        "title": "第四季度村民代表会议",
        "when": "2026-12-03 19:30",  # China time
        "place": "村委会二楼会议室",
    }
    assert notification.url == reverse("meetings:session", args=[session.pk])
    assert notification.council == tree["village"]
    assert notification.event_key == f"meeting-called:{session.pk}"


def test_expanding_twice_tells_nobody_twice(tree, people):
    call(people, tree["village"])
    expand_all()
    assert expand_all() == 0
    assert Notification.objects.count() == len(ROSTER)


def test_a_villagers_assembly_tells_every_resident_of_the_village(tree, people):
    call(people, tree["village"], kind=SessionKind.ASSEMBLY, title="村民会议")
    expand_all()
    # Residents of the village, and of the township above it (their role carries down).
    assert told(Kind.MEETING_CALLED, people) == {
        "committee",
        "representative",
        "representative_2",
        "resident",
        "supervisor",
        "township_resident",
    }


def test_a_household_assembly_tells_the_heads_of_household(tree, people):
    village = tree["village"]
    Household.objects.create(council=village, number="1组1号", head=people["resident"])
    Household.objects.create(council=village, number="1组2号", head=people["representative"])
    Household.objects.create(council=village, number="1组3号")  # no head on record
    Household.objects.create(
        council=tree["other_village"], number="1组1号", head=people["other_representative"]
    )
    call(
        people,
        village,
        kind=SessionKind.ASSEMBLY,
        roster_mode=RosterMode.HOUSEHOLDS,
        title="户代表会议",
    )
    expand_all()
    assert told(Kind.MEETING_CALLED, people) == {"resident", "representative"}


def test_a_refused_call_tells_nobody(tree, people):
    with pytest.raises(PermissionDenied):
        sessions.schedule_session(
            actor=people["representative"],
            council=tree["village"],
            kind=SessionKind.REPRESENTATIVES,
            title="代表自己召集",
            starts_at=STARTS,
            place="村口",
        )
    assert not Fanout.objects.exists()


# --- Changed and cancelled --------------------------------------------------------------------


def test_a_moved_meeting_tells_its_roster_the_new_time_and_place_each_time(tree, people, frozen):
    session = call(people, tree["village"])
    later = STARTS + datetime.timedelta(days=1)
    sessions.change_session(
        actor=people["chair"], session=session, starts_at=later, place="村文化礼堂"
    )
    frozen.tick()
    sessions.change_session(
        actor=people["committee"], session=session, starts_at=later, place="村委会"
    )
    expand_all()
    changes = Notification.objects.filter(kind=Kind.MEETING_CHANGED)
    assert changes.values("event_key").distinct().count() == 2
    first, second = sorted(
        {n.event_key: n.params for n in changes}.values(), key=lambda p: p["place"] == "村委会"
    )
    assert (first["when"], first["place"]) == ("2026-12-04 19:30", "村文化礼堂")
    assert (second["was_place"], second["place"]) == ("村文化礼堂", "村委会")
    # Each change tells the roster but the member who made it.
    chair_change = changes.filter(params__place="村文化礼堂")
    assert {n.recipient_id for n in chair_change} == {people[n].pk for n in ROSTER}
    committee_change = changes.filter(params__place="村委会")
    assert {n.recipient_id for n in committee_change} == {
        people[n].pk for n in ROSTER - {"committee"} | {"chair"}
    }
    session.refresh_from_db()
    assert (session.starts_at, session.place) == (later, "村委会")


def test_a_change_that_changes_nothing_is_refused_and_tells_nobody(tree, people):
    session = call(people, tree["village"])
    Fanout.objects.all().delete()
    with pytest.raises(ValidationError, match="already the time and place"):
        sessions.change_session(
            actor=people["chair"], session=session, starts_at=STARTS, place="村委会二楼会议室"
        )
    with pytest.raises(PermissionDenied):
        sessions.change_session(
            actor=people["representative"], session=session, starts_at=STARTS, place="村口"
        )
    assert not Fanout.objects.exists()


def test_an_open_meeting_can_be_neither_moved_nor_cancelled(tree, people):
    session = call(people, tree["village"])
    sessions.open_session(actor=people["chair"], session=session, early=True)
    Fanout.objects.all().delete()
    with pytest.raises(ValidationError, match="already opened"):
        sessions.change_session(
            actor=people["chair"], session=session, starts_at=STARTS, place="村口"
        )
    with pytest.raises(ValidationError, match="already opened"):
        sessions.cancel_session(actor=people["chair"], session=session)
    assert not Fanout.objects.exists()


def test_a_cancelled_meeting_tells_its_roster_once_and_cannot_open(tree, people):
    session = call(people, tree["village"])
    sessions.cancel_session(actor=people["chair"], session=session)
    expand_all()
    assert told(Kind.MEETING_CANCELLED, people) == ROSTER
    assert Notification.objects.filter(kind=Kind.MEETING_CANCELLED).first().params["when"] == (
        "2026-12-03 19:30"
    )
    session.refresh_from_db()
    assert session.status == SessionStatus.CANCELLED
    for refused in (
        lambda: sessions.cancel_session(actor=people["chair"], session=session),
        lambda: sessions.open_session(actor=people["chair"], session=session, early=True),
        lambda: sessions.change_session(
            actor=people["chair"], session=session, starts_at=STARTS, place="村口"
        ),
        lambda: sessions.add_agenda_item(actor=people["chair"], session=session, title="议程"),
        lambda: sessions.add_motion(actor=people["chair"], session=session, title="动议"),
    ):
        with pytest.raises(ValidationError, match="cancelled"):
            refused()
    assert Fanout.objects.filter(kind=Kind.MEETING_CANCELLED).count() == 1


def test_only_the_committee_cancels(tree, people):
    session = call(people, tree["village"])
    for name in ("representative", "resident", "official", "other_representative"):
        with pytest.raises(PermissionDenied):
            sessions.cancel_session(actor=people[name], session=session)
    session.refresh_from_db()
    assert session.status == SessionStatus.SCHEDULED
    assert not Fanout.objects.filter(kind=Kind.MEETING_CANCELLED).exists()


# --- Minutes ----------------------------------------------------------------------------------


def test_published_minutes_tell_the_roster_taken_when_the_meeting_opened(tree, people):
    village = tree["village"]
    session = call(people, village)
    sessions.open_session(actor=people["chair"], session=session, early=True)
    # Elected after the meeting opened: not on its roster.
    late = member(village)
    member(village, Role.REPRESENTATIVE, user=late)
    sessions.close_session(actor=people["chair"], session=session)
    minutes = sessions.draft_minutes(actor=people["chair"], session=session, narrative="会议纪要")
    assert not Fanout.objects.filter(kind=Kind.MINUTES_PUBLISHED).exists()  # a draft tells nobody
    sessions.publish_minutes(actor=people["chair"], minutes=minutes)
    expand_all()
    assert told(Kind.MINUTES_PUBLISHED, {**people, "late": late}) == ROSTER
    notification = Notification.objects.filter(kind=Kind.MINUTES_PUBLISHED).first()
    assert notification.url == reverse("meetings:minutes", args=[minutes.pk])
    assert notification.event_key == f"minutes-published:{minutes.pk}"
    # A published correction is news again; the same minutes are not.
    correction = sessions.correct_minutes(
        actor=people["committee"], minutes=minutes, narrative="更正后的纪要", reason="人数写错"
    )
    sessions.publish_minutes(actor=people["committee"], minutes=correction)
    expand_all()
    assert Notification.objects.filter(event_key=f"minutes-published:{correction.pk}").count() == 3
    assert Notification.objects.filter(kind=Kind.MINUTES_PUBLISHED).count() == 6


def test_the_roster_audience_is_registered_and_resumes_after_any_id(tree, people):
    assert registry.audience("session_roster") is notices.roster_ids
    session = call(people, tree["village"])
    everyone = sorted(people[n].pk for n in ROSTER | {"chair"})
    assert notices.roster_ids(0, 2, session_id=session.pk) == everyone[:2]
    assert notices.roster_ids(everyone[1], 10, session_id=session.pk) == everyone[2:]
    assert people["chair"].pk not in notices.roster_ids(
        0, 10, session_id=session.pk, exclude_id=people["chair"].pk
    )


# --- The chair's page -------------------------------------------------------------------------


def test_the_chair_moves_and_cancels_from_the_meetings_page(client, tree, people):
    session = call(people, tree["village"])
    url = reverse("meetings:session", args=[session.pk])
    client.force_login(people["chair"])
    page = client.get(url).content.decode()
    assert "change_starts_at" in page and "cancel_confirm" in page
    change = reverse("meetings:session_action", args=[session.pk, "change"])
    response = client.post(change, {"starts_at": "2026-12-05 19:30", "place": "村文化礼堂"})
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.place == "村文化礼堂"
    assert timezone.localtime(session.starts_at).strftime("%Y-%m-%d %H:%M") == "2026-12-05 19:30"
    assert Fanout.objects.filter(kind=Kind.MEETING_CHANGED).count() == 1
    cancel = reverse("meetings:session_action", args=[session.pk, "cancel"])
    assert client.post(cancel, {}).status_code == 400  # not confirmed
    assert client.post(cancel, {"confirm": "on"}).status_code == 302
    session.refresh_from_db()
    assert session.is_cancelled
    page = client.get(url).content.decode()
    assert "cancel_confirm" not in page and "change_starts_at" not in page
    # Not the chair: refused, nothing sent.
    client.force_login(people["representative"])
    other = call(people, tree["village"], title="另一次会议")
    response = client.post(
        reverse("meetings:session_action", args=[other.pk, "cancel"]), {"confirm": "on"}
    )
    assert response.status_code == 403
    assert not Fanout.objects.filter(event_key=f"meeting-cancelled:{other.pk}").exists()


def test_an_assembly_called_with_less_than_the_laws_ten_days_is_refused_and_tells_nobody(
    tree, people
):
    with pytest.raises(ValidationError) as refused:
        call(people, tree["village"], kind=SessionKind.ASSEMBLY, starts_at=STARTS)
    assert "10" in refused.value.messages[0]
    assert not Fanout.objects.exists() and not Session.objects.exists()


def test_moving_an_assembly_inside_its_notice_is_refused_and_a_village_may_ask_more(
    tree, people, settings
):
    session = call(people, tree["village"], kind=SessionKind.ASSEMBLY)
    with pytest.raises(ValidationError):
        sessions.change_session(
            actor=people["chair"], session=session, starts_at=STARTS, place="村口"
        )
    # A representatives' meeting has no notice in law; a village's own rules may set one.
    settings.YISHI_MEETING_NOTICE_DAYS = {SessionKind.REPRESENTATIVES: 3}
    with pytest.raises(ValidationError):
        call(people, tree["village"], starts_at=STARTS)  # two days ahead
    settings.YISHI_MEETING_NOTICE_DAYS = {SessionKind.ASSEMBLY: 5}  # never below the law
    assert sessions.notice_days(SessionKind.ASSEMBLY) == 10
