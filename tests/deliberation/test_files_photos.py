"""Topic photos: re-encoded on the way in, served only to who may see the topic."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from deliberation.models import Topic, TopicPhoto
from tests.core.test_files_uploads import bomb_png, jpeg, jpeg_with_gps_and_rotation
from tests.councils.factories import UserFactory, member
from tests.deliberation.factories import HallFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def raise_with(client, hall, **photos):
    data = {"title": "村口积水", "description": "下雨就积水", "category": "roads", **photos}
    return client.post(f"/halls/{hall.pk}/topics/new/", data)


def test_a_members_only_halls_photos_are_not_public(client, tree):
    hall = HallFactory(council=tree["village"], is_public=False)
    resident = member(tree["village"])
    client.force_login(resident)
    assert raise_with(client, hall, photo_1=SimpleUploadedFile("a.jpg", jpeg())).status_code == 302
    url = TopicPhoto.objects.get().get_absolute_url()
    assert client.get(url).status_code == 200
    client.logout()
    assert client.get(url).status_code == 404
    for outsider in (UserFactory(), member(tree["other_village"])):
        client.force_login(outsider)
        assert client.get(url).status_code == 404


def test_a_public_halls_photo_is_served_inline_and_inert(client, tree):
    hall = HallFactory(council=tree["village"])
    client.force_login(member(tree["village"]))
    raise_with(client, hall, photo_1=SimpleUploadedFile("lane.png", jpeg(), "image/png"))
    photo = TopicPhoto.objects.get()
    assert photo.image.name.startswith("topics/") and photo.image.name.endswith(".jpg")
    assert "lane" not in photo.image.name
    client.logout()
    response = client.get(photo.get_absolute_url())
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"].startswith("inline")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    page = client.get(Topic.objects.get().get_absolute_url()).content.decode()
    assert photo.get_absolute_url() in page and "/media/" not in page


def test_gps_is_removed_from_a_topic_photo(client, tree):
    hall = HallFactory(council=tree["village"])
    client.force_login(member(tree["village"]))
    raise_with(client, hall, photo_1=SimpleUploadedFile("p.jpg", jpeg_with_gps_and_rotation()))
    stored = TopicPhoto.objects.get().image.read()
    with Image.open(io.BytesIO(stored)) as image:
        assert not image.getexif() and image.size == (20, 40)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_bomb_photo_gets_a_form_error_and_no_topic(client, tree, language):
    from tests.disclosure.test_files_access import needs_catalog, speak

    needs_catalog(language, "too many pixels")
    hall = HallFactory(council=tree["village"])
    client.force_login(member(tree["village"]))
    response = client.post(
        f"/halls/{hall.pk}/topics/new/",
        {
            "title": "t",
            "description": "d",
            "category": "roads",
            "photo_1": SimpleUploadedFile("huge.png", bomb_png(20000), "image/png"),
        },
        **speak(client, language),
    )
    assert response.status_code == 400
    says = "too many pixels" if language == "en" else "像素太多"
    assert says in response.content.decode()
    assert not Topic.objects.exists() and not TopicPhoto.objects.exists()
