"""Pages of cases under /cases/ (docs/cases.md)."""

from cases.views import case, desk, figures

app_name = "cases"
urlpatterns = [*case.urlpatterns, *desk.urlpatterns, *figures.urlpatterns]
