"""The evidence file of an entered figure (docs/files.md): kept in the private storage under a
random name, served only by `governance:figure_evidence`, which asks `governance.view_figure`.
A draft's file answers 404 to everyone but the officials over its village; once published,
to nobody."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from core.uploads import private_storage
from governance import services
from governance.models import EnteredFigure
from tests.governance.index_objects import figure, pdf_bytes, people, ruian_index

# Those who must not learn that a draft exists, let alone read its evidence.
REFUSED = (
    "anonymous",
    "resident",
    "representative",
    "committee",
    "supervisor",
    "grid_worker",
    "other_resident",
    "other_official",
)
# Officials whose part of the tree holds the village.
READERS = ("official", "district_official", "village_official")


@pytest.fixture
def media_root(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def world(tree, media_root):
    persons = people(tree)
    index = ruian_index(tree, persons["official"])
    draft = figure(
        index,
        tree["village"],
        persons["official"],
        evidence_url="",
        evidence_file=SimpleUploadedFile("低保名单_张三.pdf", pdf_bytes()),
    )
    return {"people": persons, "index": index, "draft": draft, "media_root": media_root}


def _get(world, who: str, url: str):
    client = Client()
    if who != "anonymous":
        client.force_login(world["people"][who])
    return client.get(url)


def _evidence_url(entered) -> str:
    return reverse("governance:figure_evidence", args=[entered.pk])


def test_a_drafts_evidence_answers_404_to_anonymous_residents_and_another_townships_officials(
    world,
):
    url = _evidence_url(world["draft"])
    for who in REFUSED:
        response = _get(world, who, url)
        assert response.status_code == 404, who
        assert b"%PDF" not in response.content, who
    for who in READERS:
        response = _get(world, who, url)
        assert response.status_code == 200, who
        assert b"".join(response.streaming_content) == pdf_bytes(), who
        assert response["Content-Disposition"].startswith("attachment"), who
        assert "evidence.pdf" in response["Content-Disposition"], who
        assert response["Cache-Control"] == "private, max-age=300"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response["Content-Security-Policy"]


def test_the_file_is_private_with_a_random_name_and_no_media_url_serves_it(world, settings):
    stored = world["draft"].evidence_file
    name = stored.name
    assert name.startswith("governance/evidence/") and name.endswith(".pdf")
    assert "张三" not in name and "低保" not in name
    # In the private storage (settings.STORAGES["private"]), outside the media root, with no
    # public URL of its own.
    field = EnteredFigure._meta.get_field("evidence_file")
    assert field._storage_callable is private_storage
    assert Path(stored.path).is_file()
    assert Path(stored.path).resolve().is_relative_to(Path(settings.PRIVATE_MEDIA_ROOT).resolve())
    assert not (world["media_root"] / name).exists()
    assert not stored.storage.base_url.startswith(settings.MEDIA_URL)
    for who in ("anonymous", "official"):
        for path in (settings.MEDIA_URL + name, "/no-public-url/" + name, "/" + name):
            assert _get(world, who, path).status_code == 404, (who, path)


def test_the_figures_page_links_the_checked_view_never_a_storage_url(world):
    entered = world["draft"]
    html = _get(world, "official", reverse("governance:figure", args=[entered.pk])).content
    page = html.decode()
    assert _evidence_url(entered) in page
    assert entered.evidence_file.name not in page
    assert "/media/" not in page and "/no-public-url/" not in page


def test_published_evidence_is_for_everyone_and_a_draft_correction_is_not(world):
    official = world["people"]["official"]
    published = services.publish_figure(figure=world["draft"], by=official)
    for who in REFUSED:
        assert _get(world, who, _evidence_url(published)).status_code == 200, who
    correction = services.correct_figure(
        published=published,
        value="5",
        evidence_file=SimpleUploadedFile("复核.pdf", pdf_bytes()),
        evidence_url=None,
        note="复核后更正",
        by=official,
    )
    assert correction.evidence_file.name != published.evidence_file.name
    for who in ("anonymous", "resident", "other_official"):
        assert _get(world, who, _evidence_url(correction)).status_code == 404, who
        # The corrected figure stays published, and so does its file.
        assert _get(world, who, _evidence_url(published)).status_code == 200, who
    assert _get(world, "official", _evidence_url(correction)).status_code == 200


def test_a_figure_with_only_a_link_has_no_file_to_serve(world):
    official = world["people"]["official"]
    linked = figure(
        world["index"], world["draft"].council, official, code="environment", value="80"
    )
    services.publish_figure(figure=linked, by=official)
    assert (
        _get(world, "anonymous", reverse("governance:figure", args=[linked.pk])).status_code == 200
    )
    assert _get(world, "anonymous", _evidence_url(linked)).status_code == 404
