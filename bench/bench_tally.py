"""Benchmark budgets.tally against its peers on the three largest pabulib files.

Run from the repository root::

    python bench/bench_tally.py [--cap 120] [--repeat 3] [--data DIR] [--files A.pb path/B.pb]

Two peers. **pabutools**, the reference implementation in Python (exact fractions), and
**native**: ``muoblpbindings``, the C++ Method of Equal Shares (doubles) behind equalshares.net,
a bench-only dependency (``requirements/bench.txt``, installed by ``make bench``; without it the
native peer is skipped with a line saying why).

Each (side, file, rule) runs in a fresh subprocess that parses the file, runs the rule once, and
reports the rule's wall time and the process's peak resident memory (``ru_maxrss``, which
includes the interpreter, imports and the parsed election) -- the same method for every side. The
parent also times the whole subprocess (start-up, imports, parsing, rule: "proc s"). The sides
alternate (ours, pabutools, native, ours, ...) for ``--repeat`` rounds; the median of each figure
is printed, so a burst of load on the shared machine hits every side alike.

pabutools gets the grouped profile, ``profile.as_multiprofile()``, as its own documentation
does (identical ballots become one ballot with a multiplicity; its rules accept either kind of
profile). Our side reads the file straight into grouped ballots (``read_sat_profile``, what the
command line does), so its "rule s" starts from a grouped profile; pabutools' "rule s" includes
``as_multiprofile()`` (shown alone as "prep s"), and the rule ratio compares the rules on grouped
input: the peer's rule s minus its prep s, against ours. Grouping and parsing count, on every
side, in the whole process ("proc s").

The native peer reads the file with our parser (it has none) and gets its own input format:
one voter per ballot, and per project the list of (voter, utility) pairs. Its utilities are
multiplied by the cost inside (it picks the project with the largest ``cost / rho``, rho being the
price per unit of utility), so cost satisfaction is utility 1 for every approval -- passing the
cost as the utility would rank projects by cost squared. Building that input is part of its
"rule s" (shown alone as "prep s"). It offers ``equal_shares_add1`` but no greedy completion, so
the few lines of utilitarian greedy below (by votes, ties by project id, as ours and pabutools)
complete its outcome. Its add1 differs from
ours and pabutools' in one respect: after the first run at ``budget / n`` per voter it goes on
from the *integral* part, ``floor(budget / n) + 1, + 2, ...``, where we go on from
``budget / n + 1, + 2, ...``; with its double arithmetic and its tie-breaking (lowest cost, then
most utility; an unresolved tie is an error), the "same" column says whether it still agrees. It
has no plain greedy rule, so it only runs ``mes-add1+greedy``.

Each peer runs under ``--cap`` seconds (SIGALRM; the native C++ call cannot be interrupted, the
parent's own timeout stops it); if it does not finish we print "> cap". Rules:
``mes-add1+greedy`` (Yishi's default: MES with the add1 iteration, cost satisfaction, completed by
greedy) and ``greedy`` (cost satisfaction, i.e. by votes).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = Path("/work/shared/pabulib")
LARGEST = ["Poland_Lodz_2022.pb", "Poland_Wroclaw_2020.pb", "Poland_Krakow_2021.pb"]
RULES = ("mes-add1+greedy", "greedy")

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
from budgets.tally.pabulib import read_sat_profile
from budgets.tally.rules import tally_profile
t = time.perf_counter()
sp = read_sat_profile(path, "cost")  # parsed straight into grouped ballots, as the CLI does
parse = time.perf_counter() - t
t = time.perf_counter()
if rule == "greedy":
    out = tally_profile(sp, "greedy")
else:
    out = tally_profile(sp, "mes-add1", complete_greedy=True)
report(seconds=time.perf_counter() - t, parse=parse, selected=sorted(out.selected))
"""
)

PABUTOOLS = (
    PRELUDE
    + r"""
try:
    from pabutools.election import parse_pabulib, Cost_Sat
    from pabutools.rules import (method_of_equal_shares, greedy_utilitarian_welfare,
                                 completion_by_rule_combination)
except ImportError as exc:
    report(missing=str(exc))
    raise SystemExit(0)
t = time.perf_counter()
instance, profile = parse_pabulib(path)
parse = time.perf_counter() - t
signal.signal(signal.SIGALRM, alarm)
signal.alarm(cap)
t = time.perf_counter()
try:
    profile = profile.as_multiprofile()
    prep = time.perf_counter() - t
    if rule == "greedy":
        out = greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat)
    else:
        out = completion_by_rule_combination(
            instance, profile, [method_of_equal_shares, greedy_utilitarian_welfare],
            [{"sat_class": Cost_Sat, "voter_budget_increment": 1}, {"sat_class": Cost_Sat}])
    signal.alarm(0)
    report(seconds=time.perf_counter() - t, prep=prep, parse=parse,
           selected=sorted(p.name for p in out))
except Cap:
    report(timeout=True, parse=parse)
"""
)

NATIVE = (
    PRELUDE
    + r"""
try:
    from muoblpbindings import equal_shares_add1
except ImportError as exc:
    report(missing=str(exc))
    raise SystemExit(0)
sys.path.insert(0, sys.argv[4])
from budgets.tally.pabulib import read_pabulib
t = time.perf_counter()
e = read_pabulib(path)
parse = time.perf_counter() - t
signal.signal(signal.SIGALRM, alarm)
signal.alarm(cap)
t = time.perf_counter()
try:
    cost = {pid: project.cost for pid, project in e.instance.projects.items()}
    voters = [str(i) for i in range(len(e.ballots))]
    approvers = {pid: [] for pid in cost}
    for voter, ballot in zip(voters, e.ballots):
        for pid in ballot.projects:
            approvers[pid].append((voter, 1))
    total = {pid: len(a) for pid, a in approvers.items()}
    prep = time.perf_counter() - t
    mes = equal_shares_add1(voters, list(cost), {p: float(c) for p, c in cost.items()},
                            approvers, total, float(e.instance.budget))
    # Utilitarian greedy completion with cost satisfaction: by number of supporters (a free
    # supported project first), ties by project id, skipping what no longer fits.
    left = e.instance.budget - sum(cost[p] for p in mes)
    funded = set(mes)
    rest = [p for p in cost if p not in funded]
    def density(p):
        n = len(approvers[p])
        return float("inf") if n and not cost[p] else n
    selected = list(mes)
    for p in sorted(rest, key=lambda p: (-density(p), p)):
        if cost[p] <= left:
            selected.append(p)
            left -= cost[p]
    signal.alarm(0)
    report(seconds=time.perf_counter() - t, prep=prep, parse=parse, selected=sorted(selected))
except Cap:
    report(timeout=True, parse=parse)
"""
)

PEERS = {"pabutools": PABUTOOLS, "native": NATIVE}


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

    An error, a timeout or a missing peer in any run wins (it is reported as such), and the
    selected sets must agree between runs.
    """
    for key in ("error", "missing", "timeout"):
        bad = [r for r in reports if r.get(key)]
        if bad:
            return bad[0]
    out = dict(reports[0])
    for key in ("seconds", "prep", "parse", "proc", "peak_mb"):
        if key in out:
            out[key] = statistics.median(r[key] for r in reports)
    if any(r["selected"] != out["selected"] for r in reports):
        out["selected"] = None
    return out


def ratio(theirs: float, ours: float) -> str:
    """The peer's time over ours, written so that a value below 1 reads as "the peer faster"."""
    if min(theirs, ours) <= 0:
        return "n/a"
    if theirs >= ours:
        return f"{theirs / ours:.1f}x"
    return f"1/{ours / theirs:.1f}x"


def machine() -> str:
    """Date, cores, CPU model and versions: the figures mean little without them."""
    model = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = []
    for dist in ("numpy", "pabutools", "muoblpbindings"):
        try:
            versions.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{dist} -")
    # Without cached bytecode every subprocess compiles numpy, pabutools and ours from source,
    # which dominates "proc s" on small files (make bench caches it under var/pycache).
    if sys.pycache_prefix:
        pyc = f"bytecode cached in {sys.pycache_prefix}"
    elif sys.dont_write_bytecode:
        pyc = "PYTHONDONTWRITEBYTECODE: modules without a .pyc are compiled on every start"
    else:
        pyc = "bytecode cached beside the sources"
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"{now}; {platform.node()}: nproc {os.cpu_count()}, CPU {model}; "
        f"Python {platform.python_version()}, " + ", ".join(versions) + f"; {pyc}"
    )


def native_missing() -> str | None:
    """Why the native peer cannot run (``None`` when it can): said once, up front."""
    try:
        import muoblpbindings  # noqa: F401
    except ImportError as exc:
        return str(exc)
    return None


def resolve(name: str, data: Path) -> Path:
    """``--files`` takes paths (absolute or relative to the current directory) or names in
    ``--data``."""
    path = Path(name)
    return path if path.is_file() else data / name


def peer_line(name: str, ref: dict, ours: dict, cap: int) -> str:
    """The figures of one peer, with its ratio to ours and whether it selected the same set.

    When ours failed the peer's figures are still shown, without ratios.
    """
    failed = "error" in ours
    if ref.get("missing"):
        return f"{name:<10} not installed: {ref['missing'][:70]}"
    if ref.get("timeout"):
        mb = f"{ref['peak_mb']:.0f}" if "peak_mb" in ref else ""
        return (
            f"{name:<10} {'> ' + str(cap):>8} {'':>7} {'':>7} {mb:>6} "
            f"{'' if failed else '> ' + ratio(cap, ours['seconds']):>7} {'':>7}  ?"
        )
    if "error" in ref:
        return f"{name:<10} error: {ref['error'][:80]}"
    if failed:
        return (
            f"{name:<10} {ref['seconds']:>8.3f} {ref['prep']:>7.3f} {ref['proc']:>7.2f} "
            f"{ref['peak_mb']:>6.0f}"
        )
    if ref["selected"] is None or ours["selected"] is None:
        same = "runs differ"
    else:
        same = "yes" if ref["selected"] == ours["selected"] else "NO"
        if same == "NO":
            a, b = set(ours["selected"]), set(ref["selected"])
            same += f" (ours only {sorted(a - b)}, {name} only {sorted(b - a)})"
    return (
        f"{name:<10} {ref['seconds']:>8.3f} {ref['prep']:>7.3f} {ref['proc']:>7.2f} "
        f"{ref['peak_mb']:>6.0f} {ratio(ref['seconds'] - ref['prep'], ours['seconds']):>7} "
        f"{ratio(ref['proc'], ours['proc']):>7}  {same}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="budgets.tally vs pabutools and muoblpbindings")
    parser.add_argument("--cap", type=int, default=120, help="time cap per peer run in seconds")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument(
        "--files", nargs="*", default=LARGEST, help="names in --data, or paths to .pb files"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="alternating rounds per case (median printed)"
    )
    args = parser.parse_args(argv)
    rounds = max(args.repeat, 1)
    print(machine())
    missing = native_missing()
    if missing:
        print(f"muoblpbindings not installed: {missing}; native peer skipped")
    pad = " " * 44
    header = (
        f"{'file':<26} {'rule':<16} {'side':<10} {'rule s':>8} {'prep s':>7} {'proc s':>7} "
        f"{'MB':>6} {'ratio':>7} {'proc':>7}  same"
    )
    print(header)
    print("-" * len(header))
    for name in args.files:
        path = resolve(name, args.data)
        label = path.name[:26]
        if not path.is_file():
            print(f"{label:<26} missing ({path})")
            continue
        for rule in RULES:
            peers = [p for p in PEERS if not (p == "native" and (missing or rule == "greedy"))]
            runs: dict[str, list[dict]] = {side: [] for side in ["ours", *peers]}
            for _ in range(rounds):
                runs["ours"].append(run(OURS, path, rule, args.cap))
                for peer in peers:
                    last = runs[peer][-1] if runs[peer] else {}
                    if last.get("timeout") or last.get("missing") or "error" in last:
                        continue  # one capped or failed run says enough; do not wait again
                    runs[peer].append(run(PEERS[peer], path, rule, args.cap))
            ours = median_report(runs["ours"])
            if "error" in ours:
                print(f"{label:<26} {rule:<16} {'ours':<10} error: {ours['error'][:80]}")
            else:
                print(
                    f"{label:<26} {rule:<16} {'ours':<10} {ours['seconds']:>8.3f} {'':>7} "
                    f"{ours['proc']:>7.2f} {ours['peak_mb']:>6.0f}",
                    flush=True,
                )
            for peer in peers:
                line = peer_line(peer, median_report(runs[peer]), ours, args.cap)
                print(pad + line, flush=True)
    print(
        "rule s: the rule alone, parsing excluded; for pabutools it includes as_multiprofile(),"
        " for native the building of its input and our few lines of greedy completion (prep s:"
        " that grouping or building alone); ours groups while parsing (read_sat_profile, as the"
        " command line). proc s: the whole subprocess (start-up, imports, parsing, rule); MB: its"
        " peak RSS. ratio = peer / ours: first the rule on grouped input (peer rule s minus prep"
        " s, against ours), then proc s; 1/Nx ="
        " the peer N times faster. native = muoblpbindings.equal_shares_add1 (C++, doubles; add1"
        " from the integral per-voter budget) + greedy completion; it has no plain greedy."
        f" Median of {rounds} alternating runs."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
