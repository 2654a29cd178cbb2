"""Every refusal of the API is JSON with a `detail` in the reader's language."""

import math

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    if isinstance(exc, Http404 | exceptions.NotFound):
        exc = exceptions.NotFound(_("Not found: nothing public has this address."))
    elif isinstance(exc, PermissionDenied | exceptions.PermissionDenied):
        exc = exceptions.PermissionDenied(_("This is not public."))
    elif isinstance(exc, exceptions.Throttled):
        seconds = max(1, math.ceil(exc.wait or 1))
        exc = exceptions.Throttled(wait=seconds)
        # Set after: given to the constructor, DRF would append its own English "Expected
        # available in ... seconds." to ours.
        exc.detail = exceptions.ErrorDetail(
            ngettext(
                "Too many requests from this client: try again in %(seconds)d second.",
                "Too many requests from this client: try again in %(seconds)d seconds.",
                seconds,
            )
            % {"seconds": seconds},
            code=exc.default_code,
        )
    elif isinstance(exc, exceptions.MethodNotAllowed):
        exc = exceptions.MethodNotAllowed(
            context["request"].method, detail=_("This API only reads: use GET.")
        )
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.Throttled):
        response.data["retry_after"] = exc.wait
    return response
