"""Check that every published register entry is what its disclosure record published; exit 1
naming each entry that is not.

python manage.py verify_registers                 # every council that keeps registers
python manage.py verify_registers --council 42    # one council (repeatable)

A published version (and its schedule of payments) is rendered again into its canonical text
and compared with the body of its record (assets.services.verify_registers): a row changed,
moved or deleted behind the ORM's back does not match. The record's body itself is guarded by
the council's hash chain: run verify_ledgers too.
"""

from django.core.management.base import BaseCommand, CommandError

from assets.models import Entry, EntryVersion
from assets.services import KEEPER, verify_registers
from disclosure.models import Record


class Command(BaseCommand):
    help = (
        "Verify the registers of assets, resources and contracts: each published entry "
        "against the disclosure record that published it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--council", type=int, action="append", help="council (page) id")

    def handle(self, *args, council=None, **options):
        council_ids = council or sorted(
            set(Entry.objects.values_list("council_id", flat=True).distinct())
            | set(
                Record.objects.filter(managed_by=KEEPER)
                .values_list("council_id", flat=True)
                .distinct()
            )
        )
        failures = 0
        for council_id in council_ids:
            problems = verify_registers(council_id=council_id)
            if not problems:
                published = EntryVersion.objects.filter(
                    entry__council_id=council_id, record__status="published"
                ).count()
                self.stdout.write(f"council {council_id}: OK, {published} published version(s)")
                continue
            failures += len(problems)
            self.stderr.write(f"council {council_id}: {len(problems)} problem(s)")
            for problem in problems:
                self.stderr.write(f"  council {council_id} · {problem.message}")
        if failures:
            raise CommandError(f"{failures} problem(s) found in the registers", returncode=1)
        self.stdout.write(self.style.SUCCESS(f"{len(council_ids)} council(s) verified"))
