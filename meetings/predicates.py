"""Predicates about sessions, motions and minutes; roles come from councils.predicates."""

import rules

from meetings.models import MinutesStatus


def _session_of(obj):
    if obj is None:
        return None
    if hasattr(obj, "roster_mode"):
        return obj
    return getattr(obj, "session", None)


@rules.predicate
def session_is_public(user, obj=None) -> bool:
    session = _session_of(obj)
    return bool(session and session.is_public)


@rules.predicate
def is_on_roster(user, obj=None) -> bool:
    """The user is on the session's roster (snapshotted when the session opened)."""
    session = _session_of(obj)
    if session is None or not getattr(user, "is_authenticated", False):
        return False
    return session.roster.filter(person_id=user.pk).exists()


@rules.predicate
def minutes_are_draft(user, obj=None) -> bool:
    return bool(obj is not None and getattr(obj, "status", None) == MinutesStatus.DRAFT)


@rules.predicate
def minutes_are_published(user, obj=None) -> bool:
    return bool(obj is not None and getattr(obj, "status", None) == MinutesStatus.PUBLISHED)


@rules.predicate
def motion_passed(user, obj=None) -> bool:
    return bool(obj is not None and getattr(obj, "passed", False))
