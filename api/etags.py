"""ETag and Cache-Control on every answer of the API, and 304 to a client that has it already.

The ETag is a hash of the body as sent: whatever changed in what the answer shows (a record
published, a score recomputed, a phase that opened), the tag changes, and nothing else changes
it. A client (or a proxy) sends it back in If-None-Match and gets 304 with no body."""

import hashlib

from django.conf import settings
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers

# Headers a page on another site may read from a cross-origin answer (the data is public).
EXPOSED_HEADERS = "ETag, Retry-After"


def finish(request, response):
    """`response` with its ETag and caching headers, or a 304 when the client has this body."""
    if request.method in ("GET", "HEAD") and response.status_code == 200:
        response = _tagged(request, response)
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    return response


def _tagged(request, response):
    if hasattr(response, "render") and not response.is_rendered:
        response.render()
    if getattr(response, "streaming", False):
        return response
    response["ETag"] = f'"{hashlib.sha256(response.content).hexdigest()[:40]}"'
    # The browsable page of a signed-in visitor names them: no shared cache may keep it.
    signed_in = getattr(request, "user", None) is not None and request.user.is_authenticated
    patch_cache_control(
        response,
        max_age=settings.YISHI_API_MAX_AGE,
        **({"private": True} if signed_in else {"public": True}),
    )
    patch_vary_headers(response, ["Accept"])
    return get_conditional_response(request, etag=response["ETag"], response=response)


class ConditionalMixin:
    """For the API's views: every answer goes through `finish`, every refusal through
    api.errors (JSON, in the reader's language)."""

    def get_exception_handler(self):
        from api.errors import exception_handler

        return exception_handler

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        return finish(request, response)
