from django.urls import path

from disclosure import views

app_name = "disclosure"
urlpatterns = [
    path("<int:council_id>/dashboard/", views.dashboard, name="dashboard"),
    path("<int:council_id>/chain.json", views.chain_json, name="chain"),
    path("<int:council_id>/new/<str:kind>/", views.draft, name="draft"),
    path("<int:council_id>/finance/<str:period>/", views.finance_period, name="finance_period"),
    path("<int:council_id>/<str:kind>/", views.ledger, name="ledger"),
    path("records/<int:pk>/", views.record, name="record"),
    path("records/<int:pk>/edit/", views.edit, name="edit"),
    path("records/<int:pk>/lines/", views.add_line, name="add_line"),
    path("records/<int:pk>/lines/<int:line_pk>/remove/", views.remove_line, name="remove_line"),
    path("records/<int:pk>/attach/", views.attach, name="attach"),
    path("records/<int:pk>/submit/", views.submit, name="submit"),
    path("records/<int:pk>/sign-off/", views.sign_off, name="sign_off"),
    path("records/<int:pk>/object/", views.object_to, name="object"),
    path("records/<int:pk>/publish/", views.publish, name="publish"),
    path("records/<int:pk>/correct/", views.correct, name="correct"),
    path("records/<int:pk>/ask/", views.ask, name="ask"),
    path("questions/<int:pk>/answer/", views.answer, name="answer"),
]
