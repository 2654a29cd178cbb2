"""Check everything the three openings published; exit 1 naming each thing that broke.

python manage.py verify_ledgers                     # every council that has anything
python manage.py verify_ledgers --council 42        # one council (repeatable)
python manage.py verify_ledgers --anchor heads.jsonl  # also: do the chains still hold these?
python manage.py verify_ledgers --no-files          # skip re-reading the stored files

Per council: the ledger chain (published records recomputed from the stored content), the
journal (every step, question and answer), every stored attachment re-hashed against the SHA-256
taken at upload, and every anchor (a head kept outside the database) given with --anchor.
"""

from django.core.management.base import BaseCommand, CommandError

from disclosure.anchors import AnchorFileError, check_anchor, read_anchor_file
from disclosure.hashchain import councils_with_chains, verify_files
from disclosure.journal import councils_with_journals, verify_journal
from disclosure.services import verify_chain


class Command(BaseCommand):
    help = (
        "Verify the three-openings ledgers: hash chains, journals of steps, questions and "
        "answers, stored files, and anchors kept outside the database."
    )

    def add_arguments(self, parser):
        parser.add_argument("--council", type=int, action="append", help="council (page) id")
        parser.add_argument(
            "--anchor",
            action="append",
            default=[],
            metavar="FILE",
            help="file of anchors (chain heads kept elsewhere); see docs/ledgers.md. Repeatable.",
        )
        parser.add_argument(
            "--no-files", action="store_true", help="do not re-read and re-hash stored files"
        )

    def handle(self, *args, council=None, anchor=(), no_files=False, **options):
        anchors = []
        for path in anchor:
            try:
                anchors.extend(read_anchor_file(path))
            except AnchorFileError as error:
                raise CommandError(f"anchor file: {error}", returncode=2) from None
        if council:
            anchors = [a for a in anchors if a.council in council]
        council_ids = council or sorted(
            set(councils_with_chains())
            | set(councils_with_journals())
            | {a.council for a in anchors}
        )
        failures = 0
        for council_id in council_ids:
            ledger = verify_chain(council_id=council_id)
            journal = verify_journal(council_id)
            problems = [str(p) for p in ledger.problems + journal.problems]
            if not no_files:
                problems += [str(p) for p in verify_files(council_id)]
            for item in anchors:
                if item.council == council_id:
                    why = check_anchor(item)
                    if why:
                        problems.append(f"anchor {item.chain} {item.position}: {why}")
            if not problems:
                self.stdout.write(
                    f"council {council_id}: OK, {ledger.length} entries, head "
                    f"{ledger.head_hash}; journal {journal.length} entries, head "
                    f"{journal.head_hash}"
                )
                continue
            failures += len(problems)
            self.stderr.write(f"council {council_id}: {len(problems)} problem(s)")
            for problem in problems:
                self.stderr.write(f"  council {council_id} · {problem}")
        if failures:
            raise CommandError(f"{failures} problem(s) found in the ledgers", returncode=1)
        checked = f", {len(anchors)} anchor(s) held" if anchors else ""
        self.stdout.write(self.style.SUCCESS(f"{len(council_ids)} council(s) verified{checked}"))
