"""Tracked jobs on production's queue: django-tasks-rq on Redis, run by a real
`manage.py rqworker --job-class django_tasks_rq.Job` process (docs/architecture.md,
"Background tasks"). A job runs to DONE; a worker SIGKILLed mid-job (its work horse too) leaves
the job RUNNING until the reaper queues the next attempt, which a new worker finishes.

Needs REDIS_URL (CI's second pass sets it) and a database a worker process can share
(PostgreSQL). Only RQ's own keys (`rq:*`) are deleted before and after, so the cache and the
channel layer that share the Redis database keep theirs."""

import datetime
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from django.test import override_settings
from django_tasks.base import TaskResultStatus

from core import tasks
from core.models import TaskRun, TaskRunStatus
from tests.core import task_work
from tests.core.test_task_failures import _shared_database_url, _status, _wait
from yishi.settings.base import task_settings

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def _forget_rq_keys(url: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match="rq:*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
def rq_backend():
    """This process enqueues on RQ (the test settings' immediate backend otherwise), into the
    Redis of REDIS_URL, where the workers started below read."""
    url = os.environ["REDIS_URL"]
    tasks_setting, queues = task_settings("rq", url)
    _forget_rq_keys(url)
    with override_settings(TASKS=tasks_setting, RQ_QUEUES=queues):
        yield url
    _forget_rq_keys(url)


class RQWorker:
    """`manage.py rqworker` in its own session. RQ forks a work horse per job, in a process
    group of its own: a kill takes both down, as when a container or a host goes away."""

    def __init__(self, *, database_url: str, redis_url: str, log: Path):
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "yishi.settings.test",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "YISHI_TASK_BACKEND": "rq",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        self.log = log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "rqworker", "default"]
            + ["--job-class", "django_tasks_rq.Job", "--with-scheduler", "-v0"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def horses(self) -> list[int]:
        """The worker's children (its work horses), from /proc."""
        found = []
        for task in Path(f"/proc/{self.process.pid}/task").glob("*/children"):
            found += [int(pid) for pid in task.read_text().split()]
        return found

    def kill(self) -> None:
        horses = self.horses() if self.process.poll() is None else []
        for pid in horses:
            try:
                os.killpg(pid, signal.SIGKILL)  # a horse leads its own process group
            except ProcessLookupError:
                pass
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        for pid in horses:
            _wait(lambda pid=pid: not _alive(pid), seconds=10, what=f"work horse {pid} to die")
        self.log.close()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"  # a zombie has stopped; only its parent has yet to reap it


@pytest.fixture
def workers(tmp_path):
    """Start real RQ workers; every one is SIGKILLed in teardown, whatever happened."""
    started: list[RQWorker] = []

    def start(database_url: str, redis_url: str) -> RQWorker:
        worker = RQWorker(
            database_url=database_url, redis_url=redis_url, log=tmp_path / "rqworker.log"
        )
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.process.returncode is None:
            worker.kill()


@pytest.fixture(autouse=True)
def _fresh_calls():
    task_work.CALLS.clear()


def test_a_real_rq_worker_runs_a_tracked_job_to_the_end(rq_backend, workers, tmp_path):
    database_url = _shared_database_url()
    flag = tmp_path / "go"
    flag.write_text("go")
    run = tasks.start(task_work.wait_for_file, path=str(flag))  # autocommit: enqueued at once
    task_id = TaskRun.objects.get(pk=run.pk).task_id
    assert tasks.run_tracked.get_result(task_id).status == TaskResultStatus.READY

    workers(database_url, rq_backend)
    _wait(lambda: _status(run) == TaskRunStatus.DONE, seconds=120, what="the RQ worker")
    run.refresh_from_db()
    assert run.attempts == 1 and run.result == {"waited_for": str(flag)}
    _wait(
        lambda: tasks.run_tracked.get_result(task_id).status == TaskResultStatus.SUCCESSFUL,
        seconds=30,
        what="RQ to record the job's success",
    )


def test_an_rq_worker_killed_mid_job_loses_nothing(rq_backend, workers, tmp_path):
    """RQ keeps a job whose worker was SIGKILLed "started" (until its own cleanup, much later,
    calls it abandoned and does not run it again). The reaper gives up on the attempt and
    queues the next, which a new worker runs to the end."""
    database_url = _shared_database_url()
    flag = tmp_path / "go"
    run = tasks.start(task_work.wait_for_file, path=str(flag))
    first_task = TaskRun.objects.get(pk=run.pk).task_id

    worker = workers(database_url, rq_backend)
    _wait(lambda: _status(run) == TaskRunStatus.RUNNING, seconds=120, what="a worker to claim it")
    _wait(lambda: Path(str(flag) + ".started").exists(), seconds=60, what="the job to start")
    assert worker.horses(), "RQ runs the job in a forked work horse"
    worker.kill()
    assert tasks.run_tracked.get_result(first_task).status == TaskResultStatus.RUNNING  # stuck
    assert _status(run) == TaskRunStatus.RUNNING

    counts = tasks.reap_stalled(older_than=datetime.timedelta(0))
    # (the apps' sweeps, run by the reaper too, add their own counts)
    assert {k: counts[k] for k in ("requeued", "failed", "resent")} == {
        "requeued": 1,
        "failed": 0,
        "resent": 0,
    }
    run.refresh_from_db()
    assert run.status == TaskRunStatus.QUEUED and run.error == tasks.WORKER_LOST
    assert run.task_id and run.task_id != first_task
    assert tasks.run_tracked.get_result(run.task_id).status == TaskResultStatus.READY

    flag.write_text("go")
    workers(database_url, rq_backend)
    _wait(lambda: _status(run) == TaskRunStatus.DONE, seconds=120, what="a new worker")
    run.refresh_from_db()
    assert run.attempts == 2 and run.result == {"waited_for": str(flag)}
    # the first delivery, if RQ ever hands it out again, finds the run owned by attempt 2
    assert tasks.run_tracked.call(run.pk, 1) == "stale"
