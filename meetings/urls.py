"""Pages of sessions under /meetings/ (docs/sessions.md).

The pages lived under /halls/ until issue 15; `legacy_urlpatterns` answers the old addresses with a
permanent redirect (301) to the new ones, query string kept, so printed QR codes, bookmarks and
links in published minutes keep working.
"""

from django.http import HttpResponsePermanentRedirect
from django.urls import path, reverse

from meetings import views

app_name = "meetings"
urlpatterns = [
    path("councils/<int:council_pk>/new/", views.schedule_session, name="schedule_session"),
    path("<int:pk>/", views.session_detail, name="session"),
    path("<int:pk>/screen/", views.session_screen, name="session_screen"),
    path("<int:pk>/agenda/", views.add_agenda_item, name="add_agenda_item"),
    path("<int:pk>/motions/", views.add_motion, name="add_motion"),
    path("<int:pk>/check-in/", views.check_in, name="check_in"),
    path("<int:pk>/attendance/", views.record_attendance, name="record_attendance"),
    path("<int:pk>/proxy/", views.record_proxy, name="record_proxy"),
    path("<int:pk>/minutes/", views.write_minutes, name="write_minutes"),
    path("<int:pk>/<slug:action>/", views.session_action, name="session_action"),
    path("motions/<int:pk>/vote/", views.cast_vote, name="cast_vote"),
    path("motions/<int:pk>/<slug:action>/", views.motion_action, name="motion_action"),
    path("minutes/<int:pk>/", views.minutes_detail, name="minutes"),
    path("minutes/<int:pk>/edit/", views.edit_minutes, name="edit_minutes"),
    path("minutes/<int:pk>/publish/", views.publish_minutes, name="publish_minutes"),
    path("minutes/<int:pk>/correct/", views.correct_minutes, name="correct_minutes"),
]


def _moved(name: str):
    """A view that sends an old /halls/... address to `meetings:<name>` for good (301)."""

    def redirect_to_meetings(request, **kwargs):
        target = reverse(f"meetings:{name}", kwargs=kwargs)
        query = request.META.get("QUERY_STRING", "")
        return HttpResponsePermanentRedirect(f"{target}?{query}" if query else target)

    return redirect_to_meetings


# Included at /halls/ by yishi/urls.py, before deliberation's own patterns, in the namespace
# `meetings_moved` (each named as the page it now sends to).
legacy_urlpatterns = [
    path(
        "councils/<int:council_pk>/sessions/new/",
        _moved("schedule_session"),
        name="schedule_session",
    ),
    path("sessions/<int:pk>/", _moved("session"), name="session"),
    path("sessions/<int:pk>/screen/", _moved("session_screen"), name="session_screen"),
    path("sessions/<int:pk>/agenda/", _moved("add_agenda_item"), name="add_agenda_item"),
    path("sessions/<int:pk>/motions/", _moved("add_motion"), name="add_motion"),
    path("sessions/<int:pk>/check-in/", _moved("check_in"), name="check_in"),
    path("sessions/<int:pk>/attendance/", _moved("record_attendance"), name="record_attendance"),
    path("sessions/<int:pk>/proxy/", _moved("record_proxy"), name="record_proxy"),
    path("sessions/<int:pk>/minutes/", _moved("write_minutes"), name="write_minutes"),
    path("sessions/<int:pk>/<slug:action>/", _moved("session_action"), name="session_action"),
    path("motions/<int:pk>/vote/", _moved("cast_vote"), name="cast_vote"),
    path("motions/<int:pk>/<slug:action>/", _moved("motion_action"), name="motion_action"),
    path("minutes/<int:pk>/", _moved("minutes"), name="minutes"),
    path("minutes/<int:pk>/edit/", _moved("edit_minutes"), name="edit_minutes"),
    path("minutes/<int:pk>/publish/", _moved("publish_minutes"), name="publish_minutes"),
    path("minutes/<int:pk>/correct/", _moved("correct_minutes"), name="correct_minutes"),
]
