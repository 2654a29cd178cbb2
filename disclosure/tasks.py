"""Work of the three openings that runs on the task runner, not in the web worker: reading an
uploaded spreadsheet can take a minute and a lot of memory. (The big exports' work is
disclosure.exports.build_export.)"""

import datetime

from core.tasks import tracked
from disclosure import services


# A reading reports every 1,000 rows, many times a minute: five minutes without a report means
# its worker is gone. The committee waits on the page, so a failed attempt is retried soon.
@tracked(
    max_attempts=3,
    timeout=datetime.timedelta(minutes=5),
    retry_delay=datetime.timedelta(seconds=10),
)
def read_upload(*, progress, batch_id: int) -> dict:
    """Read an uploaded spreadsheet into its batch (services.read_import) as a tracked job
    (core.tasks): the batch's progress reports are also the run's heartbeat."""
    batch = services.read_import(batch_id=batch_id, progress=progress)
    if batch is None:  # saved, dropped, or handed to a newer reading meanwhile
        return {"status": "replaced"}
    return {"status": batch.status, "lines": batch.rows_read}
