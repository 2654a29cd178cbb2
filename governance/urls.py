from django.urls import path  # noqa: F401

app_name = "governance"

# Each part of the app adds its pages here: figures and evidence, the index, the dashboards and
# the big screen.
urlpatterns: list = []

# The dashboard, its export and the big screen (docs/dashboards.md).
from governance.views import dashboard, screen  # noqa: E402

urlpatterns += [*dashboard.urlpatterns, *screen.urlpatterns]

# What each figure counts, item by item (governance.views.evidence; docs/governance.md).
from governance.views import evidence  # noqa: E402

urlpatterns += evidence.urlpatterns

# The index as data: definitions, versions, entered figures and scores (docs/governance-index.md).
from governance.views import index as index_views  # noqa: E402

urlpatterns += index_views.urlpatterns
