"""The spreadsheet import is read as a tracked job (disclosure.tasks.read_upload, core.tasks):
an attempt that fails is retried, a reading whose worker was killed is taken up again by the
reaper, and a reading that failed every attempt is shown as failed with "Try again", which
only the village's committee may press. Never a batch left "being read" for ever."""

import datetime
from pathlib import Path

import pytest
from django.test import override_settings
from django.utils import timezone
from django_tasks.base import TaskResultStatus

from core import tasks as core_tasks
from core.models import TaskRun, TaskRunStatus
from councils.models import Role
from disclosure import excel, services
from disclosure.models import ImportBatch, ImportStatus
from tests.core.test_task_failures import _kill, _shared_database_url, _start_worker, _wait
from tests.councils.factories import member
from tests.disclosure.factories import people
from tests.disclosure.test_excel_import import GOOD, D, form_data, import_url, xlsx

pytestmark = pytest.mark.django_db

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture(autouse=True)
def _read_in_background(settings, tmp_path):
    settings.YISHI_IMPORT_IN_BACKGROUND = True
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def p(tree):
    return people(tree)


REAL_READ_LINES = excel.read_lines


class BrokenReader:
    """excel.read_lines that fails its first `failures` calls the way a worker breaks (not a
    problem of the file, which would be reported on the batch), then reads normally."""

    def __init__(self, failures: int):
        self.failures, self.calls = failures, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        if self.calls <= self.failures:
            raise MemoryError("out of memory")
        return REAL_READ_LINES(*args, **kwargs)


def upload_and_read(client, tree, committee, capture, rows=GOOD) -> ImportBatch:
    client.force_login(committee)
    with capture(execute=True):
        client.post(import_url(tree), form_data(xlsx(rows)))
    return ImportBatch.objects.select_related("run").get()


def failed_batch(client, tree, p, capture, monkeypatch) -> ImportBatch:
    """A batch whose reading failed all three attempts."""
    reader = BrokenReader(failures=3)
    monkeypatch.setattr(excel, "read_lines", reader)
    batch = upload_and_read(client, tree, p.committee, capture)
    assert reader.calls == 3
    reader.failures = 0  # whatever broke is mended: the next reading works
    return batch


def status_of(client, batch) -> dict:
    return client.get(f"/disclosure/imports/{batch.pk}/status.json").json()


# --- retries -------------------------------------------------------------------------------------


def test_the_reading_is_a_tracked_job_whose_reports_are_its_heartbeat(
    client, tree, p, django_capture_on_commit_callbacks
):
    rows = [[D, f"记-{i}", "管理费用", f"第{i}笔", None, "1.25", ""] for i in range(2500)]
    batch = upload_and_read(client, tree, p.committee, django_capture_on_commit_callbacks, rows)
    run = batch.run
    assert run.work == "disclosure.tasks.read_upload" and run.kwargs == {"batch_id": batch.pk}
    assert run.status == TaskRunStatus.DONE and run.attempts == 1
    assert run.result == {"status": "ready", "lines": 2500}
    assert (run.done_units, run.total_units) == (2500, 2500)  # the last progress report
    assert batch.status == ImportStatus.READY and batch.rows_read == batch.rows_total == 2500


def test_a_reading_that_fails_is_retried_and_reads_every_line(
    client, tree, p, monkeypatch, django_capture_on_commit_callbacks
):
    reader = BrokenReader(failures=1)
    monkeypatch.setattr(excel, "read_lines", reader)
    batch = upload_and_read(client, tree, p.committee, django_capture_on_commit_callbacks)
    assert reader.calls == 2
    assert batch.run.status == TaskRunStatus.DONE and batch.run.attempts == 2
    assert batch.status == ImportStatus.READY and batch.rows_read == 3
    assert [line[4] for line in batch.result["lines"]] == [row[3] for row in GOOD]


def test_a_problem_of_the_file_is_reported_on_the_batch_not_retried(
    client, tree, p, django_capture_on_commit_callbacks
):
    client.force_login(p.committee)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(import_url(tree), form_data(xlsx([], headers=["日期", "摘要"])))
    batch = ImportBatch.objects.select_related("run").get()
    assert batch.status == ImportStatus.FAILED and "file_problem" in batch.result
    assert batch.run.status == TaskRunStatus.DONE and batch.run.attempts == 1
    assert not batch.reading_failed


def test_a_reading_whose_worker_died_is_taken_up_again_by_the_reaper(
    client, tree, p, django_capture_on_commit_callbacks
):
    client.force_login(p.committee)
    client.post(import_url(tree), form_data(xlsx(GOOD)))  # queued on a commit that never comes
    batch = ImportBatch.objects.get()
    # a worker claimed it, read a little, and was killed: no report since
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportStatus.PARSING, rows_read=1)
    TaskRun.objects.filter(pk=batch.run_id).update(
        status=TaskRunStatus.RUNNING,
        attempts=1,
        heartbeat_at=timezone.now() - datetime.timedelta(minutes=6),
    )
    with django_capture_on_commit_callbacks(execute=True):
        counts = core_tasks.reap_stalled()
        assert (counts["requeued"], counts["failed"], counts["resent"]) == (1, 0, 0)
    batch.refresh_from_db()
    assert batch.status == ImportStatus.READY and batch.rows_read == 3
    assert batch.run.status == TaskRunStatus.DONE and batch.run.attempts == 2


def test_a_reading_still_reporting_is_left_alone_by_the_reaper(client, tree, p):
    client.force_login(p.committee)
    client.post(import_url(tree), form_data(xlsx(GOOD)))
    batch = ImportBatch.objects.get()
    TaskRun.objects.filter(pk=batch.run_id).update(
        status=TaskRunStatus.RUNNING,
        attempts=1,
        heartbeat_at=timezone.now() - datetime.timedelta(minutes=4),  # its timeout is 5
    )
    counts = core_tasks.reap_stalled()
    assert (counts["requeued"], counts["failed"], counts["resent"]) == (0, 0, 0)
    assert TaskRun.objects.get(pk=batch.run_id).status == TaskRunStatus.RUNNING


def test_an_older_reading_cannot_write_to_a_batch_handed_to_a_newer_one(
    client, tree, p, django_capture_on_commit_callbacks
):
    batch = upload_and_read(client, tree, p.committee, django_capture_on_commit_callbacks)
    old = batch.run
    with django_capture_on_commit_callbacks(execute=True):
        services.read_import_again(batch=batch, by=p.committee)
    batch.refresh_from_db()
    assert batch.run_id != old.pk and batch.status == ImportStatus.READY
    # the older run delivered again (a late or duplicate task): it finds the batch not its own
    TaskRun.objects.filter(pk=old.pk).update(status=TaskRunStatus.QUEUED, attempts=1)
    assert core_tasks.run_tracked.call(old.pk, 2) == TaskRunStatus.DONE
    assert TaskRun.objects.get(pk=old.pk).result == {"status": "replaced"}
    assert ImportBatch.objects.get(pk=batch.pk).status == ImportStatus.READY


def test_a_reading_stops_at_its_next_report_once_the_batch_is_handed_over(
    client, tree, p, monkeypatch
):
    client.force_login(p.committee)
    client.post(import_url(tree), form_data(xlsx(GOOD)))
    batch = ImportBatch.objects.get()
    older = batch.run
    TaskRun.objects.filter(pk=older.pk).update(status=TaskRunStatus.RUNNING, attempts=1)
    newer = TaskRun.objects.create(work=older.work, kwargs=older.kwargs)

    def handed_over_while_reading(*args, **kwargs):
        ImportBatch.objects.filter(pk=batch.pk).update(run=newer)  # "Read it again now"
        return REAL_READ_LINES(*args, **kwargs)

    monkeypatch.setattr(excel, "read_lines", handed_over_while_reading)
    with pytest.raises(core_tasks.Superseded):
        services.read_import(batch_id=batch.pk, progress=core_tasks.Progress(older.pk, 1))
    batch.refresh_from_db()
    assert batch.status == ImportStatus.PARSING and batch.rows_read == 0 and not batch.result


def test_the_reading_of_a_dropped_upload_ends_quietly(client, tree, p):
    client.force_login(p.committee)
    client.post(import_url(tree), form_data(xlsx(GOOD)))
    batch = ImportBatch.objects.get()
    run_id = batch.run_id
    client.post(f"/disclosure/imports/{batch.pk}/discard/")
    assert core_tasks.run_tracked.call(run_id, 1) == TaskRunStatus.DONE
    assert TaskRun.objects.get(pk=run_id).result == {"status": "replaced"}


def test_reading_in_the_request_needs_no_task(client, tree, p, settings):
    settings.YISHI_IMPORT_IN_BACKGROUND = False
    client.force_login(p.committee)
    client.post(import_url(tree), form_data(xlsx(GOOD)))
    batch = ImportBatch.objects.get()
    assert batch.run is None and batch.status == ImportStatus.READY and batch.rows_read == 3
    assert not TaskRun.objects.exists()


# --- after the cap: said plainly, and "Try again" ---------------------------------------------


def test_after_every_attempt_failed_the_page_says_so_and_try_again_reads_it(
    client, tree, p, monkeypatch, django_capture_on_commit_callbacks
):
    batch = failed_batch(client, tree, p, django_capture_on_commit_callbacks, monkeypatch)
    run = batch.run
    assert run.status == TaskRunStatus.FAILED and run.attempts == 3 == run.max_attempts
    assert run.error == "MemoryError: out of memory"
    assert batch.status == ImportStatus.PARSING and batch.reading_failed
    html = client.get(batch.get_absolute_url()).content.decode()
    assert "Reading this file failed." in html and "It was tried 3 times." in html
    assert "Try again" in html and "http-equiv" not in html  # no endless refreshing
    assert "out of memory" not in html  # the reason is for the operators
    status = status_of(client, batch)
    assert status["done"] is True and status["reading_failed"] is True
    assert status["task"]["status"] == "failed" and status["task"]["attempts"] == 3

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/disclosure/imports/{batch.pk}/read/")
    assert response.status_code == 302 and response.url == batch.get_absolute_url()
    batch.refresh_from_db()
    assert batch.run_id == run.pk  # the same run, with a fresh allowance of attempts
    assert batch.run.status == TaskRunStatus.DONE and batch.run.attempts == 4
    assert batch.run.max_attempts == 6
    assert batch.status == ImportStatus.READY and batch.rows_read == 3
    assert "Preview" in client.get(batch.get_absolute_url()).content.decode()


def test_a_reading_whose_worker_was_lost_every_time_says_the_server_stopped(client, tree, p):
    client.force_login(p.committee)
    client.post(import_url(tree), form_data(xlsx(GOOD)))
    batch = ImportBatch.objects.get()
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportStatus.PARSING)
    TaskRun.objects.filter(pk=batch.run_id).update(
        status=TaskRunStatus.RUNNING,
        attempts=3,
        heartbeat_at=timezone.now() - datetime.timedelta(hours=1),
    )
    assert core_tasks.reap_stalled()["failed"] == 1
    html = client.get(batch.get_absolute_url()).content.decode()
    assert "The server stopped while reading this file." in html and "Try again" in html


def test_the_failure_and_try_again_are_said_in_chinese(
    client, tree, p, monkeypatch, django_capture_on_commit_callbacks
):
    from tests.disclosure.test_files_access import speak

    batch = failed_batch(client, tree, p, django_capture_on_commit_callbacks, monkeypatch)
    html = client.get(batch.get_absolute_url(), **speak(client, "zh-hans")).content.decode()
    assert "已尝试 3 次" in html and "再试一次" in html and "上传另一个文件" in html


def test_a_reading_under_way_is_not_started_again(client, tree, p):
    client.force_login(p.committee)
    client.post(import_url(tree), form_data(xlsx(GOOD)))
    batch = ImportBatch.objects.get()
    client.post(f"/disclosure/imports/{batch.pk}/read/")
    assert TaskRun.objects.count() == 1 and ImportBatch.objects.get().run_id == batch.run_id


# --- who may press "Try again" ------------------------------------------------------------------


def other_committee(tree):
    return member(tree["other_village"], Role.COMMITTEE)


@pytest.mark.parametrize(
    "who",
    [
        lambda p, tree: p.resident,
        lambda p, tree: p.supervisor,
        lambda p, tree: p.outsider,
        lambda p, tree: p.official,
        lambda p, tree: p.other_resident,
        lambda p, tree: other_committee(tree),
    ],
    ids=[
        "resident",
        "supervisor",
        "outsider",
        "township-official",
        "other-resident",
        "other-committee",
    ],
)
def test_only_the_village_committee_may_try_again(
    client, tree, p, who, monkeypatch, django_capture_on_commit_callbacks
):
    batch = failed_batch(client, tree, p, django_capture_on_commit_callbacks, monkeypatch)
    client.force_login(who(p, tree))
    assert client.get(batch.get_absolute_url()).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/disclosure/imports/{batch.pk}/read/")
    assert response.status_code == 404
    run = TaskRun.objects.get(pk=batch.run_id)
    assert run.status == TaskRunStatus.FAILED and run.attempts == 3 == run.max_attempts
    assert ImportBatch.objects.get(pk=batch.pk).status == ImportStatus.PARSING


def test_anonymous_visitors_cannot_try_again(
    client, tree, p, monkeypatch, django_capture_on_commit_callbacks
):
    batch = failed_batch(client, tree, p, django_capture_on_commit_callbacks, monkeypatch)
    client.logout()
    response = client.post(f"/disclosure/imports/{batch.pk}/read/")
    assert response.status_code == 302 and "/accounts/login/" in response.url
    assert TaskRun.objects.get(pk=batch.run_id).status == TaskRunStatus.FAILED


def test_try_again_must_be_posted(client, tree, p, monkeypatch, django_capture_on_commit_callbacks):
    batch = failed_batch(client, tree, p, django_capture_on_commit_callbacks, monkeypatch)
    assert client.get(f"/disclosure/imports/{batch.pk}/read/").status_code == 405
    assert TaskRun.objects.get(pk=batch.run_id).status == TaskRunStatus.FAILED


def test_the_service_refuses_a_resident_and_a_saved_batch(
    client, tree, p, monkeypatch, django_capture_on_commit_callbacks
):
    from django.core.exceptions import PermissionDenied, ValidationError

    batch = failed_batch(client, tree, p, django_capture_on_commit_callbacks, monkeypatch)
    with pytest.raises(PermissionDenied):
        services.read_import_again(batch=batch, by=p.resident)
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportStatus.SAVED)
    with pytest.raises(ValidationError):
        services.read_import_again(batch=batch, by=p.committee)
    assert TaskRun.objects.get(pk=batch.run_id).status == TaskRunStatus.FAILED


def test_another_committee_member_of_the_village_may_try_again(
    client, tree, p, monkeypatch, django_capture_on_commit_callbacks
):
    batch = failed_batch(client, tree, p, django_capture_on_commit_callbacks, monkeypatch)
    client.force_login(p.committee2)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/disclosure/imports/{batch.pk}/read/")
    batch.refresh_from_db()
    assert batch.status == ImportStatus.READY and batch.run.status == TaskRunStatus.DONE


# --- a real worker, killed mid-read ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_read_loses_no_line(client, tree):
    """SIGKILL a `manage.py db_worker` while it reads a spreadsheet (after its first progress
    report). The batch is left "being read" and the task backend's row RUNNING; the reaper
    gives up on that attempt and queues the next, which a new worker reads to the end: every
    line, the batch READY, not stuck."""
    from django_tasks_db.models import DBTaskResult

    url = _shared_database_url()
    rows = [[D, f"记-{i}", "管理费用", f"第{i}笔", None, "1.25", ""] for i in range(4000)]
    p = people(tree)
    client.force_login(p.committee)
    with override_settings(TASKS=DB_TASKS):
        client.post(import_url(tree), form_data(xlsx(rows)))  # committed: queued at once
        batch = ImportBatch.objects.get()
        run, stored = batch.run, Path(batch.file.path)
        first_task = run.task_id
        assert DBTaskResult.objects.get(pk=first_task).status == TaskResultStatus.READY

        def refreshed():
            batch.refresh_from_db()
            run.refresh_from_db()
            return batch

        worker = _start_worker(url)
        try:
            _wait(lambda: refreshed().rows_read > 0, seconds=120, what="the first progress report")
            _kill(worker)
        finally:
            if worker.poll() is None:
                _kill(worker)
        refreshed()
        assert batch.status == ImportStatus.PARSING and 0 < batch.rows_read < 4000
        assert run.status == TaskRunStatus.RUNNING and run.attempts == 1
        assert DBTaskResult.objects.get(pk=first_task).status == TaskResultStatus.RUNNING

        counts = core_tasks.reap_stalled(older_than=datetime.timedelta(0))
        assert counts["requeued"] == 1
        assert DBTaskResult.objects.get(pk=first_task).status == TaskResultStatus.FAILED
        refreshed()
        assert run.status == TaskRunStatus.QUEUED and run.error == core_tasks.WORKER_LOST
        assert run.task_id != first_task  # queued again, after the retry delay

        worker = _start_worker(url)
        try:
            _wait(
                lambda: refreshed().status == ImportStatus.READY,
                seconds=180,
                what="a new worker to read the file again",
            )
        finally:
            _kill(worker)
    assert batch.rows_read == batch.rows_total == 4000 and len(batch.result["lines"]) == 4000
    assert [line[2] for line in batch.result["lines"]] == [f"记-{i}" for i in range(4000)]
    assert run.status == TaskRunStatus.DONE and run.attempts == 2
    assert run.result == {"status": "ready", "lines": 4000}
    stored.unlink(missing_ok=True)
