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
