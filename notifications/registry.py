"""Audiences: who a large event goes to, registered by the app that knows (budgets: a council's
residents, those who have not voted). notifications imports no app to its left
(tests/test_architecture.py), so the apps fill this from their AppConfig.ready().

    register_audience("council_residents", "councils.selectors.resident_ids")

A resolver is `resolver(after_id: int, limit: int, **args) -> list[int]`: the next `limit` user
ids above `after_id`, in ascending order, so an expansion can stop and resume anywhere.
"""

from collections.abc import Callable

from django.utils.module_loading import import_string

AUDIENCES: dict[str, str] = {}


def register_audience(name: str, path: str) -> None:
    AUDIENCES[name] = path


def audience(name: str) -> Callable:
    try:
        return import_string(AUDIENCES[name])
    except KeyError:
        raise LookupError(f"no audience {name!r} is registered") from None


# --- What people may follow -------------------------------------------------------------------

FOLLOWABLE: dict[str, str] = {}
"""model label ("deliberation.topic") -> the permission that lets a person see (and follow) it."""


def register_followable(label: str, *, permission: str) -> None:
    FOLLOWABLE[label] = permission


def followable(obj) -> str | None:
    """The permission needed to follow `obj`, or None if it cannot be followed."""
    return FOLLOWABLE.get(obj._meta.label_lower)
