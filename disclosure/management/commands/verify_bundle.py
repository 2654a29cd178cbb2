"""`manage.py verify_bundle bundle.zip [--head HASH]`: the offline checker, as a command."""

from django.core.management.base import BaseCommand, CommandError

from disclosure.offline_verify import verify_bundle


class Command(BaseCommand):
    help = "Check an open-data bundle (.zip) of a council's published records, offline."

    def add_arguments(self, parser):
        parser.add_argument("bundle")
        parser.add_argument("--head", help="the chain head hash shown online or on paper")

    def handle(self, *args, bundle, head=None, **options):
        problems, summary = verify_bundle(bundle, expected_head=head)
        for problem in problems:
            self.stderr.write(f"FAIL  {problem}")
        if summary:
            self.stdout.write(
                f"{summary['title']} (#{summary['council']}): {summary['entries']} entries, "
                f"head {summary['head']}"
            )
        if problems:
            raise CommandError(f"{len(problems)} problem(s): the bundle does not check.")
        self.stdout.write(self.style.SUCCESS("OK: the bundle is whole and its chain checks."))
