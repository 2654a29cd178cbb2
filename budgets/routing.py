from django.urls import path

from budgets.consumers import CycleResultsConsumer

websocket_urlpatterns = [path("ws/budgets/cycles/<int:pk>/", CycleResultsConsumer.as_asgi())]
