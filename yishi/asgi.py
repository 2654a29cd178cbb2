"""ASGI entry point: HTTP through Django; websockets through origin check, session auth, routing.

Without DJANGO_SETTINGS_MODULE this is production (which refuses to start without its secrets),
and it refuses DEBUG unless development is chosen explicitly: YISHI_DEVELOPMENT=1, or
`manage.py runserver`. A server started by mistake with the dev settings would show every
visitor tracebacks with settings and SQL.
"""

import contextvars
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

from core.lifespan import Lifespan  # noqa: E402
from core.realtime.broadcast import connect_layer  # noqa: E402
from deliberation.services import warm_up_live_posts  # noqa: E402
from yishi.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
        # Before the worker serves, what warm_up (below) cannot do at import, inside the
        # server's event loop: open the channel layer's connection, and make a live post's
        # statements on a database connection (the first post after a start took 20-40 ms
        # against 11-14 ms: docs/performance.md).
        "lifespan": Lifespan(startup=[connect_layer, warm_up_live_posts]),
    }
)


def warm_up() -> None:
    """Load now what the first page or frame of each worker would otherwise load while its users
    wait: the URLconf with every view module and the reverse map (180 ms measured), the base
    template every page extends (50 ms), the channel layer, the authentication backends and the
    message catalogs of every language. After a deploy or a worker restart, the pages reloaded
    at once by every open tab no longer queue behind those first loads."""
    from channels.layers import get_channel_layer
    from django.contrib.auth import get_backends
    from django.template.loader import get_template
    from django.urls import get_resolver
    from django.utils import translation

    get_resolver().reverse_dict  # noqa: B018 - imports the URLconf and fills the reverse map
    get_template("base.html")
    get_channel_layer()
    get_backends()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            translation.gettext("Yishi")


# In a copy of the context: loading the URLconf sets a flag in the asgiref Local of each of its
# ~50 resolvers, and every such Local set here would be in the context of every task the worker
# starts. asgiref re-homes each Local of the caller's context on every sync_to_async call, twice:
# with 60 of them, a call cost 346 µs, and a quarter of a worker's samples were there while
# 10,000 sockets opened (py-spy, docs/performance.md). What the warm-up loads lives on in module and
# object caches, not in the context.
contextvars.copy_context().run(warm_up)

# What is loaded by now (Django, Wagtail, every app: over 200,000 objects) lives as long as the
# worker. Moved out of the garbage collector's reach, it is no longer walked by every full
# collection: one took 160 ms here, and 140-280 ms in each worker under bench/bench_fanout.py
# (a post that met one reached its watchers that much later); now well under 1 ms.
gc.collect()
gc.freeze()
