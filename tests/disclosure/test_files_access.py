"""Attachments and import spreadsheets: served only to who may see their record, under random
names, through X-Accel-Redirect in production; photos re-encoded; zip bombs refused; imports
read by the task runner, never by a thread of the web worker."""

import io
import threading
import zipfile
from pathlib import Path

import pytest
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from core.models import TaskRunStatus
from disclosure import services
from disclosure.models import Attachment, ImportBatch, ImportStatus
from tests.core.test_files_uploads import bomb_png, jpeg
from tests.disclosure.factories import draft, line, people, publish
from tests.disclosure.test_excel_import import GOOD, form_data, import_url, xlsx

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _storages(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.YISHI_IMPORT_IN_BACKGROUND = False


@pytest.fixture
def p(tree):
    return people(tree)


def needs_catalog(language: str, english: str) -> None:
    """The zh-hans catalogue has the files messages (a missing one fails, never skips)."""
    from django.utils import translation

    from core import uploads

    if language == "en":
        return
    with translation.override(language):
        probe = uploads._photo_error("too_many_pixels", "x").messages[0]
    assert "too many pixels" not in probe, "zh-hans catalogue lacks the files messages"


def speak(client, language: str) -> dict:
    """The reader's language switch (a cookie): the site ignores Accept-Language on purpose."""
    from django.conf import settings

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return {}


def attach(record, by, name="低保名单_张三.pdf", content=b"%PDF-1.4 voucher"):
    return services.attach_file(record=record, by=by, upload=SimpleUploadedFile(name, content))


def test_a_drafts_attachment_is_only_for_those_who_may_see_the_draft(client, tree, p):
    record = draft(tree["village"], p.committee)
    attachment = attach(record, p.committee)
    url = attachment.get_absolute_url()
    assert client.get(url).status_code == 404  # anonymous
    for outsider in (p.resident, p.other_resident, p.outsider, p.other_official):
        client.force_login(outsider)
        assert client.get(url).status_code == 404, outsider
    for insider in (p.committee, p.committee2, p.supervisor, p.official):
        client.force_login(insider)
        response = client.get(url)
        assert response.status_code == 200, insider
        assert b"".join(response.streaming_content) == b"%PDF-1.4 voucher"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response["Content-Security-Policy"]
        assert response["Content-Disposition"].startswith("attachment;")


def test_a_published_attachment_is_for_everyone(client, tree, p):
    record = draft(tree["village"], p.committee)
    line(record, p.committee, income=100)
    attachment = attach(record, p.committee)
    publish(record, committee=p.committee, supervisor=p.supervisor)
    assert client.get(attachment.get_absolute_url()).status_code == 200
    page = client.get(record.get_absolute_url()).content.decode()
    assert attachment.get_absolute_url() in page and "/media/" not in page


def test_stored_names_are_random_and_old_style_paths_are_not_served(client, tree, p):
    attachment = attach(draft(tree["village"], p.committee), p.committee)
    name = attachment.file.name
    assert name.startswith("disclosure/attachments/") and name.endswith(".pdf")
    assert "张三" not in name and "低保" not in name and "/20" not in name
    assert attachment.original_name == "低保名单_张三.pdf"
    assert client.get("/media/" + name).status_code == 404
    assert client.get("/media/disclosure/2026/11/report.pdf").status_code == 404


def test_production_answers_with_x_accel_redirect(client, tree, p, settings):
    settings.YISHI_FILES_ACCEL_REDIRECT = {
        "default": "/_files/media/",
        "private": "/_files/private/",
    }
    attachment = attach(draft(tree["village"], p.committee), p.committee)
    client.force_login(p.committee)
    response = client.get(attachment.get_absolute_url())
    assert response["X-Accel-Redirect"] == "/_files/media/" + attachment.file.name
    assert response.content == b""
    client.force_login(p.resident)
    response = client.get(attachment.get_absolute_url())
    assert response.status_code == 404 and "X-Accel-Redirect" not in response


def test_an_image_attachment_is_re_encoded_and_hashed_as_stored(tree, p):
    import hashlib

    attachment = attach(draft(tree["village"], p.committee), p.committee, "收据.jpg", jpeg())
    stored = attachment.file.read()
    assert attachment.file.name.endswith(".jpg")
    assert attachment.sha256 == hashlib.sha256(stored).hexdigest()


@pytest.mark.parametrize(
    ("language", "says"),
    [("en", "too many pixels"), ("zh-hans", "像素太多")],
)
def test_a_bomb_attachment_gets_a_form_error_not_a_500(client, tree, p, language, says):
    needs_catalog(language, "too many pixels")
    record = draft(tree["village"], p.committee)
    client.force_login(p.committee)
    client.cookies["django_language"] = language
    response = client.post(
        f"/disclosure/records/{record.pk}/attach/",
        {"file": SimpleUploadedFile("scan.png", bomb_png(20000), "image/png")},
        **speak(client, language),
    )
    assert response.status_code == 400
    assert says in response.content.decode()
    assert not Attachment.objects.exists()


def zip_bomb() -> bytes:
    """A real workbook plus one member that unpacks to 250 MB (a few hundred KB on the wire)."""
    buffer = io.BytesIO(xlsx(GOOD))
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/padding.bin", b"\0" * (250 * 2**20))
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("language", "says"),
    [("en", "would unpack to more than 200 MB"), ("zh-hans", "解压后会超过 200 MB")],
)
def test_an_xlsx_zip_bomb_is_refused_with_a_message(client, tree, p, language, says):
    needs_catalog(language, "would unpack to more than")
    client.force_login(p.committee)
    response = client.post(import_url(tree), form_data(zip_bomb()), **speak(client, language))
    assert response.status_code == 400 and says in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_import_files_are_private_and_only_for_the_committee(client, tree, p, settings):
    client.force_login(p.committee)
    client.post(import_url(tree), form_data(xlsx(GOOD), name="三月_张三.xlsx"))
    batch = ImportBatch.objects.get()
    stored = Path(batch.file.path)
    assert stored.exists() and "张三" not in batch.file.name and batch.file.name.endswith(".xlsx")
    # the private storage's root (settings.STORAGES["private"]), outside the media root
    assert stored.is_relative_to(Path(storages["private"].location))
    assert not stored.is_relative_to(Path(settings.MEDIA_ROOT))
    assert Path(storages["private"].location) != Path(storages["default"].location)
    url = f"/disclosure/imports/{batch.pk}/file"
    assert client.get(url).status_code == 200
    for outsider in (p.resident, p.supervisor, p.other_resident):
        client.force_login(outsider)
        assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code in (302, 404)
    stored.unlink()


def test_the_import_runs_as_a_task_and_no_thread_is_started(
    client, tree, p, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.YISHI_IMPORT_IN_BACKGROUND = True
    started = []
    monkeypatch.setattr(threading.Thread, "start", lambda self: started.append(self.name))
    client.force_login(p.committee)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(import_url(tree), form_data(xlsx(GOOD)))
    batch = ImportBatch.objects.get()
    assert started == []
    assert batch.run.status == TaskRunStatus.DONE and batch.run.result == {
        "status": "ready",
        "lines": 3,
    }
    assert batch.status == ImportStatus.READY and batch.rows_read == 3


@pytest.mark.django_db(transaction=True)
def test_the_database_queue_holds_the_import_until_the_worker_reads_it(client, tree, settings):
    settings.YISHI_IMPORT_IN_BACKGROUND = True
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    p = people(tree)
    client.force_login(p.committee)
    client.post(import_url(tree), form_data(xlsx(GOOD)))
    batch = ImportBatch.objects.get()
    assert batch.status == ImportStatus.UPLOADED and batch.run.task_id
    status = client.get(f"/disclosure/imports/{batch.pk}/status.json").json()
    assert status["done"] is False and status["task"]["status"] == "queued"
    assert "http-equiv" in client.get(batch.get_absolute_url()).content.decode()  # progress page
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)
    status = client.get(f"/disclosure/imports/{batch.pk}/status.json").json()
    assert status["done"] is True and status["status"] == "ready" and status["rows_read"] == 3
    assert status["task"]["status"] == "done" and status["task"]["attempts"] == 1


def test_existing_files_are_moved_to_random_names(tree, p, settings):
    from django.apps import apps

    from core.uploads import move_to_random_names

    attachment = attach(draft(tree["village"], p.committee), p.committee)
    old = "disclosure/2026/11/report.pdf"
    (settings.MEDIA_ROOT / "disclosure/2026/11").mkdir(parents=True)
    (settings.MEDIA_ROOT / old).write_bytes(b"%PDF-1.4 old")
    Attachment.objects.filter(pk=attachment.pk).update(file=old)
    assert move_to_random_names(apps.get_model("disclosure", "Attachment"), "file") == 1
    attachment.refresh_from_db()
    assert attachment.file.name != old and attachment.file.read() == b"%PDF-1.4 old"
    assert not (settings.MEDIA_ROOT / old).exists()
    assert move_to_random_names(apps.get_model("disclosure", "Attachment"), "file") == 0
