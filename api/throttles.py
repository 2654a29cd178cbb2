"""Requests per client: an anonymous client by its address, a signed-in one by its account.

DRF reads a throttle's rate once, at import; these read it at each request from the settings
(REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]), so that the environment and tests can set it, and
"off" or None switches a limit off. The counts live in the default cache (Redis in production),
shared by every worker."""

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class _ConfiguredRate(SimpleRateThrottle):
    def get_rate(self):
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        return None if rate in (None, "", "off") else rate

    def allow_request(self, request, view):
        # The rate may have changed since __init__ (tests, a reloaded setting).
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)


class AnonymousClientThrottle(_ConfiguredRate):
    scope = "api_anonymous"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class SignedInClientThrottle(_ConfiguredRate):
    scope = "api_user"

    def get_cache_key(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
