"""The inbox, marking read and following: plain forms, no JavaScript needed."""

from django.apps import apps
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from notifications import registry, selectors, services


def _back(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or default
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


@login_required
def inbox(request):
    try:
        before = int(request.GET["before"]) if request.GET.get("before") else None
    except ValueError:
        before = None
    rows, next_before = selectors.inbox_page(request.user, before=before)
    return render(
        request,
        "notifications/inbox.html",
        {"rows": rows, "next_before": next_before, "unread": selectors.unread_count(request.user)},
    )


@login_required
@require_POST
def mark_read(request):
    ids = request.POST.getlist("id")
    try:
        chosen = [int(i) for i in ids] if ids else None
    except ValueError:
        chosen = []
    services.mark_read(user=request.user, ids=chosen)
    return redirect(_back(request, "notifications:inbox"))


def target_of(key: str):
    """The object behind "app.model:pk", if it may be followed at all."""
    label, _sep, pk = key.partition(":")
    if label not in registry.FOLLOWABLE or not pk.isdigit():
        raise Http404
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        raise Http404 from None
    obj = model.objects.filter(pk=int(pk)).first()
    if obj is None:
        raise Http404
    return obj


@login_required
@require_POST
def follow(request):
    obj = target_of(request.POST.get("target", ""))
    if not request.user.has_perm(registry.followable(obj), obj):
        raise PermissionDenied
    if request.POST.get("action") == "unfollow":
        services.unfollow(user=request.user, obj=obj)
    else:
        services.follow(user=request.user, obj=obj)
    return redirect(_back(request, "/"))
