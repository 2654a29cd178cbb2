"""Tracked background jobs: work on the task runner that is retried with a cap, shows its
progress, and is never lost (docs/architecture.md, "Background tasks").

django-tasks 0.12 has no retries, and a worker that dies mid-task (SIGKILL, OOM, a host going
away) leaves django-tasks-db's row RUNNING for ever. So each job also gets a `core.TaskRun` row:

- `start(work, **kwargs)` creates the row and, after the transaction commits, enqueues the one
  task `run_tracked(run_id, attempt)`, which claims the row, calls the `@tracked` function and
  records the outcome. The attempt number is a fencing token: a late or duplicate delivery, or
  a run that was given up on and started again, can no longer write to the row.
- An exception is an attempt that failed: the job is queued again (after `retry_delay`,
  growing with each attempt) until `max_attempts`; then it is FAILED, with the reason kept on
  the row for the page that waits for it, which offers "try again" (`retry`).
- `reap_stalled()` (`manage.py reap_tasks`, every minute) finds RUNNING jobs whose heartbeat is
  older than their timeout: their worker is gone. That counts as a failed attempt (retried or
  FAILED as above), and the backend's own result is marked FAILED too. A QUEUED job whose task
  the backend lost (Redis flushed, a result pruned) is enqueued again.

Work functions take `progress` (call `progress(done, total)` now and then: it is the heartbeat)
and the JSON kwargs given to `start`; they return a JSON value kept as the run's `result`.
"""

import datetime
import logging
import time
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks import task

from core.models import TaskRun, TaskRunStatus

logger = logging.getLogger(__name__)

WORKER_LOST = "worker_lost"


@dataclass(frozen=True)
class Policy:
    max_attempts: int = 3
    timeout: datetime.timedelta = datetime.timedelta(minutes=15)
    retry_delay: datetime.timedelta = datetime.timedelta(seconds=20)


class Superseded(Exception):  # noqa: N818 - a signal, not an error
    """This attempt no longer owns its run (it was reaped and started again): stop quietly."""


def tracked(
    *,
    max_attempts: int = 3,
    timeout: datetime.timedelta = Policy.timeout,
    retry_delay: datetime.timedelta = Policy.retry_delay,
):
    """Mark a function as work that `start` may run on the task runner."""

    def mark(function):
        function.tracked_policy = Policy(max_attempts, timeout, retry_delay)
        return function

    return mark


def _path(work) -> str:
    return f"{work.__module__}.{work.__qualname__}"


def _work(path: str):
    work = import_string(path)
    if not isinstance(getattr(work, "tracked_policy", None), Policy):
        raise TypeError(f"{path} is not a @tracked function")
    return work


def start(work, /, **kwargs) -> TaskRun:
    """Create the run of `work(**kwargs)` and enqueue it once the transaction commits."""
    policy = _work(_path(work)).tracked_policy
    run = TaskRun.objects.create(
        work=_path(work),
        kwargs=kwargs,
        max_attempts=policy.max_attempts,
        timeout_seconds=int(policy.timeout.total_seconds()),
        heartbeat_at=timezone.now(),
    )
    transaction.on_commit(lambda: _enqueue(run.pk, attempt=1))
    return run


def retry(run: TaskRun) -> TaskRun:
    """Try a FAILED run again, with a fresh allowance of attempts ("Try again")."""
    with transaction.atomic():
        run = TaskRun.objects.select_for_update().get(pk=run.pk)
        if run.status != TaskRunStatus.FAILED:
            return run
        policy = _work(run.work).tracked_policy
        run.status = TaskRunStatus.QUEUED
        run.max_attempts = run.attempts + policy.max_attempts
        run.heartbeat_at, run.finished_at = timezone.now(), None
        run.save(update_fields=["status", "max_attempts", "heartbeat_at", "finished_at"])
        attempt = run.attempts + 1
        transaction.on_commit(lambda: _enqueue(run.pk, attempt=attempt))
    return run


def _enqueue(run_id: int, *, attempt: int, delay: datetime.timedelta | None = None) -> None:
    runner = run_tracked
    if delay and runner.get_backend().supports_defer:
        runner = runner.using(run_after=timezone.now() + delay)
    result = runner.enqueue(run_id, attempt)
    TaskRun.objects.filter(pk=run_id, status=TaskRunStatus.QUEUED, attempts=attempt - 1).update(
        task_id=str(result.id)
    )


class Progress:
    """Handed to the work: `progress(done, total=None)` records how far it got (the heartbeat)
    and raises Superseded when this attempt no longer owns the run."""

    def __init__(self, run_id: int, attempt: int):
        self.run_id, self.attempt = run_id, attempt

    def __call__(self, done: int, total: int | None = None) -> None:
        fields = {"done_units": done, "heartbeat_at": timezone.now()}
        if total is not None:
            fields["total_units"] = total
        owned = TaskRun.objects.filter(
            pk=self.run_id, attempts=self.attempt, status=TaskRunStatus.RUNNING
        ).update(**fields)
        if not owned:
            raise Superseded


@task()
def run_tracked(run_id: int, attempt: int) -> str:
    """The task runner's side of `start`: claim, run, record. Returns what happened."""
    with transaction.atomic():
        run = TaskRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status != TaskRunStatus.QUEUED or run.attempts != attempt - 1:
            return "stale"  # a duplicate or late delivery: another attempt owns the run
        run.status, run.attempts = TaskRunStatus.RUNNING, attempt
        run.heartbeat_at = timezone.now()
        run.save(update_fields=["status", "attempts", "heartbeat_at"])
    try:
        result = _work(run.work)(progress=Progress(run_id, attempt), **run.kwargs)
    except Superseded:
        return "superseded"
    except Exception as error:
        outcome = _attempt_failed(run_id, attempt, reason=_reason(error))
        if outcome == TaskRunStatus.FAILED:
            raise  # the backend's own result says FAILED too
        return outcome
    finished = TaskRun.objects.filter(
        pk=run_id, attempts=attempt, status=TaskRunStatus.RUNNING
    ).update(
        status=TaskRunStatus.DONE,
        result=result,
        finished_at=timezone.now(),
        heartbeat_at=timezone.now(),
        error="",
    )
    return TaskRunStatus.DONE if finished else "superseded"


def _reason(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:300]


def _attempt_failed(run_id: int, attempt: int, *, reason: str) -> str:
    """Record a failed attempt: queue the next one, or mark the run FAILED at the cap."""
    with transaction.atomic():
        run = TaskRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.attempts != attempt or run.status != TaskRunStatus.RUNNING:
            return "superseded"
        run.error, run.heartbeat_at = reason, timezone.now()
        if attempt < run.max_attempts:
            run.status = TaskRunStatus.QUEUED
            delay = _work(run.work).tracked_policy.retry_delay * attempt
            transaction.on_commit(lambda: _enqueue(run_id, attempt=attempt + 1, delay=delay))
        else:
            run.status, run.finished_at = TaskRunStatus.FAILED, timezone.now()
        run.save(update_fields=["status", "error", "heartbeat_at", "finished_at"])
        logger.warning(
            "tracked run %s attempt %s failed (%s): %s", run_id, attempt, run.status, reason
        )
        return run.status


def reap_stalled(*, older_than: datetime.timedelta | None = None) -> dict[str, int]:
    """Give up on RUNNING runs whose heartbeat is older than their timeout (or `older_than`)
    and re-enqueue QUEUED runs whose task the backend lost. Returns counts by outcome."""
    now = timezone.now()
    counts = {"requeued": 0, "failed": 0, "resent": 0}

    def stale(run: TaskRun, *, limit: datetime.timedelta) -> bool:
        return run.heartbeat_at is None or now - run.heartbeat_at > limit

    for run in TaskRun.objects.filter(status=TaskRunStatus.RUNNING):
        limit = older_than if older_than is not None else _timeout(run)
        if not stale(run, limit=limit):
            continue
        _backend_result_lost(run)
        outcome = _attempt_failed(run.pk, run.attempts, reason=WORKER_LOST)
        if outcome == TaskRunStatus.QUEUED:
            counts["requeued"] += 1
        elif outcome == TaskRunStatus.FAILED:
            counts["failed"] += 1
    for run in TaskRun.objects.filter(status=TaskRunStatus.QUEUED):
        limit = older_than if older_than is not None else _timeout(run)
        if stale(run, limit=limit) and _task_gone(run):
            _enqueue(run.pk, attempt=run.attempts + 1)
            counts["resent"] += 1
    for path in SWEEPS:
        try:
            for name, value in import_string(path)().items():
                counts[name] = counts.get(name, 0) + value
        except Exception:
            logger.exception("sweep %s failed", path)  # the next minute tries again
    return counts


SWEEPS: list[str] = []
"""Dotted paths of `sweep() -> dict[str, int]` that the reaper also runs every minute (an app's
own durable queue: notifications send what is due and take back sends whose worker died)."""


def register_sweep(path: str) -> None:
    if path not in SWEEPS:
        SWEEPS.append(path)


def _timeout(run: TaskRun) -> datetime.timedelta:
    return datetime.timedelta(seconds=run.timeout_seconds)


def _task_gone(run: TaskRun) -> bool:
    """The backend no longer has a pending task for this QUEUED run."""
    from django_tasks.base import TaskResultStatus
    from django_tasks.exceptions import TaskResultDoesNotExist

    backend = run_tracked.get_backend()
    if not run.task_id:
        return True
    if not backend.supports_get_result:
        return False
    try:
        status = run_tracked.get_result(run.task_id).status
    except (TaskResultDoesNotExist, ValueError):
        return True
    return status in (TaskResultStatus.FAILED, TaskResultStatus.SUCCESSFUL)


def _backend_result_lost(run: TaskRun) -> None:
    """django-tasks-db leaves a dead worker's row RUNNING for ever: say it failed. (The app
    stays installed under RQ too, whose job ids are not the table's UUIDs: ask the backend.)"""
    from django.apps import apps

    if not run.task_id or not apps.is_installed("django_tasks_db"):
        return
    from django_tasks.base import TaskResultStatus
    from django_tasks_db import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    if not isinstance(run_tracked.get_backend(), DatabaseBackend):
        return

    DBTaskResult.objects.filter(pk=run.task_id, status=TaskResultStatus.RUNNING).update(
        status=TaskResultStatus.FAILED,
        finished_at=timezone.now(),
        exception_class_path="core.tasks.WorkerLost",
        traceback="The worker stopped while running this task (core.tasks.reap_stalled).",
    )


def reap_forever(*, every: float, older_than: datetime.timedelta | None = None) -> None:
    """`manage.py reap_tasks --every N`: the reaper as a long-running process."""
    while True:
        counts = reap_stalled(older_than=older_than)
        if any(counts.values()):
            logger.warning("reaped tracked runs: %s", counts)
        time.sleep(every)


def describe(run: TaskRun) -> dict:
    """What a status page or status.json shows of a run."""
    return {
        "status": run.status,
        "attempts": run.attempts,
        "max_attempts": run.max_attempts,
        "done_units": run.done_units,
        "total_units": run.total_units,
        "percent": run.percent,
        "finished": run.is_finished,
        "worker_lost": run.error == WORKER_LOST,
    }
