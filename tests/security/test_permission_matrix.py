"""Every write endpoint of the URLconf, tried as every role: only the allowed roles' writes happen.

Success means the write happened (the row's `effect` changed) with a 200 or a redirect.
Refusal means nothing was written, and the answer was a redirect to the login page (anonymous),
a 403, a 404, a 400, or a redirect back with an error message. Each role's attempt runs in a
savepoint that is rolled back, so every role meets the same state.
"""

import pytest
from django.contrib import messages
from django.db import transaction
from django.test import Client

from tests.security.endpoints import post_endpoints
from tests.security.matrix import ROWS
from tests.security.world import ROLES, World

LOGIN_PATH = "/accounts/login/"


@pytest.fixture(autouse=True)
def _uploads_and_imports(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.YISHI_IMPORT_IN_BACKGROUND = False


def test_every_write_endpoint_has_a_matrix_row():
    found = {endpoint.name for endpoint in post_endpoints(ours=True)}
    unlisted = found - set(ROWS)
    assert not unlisted, (
        f"unlisted write endpoint(s), add a row to tests/security/matrix.py: {unlisted}"
    )
    assert not set(ROWS) - found, "matrix rows for endpoints that no longer accept POST"


def test_the_walk_finds_views_that_read_post_through_a_helper():
    # `vote` hands the request to _ballot_page; `submit` is made by _simple_step.
    found = {endpoint.name for endpoint in post_endpoints(ours=True)}
    assert {"budgets:vote", "disclosure:submit", "meetings:session_action"} <= found
    assert not found & {"budgets:cycle", "deliberation:topic", "disclosure:record"}


def attempt(world: World, row, role: str):
    """POST as `role` inside a savepoint; returns (response, effect before, effect after)."""
    url, before = row.url(world), row.effect(world)
    sid = transaction.savepoint()
    try:
        client = Client()
        user = world.people[role]
        if user is not None:
            client.force_login(user)
        response = client.post(url, row.data(world))
        after = row.effect(world)
    finally:
        transaction.savepoint_rollback(sid)
    return response, before, after


def error_messages(response) -> list[str]:
    stored = messages.get_messages(response.wsgi_request)
    return [str(m) for m in stored if m.level == messages.ERROR]


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(ROWS))
def test_only_allowed_roles_write(name):
    world, row = World(), ROWS[name]
    # Build what the row needs before the first savepoint, so that every role meets it.
    row.url(world), row.data(world), row.effect(world)
    problems = []
    for role in ROLES:
        response, before, after = attempt(world, row, role)
        status = response.status_code
        wrote = (
            row.response_effect(response) if row.response_effect else before != after
        ) and status < 400
        location = response.get("Location", "")
        if role in row.allowed:
            if not wrote:
                problems.append(f"{role}: refused ({status} {location}) {error_messages(response)}")
            continue
        if wrote or before != after:
            problems.append(f"{role}: WROTE although not allowed ({status})")
        elif role == "anonymous":
            if not (status == 302 and location.startswith(LOGIN_PATH)):
                problems.append(f"anonymous: {status} {location}, not sent to sign in")
        elif status == 302 and not error_messages(response):
            problems.append(f"{role}: redirected to {location} without saying why")
        elif status not in (302, 400, 403, 404):
            problems.append(f"{role}: refused with an unexpected {status}")
    assert not problems, f"{name}:\n" + "\n".join(problems)
