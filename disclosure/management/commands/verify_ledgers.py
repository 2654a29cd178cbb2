"""Recompute every council's hash chain from the stored content; exit 1 on any mismatch.

python manage.py verify_ledgers               # every council that has published anything
python manage.py verify_ledgers --council 42  # one council
"""

from django.core.management.base import BaseCommand, CommandError

from disclosure.hashchain import councils_with_chains
from disclosure.services import verify_chain


class Command(BaseCommand):
    help = "Verify the three-openings hash chains; name each record whose content changed."

    def add_arguments(self, parser):
        parser.add_argument("--council", type=int, action="append", help="council (page) id")

    def handle(self, *args, council=None, **options):
        council_ids = council or councils_with_chains()
        failures = 0
        for council_id in council_ids:
            report = verify_chain(council_id=council_id)
            if report.ok:
                self.stdout.write(
                    f"council {council_id}: OK, {report.length} entries, head {report.head_hash}"
                )
                continue
            failures += len(report.problems)
            self.stderr.write(f"council {council_id}: {len(report.problems)} problem(s)")
            for problem in report.problems:
                self.stderr.write(f"  council {council_id} · {problem}")
        if failures:
            raise CommandError(f"{failures} problem(s) found in the ledgers", returncode=1)
        self.stdout.write(self.style.SUCCESS(f"{len(council_ids)} chain(s) verified"))
