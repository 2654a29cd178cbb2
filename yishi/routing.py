"""Every app's websocket routes, in one list."""

from core.routing import websocket_urlpatterns as core_routes
from deliberation.routing import websocket_urlpatterns as deliberation_routes

websocket_urlpatterns = [*core_routes, *deliberation_routes]
