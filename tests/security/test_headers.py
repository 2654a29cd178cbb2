"""Security headers on pages (CSP, frame denial, nosniff, referrer) and, under production
settings, HSTS, the HTTPS redirect and secure cookies.

`manage.py check --deploy --fail-level WARNING` with production settings is run by
tests/core/test_settings.py::test_check_deploy_is_clean; its environment is reused here.
"""

import copy
import runpy

import pytest
from django.test import Client
from django.urls import reverse

from tests.core.test_settings import GOOD_ENV
from tests.security.world import World
from yishi.settings import base

SECURITY_SETTINGS = (
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_SSL_REDIRECT",
    "SECURE_REDIRECT_EXEMPT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "LANGUAGE_COOKIE_SECURE",
    "X_FRAME_OPTIONS",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY",
)


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


@pytest.mark.django_db
def test_pages_and_error_pages_carry_the_security_headers():
    world = World()
    committee = Client()
    committee.force_login(world.people["committee"])
    pages = [
        (Client(), "/", 200),
        (Client(), reverse("deliberation:topic", args=[world.topic.pk]), 200),
        (Client(), reverse("account_login"), 200),
        (Client(), reverse("disclosure:record", args=[world.published_record.pk]), 200),
        (committee, reverse("disclosure:record", args=[world.draft_record.pk]), 200),
        (Client(), "/no-such-page/", 404),
        (committee, reverse("councils:households", args=[world.tree["far_village"].pk]), 403),
    ]
    for client, path, status in pages:
        response = client.get(path)
        assert response.status_code == status, path
        assert response["X-Frame-Options"] == "DENY", path
        assert response["X-Content-Type-Options"] == "nosniff", path
        assert response["Referrer-Policy"] == "same-origin", path
        csp = csp_directives(response["Content-Security-Policy"])
        assert csp["frame-ancestors"] == ["'none'"], path
        assert csp["script-src"] == ["'self'"], path  # no inline scripts, no eval
        assert csp["default-src"] == ["'self'"] and csp["base-uri"] == ["'self'"], path
        assert csp["form-action"] == ["'self'"], path
        assert "'unsafe-inline'" not in response["Content-Security-Policy"], path
        assert "Strict-Transport-Security" not in response  # only in production, over HTTPS


@pytest.mark.django_db
def test_session_cookie_is_http_only(sms_outbox):
    from django.conf import settings

    user = World().people["resident"]
    # Asking for a sign-in code starts a session: the cookie the browser gets is HttpOnly.
    response = Client().post(reverse("account_request_login_code"), {"phone": user.phone})
    assert response.status_code == 302
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"


@pytest.fixture
def production(settings, monkeypatch):
    """The security settings of yishi/settings/production.py, read with the deploy environment."""
    for name, value in GOOD_ENV.items():
        monkeypatch.setenv(name, value)
    # production.py edits DATABASES in place (the pool); give it a copy, not the live settings.
    monkeypatch.setattr(base, "DATABASES", copy.deepcopy(base.DATABASES))
    values = runpy.run_module("yishi.settings.production")
    for name in SECURITY_SETTINGS:
        setattr(settings, name, values[name])
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "yishi.example.cn"]
    from tests.councils.factories import home_page

    home_page()  # "/" must exist, whatever transactional test ran before in this process
    return values


@pytest.mark.django_db
def test_production_sends_hsts_over_https(production):
    response = Client().get("/", secure=True, HTTP_HOST="yishi.example.cn")
    assert response.status_code == 200
    hsts = response["Strict-Transport-Security"]
    assert "max-age=31536000" in hsts and "includeSubDomains" in hsts and "preload" in hsts
    assert response["X-Frame-Options"] == "DENY"
    assert "Content-Security-Policy" in response


@pytest.mark.django_db
def test_production_redirects_plain_http_to_https_but_not_the_health_check(production):
    response = Client().get("/halls/1/", HTTP_HOST="yishi.example.cn")
    assert response.status_code == 301
    assert response["Location"] == "https://yishi.example.cn/halls/1/"
    # Behind the proxy, X-Forwarded-Proto says the visitor used HTTPS.
    proxied = Client().get("/", HTTP_HOST="yishi.example.cn", HTTP_X_FORWARDED_PROTO="https")
    assert proxied.status_code == 200 and "Strict-Transport-Security" in proxied
    assert Client().get("/healthz", HTTP_HOST="yishi.example.cn").status_code == 200


@pytest.mark.django_db
def test_production_cookies_are_secure(production):
    world = World()
    client = Client()
    client.force_login(world.people["resident"])
    response = client.get(reverse("councils:profile"), secure=True, HTTP_HOST="yishi.example.cn")
    assert response.status_code == 200
    csrf = response.cookies["csrftoken"]
    assert csrf["secure"]
    assert production["SESSION_COOKIE_SECURE"] and production["LANGUAGE_COOKIE_SECURE"]
