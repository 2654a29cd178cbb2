"""Every app's websocket routes, in one list."""

from budgets.routing import websocket_urlpatterns as budget_routes
from cases.routing import websocket_urlpatterns as case_routes
from core.routing import websocket_urlpatterns as core_routes
from deliberation.routing import websocket_urlpatterns as deliberation_routes
from governance.routing import websocket_urlpatterns as governance_routes
from meetings.routing import websocket_urlpatterns as meeting_routes
from notifications.routing import websocket_urlpatterns as notification_routes

websocket_urlpatterns = [
    *core_routes,
    *notification_routes,
    *deliberation_routes,
    *budget_routes,
    *meeting_routes,
    *case_routes,
    *governance_routes,
]
