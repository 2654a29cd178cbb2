"""Open the sealed ballots of every cycle whose vote has closed (docs/ballots.md).

Pages open them on first need anyway; run this from cron or a scheduled task a few minutes after
each close so that the first visitor does not wait, and so that a mismatch is reported at once.

    manage.py open_ballots [--cycle ID]
"""

from django.core.management.base import BaseCommand, CommandError

from budgets import services
from budgets.models import BudgetCycle, SealedBallot


class Command(BaseCommand):
    help = "Open the sealed ballots of closed votes, unlinkably, and check the counts."

    def add_arguments(self, parser):
        parser.add_argument("--cycle", type=int, help="only this cycle")

    def handle(self, *args, cycle=None, **options):
        ids = SealedBallot.objects.values_list("cycle_id", flat=True).distinct()
        if cycle is not None:
            ids = ids.filter(cycle_id=cycle)
        failed = 0
        for item in BudgetCycle.objects.filter(pk__in=list(ids)).prefetch_related("phases"):
            if not item.vote_closed():
                continue
            try:
                opened = services.open_ballots(cycle=item)
                services.check_ballot_counts(item)
            except services.BallotCountError as error:
                failed += 1
                self.stderr.write(f"cycle {item.pk}: " + " ".join(error.messages))
                continue
            self.stdout.write(f"cycle {item.pk}: {opened} ballots opened")
        if failed:
            raise CommandError(f"{failed} cycle(s) could not be opened or do not count up")
