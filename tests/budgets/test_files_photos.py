"""Proposal and progress photos: re-encoded, random names, served through the view."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from budgets.models import ProgressUpdate, Proposal, ProposalPhoto
from councils.models import Role
from tests.budgets.factories import make_cycle
from tests.budgets.test_followup import closed_cycle
from tests.core.test_files_uploads import bomb_png, jpeg
from tests.councils.factories import member

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


DATA = {"title": "修巷道", "description": "坑洼积水", "estimated_cost": "9000", "category": "roads"}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_bomb_proposal_photo_gets_a_form_error_and_no_proposal(client, tree, language):
    from tests.disclosure.test_files_access import needs_catalog, speak

    needs_catalog(language, "too many pixels")
    cycle = make_cycle(tree["village"], phase="collect")
    client.force_login(member(tree["village"]))
    bomb = SimpleUploadedFile("lane.png", bomb_png(20000), "image/png")
    response = client.post(
        f"/budgets/cycles/{cycle.pk}/propose/",
        {**DATA, "photo_1": bomb},
        **speak(client, language),
    )
    assert response.status_code == 400
    says = "too many pixels" if language == "en" else "像素太多"
    assert says in response.content.decode()
    assert not Proposal.objects.exists() and not ProposalPhoto.objects.exists()


def test_a_proposal_photo_is_stored_as_what_it_is_and_served_by_the_view(client, tree):
    cycle = make_cycle(tree["village"], phase="collect")
    client.force_login(member(tree["village"]))
    photo = SimpleUploadedFile("路灯.png", jpeg(), "image/png")
    assert client.post(f"/budgets/cycles/{cycle.pk}/propose/", {**DATA, "photo_1": photo})
    stored = ProposalPhoto.objects.get()
    assert stored.image.name.startswith("budgets/proposals/") and stored.image.name.endswith(".jpg")
    assert "路灯" not in stored.image.name
    client.logout()
    response = client.get(stored.get_absolute_url())
    assert response.status_code == 200 and response["X-Content-Type-Options"] == "nosniff"
    assert client.get("/media/" + stored.image.name).status_code == 404
    page = client.get(Proposal.objects.get().get_absolute_url()).content.decode()
    assert stored.get_absolute_url() in page and "/media/" not in page


def test_a_bomb_progress_photo_is_refused_with_a_message(client, tree):
    from budgets import services

    cycle, road, _lamps = closed_cycle(tree)
    committee = member(tree["village"], Role.COMMITTEE)
    services.publish_results(by=committee, cycle=cycle)
    client.force_login(committee)
    response = client.post(
        f"/budgets/proposals/{road.pk}/progress/",
        {
            "status": "in_progress",
            "note": "开工",
            "spent_so_far": "0",
            "photo": SimpleUploadedFile("site.png", bomb_png(20000), "image/png"),
        },
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200 and "too many pixels" in response.content.decode()
    assert not ProgressUpdate.objects.exists()
    client.post(
        f"/budgets/proposals/{road.pk}/progress/",
        {
            "status": "in_progress",
            "note": "开工",
            "spent_so_far": "0",
            "photo": SimpleUploadedFile("s.jpg", jpeg()),
        },
    )
    update = ProgressUpdate.objects.get()
    assert update.photo.name.startswith("budgets/progress/")
    assert client.get(update.photo_url).status_code == 200
