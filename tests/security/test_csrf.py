"""CSRF: every POST endpoint refuses a post without the token; every post form carries it."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import reverse

from tests.security.endpoints import all_endpoints, post_endpoints
from tests.security.matrix import ROWS
from tests.security.world import ROLES, World

ROOT = Path(__file__).resolve().parents[2]
# Wagtail's admin API views are csrf_exempt as Django views because Django REST framework's
# SessionAuthentication enforces CSRF itself (checked below).
EXEMPT_BY_DESIGN = ("wagtail.admin.api.", "wagtail.documents.api.", "wagtail.images.api.")
# The open read API (api/, docs/api.md) is csrf_exempt for the same reason, and only reads: every
# one of its routes answers a token-less post from a signed-in superuser with 405 (checked below).
READ_ONLY_API = ("api.",)


@pytest.fixture(autouse=True)
def _uploads_and_imports(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.YISHI_IMPORT_IN_BACKGROUND = False


@pytest.mark.django_db
def test_every_write_endpoint_refuses_a_post_without_the_token_even_from_an_allowed_role():
    world = World()
    for row in ROWS.values():  # build everything first: nothing below may write
        row.url(world), row.data(world), row.effect(world)
    written = []
    for name, row in ROWS.items():
        role = next(r for r in ROLES if r in row.allowed)
        client = Client(enforce_csrf_checks=True)
        if world.people[role] is not None:
            client.force_login(world.people[role])
        before = row.effect(world)
        sid = transaction.savepoint()
        response = client.post(row.url(world), row.data(world))
        after = row.effect(world)
        transaction.savepoint_rollback(sid)
        if response.status_code != 403 or before != after:
            written.append(f"{name} as {role}: {response.status_code}, wrote={before != after}")
        elif b"CSRF" not in response.content and b"csrf" not in response.content:
            written.append(f"{name}: a 403 that does not explain the missing token")
    assert not written, "\n".join(written)


def _fixed_routes(endpoints):
    """Endpoints whose route has no parameters, so that it can be posted to as it is."""
    return [e for e in endpoints if "<" not in e.route and "(?P" not in e.route]


@pytest.mark.django_db
def test_every_library_post_endpoint_refuses_a_post_without_the_token():
    # allauth (sign in, sign up, SMS codes, phone change), set_language, the admins.
    endpoints = _fixed_routes(post_endpoints(ours=False))
    assert {"account_login", "account_signup", "account_request_login_code", "set_language"} <= {
        e.name for e in endpoints
    }
    client = Client(enforce_csrf_checks=True)
    accepted = []
    for endpoint in endpoints:
        if endpoint.module.startswith(EXEMPT_BY_DESIGN):
            continue
        path = "/" + endpoint.route.lstrip("^").rstrip("$")
        response = client.post(path, {"login": "13700000001", "phone": "13700000001"})
        if response.status_code != 403:
            accepted.append(f"{path} ({endpoint.module}): {response.status_code}")
    assert not accepted, "\n".join(accepted)


def test_no_view_is_csrf_exempt_except_the_admin_api():
    exempt = [
        f"{e.route} ({e.module})"
        for e in all_endpoints()
        if getattr(e.callback, "csrf_exempt", False)
        and not e.module.startswith(EXEMPT_BY_DESIGN + READ_ONLY_API)
    ]
    assert not exempt


@pytest.mark.django_db
def test_the_open_api_is_exempt_only_because_it_refuses_every_write():
    from tests.councils.factories import UserFactory

    api = [e for e in all_endpoints() if e.module.startswith(READ_ONLY_API)]
    assert len(api) >= 10  # the walk found the API's routes
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    wrong = []
    for e in api:
        route = e.route.replace("^", "").replace("$", "").replace(".+", "anything")
        url = "/" + re.sub(r"\(\?P<[^>]+>[^)]*\)", "1", route)
        for method in ("post", "put", "patch", "delete"):
            status = getattr(client, method)(url, data="{}", content_type="application/json")
            if status.status_code not in (403, 404, 405):
                wrong.append(f"{method.upper()} {url}: {status.status_code}")
    assert wrong == []


@pytest.mark.django_db
def test_the_admin_api_enforces_csrf_itself():
    from tests.councils.factories import UserFactory, home_page

    home = home_page()
    editor = UserFactory(is_superuser=True, is_staff=True)
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    before = type(home).objects.count()
    response = client.post(
        f"/admin/api/main/pages/{home.pk}/action/copy/",
        {"destination_page_id": home.get_parent().pk, "slug": "copy"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert b"CSRF" in response.content
    assert type(home).objects.count() == before


# --- forms -------------------------------------------------------------------------------------


class PostForms(HTMLParser):
    """Collects, for each <form method=post>, whether it holds a csrfmiddlewaretoken input."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._open = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "").lower() == "post":
            self._open = {"action": attrs.get("action"), "token": False}
            self.forms.append(self._open)
        elif tag == "input" and self._open and attrs.get("name") == "csrfmiddlewaretoken":
            self._open["token"] = bool(attrs.get("value"))

    def handle_endtag(self, tag):
        if tag == "form":
            self._open = None


def post_forms(html: str) -> list[dict]:
    parser = PostForms()
    parser.feed(html)
    return parser.forms


def pages(world: World) -> list[tuple[str, str]]:
    """(role, path) of the pages that show post forms, as the role who sees the most forms."""
    w = world
    return [
        ("committee", "/"),
        ("committee", w.village.url),
        ("other_resident", reverse("councils:join", args=[w.village.pk])),
        ("committee", reverse("councils:profile")),
        ("committee", reverse("councils:households", args=[w.village.pk])),
        ("committee", reverse("councils:members", args=[w.village.pk])),
        ("committee", reverse("deliberation:hall", args=[w.hall.pk])),
        ("committee", reverse("deliberation:raise_topic", args=[w.hall.pk])),
        ("committee", reverse("deliberation:topic", args=[w.message.topic_id])),
        ("resident", reverse("deliberation:topic", args=[w.topic.pk])),
        ("committee", reverse("deliberation:schedule_day", args=[w.hall.pk])),
        ("committee", reverse("deliberation:day", args=[w.future_day.pk])),
        ("committee", reverse("deliberation:day", args=[w.past_day.pk])),
        ("committee", reverse("meetings:schedule_session", args=[w.village.pk])),
        ("committee", reverse("meetings:session", args=[w.scheduled_session.pk])),
        ("committee", reverse("meetings:session", args=[w.check_in_session.pk])),
        ("representative", reverse("meetings:session", args=[w.voting_motion.session_id])),
        ("committee", reverse("meetings:session_screen", args=[w.check_in_session.pk])),
        ("committee", reverse("meetings:write_minutes", args=[w.closed_session.pk])),
        ("committee", reverse("meetings:minutes", args=[w.minutes_draft.pk])),
        ("committee", reverse("meetings:minutes", args=[w.minutes_published.pk])),
        ("committee", reverse("disclosure:draft", args=[w.village.pk, "finance"])),
        ("committee", reverse("disclosure:record", args=[w.draft_record.pk])),
        ("committee", reverse("disclosure:edit", args=[w.draft_record.pk])),
        ("supervisor", reverse("disclosure:record", args=[w.in_review_record.pk])),
        ("committee", reverse("disclosure:record", args=[w.signed_off_record.pk])),
        ("committee", reverse("disclosure:record", args=[w.question.record_id])),
        ("resident", reverse("disclosure:record", args=[w.published_record.pk])),
        ("committee", reverse("disclosure:import", args=[w.village.pk])),
        ("committee", reverse("disclosure:import_batch", args=[w.import_batch.pk])),
        ("committee", reverse("budgets:new_cycle", args=[w.village.pk])),
        ("committee", reverse("budgets:cycle", args=[w.collecting_cycle.pk])),
        ("resident", reverse("budgets:propose", args=[w.collecting_cycle.pk])),
        ("committee", reverse("budgets:proposal", args=[w.submitted_proposal.pk])),
        ("committee", reverse("budgets:promote", args=[w.topic.pk])),
        ("resident", reverse("budgets:vote", args=[w.voting_cycle.pk])),
        ("committee", reverse("budgets:paper", args=[w.voting_cycle.pk]) + "?phone="),
        ("committee", reverse("budgets:results", args=[w.closed_cycle.pk])),
        ("committee", reverse("budgets:proposal", args=[w.done_proposal.pk])),
        ("resident", reverse("budgets:proposal", args=[w.done_proposal.pk])),
        ("anonymous", reverse("account_login")),
        ("anonymous", reverse("account_signup")),
        ("anonymous", reverse("account_request_login_code")),
        ("committee", reverse("account_change_phone")),
    ]


@pytest.mark.django_db
def test_every_post_form_the_site_renders_carries_the_csrf_token(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    world = World()
    missing, seen = [], 0
    for role, path in pages(world):
        client = Client()
        if world.people[role] is not None:
            client.force_login(world.people[role])
        response = client.get(path, follow=True)
        assert response.status_code == 200, (role, path, response.status_code)
        for form in post_forms(response.content.decode()):
            seen += 1
            if not form["token"]:
                missing.append(f"{path} as {role}: form to {form['action']}")
    assert not missing, "\n".join(missing)
    assert seen > 60  # the pages above hold this many post forms; fewer means a page broke


TEMPLATE_DIRS = [ROOT / "templates"] + [
    ROOT / app / "templates"
    for app in ("core", "councils", "deliberation", "budgets", "disclosure", "home")
]
FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)


def test_every_post_form_in_our_templates_has_csrf_token():
    missing, found = [], 0
    for folder in TEMPLATE_DIRS:
        for template in folder.rglob("*.html"):
            for attrs, body in FORM.findall(template.read_text(encoding="utf-8")):
                if not re.search(r"method\s*=\s*[\"']?post", attrs, re.I):
                    continue
                found += 1
                if "{% csrf_token %}" not in body:
                    missing.append(f"{template.relative_to(ROOT)}: <form{attrs}>")
    assert found > 20
    assert not missing, "\n".join(missing)


def test_csrf_middleware_is_installed():
    assert "django.middleware.csrf.CsrfViewMiddleware" in settings.MIDDLEWARE
