import sys

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    """``manage.py tally``: the ``python -m budgets.tally`` command line, inside Django.

    The tally engine (and numpy, which costs about a third of a second to import) is imported
    only when this command itself runs, not when Django loads it with the other commands.
    """

    help = (
        "Tally a pabulib .pb file: prints the selected project ids, one per line, sorted as "
        "strings (with --json: the selection and its explanation)."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        from budgets.tally.cli import build_parser

        parser = super().create_parser(prog_name, subcommand, **kwargs)
        for action in build_parser()._actions:
            if action.dest != "help":
                parser._add_action(action)
        return parser

    def handle(self, *args, **options):
        from budgets.tally.cli import main

        argv = [options["file"], "--rule", options["rule"], "--sat", options["sat"]]
        if options["complete_greedy"]:
            argv.append("--complete-greedy")
        if options["json"]:
            argv.append("--json")
        status = main(argv, stdout=self.stdout, stderr=self.stderr)
        if status:
            sys.exit(status)
