from django.urls import path

from . import import_views, views

app_name = "assets"

urlpatterns = [
    path("councils/<int:council_id>/", views.registers, name="registers"),
    path("councils/<int:council_id>/new/", views.entry_new, name="entry_new"),
    path("entries/<int:entry_id>/", views.entry_detail, name="entry"),
    path("entries/<int:entry_id>/new-version/", views.version_new, name="version_new"),
    path("versions/<int:version_id>/", views.version_detail, name="version"),
    path("versions/<int:version_id>/edit/", views.version_edit, name="version_edit"),
    path("versions/<int:version_id>/submit/", views.version_submit, name="version_submit"),
    path("versions/<int:version_id>/attach/", views.version_attach, name="version_attach"),
    path("townships/<int:council_id>/thresholds/", views.thresholds, name="thresholds"),
]

# Excel import and export (assets/import_views.py, docs/assets-import.md).
urlpatterns += import_views.urlpatterns
