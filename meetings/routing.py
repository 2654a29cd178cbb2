from django.urls import path

from meetings.consumers import SessionConsumer

websocket_urlpatterns = [
    path("ws/meetings/<int:session_id>/", SessionConsumer.as_asgi()),
    # The address before issue 15: a room screen left open across the upgrade reconnects here.
    path("ws/deliberation/sessions/<int:session_id>/", SessionConsumer.as_asgi()),
]
