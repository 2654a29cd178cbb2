"""Big exports and the open-data bundle are prepared on the task runner (disclosure/exports.py,
core/tasks.py): the asker is sent to a progress page, then to the file, which is served from the
private storage through the export's own check; a failure is retried, then reported with "try
again"; asking again for the same published state reuses the job."""

import datetime
import zipfile

import pytest

from core.models import TaskRun, TaskRunStatus
from disclosure import exports, offline_verify
from disclosure.models import ExportJob, ExportWhat
from tests.disclosure.factories import draft, line, people, publish

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _small_threshold(settings, tmp_path):
    settings.YISHI_EXPORT_TASK_ABOVE_LINES = 2
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "private"},
        },
    }


@pytest.fixture
def p(tree):
    return people(tree)


@pytest.fixture
def march(tree, p):
    record = draft(tree["village"], p.committee, title="三月账目")
    for day, amount in ((3, "12000.00"), (5, "286.50"), (31, "0.10")):
        line(
            record,
            p.committee,
            expense=amount,
            description=f"支出{day}",
            day=datetime.date(2025, 3, day),
        )
    return publish(record, committee=p.committee, supervisor=p.supervisor)


def _ask(client, url, capture):
    with capture(execute=True):
        return client.get(url)


def _content(response) -> bytes:
    return b"".join(response.streaming_content)


LEDGER_CSV = "/disclosure/{}/finance/lines.csv"


def test_a_big_ledger_export_runs_as_a_task_and_serves_the_same_file(
    client, tree, march, settings, django_capture_on_commit_callbacks
):
    village = tree["village"].pk
    response = _ask(client, LEDGER_CSV.format(village), django_capture_on_commit_callbacks)
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    assert job.run.status == TaskRunStatus.DONE and job.run.total_units == 3
    assert job.file.name.startswith("disclosure/exports/") and job.file.name.endswith(".csv")

    page = client.get(job.get_absolute_url())
    assert page.status_code == 200 and job.file_url.encode() in page.content
    state = client.get(f"/disclosure/exports/{job.pk}/status.json").json()
    assert state["ready"] and state["file_url"] == job.file_url and state["percent"] == 100

    again = client.get(LEDGER_CSV.format(village))  # the same published state: the same job
    assert again.status_code == 302 and again["Location"] == job.file_url
    assert ExportJob.objects.count() == 1
    served = client.get(job.file_url)
    assert served.status_code == 200 and served["Content-Type"].startswith("text/csv")
    assert 'filename="yishi-' in served["Content-Disposition"]
    assert served["X-Content-Type-Options"] == "nosniff"

    settings.YISHI_EXPORT_TASK_ABOVE_LINES = 1000  # small again: streamed by the web worker
    assert _content(served) == _content(client.get(LEDGER_CSV.format(village)))


def test_a_period_xlsx_export_runs_as_a_task(
    client, tree, march, django_capture_on_commit_callbacks
):
    url = f"/disclosure/{tree['village'].pk}/finance/2025-Q1/lines.xlsx"
    _ask(client, url, django_capture_on_commit_callbacks)
    job = ExportJob.objects.get()
    assert (job.what, job.period, job.fmt) == (ExportWhat.PERIOD, "2025-Q1", "xlsx")
    served = client.get(job.file_url)
    assert served["Content-Type"].startswith("application/vnd.openxmlformats")
    assert _content(served)[:2] == b"PK"


def test_small_exports_stay_in_the_request(client, tree, march, settings):
    settings.YISHI_EXPORT_TASK_ABOVE_LINES = 3
    response = client.get(LEDGER_CSV.format(tree["village"].pk))
    assert response.status_code == 200 and not ExportJob.objects.exists()


def test_the_bundle_runs_as_a_task_and_checks_offline(
    client, tree, march, tmp_path, django_capture_on_commit_callbacks
):
    _ask(
        client,
        f"/disclosure/{tree['village'].pk}/open-data.zip",
        django_capture_on_commit_callbacks,
    )
    job = ExportJob.objects.get(what=ExportWhat.BUNDLE)
    served = client.get(job.file_url)
    assert served["Content-Type"] == "application/zip"
    path = tmp_path / "bundle.zip"
    path.write_bytes(_content(served))
    problems, summary = offline_verify.verify_bundle(path)
    assert problems == [] and summary["entries"] == 1
    assert "manifest.json" in zipfile.ZipFile(path).namelist()


def test_a_new_publication_makes_a_new_export(
    client, tree, p, march, django_capture_on_commit_callbacks
):
    url = LEDGER_CSV.format(tree["village"].pk)
    _ask(client, url, django_capture_on_commit_callbacks)
    april = draft(tree["village"], p.committee, title="四月", start=datetime.date(2025, 4, 1))
    line(april, p.committee, expense="50.00", description="四月电费")
    publish(april, committee=p.committee, supervisor=p.supervisor)
    _ask(client, url, django_capture_on_commit_callbacks)
    first, second = ExportJob.objects.order_by("chain_position")
    assert (first.chain_position, second.chain_position) == (1, 2)
    assert "四月电费" in _content(client.get(second.file_url)).decode()
    assert "四月电费" not in _content(client.get(first.file_url)).decode()


def test_a_failing_export_is_retried_then_reported_and_tried_again(
    client, tree, p, march, monkeypatch, django_capture_on_commit_callbacks
):
    calls = []

    def broken(council, kind):
        calls.append(kind)
        raise OSError("disk full")

    monkeypatch.setattr(exports, "ledger_rows", broken)
    url = LEDGER_CSV.format(tree["village"].pk)
    _ask(client, url, django_capture_on_commit_callbacks)
    job = ExportJob.objects.get()
    job.run.refresh_from_db()
    assert len(calls) == 3 and job.run.status == TaskRunStatus.FAILED
    assert job.run.error == "OSError: disk full" and not job.file
    page = client.get(job.get_absolute_url())
    assert b"Sign in to try again" in page.content  # robots do not retry
    assert b"disk full" not in page.content  # the reason is for the operators, not the page
    assert client.post(f"/disclosure/exports/{job.pk}/retry/").status_code == 302
    assert TaskRun.objects.get(pk=job.run_id).status == TaskRunStatus.FAILED
    client.force_login(p.resident)
    assert b"Try again</button>" in client.get(job.get_absolute_url()).content
    assert client.get(job.file_url or f"/disclosure/exports/{job.pk}/file").status_code == 404
    assert client.get(url)["Location"] == job.get_absolute_url()  # no new job, the same report

    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/disclosure/exports/{job.pk}/retry/")
    assert response.status_code == 302
    job.refresh_from_db(), job.run.refresh_from_db()
    assert job.run.status == TaskRunStatus.DONE and job.run.attempts == 4 and job.file


def test_retry_of_a_running_or_done_export_changes_nothing(
    client, tree, p, march, django_capture_on_commit_callbacks
):
    _ask(client, LEDGER_CSV.format(tree["village"].pk), django_capture_on_commit_callbacks)
    job = ExportJob.objects.get()
    client.force_login(p.resident)
    client.post(f"/disclosure/exports/{job.pk}/retry/")
    assert TaskRun.objects.get(pk=job.run_id).attempts == 1


def test_a_waiting_export_shows_its_progress_and_no_file(client, tree, march):
    job = exports.ask_export(
        council=tree["village"], what=ExportWhat.LEDGER, fmt="csv", kind="finance"
    )
    page = client.get(job.get_absolute_url())  # on_commit never ran: still queued
    assert page.status_code == 200 and b'http-equiv="refresh"' in page.content
    assert client.get(f"/disclosure/exports/{job.pk}/file").status_code == 404
    state = client.get(f"/disclosure/exports/{job.pk}/status.json").json()
    assert state["status"] == "queued" and not state["ready"] and state["file_url"] is None


def test_exports_of_a_place_that_is_not_a_village_are_404(client, tree, march):
    job = exports.ask_export(
        council=tree["village"], what=ExportWhat.LEDGER, fmt="csv", kind="finance"
    )
    ExportJob.objects.filter(pk=job.pk).update(council=tree["township"])
    for suffix in ("", "status.json", "file"):
        assert client.get(f"/disclosure/exports/{job.pk}/{suffix}").status_code == 404
    assert client.get("/disclosure/exports/999999/").status_code == 404
