from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from councils.demo import DemoBuilder


class Command(BaseCommand):
    help = "Build the demo city (idempotent: running it again changes nothing)."

    def add_arguments(self, parser):
        parser.add_argument("--households", type=int, default=8, help="households per village")
        parser.add_argument("--force", action="store_true", help="allow with DEBUG off")

    def handle(self, *args, households, force, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "Demo data invents people with well-known phone numbers: run it only with DEBUG on "
                "(or --force on a throw-away database)."
            )
        created = DemoBuilder(households_per_village=households).build()
        created["halls"] = self.build_halls()
        created["budget_cycles"] = self.build_budgets()
        created["records"] = self.build_ledgers()
        created["sessions"] = self.build_sessions()
        self.stdout.write(
            self.style.SUCCESS(
                "Demo city ready: {councils} councils, {users} people, {memberships} memberships, "
                "{halls} halls, {budget_cycles} budget cycles, {records} ledger records, "
                "{sessions} sessions created this run.".format(**created)
            )
        )
        self.stdout.write(
            "Sign in with a demo number (13900000001 is a city official, villages follow): "
            "the SMS code is printed on this console."
        )

    def build_budgets(self) -> int:
        from budgets import demo as budget_demo
        from councils.models import CouncilPage

        villages = CouncilPage.objects.filter(slug__in=["liushu", "heping", "taoyuan-v"])
        return sum(budget_demo.build(village) for village in villages)

    def build_ledgers(self) -> int:
        from councils.models import CouncilPage
        from disclosure import demo as ledger_demo

        villages = CouncilPage.objects.filter(slug__in=["liushu", "heping", "taoyuan-v"])
        return sum(ledger_demo.build(village) for village in villages)

    def build_halls(self) -> int:
        from councils.models import CouncilPage
        from deliberation import demo as hall_demo

        villages = CouncilPage.objects.filter(slug__in=["liushu", "heping", "taoyuan-v"])
        return sum(hall_demo.build(village) for village in villages)

    def build_sessions(self) -> int:
        from councils.models import CouncilPage
        from deliberation import demo_sessions

        villages = CouncilPage.objects.filter(slug__in=["liushu", "heping", "taoyuan-v"])
        return sum(demo_sessions.build(village) for village in villages)
