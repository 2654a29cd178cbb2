"""Command line: ``python -m budgets.tally FILE.pb --rule mes-add1 [--json]``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO

from budgets.tally.pabulib import PabulibError, read_sat_profile
from budgets.tally.rules import RULES, tally_profile
from budgets.tally.satisfaction import SAT_MEASURES


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also reused by the Django ``manage.py tally`` wrapper)."""
    parser = argparse.ArgumentParser(
        prog="python -m budgets.tally",
        description="Tally a pabulib .pb file with greedy or the Method of Equal Shares.",
    )
    parser.add_argument("file", help="pabulib .pb file")
    parser.add_argument("--rule", choices=sorted(RULES), default="mes-add1")
    parser.add_argument(
        "--sat", choices=SAT_MEASURES, default="cost", help="satisfaction measure (default: cost)"
    )
    parser.add_argument(
        "--complete-greedy",
        action="store_true",
        help="complete an MES outcome with utilitarian greedy",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the selection and its explanation as JSON"
    )
    return parser


def main(
    argv: list[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run the CLI; returns the exit status (0 ok, 2 bad input)."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    args = build_parser().parse_args(argv)
    try:
        # Straight into grouped integer ballots: no Ballot object per voter.
        profile = read_sat_profile(args.file, args.sat)
        outcome = tally_profile(profile, rule=args.rule, complete_greedy=args.complete_greedy)
    except (OSError, PabulibError, ValueError) as exc:
        print(f"error: {args.file}: {exc}", file=stderr)
        return 2
    if args.json:
        json.dump(outcome.to_json(), stdout, indent=1, ensure_ascii=False)
        stdout.write("\n")
    else:
        for pid in outcome.selected:
            stdout.write(f"{pid}\n")
    return 0
