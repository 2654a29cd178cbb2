from django.urls import path

from budgets import views

app_name = "budgets"
urlpatterns = [
    path("new/<int:council_pk>/", views.new_cycle, name="new_cycle"),
    path("cycles/<int:pk>/", views.cycle_detail, name="cycle"),
    path("cycles/<int:pk>/propose/", views.propose, name="propose"),
    path("cycles/<int:pk>/vote/", views.vote, name="vote"),
    path("cycles/<int:pk>/paper/", views.paper_ballot, name="paper"),
    path("cycles/<int:pk>/receipt/", views.receipt_shown, name="receipt_shown"),
    path("cycles/<int:pk>/check/", views.check_receipt, name="check_receipt"),
    path("cycles/<int:pk>/results/", views.results, name="results"),
    path("cycles/<int:pk>/publish/", views.publish, name="publish"),
    path("cycles/<int:pk>/objections/", views.file_objection, name="file_objection"),
    path("objections/<int:pk>/answer/", views.answer_objection, name="answer_objection"),
    path("cycles/<int:pk>/ballots/", views.ballot_list, name="ballots"),
    path("cycles/<int:pk>/roll/", views.roll, name="roll"),
    path("cycles/<int:pk>/ballots.pb", views.ballots_pabulib, name="ballots_pb"),
    path("proposals/<int:pk>/", views.proposal_detail, name="proposal"),
    path("photos/<int:pk>/file", views.proposal_photo, name="proposal_photo"),
    path("progress/<int:pk>/photo", views.progress_photo, name="progress_photo"),
    path("topics/<int:topic_pk>/promote/", views.promote, name="promote"),
    path("proposals/<int:pk>/review/", views.review, name="review"),
    path("proposals/<int:pk>/override/", views.override, name="override"),
    path("proposals/<int:pk>/progress/", views.progress, name="progress"),
    path("proposals/<int:pk>/rate/", views.rate, name="rate"),
]
urlpatterns += [
    path("cycles/<int:pk>/phases/", views.change_phase, name="change_phase"),
]
