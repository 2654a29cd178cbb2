"""Predicates about a disclosure record's state, combined with the council roles in rules.py.

Each takes (user, obj); obj is a Record (or something with `.record`, such as a Question).
Asked about anything else they answer False, so a state-bound permission is never granted on a
bare council.
"""

import rules

from disclosure.models import PREPARING_ACTIONS, Action, Record, RecordEvent, Status


def _record(obj) -> Record | None:
    if isinstance(obj, Record):
        return obj
    return getattr(obj, "record", None) if obj is not None else None


def _status_is(status: str, name: str):
    @rules.predicate(name=name)
    def predicate(user, obj=None) -> bool:
        record = _record(obj)
        return record is not None and record.status == status

    return predicate


record_is_draft = _status_is(Status.DRAFT, "record_is_draft")
record_in_review = _status_is(Status.IN_REVIEW, "record_in_review")
record_is_signed_off = _status_is(Status.SIGNED_OFF, "record_is_signed_off")
record_is_published = _status_is(Status.PUBLISHED, "record_is_published")


@rules.predicate
def is_drafter(user, obj=None) -> bool:
    """The user drafted this record (a supervisor may not sign off their own draft)."""
    record = _record(obj)
    return (
        record is not None
        and getattr(user, "is_authenticated", False)
        and record.created_by_id == user.pk
    )


def _acted(user, record, actions) -> bool:
    return RecordEvent.objects.filter(record=record, actor=user, action__in=actions).exists()


@rules.predicate
def is_preparer(user, obj=None) -> bool:
    """The user prepared this record: drafted, edited, added or removed lines or files, or
    submitted it. A preparer never signs it off (separation of duties, docs/permissions.md)."""
    record = _record(obj)
    if record is None or not getattr(user, "is_authenticated", False):
        return False
    return record.created_by_id == user.pk or _acted(user, record, PREPARING_ACTIONS)


@rules.predicate
def is_signer(user, obj=None) -> bool:
    """The user signed this record off; a signer never publishes it."""
    record = _record(obj)
    if record is None or not getattr(user, "is_authenticated", False):
        return False
    return _acted(user, record, [Action.SIGNED_OFF])


@rules.predicate
def record_is_corrected(user, obj=None) -> bool:
    """A correction of this record exists already (drafted or published): correct that one."""
    record = _record(obj)
    return record is not None and record.corrections.exists()


@rules.predicate
def record_is_managed(user, obj=None) -> bool:
    """Another app keeps this record's text (a register entry's version, see assets/): it is
    changed and corrected there, never through the ledger pages."""
    record = _record(obj)
    return record is not None and bool(record.managed_by)
