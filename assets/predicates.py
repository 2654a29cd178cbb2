"""Predicates about a register entry's version; obj is an EntryVersion (or has `.version`)."""

import rules

from assets.models import EntryVersion


def _version(obj) -> EntryVersion | None:
    if isinstance(obj, EntryVersion):
        return obj
    return getattr(obj, "version", None) if obj is not None else None


@rules.predicate
def version_is_draft(user, obj=None) -> bool:
    version = _version(obj)
    return version is not None and version.record.status == "draft"


@rules.predicate
def version_is_published(user, obj=None) -> bool:
    version = _version(obj)
    return version is not None and version.record.status == "published"
