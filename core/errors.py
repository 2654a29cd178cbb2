"""The site's 500 handler: a database that cannot be reached is a clean 503, not a crash.

While PostgreSQL restarts (or its connection pool waits in vain), any query raises Django's
OperationalError or InterfaceError, in a view or in a middleware (the session saved on the way
out). Django turns every uncaught exception into a call of `handler500`, with the exception still
in `sys.exc_info()` (asgiref carries it into the thread under ASGI), so this one place covers
them all. The page is rendered without the request context: the context processors would ask the
database for the user. Nothing needs restarting afterwards: the next request opens (or, from the
pool, checks) a fresh connection. See docs/deploy.md, "Database restarts".
"""

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.views import defaults

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 10


def database_unavailable(request) -> HttpResponse:
    """503 with Retry-After, in the reader's language, rendered without touching the database."""
    response = HttpResponse(
        render_to_string("503.html", {"retry_after": RETRY_AFTER_SECONDS}), status=503
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def server_error(request, template_name=defaults.ERROR_500_TEMPLATE_NAME):
    error = sys.exc_info()[1]
    if isinstance(error, (OperationalError, InterfaceError)):
        logger.warning("database unavailable for %s: %s", request.path, error)
        return database_unavailable(request)
    return defaults.server_error(request, template_name)
