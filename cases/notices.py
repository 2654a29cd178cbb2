"""Telling people what happened to a case (notifications kind `case_updated`).

The reporter is told of each step that concerns them; the handlers are told when a case
reaches them (reported, whistled, escalated, reopened); the township's officials are told of a
level whose rule says so. Each event key names the case, the step and the moment, so the same
step is never told twice to one person and a later step of the same kind is told again.
"""

from django.urls import reverse
from django.utils import translation

from cases.models import Case, DepartmentMember, Tier
from councils.models import Membership, Role
from notifications.kinds import Kind
from notifications.services import notify


def case_url(case: Case) -> str:
    return reverse("cases:case", args=[case.pk])


def _key(case: Case, step: str, now) -> str:
    return f"case:{case.pk}:{step}:{int(now.timestamp())}"


def _params(case: Case, change) -> dict:
    # The title only: the text and names stay behind the login (an SMS is read on lock screens).
    # The change is kept as its English message and translated for each reader when shown
    # (notifications.kinds.TRANSLATED_PARAMS).
    with translation.override("en"):
        return {"title": case.title, "change": str(change)}


def staff_ids(council, roles=(Role.COMMITTEE, Role.GRID_WORKER, Role.OFFICIAL)) -> list[int]:
    """Who acts for a council: its own committee, grid workers and officials (verified)."""
    return list(
        Membership.objects.verified()
        .filter(council=council, role__in=list(roles))
        .values_list("user_id", flat=True)
        .distinct()
    )


def handler_ids(case: Case) -> list[int]:
    if case.department_id is not None:
        return list(
            DepartmentMember.objects.filter(department_id=case.department_id).values_list(
                "user_id", flat=True
            )
        )
    return staff_ids(case.handler_council)


def _tell(case: Case, ids, *, step: str, change, now, exclude=None) -> None:
    ids = [pk for pk in set(ids) if pk != exclude]
    if not ids:
        return
    notify(
        kind=Kind.CASE_UPDATED,
        recipients=ids,
        event_key=_key(case, step, now),
        url=case_url(case),
        council=case.council,
        params=_params(case, change),
        obj=case,
        permission="cases.view_case",
    )


def case_reported(case: Case, *, rule) -> None:
    from django.utils.translation import gettext_lazy as _

    ids = handler_ids(case)
    if rule.inform_township and rule.tier != Tier.TOWNSHIP:
        ids += staff_ids(case.township, roles=(Role.OFFICIAL,))
    _tell(
        case,
        ids,
        step="reported",
        change=_("new case to handle"),
        now=case.reported_at,
        exclude=case.reporter_id,
    )


def department_whistled(case: Case, *, now) -> None:
    from django.utils.translation import gettext_lazy as _

    _tell(
        case,
        handler_ids(case),
        step=f"whistled-{case.department_id}",
        change=_("whistled to your department, report in"),
        now=now,
    )


def case_escalated(case: Case, *, now) -> None:
    from django.utils.translation import gettext_lazy as _

    _tell(
        case,
        handler_ids(case),
        step=f"escalated-{case.handler_council_id}",
        change=_("overdue, escalated to you"),
        now=now,
    )


def case_reopened(case: Case, *, now) -> None:
    from django.utils.translation import gettext_lazy as _

    _tell(
        case,
        handler_ids(case),
        step="reopened",
        change=_("reopened, the reporter is not satisfied"),
        now=now,
        exclude=case.reporter_id,
    )


def tell_reporter(case: Case, *, change, step: str, now) -> None:
    _tell(case, [case.reporter_id], step=f"reporter-{step}", change=change, now=now)
