"""The inbox, marking read, preferences and following: plain forms, no JavaScript needed."""

from django.apps import apps
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.sms import masked
from notifications import registry, selectors, services
from notifications.forms import PreferencesForm
from notifications.models import Notification


def _safe(request, target: str | None, default: str) -> str:
    """`target` if it is a path on this site, else `default`."""
    if (
        target
        and target.startswith("/")
        and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure())
    ):
        return target
    return default


def _back(request, default: str) -> str:
    return _safe(request, request.POST.get("next") or request.GET.get("next"), default)


def _number(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None


@login_required
@require_GET
def inbox(request):
    """Newest first, a page at a time (keyset: `?before=<id>`); the same few queries for ten
    notifications or ten thousand."""
    before = _number(request.GET.get("before"))
    rows, next_before = selectors.inbox_page(request.user, before=before)
    return render(
        request,
        "notifications/inbox.html",
        {"rows": rows, "next_before": next_before, "is_older_page": before is not None},
    )


@login_required
@require_GET
def open_notification(request, pk: int):
    """Opening a notification: it is read now; on to what it is about."""
    url = (
        Notification.objects.filter(pk=pk, recipient=request.user)
        .values_list("url", flat=True)
        .first()
    )
    if url is None:
        raise Http404
    services.mark_read(user=request.user, ids=[pk])
    return redirect(_safe(request, url, reverse("notifications:inbox")))


@login_required
@require_POST
def mark_read(request):
    """Mark one (`id`) or all of the person's notifications read; others' are never touched."""
    ids = request.POST.getlist("id")
    chosen = [n for n in (_number(i) for i in ids) if n is not None] if ids else None
    marked = services.mark_read(user=request.user, ids=chosen)
    if marked:
        messages.success(
            request,
            ngettext(
                "%(count)d notification marked as read.",
                "%(count)d notifications marked as read.",
                marked,
            )
            % {"count": marked},
        )
    else:  # read already (another tab), or not theirs: nothing changed, and they are told so
        messages.info(request, _("There was nothing unread to mark."))
    return redirect(_back(request, reverse("notifications:inbox")))


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request):
    """By kind and channel, quiet hours, daily digest; and where we can reach the person."""
    if request.method == "POST":
        form = PreferencesForm(request.POST, user=request.user)
        if form.is_valid():
            form.save()
            messages.success(request, _("Your notification settings are saved."))
            return redirect("notifications:settings")
        messages.error(request, _("Nothing was saved yet: please correct what is marked below."))
    else:
        form = PreferencesForm(user=request.user)
    user = request.user
    return render(
        request,
        "notifications/settings.html",
        {
            "form": form,
            "has_sms": "sms" in form.channels,
            "has_wechat": "wechat" in form.channels,
            "has_email": "email" in form.channels,
            "phone": masked(user.phone) if user.phone else "",
            "phone_verified": bool(user.phone and user.phone_verified),
            "email": user.email,
            "wechat_bound": bool(form.own and form.own.wechat_openid),
        },
    )


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
        messages.success(request, _("You no longer follow this."))
    else:
        services.follow(user=request.user, obj=obj)
        messages.success(
            request,
            _("You follow this now: you will be told in your notifications when it changes."),
        )
    return redirect(_back(request, "/"))
