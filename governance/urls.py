from django.urls import path  # noqa: F401

app_name = "governance"

# Each part of the app adds its pages here: figures and evidence, the index, the dashboards and
# the big screen.
urlpatterns: list = []
