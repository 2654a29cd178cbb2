"""Permissions of sessions. docs/permissions.md is the table; a test walks it.

The committee convenes and chairs (村民代表会议由村民委员会召集, Article 26); whoever is on the
roster votes; everyone may watch a public session and read published minutes. Each permission
takes a session, a motion or minutes (anything with `.council`), or a council to schedule in.
"""

import rules

from councils.predicates import is_committee, is_official, is_verified_member
from meetings.predicates import (
    is_on_roster,
    minutes_are_draft,
    minutes_are_published,
    motion_passed,
    session_is_public,
)

can_view_session = session_is_public | is_verified_member | is_committee | is_official

rules.add_perm("meetings.view_session", can_view_session)
rules.add_perm("meetings.schedule_session", is_committee)
rules.add_perm("meetings.chair_session", is_committee)
rules.add_perm("meetings.check_in_session", is_on_roster)
rules.add_perm("meetings.cast_vote", is_on_roster)
rules.add_perm(
    "meetings.view_minutes",
    (minutes_are_published & can_view_session) | is_committee | is_official,
)
rules.add_perm("meetings.change_minutes", is_committee & minutes_are_draft)
rules.add_perm("meetings.publish_minutes", is_committee & minutes_are_draft)
rules.add_perm("meetings.correct_minutes", is_committee & minutes_are_published)
rules.add_perm("meetings.disclose_motion", is_committee & motion_passed)
