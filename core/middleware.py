from django.conf import settings


class ContentSecurityPolicyMiddleware:
    """Adds the site's CSP to pages; Wagtail's admin brings its own inline scripts, so skip it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith(("/admin/", "/django-admin/")):
            response.headers.setdefault("Content-Security-Policy", settings.YISHI_CSP)
        return response
