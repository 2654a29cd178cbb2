from django.urls import path

from disclosure import finance_views, views

app_name = "disclosure"
urlpatterns = [
    path("<int:council_id>/dashboard/", views.dashboard, name="dashboard"),
    path("<int:council_id>/chain.json", views.chain_json, name="chain"),
    path("<int:council_id>/head.json", views.chain_head_json, name="chain_head"),
    path("<int:council_id>/new/<str:kind>/", views.draft, name="draft"),
    path("<int:council_id>/import/", finance_views.import_start, name="import"),
    path("<int:council_id>/open-data.zip", finance_views.bundle, name="bundle"),
    path("<int:council_id>/finance/charts/", finance_views.finance_charts, name="charts"),
    path(
        "<int:council_id>/finance/<str:period>/lines.<str:fmt>",
        finance_views.period_export,
        name="period_export",
    ),
    path("<int:council_id>/finance/<str:period>/", views.finance_period, name="finance_period"),
    path(
        "<int:council_id>/<str:kind>/lines.<str:fmt>",
        finance_views.ledger_export,
        name="ledger_export",
    ),
    path("<int:council_id>/<str:kind>/", views.ledger, name="ledger"),
    path("records/<int:pk>/", views.record, name="record"),
    path("records/<int:pk>/edit/", views.edit, name="edit"),
    path("records/<int:pk>/lines.<str:fmt>", finance_views.record_export, name="record_export"),
    path("records/<int:pk>/notice/", finance_views.record_notice, name="notice"),
    path("import-template.xlsx", finance_views.import_template, name="import_template"),
    path("imports/<int:pk>/", finance_views.import_batch, name="import_batch"),
    path("imports/<int:pk>/status.json", finance_views.import_status, name="import_status"),
    path("imports/<int:pk>/save/", finance_views.import_save, name="import_save"),
    path("imports/<int:pk>/discard/", finance_views.import_discard, name="import_discard"),
    path("imports/<int:pk>/read/", finance_views.import_read_again, name="import_read"),
    path("imports/<int:pk>/file", finance_views.import_file, name="import_file"),
    path("records/<int:pk>/lines/", views.add_line, name="add_line"),
    path("records/<int:pk>/lines/<int:line_pk>/remove/", views.remove_line, name="remove_line"),
    path("records/<int:pk>/attach/", views.attach, name="attach"),
    path("attachments/<int:pk>/file", views.attachment_file, name="attachment"),
    path("records/<int:pk>/submit/", views.submit, name="submit"),
    path("records/<int:pk>/sign-off/", views.sign_off, name="sign_off"),
    path("records/<int:pk>/object/", views.object_to, name="object"),
    path("records/<int:pk>/publish/", views.publish, name="publish"),
    path("records/<int:pk>/correct/", views.correct, name="correct"),
    path("records/<int:pk>/ask/", views.ask, name="ask"),
    path("questions/<int:pk>/answer/", views.answer, name="answer"),
]
