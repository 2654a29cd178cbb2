import sys

from django.core.management.base import BaseCommand

from budgets.tally.cli import build_parser, main


class Command(BaseCommand):
    help = (
        "Tally a pabulib .pb file: prints the selected project ids, one per line, sorted as "
        "strings (with --json: the selection and its explanation)."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        for action in build_parser()._actions:
            if action.dest != "help":
                parser._add_action(action)
        return parser

    def handle(self, *args, **options):
        argv = [options["file"], "--rule", options["rule"], "--sat", options["sat"]]
        if options["complete_greedy"]:
            argv.append("--complete-greedy")
        if options["json"]:
            argv.append("--json")
        status = main(argv, stdout=self.stdout, stderr=self.stderr)
        if status:
            sys.exit(status)
