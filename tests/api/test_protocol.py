"""How the API answers, whatever it answers: cursor pages without gaps or repeats, ETags and
304, the per-client limit and its 429, JSON refusals, the schema and its documentation page."""

import datetime
import json
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.metrics import METRICS
from governance.models import MetricValue, PeriodKind
from tests.councils.factories import UserFactory

pytestmark = pytest.mark.django_db


def metric_values(council, count: int) -> list[MetricValue]:
    """`count` figures of one council: every metric over as many months as it takes."""
    rows = []
    for n in range(count):
        month = datetime.date(2020 + n // (12 * len(METRICS)), 1 + (n // len(METRICS)) % 12, 1)
        rows.append(
            MetricValue(
                council=council,
                council_path=council.path,
                council_level=council.level,
                period_kind=PeriodKind.MONTH,
                period_start=month,
                metric=list(METRICS)[n % len(METRICS)],
                numerator=n,
                denominator=count,
                value=Decimal(n),
            )
        )
    return MetricValue.objects.bulk_create(rows)


def pages(client, url):
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content[:300]
        page = json.loads(response.content)
        yield page
        url = page["next"]


# --- cursor pagination ------------------------------------------------------------------------


def test_following_next_walks_every_item_once_in_order(client, tree):
    made = [row.pk for row in metric_values(tree["village"], 120)]
    walked = list(pages(client, "/api/v1/metrics/?page_size=50"))
    assert [len(page["results"]) for page in walked] == [50, 50, 20]
    seen = [item["id"] for page in walked for item in page["results"]]
    assert seen == sorted(made)  # no gap, no repeat, ascending
    assert walked[0]["previous"] is None and walked[-1]["next"] is None
    back = json.loads(client.get(walked[-1]["previous"]).content)
    assert [item["id"] for item in back["results"]] == seen[50:100]


def test_a_row_added_while_walking_does_not_shift_the_pages(client, tree):
    metric_values(tree["village"], 60)
    first = json.loads(client.get("/api/v1/metrics/?page_size=50").content)
    MetricValue.objects.filter(pk=first["results"][0]["id"]).delete()  # an offset would skip one
    second = json.loads(client.get(first["next"]).content)
    assert second["results"][0]["id"] == first["results"][-1]["id"] + 1
    assert len(second["results"]) == 10


def test_a_deep_page_costs_the_queries_of_the_first(client, tree):
    metric_values(tree["village"], 200)
    walked = []
    for page_url in ["/api/v1/metrics/?page_size=20"]:
        url = page_url
        while url:
            with CaptureQueriesContext(connection) as queries:
                page = json.loads(client.get(url).content)
            walked.append(len(queries))
            url = page["next"]
    assert len(walked) == 10 and len(set(walked)) == 1
    sql = " ".join(q["sql"] for q in queries.captured_queries).upper()
    assert "OFFSET" not in sql and "COUNT(" not in sql


@pytest.mark.parametrize("size, expected", [("500", 200), ("0", 50), ("abc", 50), ("7", 7)])
def test_page_size_is_capped_and_a_bad_one_falls_back_to_the_default(client, tree, size, expected):
    metric_values(tree["village"], 210)
    page = json.loads(client.get(f"/api/v1/metrics/?page_size={size}").content)
    assert len(page["results"]) == expected


# --- ETags --------------------------------------------------------------------------------------


def test_an_unchanged_answer_is_a_304_and_a_changed_one_is_not(client, tree):
    metric_values(tree["village"], 3)
    first = client.get("/api/v1/metrics/")
    etag = first["ETag"]
    assert etag.startswith('"') and "public" in first["Cache-Control"]
    assert "max-age=60" in first["Cache-Control"]
    again = client.get("/api/v1/metrics/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    weak = client.get("/api/v1/metrics/", HTTP_IF_NONE_MATCH=f"W/{etag}")
    assert weak.status_code == 304  # as a gzipping proxy hands it back
    MetricValue.objects.filter(metric=list(METRICS)[0]).update(value=Decimal("99.00"))
    changed = client.get("/api/v1/metrics/", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag


@pytest.mark.parametrize("tag", ['"nonsense"', "*garbage", ""])
def test_a_tag_that_does_not_match_gets_the_body(client, tree, tag):
    response = client.get(f"/api/v1/councils/{tree['village'].pk}/", HTTP_IF_NONE_MATCH=tag)
    assert response.status_code == 200 and json.loads(response.content)["title"] == "柳树村"


def test_every_answer_carries_an_etag_details_and_the_schema_included(client, tree):
    for url in [
        "/api/v1/",
        f"/api/v1/councils/{tree['village'].pk}/",
        "/api/v1/schema/?format=json",
        "/api/v1/docs/",
    ]:
        response = client.get(url)
        assert response.status_code == 200 and response["ETag"], url
        assert client.get(url, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


def test_a_signed_in_visitors_page_is_not_for_shared_caches(client, tree):
    client.force_login(UserFactory())
    response = client.get("/api/v1/councils/", HTTP_ACCEPT="text/html")
    assert "private" in response["Cache-Control"] and "public" not in response["Cache-Control"]


# --- the limit per client -----------------------------------------------------------------------


@pytest.fixture
def low_limits(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_anonymous": "3/min", "api_user": "5/min"},
    }
    cache.clear()
    yield
    cache.clear()


def test_the_fourth_anonymous_request_in_a_minute_is_a_429_that_says_when(client, low_limits):
    for _ in range(3):
        assert client.get("/api/v1/councils/").status_code == 200
    refused = client.get("/api/v1/councils/")
    assert refused.status_code == 429
    body = json.loads(refused.content)
    assert 1 <= body["retry_after"] <= 60 and int(refused["Retry-After"]) == body["retry_after"]
    # One sentence, ours: not followed by DRF's own English "Expected available in ...".
    seconds = body["retry_after"]
    assert body["detail"] == (
        f"Too many requests from this client: try again in {seconds} second"
        + ("." if seconds == 1 else "s.")
    )


def test_a_forwarded_for_header_does_not_choose_a_fresh_bucket(client, low_limits):
    for n in range(3):
        client.get("/api/v1/councils/", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
    assert client.get("/api/v1/councils/", HTTP_X_FORWARDED_FOR="10.9.9.9").status_code == 429


def test_another_address_and_a_signed_in_client_have_their_own_count(client, low_limits):
    for _ in range(4):
        client.get("/api/v1/councils/")
    assert client.get("/api/v1/councils/", REMOTE_ADDR="192.0.2.7").status_code == 200
    client.force_login(UserFactory())
    statuses = [client.get("/api/v1/councils/").status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]


def test_the_429_is_in_the_sites_language_chinese_first(client, low_limits, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    for _ in range(3):
        client.get("/api/v1/councils/")
    refused = client.get("/api/v1/councils/")
    assert refused.status_code == 429 and refused["Content-Language"] == "zh-hans"
    body = json.loads(refused.content)
    assert body["detail"].count(str(body["retry_after"])) == 1  # one sentence, not two
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the site's language switch
    refused = client.get("/api/v1/councils/")
    assert refused["Content-Language"] == "en"
    assert json.loads(refused.content)["detail"].startswith("Too many requests")


# --- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_api_only_reads(client, tree, method):
    response = getattr(client, method)(
        "/api/v1/councils/", data={}, content_type="application/json"
    )
    assert response.status_code == 405
    assert json.loads(response.content) == {"detail": "This API only reads: use GET."}


@pytest.mark.parametrize("url", ["/api/v1/nothing/", "/api/v1/councils/1/nothing/", "/api/v2/"])
def test_an_unknown_address_is_a_404(client, tree, url):
    response = client.get(url)
    assert response.status_code == 404
    if url.startswith("/api/v1/"):
        assert json.loads(response.content)["detail"]


def test_an_address_without_its_slash_is_redirected_to_it(client, tree):
    response = client.get("/api/v1/councils")
    assert response.status_code == 301 and response["Location"] == "/api/v1/councils/"


# --- the schema and its page ----------------------------------------------------------------------


def test_the_schema_generates_without_a_warning(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    text = target.read_text()
    assert "title: Yishi open data API" in text and "version: v1" in text
    assert "/admin/api/" not in text  # Wagtail's own admin API is not ours to publish


def test_the_schema_lists_every_endpoint_with_its_filters(client, tree):
    schema = json.loads(client.get("/api/v1/schema/?format=json").content)
    paths = schema["paths"]
    metric_params = {p["name"] for p in paths["/api/v1/metrics/"]["get"]["parameters"]}
    assert {"council", "metric", "period_kind", "period_start", "cursor", "page_size"} <= (
        metric_params
    )
    assert all(set(operations) == {"get"} for operations in paths.values())


def test_the_docs_page_runs_under_the_sites_csp_from_our_own_files(client, tree):
    response = client.get("/api/v1/docs/")
    page = response.content.decode()
    assert (
        response.status_code == 200 and "script-src 'self'" in response["Content-Security-Policy"]
    )
    assert "<script>" not in page and "<style>" not in page  # nothing inline for the CSP to block
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower() and "<noscript>" in page
    script = client.get("/api/v1/docs/?script=")
    assert script.status_code == 200 and "/api/v1/schema/" in script.content.decode()


def test_the_browsable_api_needs_no_javascript_and_names_no_one(client, tree):
    response = client.get("/api/v1/councils/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200 and "柳树村" in response.content.decode()
