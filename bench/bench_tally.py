"""Benchmark budgets.tally against pabutools on the three largest pabulib files.

Run from the repository root::

    python bench/bench_tally.py [--cap 120] [--repeat 3] [--data DIR] [--files A.pb B.pb]

Each (side, file, rule) runs in a fresh subprocess that parses the file, runs the rule once, and
reports the rule's wall time and the process's peak resident memory (``ru_maxrss``, which
includes the interpreter, imports and the parsed election) -- the same method for both sides. The
parent also times the whole subprocess (start-up, imports, parsing, rule: "proc s"). Ours and
theirs alternate (ours, pabutools, ours, pabutools, ...) for ``--repeat`` rounds; the median
of each figure is printed, so a burst of load on the shared machine hits both sides alike.

pabutools gets the grouped profile, ``profile.as_multiprofile()``, as its own documentation
does (identical ballots become one ballot with a multiplicity; its rules accept either kind of
profile). Our engine groups identical ballots inside ``tally``, so
pabutools' "rule s" includes ``as_multiprofile()`` too (shown alone as "group s"); parsing is
excluded on both sides. pabutools runs under ``--cap`` seconds (SIGALRM); if it does not finish
we print "> cap". Rules: ``mes-add1+greedy`` (Yishi's default: MES with the add1 iteration, cost
satisfaction, completed by greedy) and ``greedy`` (cost satisfaction, i.e. by votes).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
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
    profile = profile.as_multiprofile()
    group = time.perf_counter() - t
    if rule == "greedy":
        out = greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat)
    else:
        out = completion_by_rule_combination(
            instance, profile, [method_of_equal_shares, greedy_utilitarian_welfare],
            [{"sat_class": Cost_Sat, "voter_budget_increment": 1}, {"sat_class": Cost_Sat}])
    signal.alarm(0)
    report(seconds=time.perf_counter() - t, group=group, parse=parse,
           selected=sorted(p.name for p in out))
except Cap:
    report(timeout=True, parse=parse)
"""
)


def run(script: str, path: Path, rule: str, cap: int) -> dict:
    """Run one side in a subprocess; returns its JSON report (or an error description).

    ``proc`` is the wall time of the whole subprocess, measured from here.
    """
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, "-c", script, str(path), rule, str(cap), str(ROOT)],
            capture_output=True,
            text=True,
            timeout=cap * 3 + 300,
        )
    except subprocess.TimeoutExpired:
        return {"timeout": True}
    elapsed = time.perf_counter() - start
    lines = [x for x in proc.stdout.splitlines() if x.startswith("{")]
    if not lines:
        return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1]}
    out = json.loads(lines[-1])
    out["proc"] = elapsed
    return out


def median_report(reports: list[dict]) -> dict:
    """One report from several runs of the same side: medians of the figures.

    An error, a timeout or a missing pabutools in any run wins (it is reported as such), and the
    selected sets must agree between runs.
    """
    for key in ("error", "missing", "timeout"):
        bad = [r for r in reports if r.get(key)]
        if bad:
            return bad[0]
    out = dict(reports[0])
    for key in ("seconds", "group", "parse", "proc", "peak_mb"):
        if key in out:
            out[key] = statistics.median(r[key] for r in reports)
    if any(r["selected"] != out["selected"] for r in reports):
        out["selected"] = None
    return out


def ratio(theirs: float, ours: float) -> str:
    """pabutools' time over ours, written so that a value below 1 reads as "pabutools faster"."""
    if theirs >= ours:
        return f"{theirs / ours:.1f}x"
    return f"1/{ours / theirs:.1f}x"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="budgets.tally vs pabutools")
    parser.add_argument("--cap", type=int, default=120, help="pabutools time cap in seconds")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--files", nargs="*", default=LARGEST)
    parser.add_argument(
        "--repeat", type=int, default=3, help="alternating rounds per case (median printed)"
    )
    args = parser.parse_args(argv)
    header = (
        f"{'file':<26} {'rule':<16} {'ours s':>7} {'proc s':>7} {'MB':>5} "
        f"{'pabu s':>8} {'group s':>7} {'proc s':>7} {'MB':>6} {'ratio':>7} {'proc':>7}  same"
    )
    print(header)
    print("-" * len(header))
    for name in args.files:
        path = args.data / name
        if not path.exists():
            print(f"{name:<26} missing")
            continue
        for rule in ("mes-add1+greedy", "greedy"):
            ours_runs, ref_runs = [], []
            for _ in range(max(args.repeat, 1)):
                ours_runs.append(run(OURS, path, rule, args.cap))
                ref_runs.append(run(PABUTOOLS, path, rule, args.cap))
                if ref_runs[-1].get("timeout") or ref_runs[-1].get("missing"):
                    break  # one capped run says enough; do not wait for the cap again
            ours = median_report(ours_runs)
            ref = median_report(ref_runs)
            if "error" in ours:
                print(f"{name[:26]:<26} {rule:<16} error: {ours['error']}")
                continue
            mine = (
                f"{name[:26]:<26} {rule:<16} {ours['seconds']:>7.2f} {ours['proc']:>7.2f} "
                f"{ours['peak_mb']:>5.0f} "
            )
            if ref.get("missing"):
                print(mine + "pabutools not installed", flush=True)
                continue
            if ref.get("timeout"):
                mb = f"{ref['peak_mb']:.0f}" if "peak_mb" in ref else ""
                rest = (
                    f"{'> ' + str(args.cap):>8} {'':>7} {'':>7} {mb:>6} "
                    f"{'> ' + ratio(args.cap, ours['seconds']):>7} {'':>7}  ?"
                )
            elif "error" in ref:
                rest = f"error: {ref['error'][:60]}"
            else:
                if ref["selected"] is None or ours["selected"] is None:
                    same = "runs differ"
                else:
                    same = "yes" if ref["selected"] == ours["selected"] else "NO"
                rest = (
                    f"{ref['seconds']:>8.2f} {ref['group']:>7.2f} {ref['proc']:>7.2f} "
                    f"{ref['peak_mb']:>6.0f} {ratio(ref['seconds'], ours['seconds']):>7} "
                    f"{ratio(ref['proc'], ours['proc']):>7}  {same}"
                )
            print(mine + rest, flush=True)
    print(
        "ours s / pabu s: the rule alone, grouping included (pabutools' as_multiprofile() is also"
        " shown alone as group s), parsing excluded; proc s: the whole subprocess (start-up,"
        " imports, parsing, rule); MB: its peak RSS. ratio = pabutools / ours, 1/Nx = pabutools"
        f" N times faster. Median of {max(args.repeat, 1)} alternating runs."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
