"""Spreadsheet import of 20,000 lines: read + check (parse) and save as a draft (bulk insert).

Builds a 20,000-line .xlsx like a village accountant's export, then measures in the same run:
  ours      excel.read_lines (streaming, every cell checked, Decimal amounts) and
            services.save_import (draft record + bulk_create, every line checked again)
  baseline  openpyxl read_only plain iteration of the same file (values_only, nothing checked),
            and csv.reader over the same data as CSV
Prints the median time of REPEAT runs and the peak Python memory (tracemalloc, separate run),
then the ratios ours / baseline. Uses DATABASE_URL if set (PostgreSQL), else a SQLite file.

    python bench/bench_excel.py [--rows 20000]
"""

import argparse
import csv
import datetime
import io
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yishi.settings.test")
REPEAT = 3


def make_rows(n: int) -> list[list]:
    accounts = ["管理费用", "公益事业支出", "村集体收入", "经营支出", "其他收入"]
    rows = []
    for i in range(n):
        day = datetime.date(2025, 3, 1 + i % 31)
        amount = Decimal(f"{(i * 37) % 90000 + 1}.{i % 100:02d}")
        income = amount if i % 3 == 0 else None
        rows.append(
            [
                day,
                f"记-{i + 1:05d}",
                accounts[i % 5],
                f"第{i + 1}笔 摘要说明",
                float(income) if income else None,
                None if income else float(amount),
                f"往来单位{i % 97}",
            ]
        )
    return rows


def make_xlsx(rows) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(["日期", "凭证号", "科目", "摘要", "收入", "支出", "往来单位"])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def make_csv(rows) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["日期", "凭证号", "科目", "摘要", "收入", "支出", "往来单位"])
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return buffer.getvalue()


def timed(fn, repeat=REPEAT):
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def peak_mib(fn) -> float:
    tracemalloc.start()
    fn()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="yishi-bench-excel-"))
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from councils.models import Role
    from disclosure import excel, services
    from disclosure.models import ImportBatch, ImportStatus
    from tests.councils.factories import make_tree, member

    settings.MEDIA_ROOT = workdir
    call_command("migrate", verbosity=0)
    village = make_tree()["village"]
    committee = member(village, Role.COMMITTEE)

    rows = make_rows(args.rows)
    data = make_xlsx(rows)
    csv_text = make_csv(rows)
    period = {"period_start": datetime.date(2025, 3, 1), "period_end": datetime.date(2025, 3, 31)}
    print(
        f"{args.rows} lines, .xlsx {len(data) / 2**20:.2f} MiB, "
        f"database {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}"
    )

    def parse():
        result = excel.read_lines(io.BytesIO(data), **period)
        assert result.ok and len(result.lines) == args.rows, result.problems[:3]
        return result

    def save():
        result = parse()
        batch = ImportBatch.objects.create(
            council=village,
            created_by=committee,
            record_type="statement",
            period_kind="month",
            title="基准测试",
            original_name="bench.xlsx",
            size=len(data),
            status=ImportStatus.READY,
            result=result.as_json(),
            **period,
        )
        record = services.save_import(batch=batch, by=committee)
        assert record.lines.count() == args.rows

    def openpyxl_plain():
        from openpyxl import load_workbook

        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        count = sum(1 for _row in workbook.worksheets[0].iter_rows(values_only=True))
        workbook.close()
        assert count == args.rows + 1

    def csv_plain():
        assert sum(1 for _row in csv.reader(io.StringIO(csv_text))) == args.rows + 1

    measured = {
        "ours: read + check": parse,
        "ours: read + check + save": save,
        "baseline: openpyxl read_only iteration": openpyxl_plain,
        "baseline: csv.reader": csv_plain,
    }
    # Rounds interleave ours and the baselines, so a busy machine slows both alike.
    times = {name: [] for name in measured}
    for _round in range(REPEAT):
        for name, fn in measured.items():
            times[name].append(timed(fn, repeat=1))
    results = {
        name: (statistics.median(times[name]), peak_mib(fn)) for name, fn in measured.items()
    }
    width = max(len(name) for name in results)
    print(f"{'':{width}}  {'median s':>9}  {'peak MiB':>9}  {'rows/s':>9}")
    for name, (seconds, mib) in results.items():
        print(f"{name:{width}}  {seconds:9.3f}  {mib:9.1f}  {args.rows / seconds:9.0f}")
    base_t, base_m = results["baseline: openpyxl read_only iteration"]
    for name in ("ours: read + check", "ours: read + check + save"):
        seconds, mib = results[name]
        print(
            f"ratio {name} / openpyxl iteration: time {seconds / base_t:.2f}x, "
            f"memory {mib / base_m:.2f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
