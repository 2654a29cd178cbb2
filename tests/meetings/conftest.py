import datetime

import pytest
from django.utils import timezone

from councils.models import Role
from meetings import services as sessions
from meetings.models import SessionKind
from tests.conftest import isolate_cache_and_layer
from tests.councils.factories import member


@pytest.fixture(autouse=True)
def _isolated_cache_and_layer(settings, request):
    """Rate limits and broadcasts counted in this test's own cache and in-memory layer."""
    isolate_cache_and_layer(settings, request)


@pytest.fixture
def village(tree):
    return tree["village"]


@pytest.fixture
def chair(village):
    user = member(village)
    member(village, Role.COMMITTEE, user=user)
    return user


def representatives(village, count: int) -> list:
    people = []
    for _ in range(count):
        user = member(village)
        member(village, Role.REPRESENTATIVE, user=user)
        people.append(user)
    return people


def scheduled(chair, village, kind=SessionKind.REPRESENTATIVES, **kwargs):
    # A villagers' assembly is called ten days ahead (the law); the others may meet within the hour.
    ahead = datetime.timedelta(days=sessions.notice_days(kind), hours=1)
    return sessions.schedule_session(
        actor=chair,
        council=village,
        kind=kind,
        title=kwargs.pop("title", "第三季度村民代表会议"),
        starts_at=kwargs.pop("starts_at", timezone.now() + ahead),
        place=kwargs.pop("place", "村委会二楼会议室"),
        **kwargs,
    )


def opened(chair, village, **kwargs):
    session = scheduled(chair, village, **kwargs)
    return sessions.open_session(early=True, actor=chair, session=session)


def entry_of(session, user):
    return session.roster.get(person=user)


def mark_present(chair, session, users):
    for user in users:
        sessions.record_attendance(
            actor=chair, session=session, entry=entry_of(session, user), present=True
        )
