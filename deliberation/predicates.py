"""Predicates about halls and topics; roles come from councils.predicates."""

import rules


def _hall_of(obj):
    if obj is None:
        return None
    return obj if hasattr(obj, "is_public") else getattr(obj, "hall", None)


@rules.predicate
def hall_is_public(user, obj=None) -> bool:
    hall = _hall_of(obj)
    return bool(hall and hall.is_public)


@rules.predicate
def topic_is_discussable(user, obj=None) -> bool:
    """The topic (or, for a hall, always) still takes messages and stances."""
    return bool(obj is not None and getattr(obj, "is_discussable", True))


@rules.predicate
def is_topic_author(user, obj=None) -> bool:
    """The user raised this topic (the asker)."""
    return bool(
        obj is not None
        and getattr(user, "is_authenticated", False)
        and getattr(obj, "author_id", None) == user.pk
    )


@rules.predicate
def topic_is_answered(user, obj=None) -> bool:
    """The committee has given the topic its official answer."""
    return bool(obj is not None and getattr(obj, "answered_at", None))


# --- Sessions ------------------------------------------------------------------------------------


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
    return bool(obj is not None and getattr(obj, "status", None) == "draft")


@rules.predicate
def minutes_are_published(user, obj=None) -> bool:
    return bool(obj is not None and getattr(obj, "status", None) == "published")


@rules.predicate
def motion_passed(user, obj=None) -> bool:
    return bool(obj is not None and getattr(obj, "passed", False))
