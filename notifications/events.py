"""Events that apps to the right of notifications cannot raise themselves (councils is on the
spine and imports no app): they call these through their registries."""

from django.urls import reverse

from notifications.kinds import Kind
from notifications.services import notify


def membership_decided(membership, *, verified: bool, reason: str = "") -> None:
    """councils.registry: a committee verified or rejected a membership; tell the person."""
    council = membership.council
    url = reverse("councils:profile") if verified else reverse("councils:join", args=[council.pk])
    notify(
        kind=Kind.MEMBERSHIP_VERIFIED if verified else Kind.MEMBERSHIP_REJECTED,
        recipients=[membership.user],
        event_key=f"membership:{membership.pk}:{membership.status}:{membership.decided_at.timestamp():.0f}",
        url=url,
        council=council,
        params={"council": council.title, "reason": reason},
    )
