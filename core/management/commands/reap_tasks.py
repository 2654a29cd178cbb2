"""Give up on tracked jobs whose worker died, and resend jobs the backend lost (core/tasks.py).

Run it every minute (cron, or `--every 60` as a process: the compose `reaper` service)."""

import datetime

from django.core.management.base import BaseCommand

from core import tasks


class Command(BaseCommand):
    help = "Retry or fail tracked background jobs whose worker stopped (core.tasks.reap_stalled)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=float,
            default=None,
            help="Seconds without a heartbeat before a running job counts as lost "
            "(default: each job's own timeout).",
        )
        parser.add_argument(
            "--every", type=float, default=0, help="Keep running, reaping every N seconds."
        )

    def handle(self, *, older_than, every, **options):
        limit = datetime.timedelta(seconds=older_than) if older_than is not None else None
        if every:
            tasks.reap_forever(every=every, older_than=limit)
        counts = tasks.reap_stalled(older_than=limit)
        line = f"requeued {counts.pop('requeued')}, failed {counts.pop('failed')}, "
        line += f"resent {counts.pop('resent')}"
        self.stdout.write(", ".join([line, *(f"{name} {n}" for name, n in counts.items())]))
