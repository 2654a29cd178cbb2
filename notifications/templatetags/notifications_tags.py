from django import template

from notifications import registry, selectors, services

register = template.Library()


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
    request = context.get("request")
    return selectors.unread_count(getattr(request, "user", None))
