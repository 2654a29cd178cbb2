"""Benchmark reading a pabulib file into the grouped profile the rules run on.

Run from the repository root::

    python bench/bench_parse.py [--repeat 5] [--data DIR] [--files A.pb ...]

For the three largest files and a small one, prints the median over ``--repeat`` rounds of:

* ``csv s``: the floor -- :mod:`csv` splitting the file into rows (``csv.reader`` over the open
  file's lines, every row consumed, nothing else);
* ``group s``: ``read_grouped(path)``, which parses, checks and groups identical ballots in
  one pass: the parse and grouping that issue 21 wants within twice the floor;
* ``ratio``: group / csv;
* ``new s``: ``read_sat_profile(path, "cost")``, that and the satisfaction profile the rules
  run on (its ratio to the floor beside it);
* ``old s``: ``read_pabulib`` + ``build_sat_profile(..., "cost")``, one ``Ballot`` per voter.

Times are CPU seconds of this process (``time.process_time``), so another job on the shared
machine does not skew the ratio; the three are run in turn in every round, after a
``gc.collect()``, so what one leaves behind does not slow the next.
"""

from __future__ import annotations

import argparse
import csv
import gc
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from budgets.tally.pabulib import read_grouped, read_pabulib, read_sat_profile  # noqa: E402
from budgets.tally.satisfaction import build_sat_profile  # noqa: E402

DEFAULT_DATA = Path("/work/shared/pabulib")
FILES = [
    "Poland_Lodz_2022.pb",
    "Poland_Wroclaw_2020.pb",
    "Poland_Krakow_2021.pb",
    "Poland_Gdynia_2023_Karwiny__small.pb",
]


def csv_split(path: Path) -> None:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        for _row in csv.reader(handle, delimiter=";"):
            pass


def group(path: Path) -> None:
    read_grouped(path)


def new(path: Path) -> None:
    read_sat_profile(path, "cost")


def old(path: Path) -> None:
    election = read_pabulib(path)
    build_sat_profile(election.instance, election.ballots, "cost")


def timed(run: Callable[[Path], None], path: Path) -> float:
    gc.collect()
    started = time.process_time()
    run(path)
    return time.process_time() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--files", nargs="*", default=FILES)
    args = parser.parse_args(argv)
    paths = [p if p.is_file() else args.data / p for p in map(Path, args.files)]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        print(f"missing: {', '.join(missing)} (pass --data DIR)")
        return 1
    print(
        f"{'file':40} {'csv s':>8} {'group s':>8} {'ratio':>6} {'new s':>8} {'ratio':>6} "
        f"{'old s':>8}"
    )
    for path in paths:
        times: dict[str, list[float]] = {"csv": [], "group": [], "new": [], "old": []}
        for _ in range(args.repeat):
            times["csv"].append(timed(csv_split, path))
            times["group"].append(timed(group, path))
            times["new"].append(timed(new, path))
            times["old"].append(timed(old, path))
        med = {k: statistics.median(v) for k, v in times.items()}
        floor = med["csv"] or float("nan")
        print(
            f"{path.name[:40]:40} {med['csv']:8.4f} {med['group']:8.4f} "
            f"{med['group'] / floor:6.2f} {med['new']:8.4f} {med['new'] / floor:6.2f} "
            f"{med['old']:8.4f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
