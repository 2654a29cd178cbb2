"""Self check-in with the room code, its rotation and its rate limit."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from councils.models import Role
from meetings import services as sessions
from meetings.models import Attendance, CheckInMethod
from tests.councils.factories import member
from tests.meetings.conftest import entry_of, opened, representatives

pytestmark = pytest.mark.django_db


@pytest.fixture
def room(chair, village):
    reps = representatives(village, 3)
    session = opened(chair, village)
    code = sessions.open_check_in(actor=chair, session=session)
    return session, reps, code


def test_a_representative_checks_in_with_the_room_code(room):
    session, reps, code = room
    entry = sessions.check_in(user=reps[0], session=session, code=f" {code} ")
    assert entry.attendance == Attendance.PRESENT
    assert entry.check_in_method == CheckInMethod.CODE


def test_the_code_is_six_digits():
    assert all(len(c) == 6 and c.isdigit() for c in (sessions._new_code() for _ in range(50)))


def test_a_wrong_code_is_refused(room):
    session, reps, code = room
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(ValidationError) as error:
        sessions.check_in(user=reps[0], session=session, code=wrong)
    assert error.value.code == "wrong_code"
    assert entry_of(session, reps[0]).attendance == Attendance.ABSENT


def test_a_rotated_code_replaces_the_old_one(chair, room):
    session, reps, code = room
    new = sessions.rotate_check_in_code(actor=chair, session=session)
    assert new != code
    with pytest.raises(ValidationError):
        sessions.check_in(user=reps[0], session=session, code=code)
    sessions.check_in(user=reps[0], session=session, code=new)


def test_no_check_in_once_closed(chair, room):
    session, reps, code = room
    sessions.close_check_in(actor=chair, session=session)
    with pytest.raises(ValidationError) as error:
        sessions.check_in(user=reps[0], session=session, code=code)
    assert error.value.code == "check_in_closed"


def test_wrong_codes_are_rate_limited_even_when_the_next_one_is_right(room):
    session, reps, code = room
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(sessions.WRONG_CODE_LIMIT):
        with pytest.raises(ValidationError):
            sessions.check_in(user=reps[0], session=session, code=wrong)
    with pytest.raises(ValidationError) as error:
        sessions.check_in(user=reps[0], session=session, code=code)
    assert error.value.code == "rate_limited"
    # another member is not punished for it
    sessions.check_in(user=reps[1], session=session, code=code)


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.SUPERVISOR])
def test_someone_off_the_roster_cannot_check_in(village, room, role):
    session, _, code = room
    with pytest.raises(PermissionDenied):
        sessions.check_in(user=member(village, role), session=session, code=code)


def test_only_the_chair_opens_check_in(village, room):
    session, reps, _ = room
    with pytest.raises(PermissionDenied):
        sessions.rotate_check_in_code(actor=reps[0], session=session)
    with pytest.raises(PermissionDenied):
        sessions.record_attendance(
            actor=reps[0], session=session, entry=entry_of(session, reps[0]), present=True
        )
