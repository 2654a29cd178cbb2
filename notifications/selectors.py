"""Reading the inbox: a page costs the same few queries however many notifications a person has."""

from django.utils import translation

from notifications.kinds import SPECS, Kind, render
from notifications.models import Notification

PAGE = 20


def unread_count(user) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def unread_and_newest(user) -> tuple[int, int]:
    """The unread count and the newest notification's id (0 if none): what a live bell starts
    from (notifications.consumers). Two indexed reads, whatever the inbox holds."""
    newest = (
        Notification.objects.filter(recipient=user)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    return unread_count(user), newest or 0


def inbox_page(
    user, *, before: int | None = None, size: int = PAGE
) -> tuple[list[dict], int | None]:
    """One page of the inbox, newest first, as rows ready to show; and the id to pass as `before`
    for the next page (None on the last). Keyset pagination: one query whatever the page."""
    rows = Notification.objects.filter(recipient=user).exclude(kind=Kind.DIGEST)
    if before is not None:
        rows = rows.filter(pk__lt=before)
    found = list(rows.order_by("-pk")[: size + 1])
    more = len(found) > size
    found = found[:size]
    return [shown(n) for n in found], (found[-1].pk if more and found else None)


def shown(notification: Notification) -> dict:
    """What the inbox shows of one notification, in the active language."""
    return {
        "id": notification.pk,
        "kind": Kind(notification.kind).label,
        "text": render(SPECS[notification.kind].text, notification.params),
        "url": notification.url,
        "created": notification.created,
        "read": notification.read_at is not None,
        "language": translation.get_language(),
    }
