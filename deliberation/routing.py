from django.urls import path

from deliberation.consumers import TopicConsumer

websocket_urlpatterns = [
    path("ws/deliberation/topics/<int:topic_id>/", TopicConsumer.as_asgi()),
]
