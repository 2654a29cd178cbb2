"""The one check every service makes before acting."""

from django.core.exceptions import PermissionDenied


def require_perm(user, permission: str, obj, message: str) -> None:
    """Raise PermissionDenied with a message the user reads unless `user` has `permission`."""
    if not user.has_perm(permission, obj):
        raise PermissionDenied(message)
