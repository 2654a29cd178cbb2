from django.urls import path

from deliberation.consumers import TopicConsumer
from deliberation.session_consumers import SessionConsumer

websocket_urlpatterns = [
    path("ws/deliberation/topics/<int:topic_id>/", TopicConsumer.as_asgi()),
    path("ws/deliberation/sessions/<int:session_id>/", SessionConsumer.as_asgi()),
]
