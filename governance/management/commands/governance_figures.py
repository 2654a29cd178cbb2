"""Recompute the governance metrics (MetricValue) from the records.

python manage.py governance_figures --month 2026-11 --month 2026-12   those months
python manage.py governance_figures --quarter 2026-Q4                  that quarter
python manage.py governance_figures --all       every month and quarter since the first data

The reaper's sweep keeps the recent periods up to date (governance.figures.sweep); this is for
a first build, a backfill after an import, or to check a recompute from scratch.
"""

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from governance import figures
from governance.models import PeriodKind


def _period(text: str, kind: str) -> figures.Period:
    found = figures.parse_period(text)
    if found is None or found.kind != kind:
        shape = "YYYY-Qn" if kind == PeriodKind.QUARTER else "YYYY-MM"
        raise CommandError(f"not a {kind} ({shape}): {text}")
    return found


def all_periods(first, today) -> list[figures.Period]:
    """Every month and every quarter from the one holding `first` to the one holding `today`."""
    periods = []
    for kind in (PeriodKind.MONTH, PeriodKind.QUARTER):
        period = figures.Period.containing(kind, first)
        while period.start <= today:
            periods.append(period)
            period = figures.Period(kind, period.end)
    return periods


class Command(BaseCommand):
    help = "Recompute the governance metrics of every council for months or quarters."

    def add_arguments(self, parser):
        parser.add_argument("--month", action="append", default=[], metavar="YYYY-MM")
        parser.add_argument("--quarter", action="append", default=[], metavar="YYYY-Qn")
        parser.add_argument(
            "--all", action="store_true", help="every month and quarter since the first data"
        )

    def handle(self, *args, **options):
        started = time.monotonic()
        periods = [_period(text, PeriodKind.MONTH) for text in options["month"]]
        periods += [_period(text, PeriodKind.QUARTER) for text in options["quarter"]]
        if options["all"]:
            first = figures.first_day_with_data()
            if first is not None:
                periods += all_periods(first, timezone.localdate())
        elif not periods:
            raise CommandError("say what to recompute: --month YYYY-MM, --quarter YYYY-Qn or --all")
        rows = 0
        for period in dict.fromkeys(periods):
            rows += figures.recompute(period_kind=period.kind, period_start=period.start)
            self.stdout.write(f"{period.slug}: done")
        self.stdout.write(
            f"{len(set(periods))} periods, {rows} metric rows written "
            f"in {time.monotonic() - started:.1f} s"
        )
