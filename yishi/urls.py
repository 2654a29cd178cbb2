from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from core import views as core_views

# A database that cannot be reached answers 503 with Retry-After instead of a 500 (core/errors.py).
handler500 = "core.errors.server_error"

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("prefs/large-text/", core_views.toggle_large_text, name="toggle_large_text"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("accounts/", include("allauth.urls")),
    path("councils/", include("councils.urls")),
    path("halls/", include("deliberation.urls")),
    path("disclosure/", include("disclosure.urls")),
    path("budgets/", include("budgets.urls")),
    path("django-admin/", admin.site.urls),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

urlpatterns += [path("", include(wagtail_urls))]
