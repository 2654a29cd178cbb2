from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.refusals import say_refusal
from councils import selectors, services
from councils.forms import (
    AssignRoleForm,
    CouncilSearchForm,
    HouseholdEditForm,
    JoinCouncilForm,
    ProfileForm,
    RegisterMemberForm,
    RejectMembershipForm,
    RemoveRoleForm,
    VerifyMembershipForm,
)
from councils.models import (
    CouncilPage,
    HouseholdMember,
    Level,
    Membership,
    MembershipStatus,
    Role,
)


def _council(pk: int) -> CouncilPage:
    return get_object_or_404(CouncilPage.objects.live(), pk=pk)


def search(request):
    form = CouncilSearchForm(request.GET)
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    page_obj, councils = selectors.search_councils(query, page=request.GET.get("page", 1))
    return render(
        request,
        "councils/search.html",
        {"form": form, "query": query, "page_obj": page_obj, "councils": councils},
    )


@login_required
def join(request, pk: int):
    council = _council(pk)
    if not request.user.has_perm("councils.join_council", council):
        messages.error(
            request,
            _(
                "You cannot ask to join this council: you may already be a "
                "member, or residents join a village, community or grid."
            ),
        )
        return redirect(council.url)
    form = JoinCouncilForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.request_membership(user=request.user, council=council, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Your request was sent. The committee will check it."))
            return redirect(council.url)
    return render(
        request,
        "councils/join.html",
        {"council": council, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
def members(request, pk: int):
    council = _council(pk)
    if not request.user.has_perm("councils.view_members", council):
        raise PermissionDenied
    status = request.GET.get("status", MembershipStatus.PENDING)
    if status not in MembershipStatus.values:
        status = MembershipStatus.PENDING
    page_obj = selectors.members_of(council, status=status, page=request.GET.get("page", 1))
    return render(
        request,
        "councils/members.html",
        {
            "council": council,
            "page_obj": page_obj,
            "status": status,
            "statuses": MembershipStatus.choices,
            "showing_pending": status == MembershipStatus.PENDING,
            "can_decide": request.user.has_perm("councils.verify_membership", council),
            "show_real_names": request.user.has_perm("councils.view_real_name", council),
            "reject_form": RejectMembershipForm(),
        },
    )


@login_required
@require_POST
def decide(request, membership_id: int, decision: str):
    membership = get_object_or_404(Membership.objects.select_related("council"), pk=membership_id)
    back = redirect("councils:members", pk=membership.council_id)
    try:
        if decision == "verify":
            form = VerifyMembershipForm(request.POST)
            form.is_valid()
            services.verify_membership(
                membership_id=membership.pk,
                by=request.user,
                household_number=form.cleaned_data.get("household_number", ""),
            )
            messages.success(request, _("Membership verified."))
        else:
            form = RejectMembershipForm(request.POST)
            if not form.is_valid():
                messages.error(request, _("Give the applicant a reason."))
                return back
            services.reject_membership(
                membership_id=membership.pk, by=request.user, reason=form.cleaned_data["reason"]
            )
            messages.success(request, _("Request rejected."))
    except ValidationError as error:
        say_refusal(request, error)
    return back


@login_required
def profile(request):
    form = ProfileForm(request.POST if request.method == "POST" else None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your profile was saved."))
        return redirect("councils:profile")
    memberships = request.user.memberships.select_related("council").order_by("-requested_at")
    return render(
        request,
        "councils/profile.html",
        {"form": form, "memberships": memberships},
        status=400 if form.errors else 200,
    )


@login_required
def households(request, pk: int):
    council = _council(pk)
    if not request.user.has_perm("councils.manage_household", council):
        raise PermissionDenied
    representatives = selectors.representatives_of(council)
    residents = selectors.residents_of(council)
    initial = {}
    editing = request.GET.get("number", "").strip()[:40]
    if request.method != "POST" and editing:
        existing = council.households.filter(number=editing).first()
        if existing is not None:
            initial = {
                "number": existing.number,
                "head": str(existing.head_id or ""),
                "representative": str(existing.representative_id or ""),
            }
    form = HouseholdEditForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        representatives=representatives,
        residents=residents,
        show_real_names=request.user.has_perm("councils.view_real_name", council),
    )
    if request.method == "POST" and form.is_valid():
        chosen = form.cleaned_data["representative"]
        representative = next((u for u in representatives if str(u.pk) == chosen), None)
        head = next((u for u in residents if str(u.pk) == form.cleaned_data["head"]), None)
        try:
            services.save_household(
                council=council,
                number=form.cleaned_data["number"],
                representative=representative,
                head=head,
                by=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Household saved."))
            return redirect("councils:households", pk=council.pk)
    page_obj = selectors.households_of(council, page=request.GET.get("page", 1))
    return render(
        request,
        "councils/households.html",
        {"council": council, "form": form, "page_obj": page_obj, "editing": bool(initial)},
        status=400 if form.errors else 200,
    )


@login_required
def register(request, pk: int):
    """The household register: villagers without an account, for paper ballots (committee)."""
    council = _council(pk)
    if not request.user.has_perm("councils.manage_household", council):
        raise PermissionDenied
    form = RegisterMemberForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.add_register_member(
                by=request.user,
                council=council,
                number=form.cleaned_data["number"],
                name=form.cleaned_data["name"],
                birth_year=form.cleaned_data["birth_year"],
                is_head=form.cleaned_data["is_head"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Added to the register."))
            return redirect("councils:register", pk=council.pk)
    page_obj = Paginator(
        HouseholdMember.objects.filter(household__council=council).select_related("household"),
        100,
    ).get_page(request.GET.get("page", 1))
    return render(
        request,
        "councils/register.html",
        {"council": council, "form": form, "page_obj": page_obj},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def remove_from_register(request, member_id: int):
    member = get_object_or_404(HouseholdMember.objects.select_related("household"), pk=member_id)
    council = member.household.council
    try:
        services.remove_register_member(by=request.user, member=member)
    except ValidationError as error:
        say_refusal(request, error)
    else:
        messages.success(request, _("Removed from the register."))
    return redirect("councils:register", pk=council.pk)


# -- roles and the committee's log (issue 14, point 5) ---------------------------------------------


def _role_form(request, council, data=None):
    return AssignRoleForm(
        data,
        roles=[Role(r) for r in services.MANAGED_ROLES],
        residents=selectors.residents_of(council),
        grids=selectors.grids_of(council),
        show_real_names=request.user.has_perm("councils.view_real_name", council),
    )


@login_required
def roles(request, pk: int):
    """Representatives, supervisors and grid workers of a village: assign and remove."""
    council = _council(pk)
    if not request.user.has_perm("councils.assign_role", council) or council.level != Level.VILLAGE:
        raise PermissionDenied
    form = _role_form(request, council, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid() and form.cleaned_data.get("user"):
        data = form.cleaned_data
        try:
            services.assign_role(
                by=request.user,
                village=council,
                role=data["role"],
                user=data["user"],
                grid=data["grid_page"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Role assigned."))
            return redirect("councils:roles", pk=council.pk)
    grids = selectors.grids_of(council)
    representatives, members = services.representatives_share(council)
    return render(
        request,
        "councils/roles.html",
        {
            "council": council,
            "form": form,
            "holders": selectors.role_holders(council, grids),
            "remove_form": RemoveRoleForm(),
            "representatives": representatives,
            "roster_members": members,
            "four_fifths": services.meets_four_fifths(representatives, members),
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def remove_role(request, membership_id: int):
    membership = get_object_or_404(
        Membership.objects.select_related("council"),
        pk=membership_id,
        role__in=services.MANAGED_ROLES,
    )
    village = membership.council
    if village.level == Level.GRID:
        village = CouncilPage.objects.get(path=village.path[: -village.steplen])
    if not request.user.has_perm("councils.assign_role", village):
        raise PermissionDenied
    form = RemoveRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("councils:roles", pk=village.pk)
    try:
        services.remove_role(
            by=request.user, membership=membership, reason=form.cleaned_data["reason"]
        )
    except ValidationError as error:
        say_refusal(request, error)
    else:
        messages.success(request, _("Role removed."))
    return redirect("councils:roles", pk=village.pk)


@login_required
def actions(request, pk: int):
    """What the committee did: visible to the committee, the supervisors and the township."""
    council = _council(pk)
    if not request.user.has_perm("councils.view_actions", council):
        raise PermissionDenied
    page_obj = selectors.actions_of(council, page=request.GET.get("page", 1))
    return render(request, "councils/actions.html", {"council": council, "page_obj": page_obj})
