"""Audiences notifications knows itself (it may read councils): see notifications.registry."""

from councils.models import CouncilPage, Membership, Role


def council_residents(after_id: int, limit: int, *, council_id: int) -> list[int]:
    """Verified residents of the council or of any council under it, by user id (not people who
    hold only an office there)."""
    council = CouncilPage.objects.filter(pk=council_id).only("path").first()
    if council is None:
        return []
    return list(
        Membership.objects.verified()
        .filter(council__path__startswith=council.path, role=Role.RESIDENT, user_id__gt=after_id)
        .order_by("user_id")
        .values_list("user_id", flat=True)
        .distinct()[:limit]
    )
