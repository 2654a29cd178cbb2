from governance.views import dashboard, evidence, screen
from governance.views import index as index_views

app_name = "governance"

urlpatterns = [
    *dashboard.urlpatterns,
    *screen.urlpatterns,
    *evidence.urlpatterns,
    *index_views.urlpatterns,
]
