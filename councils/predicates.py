"""Small predicates that every app's rules are built from.

Each takes (user, obj) where obj is a council or anything with a `council` attribute (a hall,
a topic, a budget cycle ...). A user's verified memberships are read with one query per request
and kept on the user object; their roles in any council are computed from those rows and the
council's ancestors (CouncilPage.ancestor_ids).
"""

import rules

from councils.models import (
    SUB_COUNCIL_LEVELS,
    CouncilPage,
    Level,
    Membership,
    MembershipStatus,
    Role,
    effective_roles,
)

_CACHE_ATTR = "_yishi_roles_in"
_ROWS_ATTR = "_yishi_memberships"


def council_of(obj) -> CouncilPage | None:
    if obj is None:
        return None
    if isinstance(obj, CouncilPage):
        return obj
    return getattr(obj, "council", None)


def roles_in(user, council: CouncilPage | None) -> frozenset[str]:
    """The roles `user` holds in `council`: its own verified ones plus those inherited."""
    if council is None or not getattr(user, "is_authenticated", False):
        return frozenset()
    # request.user is a lazy proxy: keep the cache on the real object behind it.
    cache = getattr(user, "_wrapped", user).__dict__.setdefault(_CACHE_ATTR, {})
    if council.pk not in cache:
        target = getattr(user, "_wrapped", user).__dict__
        if _ROWS_ATTR not in target:
            target[_ROWS_ATTR] = Membership.objects.verified_rows(user.pk)
        cache[council.pk] = effective_roles(target[_ROWS_ATTR], council)
    return cache[council.pk]


def remember_memberships(user, rows: list[tuple[int, str]]) -> None:
    """Keep a person's verified (council id, role) rows, read with the user by the
    authentication backend (councils.backends), for this request's permission checks."""
    getattr(user, "_wrapped", user).__dict__[_ROWS_ATTR] = list(rows)


def know_roles_of(users) -> None:
    """Read the verified memberships of all of `users` at once, for permission checks on each
    of them that follow, where each would otherwise read its own (one query, not one a person)."""
    unknown = [u for u in users if _ROWS_ATTR not in getattr(u, "_wrapped", u).__dict__]
    if not unknown:
        return
    rows = Membership.objects.verified_rows_of([u.pk for u in unknown])
    for user in unknown:
        remember_memberships(user, rows[user.pk])


def forget_roles(user) -> None:
    """Drop the cached roles, after a membership of this user changed."""
    target = getattr(user, "_wrapped", user).__dict__
    target.pop(_CACHE_ATTR, None)
    target.pop(_ROWS_ATTR, None)


def has_role(*roles: str):
    """Predicate: the user holds one of `roles` in the object's council."""
    wanted = frozenset(roles)
    name = "has_role:" + ",".join(sorted(wanted))

    @rules.predicate(name=name)
    def predicate(user, obj=None) -> bool:
        return bool(roles_in(user, council_of(obj)) & wanted)

    return predicate


@rules.predicate
def is_verified_member(user, obj=None) -> bool:
    """Any verified role in the object's council (own or inherited)."""
    return bool(roles_in(user, council_of(obj)))


@rules.predicate
def has_pending_or_verified_membership(user, obj=None) -> bool:
    council = council_of(obj)
    if council is None or not user.is_authenticated:
        return False
    return Membership.objects.filter(
        user=user,
        council=council,
        role=Role.RESIDENT,
        status__in=[MembershipStatus.PENDING, MembershipStatus.VERIFIED],
    ).exists()


@rules.predicate
def council_accepts_residents(user, obj=None) -> bool:
    council = council_of(obj)
    return council is not None and council.accepts_residents


@rules.predicate
def is_self(user, obj=None) -> bool:
    return obj is not None and getattr(obj, "pk", None) == user.pk


is_resident = has_role(Role.RESIDENT)
is_representative = has_role(Role.REPRESENTATIVE)
is_committee = has_role(Role.COMMITTEE)
is_supervisor = has_role(Role.SUPERVISOR)
is_grid_worker = has_role(Role.GRID_WORKER)
is_official = has_role(Role.OFFICIAL)


@rules.predicate
def is_committee_of_parent_village(user, obj=None) -> bool:
    """The user sits on the committee of the village right above a grid or special council
    (which have no committee of their own): used only where the village acts for them, such
    as opening their hall. Roles still do not carry down (see docs/permissions.md)."""
    council = council_of(obj)
    if council is None or council.level not in SUB_COUNCIL_LEVELS:
        return False
    if not getattr(user, "is_authenticated", False) or council.depth <= 1:
        return False
    parent = (
        CouncilPage.objects.filter(path=council.path[: -council.steplen], level=Level.VILLAGE)
        .only("id", "path", "depth", "level")
        .first()
    )
    return parent is not None and Role.COMMITTEE in roles_in(user, parent)
