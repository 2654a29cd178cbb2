from django.contrib import admin
from django.urls import include, path, re_path
from django.views.i18n import JavaScriptCatalog
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from core import views as core_views
from meetings.urls import legacy_urlpatterns as meetings_legacy_urls

# A database that cannot be reached answers 503 with Retry-After instead of a 500 (core/errors.py).
handler500 = "core.errors.server_error"

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("prefs/large-text/", core_views.toggle_large_text, name="toggle_large_text"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    # Phone + SMS code only: allauth's e-mail and password pages answer 404 (docs/threat-model.md).
    re_path(
        r"^accounts/(?:email|confirm-email|password|reauthenticate)(?:/|$)",
        core_views.switched_off,
        name="account_switched_off",
    ),
    path("accounts/", include("allauth.urls")),
    path("councils/", include("councils.urls")),
    path("notifications/", include("notifications.urls")),
    # Sessions moved from /halls/ to /meetings/ (issue 15): the old addresses answer 301.
    path("halls/", include((meetings_legacy_urls, "meetings_moved"))),
    path("halls/", include("deliberation.urls")),
    path("meetings/", include("meetings.urls")),
    path("cases/", include("cases.urls")),
    path("governance/", include("governance.urls")),
    path("disclosure/", include("disclosure.urls")),
    path("assets/", include("assets.urls")),
    path("budgets/", include("budgets.urls")),
    # The open read API (docs/api.md): versioned, public data only.
    path("api/v1/", include("api.urls")),
    path("django-admin/", admin.site.urls),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
]

# MEDIA_URL is never served, not even in development: every uploaded file goes through its app's
# view, which checks who may see the record it belongs to (core/files.py, docs/files.md).

urlpatterns += [path("", include(wagtail_urls))]
