"""The township board, the department desk, departments, level rules, the public page.

Views parse input, ask the permission, call one selector or service and render; refusals from
the services are shown with core.refusals. Everything works without JavaScript; the board's
counts table (cases/board_counts.html) is what the live board replaces.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases import selectors, services
from cases.desk_forms import BoardFilterForm, DepartmentForm, LevelRuleForm, MemberForm
from cases.models import Department, DepartmentMember, Tier, Whistle
from core.refusals import say_refusal
from councils.models import CouncilPage, Level

BOARD_PER_PAGE = 25
PUBLIC_PER_PAGE = 25


def _council(pk: int, **levels) -> CouncilPage:
    # `id`, not `pk` (the page_ptr key): an id too large for the database is then a 404, not
    # SQLite's OverflowError (Django guards integer lookups on the id field only).
    return get_object_or_404(CouncilPage.objects.live(), id=pk, **levels)


def _allowed(request, permission: str, obj) -> None:
    if not request.user.has_perm(permission, obj):
        raise PermissionDenied


# -- the board -------------------------------------------------------------------------------------


def counts_table(counts: dict) -> dict:
    """selectors.board_counts with the labels of its rows and columns, for the template."""
    labels = dict(Whistle.choices)
    return {
        "council": counts["council"],
        "at": counts["at"],
        "columns": [label for _key, label, *_bounds in selectors.AGE_BUCKETS],
        "rows": [
            {
                **row,
                "label": labels[row["level"]],
                "cells": list(zip(counts["buckets"], row["buckets"], strict=True)),
            }
            for row in counts["rows"]
        ],
        "total": {
            **counts["total"],
            "cells": list(zip(counts["buckets"], counts["total"]["buckets"], strict=True)),
        },
    }


def render_board_counts(counts: dict, request=None) -> str:
    """The counts table as the board shows it (what the live board replaces)."""
    return render_to_string(
        "cases/board_counts.html", {"table": counts_table(counts)}, request=request
    )


@login_required
def board_counts(request, council_pk: int):
    """The board's counts table alone: what static/js/cases-board.js reads when the board's
    socket says a case moved (cases.live). One aggregate query."""
    council = _council(council_pk)
    _allowed(request, "cases.view_board", council)
    counts = selectors.board_counts(council, timezone.now())
    return HttpResponse(render_board_counts(counts, request))


@login_required
def board(request, council_pk: int):
    """The open cases of a township (district, city): counts by level and age, then the list,
    overdue and oldest first, filtered by level, category, status and village."""
    council = _council(council_pk)
    _allowed(request, "cases.view_board", council)
    now = timezone.now()
    places = selectors.board_places(council)
    form = BoardFilterForm(
        request.GET or None,
        places=places,
        place_label=_("Village") if council.level == Level.TOWNSHIP else _("Township"),
    )
    counts = selectors.board_counts(council, now)
    filters = form.filters()
    unfiltered = not any(filters.get(name) for name in ("level", "category", "status", "place"))
    page_obj = selectors.open_cases_page(
        council,
        filters,
        page=request.GET.get("page"),
        per_page=BOARD_PER_PAGE,
        now=now,
        count=counts["total"]["open"] if unfiltered else None,
    )
    user = request.user
    return render(
        request,
        "cases/board.html",
        {
            "council": council,
            "now": now,
            "table": counts_table(counts),
            "form": form,
            "page_obj": page_obj,
            "can_manage_departments": user.has_perm("cases.manage_departments", council),
            "can_set_rules": council.level == Level.TOWNSHIP
            and user.has_perm("cases.set_rules", council),
        },
    )


# -- the department desk ---------------------------------------------------------------------------


def _department(pk: int) -> Department:
    return get_object_or_404(Department.objects.select_related("council"), pk=pk)


def _may_see_desk(user, department: Department) -> bool:
    """A member of this department, or an official of the council it is registered under."""
    council = department.council
    if not user.has_perm("cases.view_department_desk", council):
        return False
    if user.has_perm("cases.manage_departments", council):
        return True
    return DepartmentMember.objects.filter(department=department, user_id=user.pk).exists()


@login_required
def department_desk(request, pk: int):
    """A department's cases: to report in (accept) by the deadline, in hand, resolved and
    waiting for the reporter's confirmation."""
    department = _department(pk)
    if not _may_see_desk(request.user, department):
        raise PermissionDenied
    desk = selectors.department_desk(department, timezone.now())
    return render(
        request,
        "cases/department_desk.html",
        {
            "department": department,
            "council": department.council,
            "desk": desk,
            "limit": selectors.DESK_LIMIT,
            "can_manage": request.user.has_perm("cases.manage_departments", department.council),
        },
    )


# -- departments of a council ----------------------------------------------------------------------


def _departments_page(request, council, *, form=None, member_form=None, status=200):
    departments = selectors.departments_of(council)
    for department in departments:
        department.member_form = (
            member_form
            if member_form is not None and member_form.department_id == department.pk
            else MemberForm(initial={"action": "add"}, prefix=f"d{department.pk}")
        )
    return render(
        request,
        "cases/departments.html",
        {"council": council, "departments": departments, "form": form or DepartmentForm()},
        status=status,
    )


@login_required
def departments(request, council_pk: int):
    """The departments registered under a council, and a form to register another."""
    council = _council(council_pk)
    _allowed(request, "cases.manage_departments", council)
    if request.method != "POST":
        return _departments_page(request, council)
    form = DepartmentForm(request.POST)
    if form.is_valid():
        try:
            department = services.register_department(
                user=request.user, council=council, **form.cleaned_data
            )
        except PermissionDenied as error:
            say_refusal(request, error)
            return redirect("cases:departments", council.pk)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("%(name)s is registered. Add its members by their phone numbers.")
                % {"name": department.name},
            )
            return redirect("cases:departments", council.pk)
    return _departments_page(request, council, form=form, status=400)


def _managed_department(request, pk: int) -> Department:
    department = _department(pk)
    _allowed(request, "cases.manage_departments", department.council)
    return department


@login_required
@require_POST
def department_members(request, pk: int):
    """Add someone to a department, or take them off, by their account's phone number."""
    department = _managed_department(request, pk)
    form = MemberForm(request.POST, prefix=f"d{department.pk}")
    form.department_id = department.pk
    if not form.is_valid():
        return _departments_page(request, department.council, member_form=form, status=400)
    member, action = form.cleaned_data["member"], form.cleaned_data["action"]
    try:
        if action == "add":
            services.add_department_member(user=request.user, department=department, member=member)
        else:
            if not department.memberships.filter(user=member).exists():
                form.add_error("phone", _("This person is not a member of the department."))
                return _departments_page(request, department.council, member_form=form, status=400)
            services.remove_department_member(
                user=request.user, department=department, member=member
            )
    except (PermissionDenied, ValidationError) as error:
        say_refusal(request, error)
    else:
        text = (
            _("%(person)s is a member of %(department)s.")
            if action == "add"
            else _("%(person)s is no longer a member of %(department)s.")
        )
        messages.success(request, text % {"person": member.public_name, "department": department})
    return redirect("cases:departments", department.council_id)


@login_required
@require_POST
def remove_department_member(request, pk: int, user_pk: int):
    """The remove button beside each member."""
    department = _managed_department(request, pk)
    membership = get_object_or_404(
        DepartmentMember.objects.select_related("user"), department=department, user_id=user_pk
    )
    try:
        services.remove_department_member(
            user=request.user, department=department, member=membership.user
        )
    except (PermissionDenied, ValidationError) as error:
        say_refusal(request, error)
    else:
        messages.success(
            request,
            _("%(person)s is no longer a member of %(department)s.")
            % {"person": membership.user.public_name, "department": department},
        )
    return redirect("cases:departments", department.council_id)


@login_required
@require_POST
def deactivate_department(request, pk: int):
    department = _managed_department(request, pk)
    try:
        services.deactivate_department(user=request.user, department=department)
    except (PermissionDenied, ValidationError) as error:
        say_refusal(request, error)
    else:
        messages.success(
            request,
            _("%(department)s is no longer active: it cannot be whistled in.")
            % {"department": department},
        )
    return redirect("cases:departments", department.council_id)


# -- level rules -----------------------------------------------------------------------------------


def _rule_forms(rules, bound=None) -> list[dict]:
    """One form per whistle level, with the township's rule and the default beside it."""
    rows = []
    for rule in rules:
        default = services.DEFAULT_RULES[rule.level]
        form = (
            bound
            if bound is not None and bound.prefix == rule.level
            else LevelRuleForm(
                prefix=rule.level,
                initial={
                    "tier": rule.tier,
                    "inform_township": rule.inform_township,
                    "accept_hours": rule.accept_hours,
                    "resolve_days": rule.resolve_days,
                },
            )
        )
        rows.append(
            {
                "level": rule.level,
                "label": Whistle(rule.level).label,
                "rule": rule,
                "default": services.Rule(rule.level, **default),
                "default_tier": Tier(default["tier"]).label,
                "is_default": rule == services.Rule(rule.level, **default),
                "form": form,
            }
        )
    return rows


@login_required
def level_rules(request, council_pk: int):
    """A township's three whistle levels: where each is handled, whether the township is told,
    the hours to accept and the days to resolve."""
    council = _council(council_pk, level=Level.TOWNSHIP)
    _allowed(request, "cases.set_rules", council)
    bound = None
    if request.method == "POST":
        level = request.POST.get("level", "")
        if level not in Whistle.values:
            messages.error(request, _("Choose a whistle level."))
            return redirect("cases:rules", council.pk)
        bound = LevelRuleForm(request.POST, prefix=level)
        if bound.is_valid():
            try:
                services.set_level_rule(
                    user=request.user, township=council, level=level, **bound.cleaned_data
                )
            except PermissionDenied as error:
                say_refusal(request, error)
                return redirect("cases:rules", council.pk)
            except ValidationError as error:
                bound.add_error(None, error)
            else:
                messages.success(
                    request,
                    _("%(level)s: saved. Cases reported from now on follow it.")
                    % {"level": Whistle(level).label},
                )
                return redirect("cases:rules", council.pk)
    return render(
        request,
        "cases/rules.html",
        {"council": council, "rows": _rule_forms(services.rules_of(council), bound)},
        status=400 if bound is not None else 200,
    )


# -- the public page -------------------------------------------------------------------------------


def public(request, council_pk: int):
    """For anyone: counts without names, and the cases about shared places (marked public),
    never a reporter, a party or what a private case is about."""
    council = _council(council_pk)
    page_obj = selectors.Window(
        selectors.public_cases(council), request.GET.get("page"), PUBLIC_PER_PAGE
    )
    return render(
        request,
        "cases/public.html",
        {
            "council": council,
            "figures": selectors.public_figures(council, timezone.now()),
            "page_obj": page_obj,
        },
    )


urlpatterns = [
    path("councils/<int:council_pk>/board/", board, name="board"),
    path("councils/<int:council_pk>/board/counts/", board_counts, name="board_counts"),
    path("councils/<int:council_pk>/departments/", departments, name="departments"),
    path("councils/<int:council_pk>/rules/", level_rules, name="rules"),
    path("councils/<int:council_pk>/public/", public, name="public"),
    path("departments/<int:pk>/", department_desk, name="department_desk"),
    path("departments/<int:pk>/members/", department_members, name="department_members"),
    path(
        "departments/<int:pk>/members/<int:user_pk>/remove/",
        remove_department_member,
        name="remove_department_member",
    ),
    path("departments/<int:pk>/deactivate/", deactivate_department, name="deactivate_department"),
]
