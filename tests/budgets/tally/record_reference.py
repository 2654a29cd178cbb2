"""Record pabutools' outcomes on every pabulib file, for the fast reference tests.

Usage (from the repository root, with pabutools installed)::

    python tests/budgets/tally/record_reference.py [--timeout 60] [--jobs 2] [FILE.pb ...]

For each file a child process parses it with pabutools once and runs every reference rule under
its own time limit (SIGALRM, default 60 s) and an address-space cap (4 GB); the result goes to
``tests/budgets/tally/reference/<file>.json`` as the sorted selected ids and wall time per rule,
or ``"timeout"``. Rules are named as in ``test_reference.REFERENCE_RULES``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = Path(os.environ.get("PABULIB_DIR", "/work/shared/pabulib"))
OUT = HERE / "reference"

CHILD = r"""
import json, resource, signal, sys, time
resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
from pabutools.election import parse_pabulib, Cost_Sat, Cardinality_Sat
from pabutools.election import Additive_Cardinal_Sat, Additive_Borda_Sat
from pabutools.rules import method_of_equal_shares, greedy_utilitarian_welfare
from pabutools.rules import completion_by_rule_combination
import pabutools

path, timeout = sys.argv[1], int(sys.argv[2])
t = time.perf_counter()
instance, profile = parse_pabulib(path)
parse_seconds = time.perf_counter() - t
vote_type = instance.meta["vote_type"]
utility = {"cumulative": Additive_Cardinal_Sat, "scoring": Additive_Cardinal_Sat,
           "ordinal": Additive_Borda_Sat}.get(vote_type)

def mes(sat, **kw):
    return lambda: method_of_equal_shares(instance, profile, sat_class=sat, **kw)

def completed(sat):
    return lambda: completion_by_rule_combination(
        instance, profile, [method_of_equal_shares, greedy_utilitarian_welfare],
        [{"sat_class": sat, "voter_budget_increment": 1}, {"sat_class": sat}])

rules = {
    "greedy/cost": lambda: greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat),
    "greedy/cardinality": lambda: greedy_utilitarian_welfare(instance, profile,
                                                             sat_class=Cardinality_Sat),
    "mes/cost": mes(Cost_Sat),
    "mes/cardinality": mes(Cardinality_Sat),
    "mes-add1/cost": mes(Cost_Sat, voter_budget_increment=1),
    "mes-add1+greedy/cost": completed(Cost_Sat),
}
if utility is not None:
    rules["greedy/utility"] = lambda: greedy_utilitarian_welfare(instance, profile,
                                                                 sat_class=utility)
    rules["mes/utility"] = mes(utility)

class Timeout(Exception):
    pass

def on_alarm(signum, frame):
    raise Timeout()

signal.signal(signal.SIGALRM, on_alarm)
results = {}
for name, fn in rules.items():
    t = time.perf_counter()
    signal.alarm(timeout)
    try:
        outcome = fn()
        signal.alarm(0)
        results[name] = {"selected": sorted(p.name for p in outcome),
                         "seconds": round(time.perf_counter() - t, 3)}
    except Timeout:
        results[name] = {"timeout": timeout}
    except MemoryError:
        signal.alarm(0)
        results[name] = {"memory_error": True}
    print(name, results[name].get("seconds", "timeout"), file=sys.stderr, flush=True)
print(json.dumps({"pabutools_version": pabutools.__version__ if hasattr(pabutools, "__version__")
                  else "", "parse_seconds": round(parse_seconds, 3), "rules": results}))
"""


def record(path: Path, timeout: int) -> str:
    """Run the child on one file and write its JSON; returns a one-line summary."""
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(timeout)],
        capture_output=True,
        text=True,
        timeout=timeout * 12 + 300,
    )
    if proc.returncode != 0:
        return f"{path.name}: FAILED\n{proc.stderr[-2000:]}"
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    data = {"file": path.name, "timeout_seconds": timeout, **data}
    OUT.mkdir(exist_ok=True)
    (OUT / f"{path.stem}.json").write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    times = {k: v.get("seconds", "timeout") for k, v in data["rules"].items()}
    return f"{path.name}: {times}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--timeout", type=int, default=60)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    files = args.files or sorted(DATA.glob("*.pb"), key=lambda p: p.stat().st_size, reverse=True)
    started = time.time()
    with ThreadPoolExecutor(args.jobs) as pool:
        for line in pool.map(lambda f: record(f, args.timeout), files):
            print(f"[{time.time() - started:6.0f}s] {line}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
