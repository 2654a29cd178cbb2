"""Minutes: generated from the record, published once, corrected by a linked record; and the
四议两公开 path of a passed motion into the village-affairs disclosure."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from councils.models import Role
from disclosure.models import Record, RecordType
from meetings import services as sessions
from meetings.models import Minutes, MinutesStatus, PublishedMinutesError
from tests.councils.factories import member
from tests.meetings.conftest import mark_present, opened, representatives

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed_session(chair, village):
    reps = representatives(village, 3)
    session = opened(chair, village)
    mark_present(chair, session, [chair, *reps[:2]])
    sessions.record_proxy(
        actor=chair,
        session=session,
        giver=session.roster.get(person=reps[2]),
        holder=session.roster.get(person=reps[0]),
    )
    motion = sessions.add_motion(actor=chair, session=session, title="修建村口桥梁")
    motion = sessions.open_vote(actor=chair, motion=motion)
    sessions.cast_vote(voter=reps[0], motion=motion, choice="yes")
    sessions.cast_vote(
        voter=reps[0], motion=motion, choice="yes", on_behalf_of=session.roster.get(person=reps[2])
    )
    sessions.cast_vote(voter=reps[1], motion=motion, choice="no")
    sessions.cast_vote(voter=chair, motion=motion, choice="abstain")
    motion = sessions.close_vote(actor=chair, motion=motion)
    sessions.close_session(actor=chair, session=session)
    session.refresh_from_db()
    return session, reps, motion


def published(chair, session):
    minutes = sessions.draft_minutes(actor=chair, session=session, narrative="会议讨论了桥梁修建。")
    return sessions.publish_minutes(actor=chair, minutes=minutes)


def test_minutes_record_attendance_proxies_every_vote_and_the_rule(chair, closed_session):
    session, reps, motion = closed_session
    minutes = sessions.draft_minutes(actor=chair, session=session, narrative="纪要")
    record = minutes.record
    assert record["attendance"]["attending"] == 3 and record["attendance"]["proxies"] == 1
    proxy_row = next(r for r in record["roster"] if r["name"] == reps[2].public_name)
    assert proxy_row["attendance"] == "proxy" and proxy_row["proxy_holder"] == reps[0].public_name
    (shown,) = record["motions"]
    assert (shown["yes"], shown["no"], shown["abstain"], shown["result"]) == (2, 1, 1, "failed")
    assert len(shown["votes"]) == 4 and shown["rule"] == motion.rule


def test_minutes_only_after_the_session_closed(chair, village):
    session = opened(chair, village)
    with pytest.raises(ValidationError):
        sessions.draft_minutes(actor=chair, session=session, narrative="x")
    assert not Minutes.objects.exists()


def test_published_minutes_cannot_change_through_the_service(chair, closed_session):
    session, _, _ = closed_session
    minutes = published(chair, session)
    with pytest.raises((ValidationError, PermissionDenied)):
        sessions.edit_minutes(actor=chair, minutes=minutes, narrative="改写")
    with pytest.raises(ValidationError):
        sessions.draft_minutes(actor=chair, session=session, narrative="改写")
    with pytest.raises(ValidationError):
        sessions.publish_minutes(actor=chair, minutes=minutes)
    minutes.refresh_from_db()
    assert minutes.narrative == "会议讨论了桥梁修建。"


def test_published_minutes_cannot_change_through_the_model(chair, closed_session):
    session, _, _ = closed_session
    minutes = published(chair, session)
    minutes.narrative = "改写"
    with pytest.raises(PublishedMinutesError):
        minutes.save()
    stale = Minutes.objects.get(pk=minutes.pk)
    stale.status = MinutesStatus.DRAFT  # pretending it is a draft does not help
    with pytest.raises(PublishedMinutesError):
        stale.save()
    with pytest.raises(PublishedMinutesError):
        minutes.delete()


def test_a_draft_needs_a_narrative_to_be_published(chair, closed_session):
    session, _, _ = closed_session
    minutes = sessions.draft_minutes(actor=chair, session=session)
    with pytest.raises(ValidationError):
        sessions.publish_minutes(actor=chair, minutes=minutes)
    minutes.refresh_from_db()
    assert minutes.status == MinutesStatus.DRAFT


@pytest.mark.parametrize("role", [Role.REPRESENTATIVE, Role.SUPERVISOR, Role.RESIDENT])
def test_only_the_committee_publishes_and_corrects(village, chair, closed_session, role):
    session, reps, _ = closed_session
    user = reps[0] if role == Role.REPRESENTATIVE else member(village, role)
    minutes = sessions.draft_minutes(actor=chair, session=session, narrative="纪要")
    with pytest.raises(PermissionDenied):
        sessions.publish_minutes(actor=user, minutes=minutes)
    with pytest.raises(PermissionDenied):
        sessions.edit_minutes(actor=user, minutes=minutes, narrative="改")
    minutes = sessions.publish_minutes(actor=chair, minutes=minutes)
    with pytest.raises(PermissionDenied):
        sessions.correct_minutes(actor=user, minutes=minutes, narrative="改", reason="错")


def test_a_correction_is_a_new_linked_record(chair, closed_session):
    session, _, _ = closed_session
    original = published(chair, session)
    correction = sessions.correct_minutes(
        actor=chair, minutes=original, narrative="更正后的纪要", reason="出席人数写错"
    )
    assert correction.corrects == original and correction.status == MinutesStatus.DRAFT
    assert correction.record == original.record
    sessions.publish_minutes(actor=chair, minutes=correction)
    original.refresh_from_db()
    assert original.narrative == "会议讨论了桥梁修建。" and original.corrected_by == correction
    with pytest.raises(ValidationError):
        sessions.correct_minutes(actor=chair, minutes=original, narrative="再改", reason="再改")


@pytest.mark.parametrize(("narrative", "reason"), [("", "原因"), ("纪要", ""), ("  ", "  ")])
def test_a_correction_needs_text_and_a_reason(chair, closed_session, narrative, reason):
    session, _, _ = closed_session
    original = published(chair, session)
    with pytest.raises(ValidationError):
        sessions.correct_minutes(actor=chair, minutes=original, narrative=narrative, reason=reason)
    assert Minutes.objects.count() == 1


# --- 四议两公开 ---------------------------------------------------------------------------------


@pytest.fixture
def passed_motion(chair, village):
    reps = representatives(village, 2)
    session = opened(chair, village)
    mark_present(chair, session, [chair, *reps])
    motion = sessions.open_vote(
        actor=chair, motion=sessions.add_motion(actor=chair, session=session, title="硬化道路")
    )
    for user in (chair, *reps):
        sessions.cast_vote(voter=user, motion=motion, choice="yes")
    return sessions.close_vote(actor=chair, motion=motion)


def test_a_passed_motion_becomes_a_resolution_draft_and_then_its_implementation(
    chair, passed_motion
):
    record = sessions.publish_resolution(actor=chair, motion=passed_motion)
    assert record.record_type == RecordType.RESOLUTION and record.status == "draft"
    assert "硬化道路" in record.title and "3" in record.body
    passed_motion.refresh_from_db()
    assert passed_motion.resolution_record == record
    with pytest.raises(ValidationError):
        sessions.publish_resolution(actor=chair, motion=passed_motion)
    second = sessions.publish_implementation(
        actor=chair, motion=passed_motion, report="道路已于十月完工，验收合格。"
    )
    passed_motion.refresh_from_db()
    assert passed_motion.implementation_record == second
    assert f"{record.pk}" in second.body and record.title in second.body


def test_the_implementation_needs_the_resolution_first(chair, passed_motion):
    with pytest.raises(ValidationError):
        sessions.publish_implementation(actor=chair, motion=passed_motion, report="完工")
    assert not Record.objects.exists()


def test_a_failed_motion_cannot_be_disclosed_as_a_resolution(chair, closed_session):
    _, _, motion = closed_session
    with pytest.raises(PermissionDenied):
        sessions.publish_resolution(actor=chair, motion=motion)
    assert not Record.objects.exists()


@pytest.mark.parametrize("role", [Role.REPRESENTATIVE, Role.SUPERVISOR, Role.RESIDENT])
def test_only_the_committee_discloses_a_resolution(village, passed_motion, role):
    with pytest.raises(PermissionDenied):
        sessions.publish_resolution(actor=member(village, role), motion=passed_motion)
    assert not Record.objects.exists()
