"""Look and feel: Chinese first, large text without JavaScript, light pages, security headers."""

import gzip
import re

import pytest

from tests.councils.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_site_speaks_chinese_by_default(client, tree, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    html = client.get(tree["village"].url).content.decode()
    assert 'lang="zh-hans"' in html
    assert "民主议事厅" in html and "三务公开" in html and "大字模式" in html


def test_chinese_even_when_the_phone_asks_for_english(client, tree, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    response = client.get(tree["village"].url, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert "民主议事厅" in response.content.decode()
    assert response["Content-Language"] == "zh-hans"


def test_language_switch_to_english_and_back(client, tree, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    response = client.post("/i18n/setlang/", {"language": "en", "next": tree["village"].url})
    assert response.status_code == 302
    assert "Discussion halls" in client.get(tree["village"].url).content.decode()
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "民主议事厅" in client.get(tree["village"].url).content.decode()


def test_large_text_toggle_works_without_javascript(client, tree):
    url = tree["village"].url
    assert '<body class="">' in client.get(url).content.decode()
    response = client.post("/prefs/large-text/", {"next": url})
    assert response.status_code == 302 and response["Location"] == url
    assert '<body class="large-text">' in client.get(url).content.decode()
    client.post("/prefs/large-text/", {"next": url})
    assert '<body class="">' in client.get(url).content.decode()


def test_large_text_toggle_refuses_foreign_redirects(client):
    response = client.post("/prefs/large-text/", {"next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_large_text_toggle_needs_csrf(tree):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/prefs/large-text/", {"next": "/"}).status_code == 403


@pytest.mark.parametrize("path", ["/", "village", "/councils/search/?q=村", "/accounts/login/"])
def test_pages_are_under_60kb_gzipped_and_have_no_script(client, tree, path):
    url = tree["village"].url if path == "village" else path
    response = client.get(url, HTTP_ACCEPT_ENCODING="gzip")
    body = response.content
    size = len(body) if response.get("Content-Encoding") == "gzip" else len(gzip.compress(body))
    assert size < 60 * 1024
    html = (
        gzip.decompress(body).decode()
        if response.get("Content-Encoding") == "gzip"
        else body.decode()
    )
    assert "<script" not in html


def test_forms_label_every_input(client, tree):
    client.force_login(UserFactory())
    for url in ["/", tree["village"].url, f"/councils/{tree['village'].pk}/join/", "/councils/me/"]:
        html = client.get(url).content.decode()
        for input_id in re.findall(r'<(?:input|textarea|select)[^>]*\sid="([^"]+)"', html):
            assert f'for="{input_id}"' in html, f"{url}: #{input_id} has no label"


def test_security_headers(client, tree):
    response = client.get(tree["village"].url)
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok", "database": True}
