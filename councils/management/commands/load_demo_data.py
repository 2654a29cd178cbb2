from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from councils.demo import DEMO_VILLAGES, DemoBuilder
from councils.models import CouncilPage
from councils.registry import DEMO_BUILDERS


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
        # Halls, budgets, ledgers, meetings...: each app registered its builder in ready()
        # (councils.registry), so the spine knows none of them.
        villages = list(CouncilPage.objects.filter(slug__in=DEMO_VILLAGES).order_by("path"))
        for builder in DEMO_BUILDERS:
            created[builder.name] = sum(builder(village) for village in villages)
        self.stdout.write(
            self.style.SUCCESS(
                "Demo city ready, created this run: "
                + ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in created.items())
                + "."
            )
        )
        self.stdout.write(
            "Sign in with a demo number (13900000001 is a city official, villages follow): "
            "the SMS code is printed on this console."
        )
