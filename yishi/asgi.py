"""ASGI entry point: HTTP through Django; websockets through origin check, session auth, routing.

Without DJANGO_SETTINGS_MODULE this is production (which refuses to start without its secrets),
and it refuses DEBUG unless development is chosen explicitly: YISHI_DEVELOPMENT=1, or
`manage.py runserver`. A server started by mistake with the dev settings would show every
visitor tracebacks with settings and SQL.
"""

import gc
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

# What is loaded by now (Django, Wagtail, every app: over 200,000 objects) lives as long as the
# worker. Moved out of the garbage collector's reach, it is no longer walked by every full
# collection: one took 160 ms here, and 140-280 ms in each worker under bench/bench_fanout.py
# (a post that met one reached its watchers that much later); now well under 1 ms.
gc.collect()
gc.freeze()
