"""mes-add1 with greedy completion on every real election: skipping increments vs every increment.

Run from the repository root::

    python bench/bench_add1.py [--repeat 3] [--data DIR] [--files A.pb ...] [--sat cost]

For each file the profile is parsed and grouped once; then the rule alone (``mes-add1``,
``sat=cost``, greedy completion, engine set-up included) runs with the default loop, which
skips the increments a run's proven reach covers, and with the reference loop
(``skip=False``: one MES run per increment, as pabutools), alternating, ``--repeat`` times.
Medians of CPU time (``time.process_time``) are printed with the number of increments and of
MES runs, and the ratio. Both must select the same projects (checked). The goal in issue 21 is
under 0.3 s of CPU per file for the rule.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_tally import machine  # noqa: E402
from budgets.tally.pabulib import read_pabulib  # noqa: E402
from budgets.tally.rules import RULES  # noqa: E402
from budgets.tally.satisfaction import build_sat_profile  # noqa: E402

DEFAULT_DATA = Path(os.environ.get("PABULIB_DIR", "/work/shared/pabulib"))
GOAL = 0.3


def _cpu(rule, sp, **kw) -> tuple[float, object]:  # noqa: ANN001
    t = time.process_time()
    out = rule(sp, True, **kw)
    return time.process_time() - t, out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--files", nargs="*")
    parser.add_argument("--sat", default="cost")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"no pabulib data at {args.data}: skipped (set PABULIB_DIR)")
        return 0
    files = args.files or sorted(p.name for p in args.data.glob("*.pb"))
    rule = RULES["mes-add1"]
    print(machine())
    print(f"mes-add1 + greedy completion, sat={args.sat}, rule CPU s, median of {args.repeat}")
    print(f"{'file':48} {'incr':>6} {'runs':>5} {'skip s':>8} {'step s':>8} {'ratio':>6}  goal")
    skip_total = step_total = 0.0
    over: list[str] = []
    worst = (0.0, "")
    for name in files:
        e = read_pabulib(args.data / name)
        if args.sat == "utility" and e.instance.vote_type in ("approval", "choose-1"):
            continue
        sp = build_sat_profile(e.instance, e.ballots, args.sat)
        skip_times, step_times = [], []
        for _ in range(args.repeat):
            t_skip, fast = _cpu(rule, sp)
            t_step, slow = _cpu(rule, sp, skip=False)
            skip_times.append(t_skip)
            step_times.append(t_step)
        if fast.selected != slow.selected or fast.iterations != slow.iterations:
            print(f"{name}: skipping and stepping disagree", file=sys.stderr)
            return 1
        t_skip, t_step = statistics.median(skip_times), statistics.median(step_times)
        skip_total += t_skip
        step_total += t_step
        if t_skip >= GOAL:
            over.append(name)
        worst = max(worst, (t_skip, name))
        ratio = t_step / t_skip if t_skip else float("inf")
        verdict = "ok" if t_skip < GOAL else "OVER"
        print(
            f"{name[:48]:48} {fast.iterations:>6} {fast.runs:>5} {t_skip:8.3f} {t_step:8.3f} "
            f"{ratio:5.1f}x  {verdict}",
            flush=True,
        )
    print(
        f"total: skip {skip_total:.2f} s, step {step_total:.2f} s "
        f"({step_total / skip_total:.2f}x); slowest {worst[1]} {worst[0]:.3f} s; "
        f"{len(over)} of {len(files)} files at or over {GOAL} s: {', '.join(over) or 'none'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
