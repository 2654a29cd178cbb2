from django.db import connection
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from core.context_processors import LARGE_TEXT_COOKIE


@require_POST
def toggle_large_text(request):
    """Switch large text on or off and go back to the page the reader was on."""
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = "/"
    response = HttpResponseRedirect(target)
    turn_on = request.COOKIES.get(LARGE_TEXT_COOKIE) != "1"
    response.set_cookie(
        LARGE_TEXT_COOKIE,
        "1" if turn_on else "0",
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=request.is_secure(),
        httponly=True,
    )
    return response


@require_GET
def healthz(request):
    """Liveness and database reachability for the proxy and the container health check."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # noqa: BLE001 - any database failure means "unhealthy"
        return JsonResponse({"status": "error", "database": False}, status=503)
    return JsonResponse({"status": "ok", "database": True})


def switched_off(request, *args, **kwargs):
    """An allauth page that makes no sense on a phone-only site (e-mail, passwords): 404.

    Mounted in front of allauth's own URLs (yishi/urls.py), so their names still reverse."""
    raise Http404
