from django.urls import path

from cases.consumers import BoardConsumer

websocket_urlpatterns = [
    path("ws/cases/boards/<int:council_id>/", BoardConsumer.as_asgi()),
]
