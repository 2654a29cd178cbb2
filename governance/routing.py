from django.urls import path

from governance.consumers import ScreenConsumer

websocket_urlpatterns = [
    path("ws/governance/screens/<int:council_id>/", ScreenConsumer.as_asgi()),
]
