"""Sessions in each state for the permission table (tests/councils/test_permissions_table.py)."""

import datetime

from django.utils import timezone

from councils.models import Role
from meetings import services as sessions
from meetings.models import SessionKind
from tests.councils.factories import member


def permission_objects(tree) -> dict:
    village = tree["village"]
    chair = member(village)
    member(village, Role.COMMITTEE, user=chair)

    def open_one(kind=SessionKind.REPRESENTATIVES, *, is_public=True):
        session = sessions.schedule_session(
            actor=chair,
            council=village,
            kind=kind,
            title="村民代表会议",
            # within the hour, or ten days ahead for an assembly (the law's notice)
            starts_at=timezone.now() + datetime.timedelta(days=sessions.notice_days(kind), hours=1),
            place="村委会",
            is_public=is_public,
        )
        return sessions.open_session(early=True, actor=chair, session=session)

    session = open_one()
    private = open_one(is_public=False)
    assembly = open_one(SessionKind.ASSEMBLY)
    voting = open_one()
    everyone = list(voting.roster.select_related("person"))
    for entry in everyone:
        sessions.record_attendance(actor=chair, session=voting, entry=entry, present=True)
    passed = sessions.open_vote(
        actor=chair, motion=sessions.add_motion(actor=chair, session=voting, title="通过")
    )
    for entry in everyone:
        sessions.cast_vote(voter=entry.person, motion=passed, choice="yes")
    passed = sessions.close_vote(actor=chair, motion=passed)
    failed = sessions.open_vote(
        actor=chair, motion=sessions.add_motion(actor=chair, session=voting, title="否决")
    )
    sessions.cast_vote(voter=chair, motion=failed, choice="no")
    failed = sessions.close_vote(actor=chair, motion=failed)
    sessions.close_session(actor=chair, session=voting)
    draft = sessions.draft_minutes(actor=chair, session=voting, narrative="纪要")
    closed_again = open_one()
    sessions.close_session(actor=chair, session=closed_again)
    published = sessions.publish_minutes(
        actor=chair,
        minutes=sessions.draft_minutes(actor=chair, session=closed_again, narrative="纪要"),
    )
    return {
        "session": session,
        "private_session": private,
        "assembly_session": assembly,
        "minutes_draft": draft,
        "minutes_published": published,
        "passed_motion": passed,
        "failed_motion": failed,
    }
