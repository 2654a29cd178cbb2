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

# Sessions (docs/sessions.md)
from deliberation import session_views  # noqa: E402

urlpatterns += [
    path(
        "councils/<int:council_pk>/sessions/new/",
        session_views.schedule_session,
        name="schedule_session",
    ),
    path("sessions/<int:pk>/", session_views.session_detail, name="session"),
    path("sessions/<int:pk>/screen/", session_views.session_screen, name="session_screen"),
    path("sessions/<int:pk>/agenda/", session_views.add_agenda_item, name="add_agenda_item"),
    path("sessions/<int:pk>/motions/", session_views.add_motion, name="add_motion"),
    path("sessions/<int:pk>/check-in/", session_views.check_in, name="check_in"),
    path(
        "sessions/<int:pk>/attendance/",
        session_views.record_attendance,
        name="record_attendance",
    ),
    path("sessions/<int:pk>/proxy/", session_views.record_proxy, name="record_proxy"),
    path("sessions/<int:pk>/minutes/", session_views.write_minutes, name="write_minutes"),
    path("sessions/<int:pk>/<slug:action>/", session_views.session_action, name="session_action"),
    path("motions/<int:pk>/vote/", session_views.cast_vote, name="cast_vote"),
    path("motions/<int:pk>/<slug:action>/", session_views.motion_action, name="motion_action"),
    path("minutes/<int:pk>/", session_views.minutes_detail, name="minutes"),
    path("minutes/<int:pk>/edit/", session_views.edit_minutes, name="edit_minutes"),
    path("minutes/<int:pk>/publish/", session_views.publish_minutes, name="publish_minutes"),
    path("minutes/<int:pk>/correct/", session_views.correct_minutes, name="correct_minutes"),
]

# Opening a hall from the council's page (issue 14, point 5)
urlpatterns += [
    path("councils/<int:council_pk>/halls/new/", views.new_hall, name="new_hall"),
]
