"""Issue 8, part 3: Hypothesis-generated submissions to every form of the site.

For each POST endpoint (tests.fuzz.targets.FORMS), as someone allowed to post there and as
someone who is not, a valid submission is mutated: values from anywhere in Unicode (NUL and
control characters, Chinese, huge strings), numbers out of range ("1e999", "NaN", negative
money), bad dates, missing, repeated and extra fields, files that are not what they claim.
Whatever comes in: no exception escapes the view and nothing answers 500; a refusal (4xx, a
form shown again, or a redirect carrying an error message) says why in words the reader sees;
and a refusal leaves every table as it was.
"""

from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib import messages
from django.db import connection
from django.forms import BaseForm
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils.html import escape
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.strategies import submissions
from tests.fuzz.targets import FORMS, KNOWN_GAPS, READ_ONLY, THIRD_PARTY_PREFIXES

pytestmark = pytest.mark.django_db

# The apps whose tables a refusal must leave as they were: every app of this repository (not of
# the libraries), so that a new app's tables are counted without being listed here.
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def our_apps() -> tuple[str, ...]:
    return tuple(
        config.label
        for config in apps.get_app_configs()
        if Path(config.path).resolve().is_relative_to(PROJECT_ROOT)
        and ".venv" not in Path(config.path).parts
        and "site-packages" not in Path(config.path).parts
    )


def _walk(resolver, prefix="", namespace=None):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace or namespace
            if pattern.namespace and namespace:
                inner = f"{namespace}:{pattern.namespace}"
            yield from _walk(pattern, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            name = pattern.name and (f"{namespace}:{pattern.name}" if namespace else pattern.name)
            yield prefix + str(pattern.pattern), name


def project_urls() -> dict[str, str]:
    """Every named URL that is ours or a sign-in page of allauth (which runs our adapter)."""
    return {
        name: route
        for route, name in _walk(get_resolver())
        if not route.startswith(THIRD_PARTY_PREFIXES)
    }


def test_every_url_is_a_fuzzed_form_or_a_read_only_page():
    urls = project_urls()
    unclassified = set(urls) - set(FORMS) - READ_ONLY
    assert not unclassified, (
        f"New URLs {sorted(unclassified)}: add each to tests/fuzz/targets.py, to FORMS (with a "
        "valid submission) if it takes a POST, else to READ_ONLY."
    )
    assert not (set(FORMS) | READ_ONLY) - set(urls), "targets name URLs that no longer exist"
    assert not set(FORMS) & READ_ONLY


# --- reading a response ------------------------------------------------------------------------


class _AlertText(HTMLParser):
    """Text a reader is shown as a refusal: role="alert" elements, error messages, and the lead
    paragraph of the 403/404 pages."""

    MARKERS = {"error", "errors", "errorlist"}

    def __init__(self, *, lead: bool):
        super().__init__()
        self.lead = lead
        self.depth = 0
        self.texts: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = set((attrs.get("class") or "").split())
        hit = (
            attrs.get("role") == "alert"
            or classes & self.MARKERS
            or (tag == "li" and {"message", "error"} <= classes)
            or (self.lead and "lead" in classes)
        )
        if self.depth or hit:
            self.depth += 1

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth and data.strip():
            self.texts.append(data.strip())


def shown_alerts(response) -> list[str]:
    if "html" not in response.get("Content-Type", ""):
        return []
    parser = _AlertText(lead=response.status_code in (403, 404))
    parser.feed(response.content.decode())
    return parser.texts


def messages_of(response) -> list:
    storage = getattr(response.wsgi_request, "_messages", None)
    if storage is None:
        return []
    return [*storage._loaded_messages, *storage._queued_messages]


def bound_forms(response) -> list[BaseForm]:
    found = {}
    for context in response.context or []:
        for layer in getattr(context, "dicts", [context]):
            for value in layer.values() if isinstance(layer, dict) else []:
                if isinstance(value, BaseForm) and value.is_bound:
                    found[id(value)] = value
    return list(found.values())


@cache
def _counted_tables() -> tuple[str, ...]:
    tables = {
        model._meta.db_table
        for app in our_apps()
        for model in apps.get_app_config(app).get_models()
        if model._meta.managed and not model._meta.proxy
    }
    return tuple(sorted(tables))


def test_a_refusal_is_checked_against_the_tables_of_every_app_of_ours():
    from cases.models import Case, Department
    from governance.models import EnteredFigure, Index, IndexScore, IndexVersion, MetricValue

    assert {"cases", "governance", "disclosure", "notifications"} <= set(our_apps())
    assert not {"wagtailcore", "auth", "account", "django_tasks_database"} & set(our_apps())
    counted = set(_counted_tables())
    for model in (Case, Department, Index, IndexVersion, EnteredFigure, IndexScore, MetricValue):
        assert model._meta.db_table in counted, model


def row_counts() -> dict[str, int]:
    """The number of rows in each of our tables, in one query (a count per model took most of
    this file's time)."""
    tables = _counted_tables()
    quote = connection.ops.quote_name
    sql = "SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {quote(t)})" for t in tables)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return dict(zip(tables, cursor.fetchone(), strict=True))


# --- the fuzzing -------------------------------------------------------------------------------


@pytest.fixture
def clients(world):
    made = {}

    def client_for(actor: str) -> Client:
        if actor not in made:
            client = Client(raise_request_exception=True)
            if actor != "anonymous":
                client.force_login(world.people[actor])
            made[actor] = client
        return made[actor]

    return client_for


def check_answer(response, form, actor, before: dict) -> None:
    status = response.status_code
    assert status < 500, f"{status} answer"
    said = messages_of(response)
    refusals = [m for m in said if m.level >= messages.WARNING and str(m).strip()]
    if status in (301, 302, 303):
        login = reverse("account_login")
        if actor == "anonymous" and response.url.startswith(login):
            refused = True  # the sign-in page is the explanation
            refusals = ["sign in"]
        elif refusals:
            refused = True
        else:
            assert said or form.silent_redirect, "redirected without a word: done or refused?"
            refused = False
    elif status == 200:
        refused = not form.next_step_200
    else:
        refused = True
    if not refused:
        return
    shown = shown_alerts(response)
    assert shown or refusals, f"refused ({status}) without a message the reader can see"
    html = response.content.decode(errors="replace")
    for bound in bound_forms(response):
        for errors in bound.errors.values():
            for error in errors:
                assert escape(error) in html, f"error not shown on the page: {error!r}"
    assert row_counts() == before, "a refusal wrote to the database"


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.xfail(reason=KNOWN_GAPS[n], run=False))
        if n in KNOWN_GAPS
        else n
        for n in sorted(FORMS)
    ],
)
@given(data=st.data())
def test_fuzzed_post_is_answered_without_500_and_every_refusal_says_why(world, clients, name, data):
    form = FORMS[name]
    actor = data.draw(st.sampled_from([form.allowed, form.allowed, form.denied]), label="actor")
    path = form.path(world, lambda options: data.draw(st.sampled_from(options), label="path"))
    payload = data.draw(submissions(form.data(world), form.files), label="payload")
    client = clients(actor)
    client.cookies.pop("messages", None)  # only this request's messages count
    before = row_counts()
    response = client.post(path, payload)
    check_answer(response, form, actor, before)
