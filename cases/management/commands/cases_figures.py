"""Rebuild the case figures (CaseFigure, CaseCloseTime) from the cases.

python manage.py cases_figures --all                      every council, every month
python manage.py cases_figures --month 2026-03 --month 2026-04   those months, every council
python manage.py cases_figures --since 2026-11-30T00:00+08:00    what changed since then

The reaper's sweep keeps the figures up to date minute by minute (cases.figures.sweep); this is
for a first build, after an import, or to check a rebuild from scratch.
"""

import datetime
import time

from django.core.management.base import BaseCommand, CommandError

from cases import figures


def _month(text: str) -> datetime.date:
    try:
        year, month = (int(part) for part in text.split("-"))
        return datetime.date(year, month, 1)
    except ValueError as error:
        raise CommandError(f"not a month (YYYY-MM): {text}") from error


class Command(BaseCommand):
    help = "Rebuild the case figures from the cases."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="every council and month")
        parser.add_argument("--month", action="append", default=[], metavar="YYYY-MM")
        parser.add_argument("--since", metavar="ISO-DATETIME", help="what changed since then")

    def handle(self, *args, **options):
        started = time.monotonic()
        if options["all"]:
            rows = figures.rebuild()
        elif options["month"]:
            rows = figures.rebuild(months=[_month(text) for text in options["month"]])
        elif options["since"]:
            try:
                since = datetime.datetime.fromisoformat(options["since"])
            except ValueError as error:
                raise CommandError(f"not a date and time: {options['since']}") from error
            if since.tzinfo is None:
                raise CommandError("give the time zone, e.g. 2026-11-30T00:00+08:00")
            rows = figures.rebuild_changed(since=since)
        else:
            raise CommandError("say what to rebuild: --all, --month YYYY-MM or --since ISO")
        self.stdout.write(f"{rows} figure rows written in {time.monotonic() - started:.1f} s")
