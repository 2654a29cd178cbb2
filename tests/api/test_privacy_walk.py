"""The privacy walk: every endpoint of the API, as an anonymous client, and no personal data.

The endpoints come from the generated OpenAPI schema, so a future endpoint is walked without
anyone remembering to add it here: every list is followed through its `next` links to the end,
every detail (and every path below it) is opened for each item its list showed. No answer may
contain a phone number, a real name, a display name (the API names no one), a household register
name, the unmasked name of a welfare list, a hidden or held message, a draft, a private hall's
topic, a draft index version's figures or a case row (tests/api/world.py)."""

import json
import re

import pytest

from tests.api.world import build_world

pytestmark = pytest.mark.django_db

PREFIX = "/api/v1/"
PARAMETER = re.compile(r"\{[^}]+\}")


def schema_paths(client) -> list[str]:
    response = client.get(f"{PREFIX}schema/?format=json")
    assert response.status_code == 200
    return sorted(json.loads(response.content)["paths"])


def walk_list(client, path: str, bodies: list) -> list[dict]:
    """Every item of a list, through its pages (three to a page, to cross page boundaries)."""
    items, url, seen_urls = [], f"{path}?page_size=3", set()
    while url:
        assert url not in seen_urls, f"{path}: the cursor goes round in circles"
        seen_urls.add(url)
        response = client.get(url)
        assert response.status_code == 200, (url, response.content[:300])
        bodies.append((url, response.content.decode()))
        page = json.loads(response.content)
        items += page["results"]
        url = page["next"]
    return items


def test_no_personal_data_anywhere_in_the_api(client, tree):
    world = build_world(tree)
    paths = schema_paths(client)
    lists = [path for path in paths if not PARAMETER.search(path)]
    details = [path for path in paths if PARAMETER.search(path)]
    assert len(lists) >= 7 and len(details) >= 5  # the walk found the API

    bodies: list[tuple[str, str]] = []
    items_of: dict[str, list[dict]] = {}
    for path in lists:
        if path.endswith(("/schema/", "/docs/")):
            continue
        items_of[path] = walk_list(client, path, bodies)
    for path in details:
        # /api/v1/cycles/{id}/results/ belongs to the list /api/v1/cycles/.
        list_path = PARAMETER.split(path)[0]
        assert list_path in items_of, f"{path}: no list to take its ids from"
        assert items_of[list_path], f"{path}: the world has nothing in {list_path} to open"
        for item in items_of[list_path]:
            url = PARAMETER.sub(str(item["id"]), path)
            response = client.get(url)
            # Results and ballots exist only once published: a cycle without them is a 404.
            assert response.status_code in (200, 404), (url, response.status_code)
            bodies.append((url, response.content.decode()))

    for secret in world.secrets:
        leaks = [url for url, body in bodies if secret in body]
        assert not leaks, f"{secret!r} appears in {leaks}"
    everything = "\n".join(body for _url, body in bodies)
    for expected in world.shown:
        assert expected in everything, f"the walk never reached {expected!r}"
    # Nothing that looks like a mainland mobile number, whoever it belongs to.
    assert not re.search(r"(?<![0-9a-f])1[3-9][0-9]{9}(?![0-9a-f])", everything)
