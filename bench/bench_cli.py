"""Wall time of the tally command line, start-up included, against its floor and manage.py tally.

Run from the repository root::

    python bench/bench_cli.py [--repeat 5] [--data DIR] [--files A.pb ...]

For each file, ``python -m budgets.tally FILE --rule mes-add1 --complete-greedy`` runs in a fresh
process ``--repeat`` times, alternating with the floor (a process that only imports numpy, the
engine's one dependency) and, for the first file, with ``manage.py tally`` (the same command
inside Django). Medians of wall time and peak RSS (``ru_maxrss`` of the child) are printed. The
goals in issue 21: under 0.3 s on a 100 KB file (Wieliczka 2023, 94 KB), under 1 s on the
largest (Łódź 2022, 3.7 MB), under 200 MB.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_tally import machine  # noqa: E402

DEFAULT_DATA = Path(os.environ.get("PABULIB_DIR", "/work/shared/pabulib"))
FILES = [
    "Poland_Wieliczka_2023_Green_Budget.pb",
    "Poland_Lodz_2022.pb",
    "Poland_Wroclaw_2020.pb",
    "Poland_Krakow_2021.pb",
]


def _timed(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one child process."""
    started = time.perf_counter()
    pid = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(pid.pid, 0)
    wall = time.perf_counter() - started
    pid.returncode = os.waitstatus_to_exitcode(status)
    if pid.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed: {pid.stderr.read().decode()[-500:]}")
    return wall, usage.ru_maxrss / 1024


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--files", nargs="*", default=FILES)
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"no pabulib data at {args.data}: skipped (set PABULIB_DIR)")
        return 0
    py = sys.executable
    print(machine())
    print(f"{'file':40} {'KB':>6} {'cli s':>7} {'MB':>6} {'numpy s':>8} {'manage.py s':>12}")
    floor = [py, "-c", "import numpy"]
    for i, name in enumerate(args.files):
        path = args.data / name
        cli = [py, "-m", "budgets.tally", str(path), "--rule", "mes-add1", "--complete-greedy"]
        django = [py, "manage.py", "tally", str(path), "--rule", "mes-add1", "--complete-greedy"]
        ours, mem, base, dj = [], [], [], []
        for _ in range(args.repeat):
            wall, rss = _timed(cli)
            ours.append(wall)
            mem.append(rss)
            base.append(_timed(floor)[0])
            if i == 0:
                dj.append(_timed(django)[0])
        manage = f"{statistics.median(dj):12.2f}" if dj else f"{'':12}"
        print(
            f"{name[:40]:40} {path.stat().st_size // 1024:>6} {statistics.median(ours):7.2f} "
            f"{statistics.median(mem):6.0f} {statistics.median(base):8.2f} {manage}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
