from django.urls import path

from deliberation import views

app_name = "deliberation"
urlpatterns = [
    path("<int:pk>/", views.hall_detail, name="hall"),
    path("<int:pk>/topics/new/", views.raise_topic, name="raise_topic"),
    path("<int:pk>/days/new/", views.schedule_day, name="schedule_day"),
    path("topics/<int:pk>/", views.topic_detail, name="topic"),
    path("photos/<int:pk>/file", views.topic_photo, name="topic_photo"),
    path("topics/<int:pk>/post/", views.post_message, name="post_message"),
    path("topics/<int:pk>/stance/", views.set_stance, name="set_stance"),
    path("topics/<int:pk>/status/", views.change_status, name="change_status"),
    path("topics/<int:pk>/answer/", views.answer, name="answer"),
    path("topics/<int:pk>/merge/", views.merge, name="merge"),
    path("topics/<int:pk>/rate/", views.rate_topic, name="rate_topic"),
    path("messages/<int:message_id>/moderate/", views.moderate, name="moderate"),
    path("days/<int:pk>/", views.day_detail, name="day"),
    path("days/<int:pk>/register/", views.register_for_day, name="register_for_day"),
    path("days/<int:pk>/outcome/", views.publish_outcome, name="publish_outcome"),
]

# Opening a hall from the council's page (issue 14, point 5)
urlpatterns += [
    path("councils/<int:council_pk>/halls/new/", views.new_hall, name="new_hall"),
]
