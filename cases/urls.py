"""Pages of cases under /cases/ (docs/cases.md)."""

from django.urls import path

from cases import views

app_name = "cases"
urlpatterns = [
    path("<int:pk>/", views.case_detail, name="case"),
]
