"""ASGI entry point: HTTP through Django; websockets through origin check, session auth, routing.

Without DJANGO_SETTINGS_MODULE this is production (which refuses to start without its secrets),
and it refuses DEBUG unless development is chosen explicitly: YISHI_DEVELOPMENT=1, or
`manage.py runserver`. A server started by mistake with the dev settings would show every
visitor tracebacks with settings and SQL.
"""

import os
import sys

from django.conf import settings
from django.core.asgi import get_asgi_application
from django.core.exceptions import ImproperlyConfigured

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yishi.settings.production")


def refuse_debug_outside_development() -> None:
    chosen = os.environ.get("YISHI_DEVELOPMENT") == "1" or sys.argv[1:2] == ["runserver"]
    if settings.DEBUG and not chosen:
        raise ImproperlyConfigured(
            f"DEBUG is on ({os.environ['DJANGO_SETTINGS_MODULE']}): refusing to serve. Use "
            "DJANGO_SETTINGS_MODULE=yishi.settings.production, or set YISHI_DEVELOPMENT=1 "
            "on a development machine."
        )


django_asgi_app = get_asgi_application()
refuse_debug_outside_development()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from yishi.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
