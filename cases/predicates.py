"""Predicates about cases; roles come from councils.predicates.

A case's object is the Case: `council_of(case)` is where it happened, so an official of the
township, district or city above holds the official role there (it carries down the tree).
"""

import rules

from councils.models import Level, Role
from councils.predicates import roles_in

STAFF_ROLES = frozenset({Role.COMMITTEE, Role.GRID_WORKER, Role.OFFICIAL})
LOCAL_ROLES = frozenset({Role.COMMITTEE, Role.GRID_WORKER})


def _authenticated(user) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def _village_above(council):
    """The village right above a grid (None otherwise); one query, cached on the council."""
    if council.level != Level.GRID:
        return None
    cached = council.__dict__.get("_yishi_village_above")
    if cached is None:
        from councils.models import CouncilPage

        cached = CouncilPage.objects.filter(path=council.path[: -council.steplen]).first()
        council.__dict__["_yishi_village_above"] = cached
    return cached


def _staff_of(user, council, roles) -> bool:
    if council is None:
        return False
    if roles_in(user, council) & roles:
        return True
    village = _village_above(council)
    return village is not None and Role.COMMITTEE in roles_in(user, village)


@rules.predicate
def is_case_public(user, case=None) -> bool:
    return bool(case is not None and getattr(case, "public", False))


@rules.predicate
def is_reporter(user, case=None) -> bool:
    return case is not None and _authenticated(user) and case.reporter_id == user.pk


@rules.predicate
def is_party(user, case=None) -> bool:
    if case is None or not _authenticated(user):
        return False
    return case.parties.filter(user_id=user.pk).exists()


@rules.predicate
def is_mediator(user, case=None) -> bool:
    if case is None or not _authenticated(user):
        return False
    from cases.models import Mediation

    return Mediation.objects.filter(case_id=case.pk, mediator_id=user.pk).exists()


@rules.predicate
def is_case_department_member(user, case=None) -> bool:
    """A member of the department the case is with now."""
    if case is None or case.department_id is None or not _authenticated(user):
        return False
    from cases.models import DepartmentMember

    return DepartmentMember.objects.filter(
        department_id=case.department_id, user_id=user.pk
    ).exists()


@rules.predicate
def was_case_department_member(user, case=None) -> bool:
    """A member of a department that held the case before (it may read what it did)."""
    if case is None or not _authenticated(user):
        return False
    from cases.models import CaseEvent, DepartmentMember

    held = CaseEvent.objects.filter(case_id=case.pk, department__isnull=False).values(
        "department_id"
    )
    return DepartmentMember.objects.filter(department_id__in=held, user_id=user.pk).exists()


@rules.predicate
def is_handler_staff(user, case=None) -> bool:
    """Committee, grid worker or official of the council handling the case, while no department
    holds it (then the department handles it)."""
    if case is None or case.department_id is not None or not _authenticated(user):
        return False
    return _staff_of(user, case.handler_council, STAFF_ROLES)


@rules.predicate
def is_local_staff(user, case=None) -> bool:
    """Committee or grid worker of the grid or village where the case happened."""
    if case is None or not _authenticated(user):
        return False
    return _staff_of(user, case.council, LOCAL_ROLES)


@rules.predicate
def is_department_member_here(user, council=None) -> bool:
    """A member of any department registered in this council."""
    if council is None or not _authenticated(user):
        return False
    from cases.models import DepartmentMember

    return DepartmentMember.objects.filter(
        department__council_id=council.pk, user_id=user.pk
    ).exists()


@rules.predicate
def is_township_or_above(user, council=None) -> bool:
    return council is not None and getattr(council, "level", None) in (
        Level.TOWNSHIP,
        Level.DISTRICT,
        Level.CITY,
    )


@rules.predicate
def is_case_council(user, council=None) -> bool:
    return council is not None and getattr(council, "level", None) in (Level.GRID, Level.VILLAGE)


@rules.predicate
def is_open_case(user, case=None) -> bool:
    return case is not None and case.status != "closed"
