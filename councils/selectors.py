"""Read-side queries for council pages, kept flat so that query counts do not grow with rows."""

from django.core.paginator import Paginator
from django.db.models import Count, Q

from councils.models import CouncilPage, Household, Level, Membership, MembershipStatus, Role
from councils.predicates import roles_in
from councils.registry import SECTION_PROVIDERS, council_sections  # noqa: F401  (old home)


def council_page_context(council: CouncilPage, user) -> dict:
    children = list(
        CouncilPage.objects.child_of(council)
        .live()
        .order_by("level", "title")
        .only("id", "title", "url_path", "path", "depth", "level", "slug")
    )
    context = {
        "breadcrumbs": list(council.council_ancestors().only("id", "title", "url_path", "path")),
        "sub_councils": children,
        "my_roles": sorted(roles_in(user, council)),
        "my_membership": (
            Membership.objects.filter(user=user, council=council, role=Role.RESIDENT)
            .order_by("-requested_at")
            .first()
            if user.is_authenticated
            else None
        ),
        "can_join": user.has_perm("councils.join_council", council),
        "can_manage_members": user.has_perm("councils.view_members", council),
        "can_manage_households": user.has_perm("councils.manage_household", council),
        "can_assign_roles": council.level == Level.VILLAGE
        and user.has_perm("councils.assign_role", council),
        "can_view_actions": user.has_perm("councils.view_actions", council),
        "member_count": Membership.objects.filter(
            council=council, status=MembershipStatus.VERIFIED, role=Role.RESIDENT
        ).count(),
    }
    # Halls, meetings, budgets, ledgers...: whatever the apps registered (councils.registry).
    sections, templates = council_sections(council, user)
    context.update(sections)
    context["section_templates"] = templates
    return context


def search_councils(query: str, *, level: str = "", page: int = 1, per_page: int = 20):
    """Councils whose name matches `query`, each with the title of its parent council."""
    queryset = CouncilPage.objects.live()
    if level:
        queryset = queryset.filter(level=level)
    if query:
        # Chinese names have no spaces, so a full-text token is a whole name and Wagtail's
        # index alone misses "柳树" in "柳树村". Union its hits (which also cover the intro)
        # with a substring match on the name; 3,000 titles scan in well under a millisecond.
        indexed = [page.pk for page in queryset.autocomplete(query, operator="and")[:200]]
        results = queryset.filter(Q(title__icontains=query) | Q(pk__in=indexed)).order_by(
            "depth", "path"
        )
    else:
        results = queryset.order_by("path")
    paginator = Paginator(results, per_page)
    page_obj = paginator.get_page(page)
    items = list(page_obj.object_list)
    parent_paths = {c.path[: -c.steplen] for c in items}
    parents = {
        p.path: p.title
        for p in CouncilPage.objects.filter(path__in=parent_paths).only("path", "title")
    }
    for council in items:
        council.parent_title = parents.get(council.path[: -council.steplen], "")
    return page_obj, items


def members_of(council: CouncilPage, *, status: str, page: int = 1, per_page: int = 50):
    queryset = (
        Membership.objects.filter(council=council, status=status)
        .select_related("user", "household", "decided_by")
        .order_by("role", "-requested_at")
    )
    page_obj = Paginator(queryset, per_page).get_page(page)
    return page_obj


def households_of(council: CouncilPage, *, page: int = 1, per_page: int = 50):
    queryset = (
        Household.objects.filter(council=council)
        .select_related("head", "representative")
        .annotate(
            member_count=Count("members", filter=Q(members__status=MembershipStatus.VERIFIED))
        )
        .order_by("number")
    )
    return Paginator(queryset, per_page).get_page(page)


def representatives_of(council: CouncilPage):
    return [
        m.user
        for m in Membership.objects.filter(
            council=council, role=Role.REPRESENTATIVE, status=MembershipStatus.VERIFIED
        ).select_related("user")
    ]


def residents_of(council: CouncilPage) -> list:
    """Verified residents of the council itself (for choosing heads and role holders)."""
    return [
        m.user
        for m in Membership.objects.filter(
            council=council, role=Role.RESIDENT, status=MembershipStatus.VERIFIED
        )
        .select_related("user")
        .order_by("user__display_name", "user_id")
    ]


def grids_of(village: CouncilPage) -> list[CouncilPage]:
    return list(
        CouncilPage.objects.child_of(village)
        .filter(level=Level.GRID)
        .order_by("title")
        .only("id", "title", "path", "depth", "level", "slug", "url_path")
    )


def role_holders(village: CouncilPage, grids: list[CouncilPage]) -> list[Membership]:
    """Verified representatives, supervisors (village) and grid workers (its grids)."""
    from councils.services import MANAGED_ROLES

    return list(
        Membership.objects.filter(
            council_id__in=[village.pk, *[g.pk for g in grids]],
            role__in=MANAGED_ROLES,
            status=MembershipStatus.VERIFIED,
        )
        .select_related("user", "council")
        .order_by("role", "council__title", "user__display_name")
    )


def actions_of(council: CouncilPage, *, page: int = 1, per_page: int = 50):
    from councils.models import CouncilAction

    queryset = CouncilAction.objects.filter(council=council).select_related("actor")
    return Paginator(queryset, per_page).get_page(page)
