"""Who may define, edit and publish an index, enter and publish figures, and see drafts: every
role around the village, with more refusals than permissions. The evidence file answers 404 to
whoever may not see its figure."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from governance import services
from tests.governance.index_objects import figure, pdf_bytes, people, ruian_index

EVERYONE = (
    "anonymous",
    "official",
    "district_official",
    "other_official",
    "village_official",
    "committee",
    "supervisor",
    "representative",
    "resident",
    "other_resident",
    "grid_worker",
)
OWNER_OFFICIALS = {"official", "district_official"}
# An official appointed in the village itself sees its drafts (its part of the tree holds the
# village) but neither enters nor publishes them.
DRAFT_VIEWERS = OWNER_OFFICIALS | {"village_official"}


@pytest.fixture
def world(tree, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    persons = {"anonymous": AnonymousUser(), **people(tree)}
    official = persons["official"]
    index = ruian_index(tree, official)
    draft = figure(
        index,
        tree["village"],
        official,
        evidence_url="",
        evidence_file=SimpleUploadedFile("scan.pdf", pdf_bytes()),
    )
    published = figure(index, tree["village"], official, code="environment", value="80")
    services.publish_figure(figure=published, by=official)
    published.refresh_from_db()
    return {
        "tree": tree,
        "people": persons,
        "index": index,
        "version": index.versions.get(),
        "new_draft": services.start_version(index=index, by=official),
        "draft_figure": draft,
        "published_figure": published,
    }


def allowed(world, permission, obj) -> set[str]:
    return {name for name in EVERYONE if world["people"][name].has_perm(permission, obj)}


def test_only_officials_of_the_owner_manage_the_index(world):
    tree = world["tree"]
    for obj in (tree["township"], world["index"], world["version"], world["new_draft"]):
        assert allowed(world, "governance.manage_index", obj) == OWNER_OFFICIALS
    # A village, a grid, another township: nobody defines an index there from this tree's
    # officials (the other township's own official may, in its own township).
    for council in ("village", "grid"):
        assert allowed(world, "governance.manage_index", tree[council]) == set()
    assert allowed(world, "governance.manage_index", tree["other_township"]) == {
        "other_official",
        "district_official",
    }


def test_officials_above_the_village_enter_its_figures_and_nobody_else(world):
    tree = world["tree"]
    assert allowed(world, "governance.enter_figure", tree["village"]) == OWNER_OFFICIALS
    assert allowed(world, "governance.enter_figure", world["draft_figure"]) == OWNER_OFFICIALS
    # Figures are about villages: not a grid, not the township itself.
    assert allowed(world, "governance.enter_figure", tree["grid"]) == set()
    assert allowed(world, "governance.enter_figure", tree["township"]) == set()


def test_only_officials_of_the_owner_publish_figures(world):
    assert allowed(world, "governance.publish_figure", world["draft_figure"]) == OWNER_OFFICIALS
    assert allowed(world, "governance.publish_figure", world["tree"]["village"]) == set()


def test_a_draft_figure_is_seen_only_by_officials_over_its_village(world):
    draft = world["draft_figure"]
    assert allowed(world, "governance.view_figure", draft) == OWNER_OFFICIALS | {"village_official"}
    assert allowed(world, "governance.view_draft_figure", draft) == OWNER_OFFICIALS | {
        "village_official"
    }
    # Published: everyone.
    assert allowed(world, "governance.view_figure", world["published_figure"]) == set(EVERYONE)


def test_a_draft_version_is_seen_only_by_officials_of_the_owner(world):
    assert allowed(world, "governance.view_version", world["new_draft"]) == OWNER_OFFICIALS
    assert allowed(world, "governance.view_version", world["version"]) == set(EVERYONE)


def _get(world, who, url):
    client = Client()
    if who != "anonymous":
        client.force_login(world["people"][who])
    return client.get(url)


def test_the_evidence_file_of_a_draft_answers_404_to_everyone_else(world):
    url = reverse("governance:figure_evidence", args=[world["draft_figure"].pk])
    for who in EVERYONE:
        response = _get(world, who, url)
        if who in DRAFT_VIEWERS:
            assert response.status_code == 200, who
            assert response["Content-Disposition"].startswith("attachment")
            assert b"".join(response.streaming_content).startswith(b"%PDF-")
        else:
            assert response.status_code == 404, who


def test_the_page_of_a_draft_figure_answers_404_to_everyone_else(world):
    url = reverse("governance:figure", args=[world["draft_figure"].pk])
    for who in ("anonymous", "resident", "committee", "other_official", "supervisor"):
        assert _get(world, who, url).status_code == 404, who
    assert _get(world, "official", url).status_code == 200


def test_draft_figures_are_not_listed_for_those_who_may_not_see_them(world):
    index = world["index"]
    url = reverse("governance:index_figures", args=[index.pk])
    period = f"?period={world['draft_figure'].period_start:%Y-%m}"
    draft_link = reverse("governance:figure", args=[world["draft_figure"].pk])
    published_link = reverse("governance:figure", args=[world["published_figure"].pk])
    for who in ("anonymous", "resident", "committee", "other_official", "other_resident"):
        html = _get(world, who, url + period).content.decode()
        assert draft_link + '"' not in html, who
        assert published_link + '"' in html, who
    html = _get(world, "official", url + period).content.decode()
    assert draft_link + '"' in html
    drafts = reverse("governance:drafts", args=[index.pk])
    assert draft_link + '"' not in _get(world, "committee", drafts).content.decode()
    assert draft_link + '"' in _get(world, "district_official", drafts).content.decode()


def test_the_draft_version_page_answers_404_to_everyone_else(world):
    for name in ("governance:version", "governance:edit_version"):
        url = reverse(name, args=[world["new_draft"].pk])
        for who in ("anonymous", "resident", "committee", "other_official", "village_official"):
            response = _get(world, who, url)
            assert response.status_code in (302, 404), who
            if response.status_code == 302:
                assert who == "anonymous" and "/accounts/login/" in response["Location"]
        assert _get(world, "official", url).status_code == 200


def test_posts_of_those_not_allowed_change_nothing(world):
    from governance.models import EnteredFigure, Index, IndexVersion

    tree, index = world["tree"], world["index"]
    before = (Index.objects.count(), IndexVersion.objects.count(), EnteredFigure.objects.count())
    for who in ("resident", "committee", "other_official", "village_official", "supervisor"):
        client = Client()
        client.force_login(world["people"][who])
        client.post(
            reverse("governance:indexes", args=[tree["township"].pk]),
            {"template": "ruian", "name": "x"},
        )
        client.post(reverse("governance:publish_version", args=[world["new_draft"].pk]))
        client.post(reverse("governance:publish_figure", args=[world["draft_figure"].pk]))
        client.post(
            reverse("governance:enter_figures", args=[index.pk]),
            {"code": "party-stars", "period": "2025-01", f"v{tree['village'].pk}-value": "3"},
        )
    after = (Index.objects.count(), IndexVersion.objects.count(), EnteredFigure.objects.count())
    assert after == before
    world["draft_figure"].refresh_from_db()
    assert not world["draft_figure"].is_published
