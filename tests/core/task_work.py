"""@tracked work used by tests/core/test_task_failures.py (importable by a worker process)."""

import datetime
import time
from pathlib import Path

from core.tasks import tracked

CALLS: list[str] = []


@tracked(max_attempts=3, retry_delay=datetime.timedelta(0))
def fails_always(*, progress, label: str) -> None:
    CALLS.append(label)
    raise RuntimeError(f"broken {label}")


@tracked(max_attempts=3, retry_delay=datetime.timedelta(0))
def fails_once(*, progress, label: str) -> dict:
    CALLS.append(label)
    progress(len(CALLS), 2)
    if CALLS.count(label) == 1:
        raise OSError("disk hiccup")
    return {"calls": CALLS.count(label)}


def _wait_for(path: str, progress, seconds: float) -> dict:
    Path(path + ".started").write_text("1")
    deadline = time.monotonic() + seconds
    while not Path(path).exists():
        if time.monotonic() > deadline:
            raise TimeoutError(path)
        time.sleep(0.1)
    progress(1, 1)
    return {"waited_for": path}


@tracked(max_attempts=2, timeout=datetime.timedelta(seconds=60), retry_delay=datetime.timedelta(0))
def wait_for_file(*, progress, path: str) -> dict:
    """Blocks until `path` exists: the task a test kills its worker in the middle of."""
    return _wait_for(path, progress, 60)


@tracked(max_attempts=1, timeout=datetime.timedelta(seconds=60))
def wait_for_file_once(*, progress, path: str) -> dict:
    return _wait_for(path, progress, 60)
