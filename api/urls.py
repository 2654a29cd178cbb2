"""/api/v1/: the open read API (docs/api.md). v1 stays stable: fields and endpoints are only
ever added; a change that would break a client is /api/v2/."""

from django.urls import path, re_path

from api import views

app_name = "api"

router = views.OpenDataRouter(trailing_slash=True)
router.register("councils", views.CouncilViewSet, basename="council")
router.register("records", views.RecordViewSet, basename="record")
router.register("cycles", views.CycleViewSet, basename="cycle")
router.register("topics", views.TopicViewSet, basename="topic")
router.register("metrics", views.MetricViewSet, basename="metric")
router.register("index-scores", views.IndexScoreViewSet, basename="index-score")
router.register("case-figures", views.CaseFigureViewSet, basename="case-figure")

urlpatterns = [
    path("schema/", views.SchemaView.as_view(), name="schema"),
    path("docs/", views.DocsView.as_view(url_name="api:schema"), name="docs"),
    *router.urls,
    # Any other address under /api/v1/ ending in a slash: the API's JSON 404, not the site's page
    # (without the slash, APPEND_SLASH first redirects to it).
    re_path(r"^.+/$", views.NotFoundView.as_view(), name="not_found"),
]
