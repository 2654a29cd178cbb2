"""Work of the three openings that runs on the task runner (`manage.py db_worker`), not in the
web worker: reading an uploaded spreadsheet can take a minute and a lot of memory."""

from django_tasks import task

from disclosure import services


@task()
def read_import_task(batch_id: int) -> str:
    """Read an uploaded spreadsheet into its batch; progress is written on the batch as it goes.
    Returns the batch's status after reading."""
    return services.read_import(batch_id=batch_id).status


def reading_status(batch) -> str | None:
    """The state of the batch's reading task (NEW, RUNNING, SUCCESSFUL, FAILED), when the
    task backend keeps results (the database backend does)."""
    from django_tasks.exceptions import TaskResultDoesNotExist

    if not batch.task_id or not read_import_task.get_backend().supports_get_result:
        return None
    try:
        return str(read_import_task.get_result(batch.task_id).status)
    except (TaskResultDoesNotExist, ValueError):
        return None
