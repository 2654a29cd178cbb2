"""Benchmark budgets.tally against pabutools on the three largest pabulib files.

Run from the repository root::

    python bench/bench_tally.py [--cap 120] [--data /work/shared/pabulib] [--files A.pb B.pb]

Each (side, file, rule) runs in a fresh subprocess that parses the file, runs the rule once, and
reports the rule's wall time and the process's peak resident memory (``ru_maxrss``, which
includes the interpreter, imports and the parsed election) -- the same method for both sides.
pabutools' rule runs under ``--cap`` seconds (SIGALRM); if it does not finish we print "> cap".
Rules: ``mes-add1+greedy`` (Yishi's default: MES with the add1 iteration, cost satisfaction,
completed by greedy) and ``greedy`` (cost satisfaction, i.e. by votes).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = Path("/work/shared/pabulib")
LARGEST = ["Poland_Lodz_2022.pb", "Poland_Wroclaw_2020.pb", "Poland_Krakow_2021.pb"]

PRELUDE = r"""
import json, resource, signal, sys, time
path, rule, cap = sys.argv[1], sys.argv[2], int(sys.argv[3])

class Cap(Exception):
    pass

def alarm(signum, frame):
    raise Cap()

def report(**kw):
    kw["peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(kw), flush=True)
"""

OURS = (
    PRELUDE
    + r"""
sys.path.insert(0, sys.argv[4])
from budgets.tally.pabulib import read_pabulib
from budgets.tally.rules import tally
t = time.perf_counter()
e = read_pabulib(path)
parse = time.perf_counter() - t
t = time.perf_counter()
if rule == "greedy":
    out = tally(e.instance, e.ballots, "greedy", sat="cost")
else:
    out = tally(e.instance, e.ballots, "mes-add1", sat="cost", complete_greedy=True)
report(seconds=time.perf_counter() - t, parse=parse, selected=out.selected)
"""
)

PABUTOOLS = (
    PRELUDE
    + r"""
try:
    from pabutools.election import parse_pabulib, Cost_Sat
    from pabutools.rules import (method_of_equal_shares, greedy_utilitarian_welfare,
                                 completion_by_rule_combination)
except ImportError:
    report(missing=True)
    raise SystemExit(0)
t = time.perf_counter()
instance, profile = parse_pabulib(path)
parse = time.perf_counter() - t
signal.signal(signal.SIGALRM, alarm)
signal.alarm(cap)
t = time.perf_counter()
try:
    if rule == "greedy":
        out = greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat)
    else:
        out = completion_by_rule_combination(
            instance, profile, [method_of_equal_shares, greedy_utilitarian_welfare],
            [{"sat_class": Cost_Sat, "voter_budget_increment": 1}, {"sat_class": Cost_Sat}])
    signal.alarm(0)
    report(seconds=time.perf_counter() - t, parse=parse, selected=sorted(p.name for p in out))
except Cap:
    report(timeout=True, parse=parse)
"""
)


def run(script: str, path: Path, rule: str, cap: int) -> dict:
    """Run one side in a subprocess; returns its JSON report (or an error description)."""
    try:
        proc = subprocess.run(
            [sys.executable, "-c", script, str(path), rule, str(cap), str(ROOT)],
            capture_output=True,
            text=True,
            timeout=cap * 3 + 300,
        )
    except subprocess.TimeoutExpired:
        return {"timeout": True}
    lines = [x for x in proc.stdout.splitlines() if x.startswith("{")]
    if not lines:
        return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1]}
    return json.loads(lines[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="budgets.tally vs pabutools")
    parser.add_argument("--cap", type=int, default=120, help="pabutools time cap in seconds")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--files", nargs="*", default=LARGEST)
    args = parser.parse_args(argv)
    header = (
        f"{'file':<26} {'rule':<16} {'ours s':>7} {'ours MB':>8} "
        f"{'pabutools s':>12} {'pabu MB':>8} {'ratio':>8}  same"
    )
    print(header)
    print("-" * len(header))
    for name in args.files:
        path = args.data / name
        if not path.exists():
            print(f"{name:<26} missing")
            continue
        for rule in ("mes-add1+greedy", "greedy"):
            ours = run(OURS, path, rule, args.cap)
            ref = run(PABUTOOLS, path, rule, args.cap)
            if "error" in ours:
                print(f"{name[:26]:<26} {rule:<16} error: {ours['error']}")
                continue
            if ref.get("missing"):
                ref_s, ref_mb, ratio, same = "pabutools not installed", "", "", ""
            elif ref.get("timeout"):
                ref_s = f"> {args.cap}"
                ref_mb = f"{ref['peak_mb']:.0f}" if "peak_mb" in ref else ""
                ratio = f"> {args.cap / ours['seconds']:.0f}x"
                same = "?"
            elif "error" in ref:
                ref_s, ref_mb, ratio, same = "error", "", "", ref["error"][:30]
            else:
                ref_s = f"{ref['seconds']:.2f}"
                ref_mb = f"{ref['peak_mb']:.0f}"
                ratio = f"{ref['seconds'] / ours['seconds']:.0f}x"
                same = "yes" if ref["selected"] == ours["selected"] else "NO"
            print(
                f"{name[:26]:<26} {rule:<16} {ours['seconds']:>7.2f} {ours['peak_mb']:>8.0f} "
                f"{ref_s:>12} {ref_mb:>8} {ratio:>8}  {same}",
                flush=True,
            )
    print("ours s / pabutools s: rule only (parsing excluded); MB: peak RSS of the process.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
