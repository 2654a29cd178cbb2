from django import template

from notifications import registry, selectors, services

register = template.Library()

# The page's unread count, kept on the request: the bell and the inbox share one COUNT query.
_UNREAD = "_yishi_unread_notifications"


@register.inclusion_tag("notifications/includes/follow.html", takes_context=True)
def follow_button(context, obj):
    """A follow / unfollow form for `obj`, for people who may see it (nothing otherwise)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    permission = registry.followable(obj)
    shown = bool(
        user is not None
        and user.is_authenticated
        and permission is not None
        and user.has_perm(permission, obj)
    )
    return {
        "shown": shown,
        "target": services.target_key(obj),
        "following": shown and services.is_following(user, obj),
        "next": request.get_full_path() if request is not None else "/",
    }


@register.simple_tag(takes_context=True)
def unread_notifications(context) -> int:
    """The signed-in person's unread notifications: one COUNT query per request, 0 (and no
    query) for a visitor."""
    request = context.get("request")
    if request is None:
        return selectors.unread_count(None)
    if not hasattr(request, _UNREAD):
        setattr(request, _UNREAD, selectors.unread_count(getattr(request, "user", None)))
    return getattr(request, _UNREAD)


@register.filter
def bell_number(count: int) -> str:
    """What the bell shows: the count, or 99+ (the label says the exact number)."""
    return "99+" if count > 99 else str(count)
