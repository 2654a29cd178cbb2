"""Tracked background jobs are retried with a cap or reported, never lost (core/tasks.py):
failures in the work, a worker killed mid-task (a real `manage.py db_worker` process, SIGKILL),
and the reaper that notices it."""

import datetime
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from django_tasks.base import TaskResultStatus

from core import tasks
from core.models import TaskRun, TaskRunStatus
from tests.core import task_work

ROOT = Path(__file__).resolve().parents[2]
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture(autouse=True)
def _fresh_calls():
    task_work.CALLS.clear()


@pytest.mark.django_db
def test_a_failing_job_is_retried_up_to_its_cap_then_reported(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = tasks.start(task_work.fails_always, label="a")
    run.refresh_from_db()
    assert task_work.CALLS == ["a", "a", "a"]
    assert run.status == TaskRunStatus.FAILED and run.attempts == 3 == run.max_attempts
    assert run.error == "RuntimeError: broken a" and run.finished_at is not None
    assert tasks.describe(run)["finished"] and not tasks.describe(run)["worker_lost"]


@pytest.mark.django_db
def test_try_again_gives_a_failed_job_a_fresh_allowance(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = tasks.start(task_work.fails_always, label="b")
    with django_capture_on_commit_callbacks(execute=True):
        tasks.retry(run)
    run.refresh_from_db()
    assert len(task_work.CALLS) == 6
    assert run.status == TaskRunStatus.FAILED and run.attempts == 6 == run.max_attempts


@pytest.mark.django_db
def test_a_job_that_fails_once_succeeds_on_its_second_attempt(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = tasks.start(task_work.fails_once, label="c")
    run.refresh_from_db()
    assert run.status == TaskRunStatus.DONE and run.attempts == 2
    assert run.result == {"calls": 2} and run.error == ""


@pytest.mark.django_db
def test_retry_of_a_job_that_did_not_fail_does_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = tasks.start(task_work.fails_once, label="d")
        tasks.retry(run)
    run.refresh_from_db()
    assert run.status == TaskRunStatus.DONE and run.attempts == 2


@pytest.mark.django_db
def test_a_late_or_duplicate_delivery_cannot_run_a_job_twice(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = tasks.start(task_work.fails_once, label="e")
    assert tasks.run_tracked.call(run.pk, 1) == "stale"
    assert tasks.run_tracked.call(run.pk, 3) == "stale"
    assert task_work.CALLS == ["e", "e"]


@pytest.mark.django_db
def test_a_progress_report_from_a_superseded_attempt_stops_it():
    run = TaskRun.objects.create(
        work="tests.core.task_work.fails_once", status="running", attempts=2
    )
    with pytest.raises(tasks.Superseded):
        tasks.Progress(run.pk, 1)(5, 10)
    tasks.Progress(run.pk, 2)(5, 10)
    run.refresh_from_db()
    assert (run.done_units, run.total_units, run.percent) == (5, 10, 50)


@pytest.mark.django_db
def test_only_tracked_functions_can_be_run():
    run = TaskRun.objects.create(work="os.remove", kwargs={"path": "/tmp/x"})
    with pytest.raises(TypeError, match="not a @tracked function"):
        tasks.run_tracked.call(run.pk, 1)


@pytest.mark.django_db
def test_the_reaper_requeues_a_silent_running_job_and_leaves_a_live_one(
    django_capture_on_commit_callbacks,
):
    old = timezone.now() - datetime.timedelta(minutes=20)
    silent = TaskRun.objects.create(
        work="tests.core.task_work.fails_once",
        kwargs={"label": "f"},
        status="running",
        attempts=1,
        heartbeat_at=old,
        timeout_seconds=600,
    )
    task_work.CALLS.append("f")  # its first attempt had started before the worker died
    live = TaskRun.objects.create(
        work="tests.core.task_work.fails_once",
        kwargs={"label": "g"},
        status="running",
        attempts=1,
        heartbeat_at=timezone.now(),
    )
    with django_capture_on_commit_callbacks(execute=True):
        counts = tasks.reap_stalled()
    # (the apps' sweeps, run by the reaper too, add their own counts)
    assert {k: counts[k] for k in ("requeued", "failed", "resent")} == {
        "requeued": 1,
        "failed": 0,
        "resent": 0,
    }
    silent.refresh_from_db(), live.refresh_from_db()
    assert silent.status == TaskRunStatus.DONE and silent.attempts == 2
    assert live.status == TaskRunStatus.RUNNING and live.attempts == 1


@pytest.mark.django_db
def test_the_reaper_fails_a_silent_job_at_its_cap_and_says_why():
    run = TaskRun.objects.create(
        work="tests.core.task_work.wait_for_file_once",
        status="running",
        attempts=1,
        max_attempts=1,
        heartbeat_at=timezone.now() - datetime.timedelta(hours=1),
    )
    call_command("reap_tasks", stdout=open(os.devnull, "w"))  # noqa: SIM115
    run.refresh_from_db()
    assert run.status == TaskRunStatus.FAILED and run.error == tasks.WORKER_LOST
    assert tasks.describe(run)["worker_lost"]


@pytest.mark.django_db
def test_the_reaper_leaves_another_backends_task_ids_alone(django_capture_on_commit_callbacks):
    """django_tasks_db stays installed when the queue is RQ, whose job ids are not its UUIDs:
    only the database backend's stuck row is marked FAILED (tests/core/test_task_rq_worker.py
    kills a real RQ worker)."""
    run = TaskRun.objects.create(
        work="tests.core.task_work.fails_once",
        kwargs={"label": "h"},
        status="running",
        attempts=1,
        heartbeat_at=timezone.now() - datetime.timedelta(hours=1),
        task_id="ZFjw6AHXIoF2MlkL9t2P7NuTY0jnNcVM",  # an RQ job id
    )
    task_work.CALLS.append("h")
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.reap_stalled()["requeued"] == 1
    run.refresh_from_db()
    assert run.status == TaskRunStatus.DONE and run.attempts == 2


# --- a real worker, killed ---------------------------------------------------------------------


def _shared_database_url() -> str:
    """The test database, as a URL another process can open (not SQLite in memory)."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        user = db["USER"] or "postgres"
        password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
        host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        return f"postgres://{user}{password}@{host}/{db['NAME']}"
    if connection.vendor == "sqlite" and "memory" not in str(db["NAME"]) and db["NAME"]:
        return f"sqlite:///{db['NAME']}"
    pytest.skip(
        "a worker process needs a database it can share: run with DATABASE_URL=postgres://... "
        "(CI's second pass does; e.g. postgres://postgres@127.0.0.1:5432/yishi_tasks)"
    )


def _start_worker(database_url: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "yishi.settings.test",
        "DATABASE_URL": database_url,
        "YISHI_TASK_BACKEND": "db",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--queue-name=*", "--interval=0.2"]
        + ["--no-startup-delay", "--no-reload", "-v0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def _wait(condition, *, seconds: float = 60, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def _status(run: TaskRun) -> str:
    run.refresh_from_db()
    return run.status


def _kill(worker: subprocess.Popen) -> None:
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)


@pytest.fixture
def db_backend():
    with override_settings(TASKS=DB_TASKS):
        yield


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("cap", [2, 1])
def test_a_worker_killed_mid_task_loses_nothing(db_backend, tmp_path, cap):
    """SIGKILL a db_worker while it runs a job. django-tasks-db leaves its row RUNNING for ever
    (no heartbeat, no timeout); the reaper gives up on the attempt, marks that row FAILED, and
    either queues the next attempt, which a new worker runs to the end (cap 2), or reports the
    job FAILED as "worker lost" when it had no attempt left (cap 1)."""
    from django_tasks_db.models import DBTaskResult

    url = _shared_database_url()
    flag = tmp_path / "go"
    work = task_work.wait_for_file if cap == 2 else task_work.wait_for_file_once
    run = tasks.start(work, path=str(flag))  # autocommit: enqueued at once
    first_task = TaskRun.objects.get(pk=run.pk).task_id
    assert DBTaskResult.objects.get(pk=first_task).status == TaskResultStatus.READY

    worker = _start_worker(url)
    try:
        _wait(lambda: _status(run) == TaskRunStatus.RUNNING, what="the worker to claim the job")
        _wait(lambda: Path(str(flag) + ".started").exists(), what="the job to start")
        _kill(worker)
    finally:
        if worker.poll() is None:
            _kill(worker)
    assert DBTaskResult.objects.get(pk=first_task).status == TaskResultStatus.RUNNING  # stuck
    assert _status(run) == TaskRunStatus.RUNNING

    counts = tasks.reap_stalled(older_than=datetime.timedelta(0))
    assert DBTaskResult.objects.get(pk=first_task).status == TaskResultStatus.FAILED
    run.refresh_from_db()
    assert run.error == tasks.WORKER_LOST and run.attempts == 1
    if cap == 1:
        assert counts["failed"] == 1 and run.status == TaskRunStatus.FAILED
        assert tasks.describe(run)["worker_lost"]
        return
    assert counts["requeued"] == 1 and run.status == TaskRunStatus.QUEUED
    assert run.task_id and run.task_id != first_task

    flag.write_text("go")
    worker = _start_worker(url)
    try:
        _wait(lambda: _status(run) == TaskRunStatus.DONE, what="a new worker to finish the job")
    finally:
        _kill(worker)
    run.refresh_from_db()
    assert run.attempts == 2 and run.result == {"waited_for": str(flag)}
    assert DBTaskResult.objects.get(pk=run.task_id).status == TaskResultStatus.SUCCESSFUL
    assert settings.TASKS == DB_TASKS
