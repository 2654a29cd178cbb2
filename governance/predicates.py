"""Predicates about indexes and entered figures; roles come from councils.predicates.

Three councils matter (docs/governance-index.md, "Who may do what"):
- the index's owner (a township, district or city): its officials define the index and publish
  the figures entered for it;
- the village a figure is about: the officials above it enter figures for it, and every official
  whose part of the tree holds it sees its drafts;
- anyone else sees only what is published.
An official's role carries down the tree, so a district official acts in its townships too.
"""

import rules

from councils.models import CouncilPage, Level, Role
from councils.predicates import roles_in

OWNER_LEVELS = frozenset({Level.TOWNSHIP, Level.DISTRICT, Level.CITY})


def owner_of(obj) -> CouncilPage | None:
    """The council that owns the index `obj` is or belongs to (a council stands for itself)."""
    if obj is None:
        return None
    if isinstance(obj, CouncilPage):
        return obj
    from governance.models import Dimension, EnteredFigure, Index, IndexVersion, Indicator

    if isinstance(obj, Index):
        return obj.owner
    if isinstance(obj, IndexVersion | EnteredFigure):
        return obj.index.owner
    if isinstance(obj, Dimension):
        return obj.version.index.owner
    if isinstance(obj, Indicator):
        return obj.dimension.version.index.owner
    return None


def figure_council(obj) -> CouncilPage | None:
    """The village an entered figure is about (a council stands for itself)."""
    if obj is None:
        return None
    if isinstance(obj, CouncilPage):
        return obj
    return getattr(obj, "council", None)


def _parent(council: CouncilPage) -> CouncilPage | None:
    """The council right above (one query, kept on the council object)."""
    if council.depth <= 1:
        return None
    cached = council.__dict__.get("_yishi_parent_council")
    if cached is None:
        cached = CouncilPage.objects.filter(path=council.path[: -council.steplen]).first()
        council.__dict__["_yishi_parent_council"] = cached
    return cached


@rules.predicate
def is_owner_official(user, obj=None) -> bool:
    """An official of the township, district or city that owns (or would own) the index."""
    owner = owner_of(obj)
    if owner is None or owner.level not in OWNER_LEVELS:
        return False
    return Role.OFFICIAL in roles_in(user, owner)


@rules.predicate
def is_official_above_village(user, obj=None) -> bool:
    """An official of a council above the figure's village: the owner or one between (an
    official appointed in the village itself does not count, nor does its committee)."""
    council = figure_council(obj)
    if council is None or council.level != Level.VILLAGE:
        return False
    if not getattr(user, "is_authenticated", False):
        return False
    parent = _parent(council)
    return parent is not None and Role.OFFICIAL in roles_in(user, parent)


@rules.predicate
def is_official_over_figure(user, obj=None) -> bool:
    """An official whose part of the tree holds the figure's council."""
    return Role.OFFICIAL in roles_in(user, figure_council(obj))


@rules.predicate
def is_published_figure(user, figure=None) -> bool:
    return figure is not None and getattr(figure, "is_published", False)


@rules.predicate
def is_public_version(user, version=None) -> bool:
    """A version that is or was in use (a draft is the officials' working copy)."""
    return version is not None and not getattr(version, "is_draft", True)
