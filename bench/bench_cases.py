"""The cases desk at city scale: 3,000 councils, 10,000 then 1,000,000 cases over two years.

On PostgreSQL (DATABASE_URL, or the local server at 127.0.0.1:5432; skipped without one), in a
database of its own (`yishi_bench_cases`, rebuilt each run):

- the township board and a district's board (open cases by level and age, and the oldest),
  through Django's whole request stack as an official: p50/p95 and SQL queries;
- a district's figures page (closure rate, on-time rate, median time to close, satisfaction,
  reopen rate, by level and category: summed from the precomputed CaseFigure rows) against the
  same figures computed from the raw cases in one GROUP BY (the baseline: what a page would do
  without precomputed figures), measured in the same run;
- rebuilding all figures, and building one week's summaries (一周一结) for every grid and
  village.

Both sizes run on the same tree, one after the other, so the ratio of 1,000,000 to 10,000 shows
how the cost grows with the number of cases.
"""

import datetime
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

DB_NAME = "yishi_bench_cases"
SIZES = (10_000, 1_000_000)
REPEAT = 40
# The tree: a city, DISTRICTS districts of TOWNSHIPS townships of VILLAGES villages of GRIDS grids.
DISTRICTS, TOWNSHIPS, VILLAGES, GRIDS = 4, 10, 15, 4  # 1 + 4 + 40 + 600 + 2,400 = 3,045 councils
NOW = datetime.datetime(2026, 11, 30, 12, 0, tzinfo=datetime.UTC)
DAYS = 730


def pg_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        url = "postgres://postgres@127.0.0.1:5432/postgres"
    probe = subprocess.run(
        ["psql", url, "-Atc", "select 1"], capture_output=True, text=True, check=False
    )
    if probe.returncode != 0:
        return None
    return url.rsplit("/", 1)[0] + "/" + DB_NAME


def build_tree() -> dict:
    from django.core.management import call_command

    from councils.models import CouncilPage, Level
    from tests.councils.factories import home_page

    call_command("migrate", verbosity=0)
    home = home_page()
    city = CouncilPage(title="大城市", slug="bench-city", level=Level.CITY)
    home.add_child(instance=city)
    first = {}
    for d in range(DISTRICTS):
        district = CouncilPage(title=f"第{d}区", slug=f"d{d}", level=Level.DISTRICT)
        city.add_child(instance=district)
        for t in range(TOWNSHIPS):
            town = CouncilPage(title=f"{d}区{t}镇", slug=f"t{t}", level=Level.TOWNSHIP)
            district.add_child(instance=town)
            for v in range(VILLAGES):
                village = CouncilPage(title=f"{d}区{t}镇{v}村", slug=f"v{v}", level=Level.VILLAGE)
                town.add_child(instance=village)
                for g in range(GRIDS):
                    grid = CouncilPage(title=f"第{g}网格", slug=f"g{g}", level=Level.GRID)
                    village.add_child(instance=grid)
            first.setdefault("township", town)
        first.setdefault("district", district)
    first["city"] = city
    first["councils"] = CouncilPage.objects.count()
    return first


def reused_tree() -> dict | None:
    """The tree of an earlier run (BENCH_CASES_REUSE=1), its cases and figures emptied."""
    from django.core.management import call_command
    from django.db import connection

    from councils.models import CouncilPage, Level

    call_command("migrate", verbosity=0)
    if CouncilPage.objects.count() < 3000:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE cases_caseevent, cases_casefigure, cases_caseclosetime, cases_townshipfigure,"
            " cases_townshipclosetime, cases_weeklysummary, cases_caseparty, cases_case CASCADE"
        )
    return {
        "city": CouncilPage.objects.get(level=Level.CITY),
        "district": CouncilPage.objects.filter(level=Level.DISTRICT).order_by("path").first(),
        "township": CouncilPage.objects.filter(level=Level.TOWNSHIP).order_by("path").first(),
        "councils": CouncilPage.objects.count(),
    }


def add_cases(count: int, start_id: int) -> None:
    """`count` cases spread over every grid and village, reported over the last two years; the
    recent ones partly open, some overdue, some reopened; in one INSERT … SELECT."""
    from django.db import connection

    from core.models import User

    reporter = User.objects.get_or_create(username="bench-reporter", defaults={"phone": "100"})[0]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE TEMP TABLE IF NOT EXISTS bench_places AS
            SELECT row_number() OVER (ORDER BY c.page_ptr_id) - 1 AS n, c.page_ptr_id AS id,
                   p.path AS path,
                   (SELECT t.page_ptr_id FROM councils_councilpage t
                      JOIN wagtailcore_page tp ON tp.id = t.page_ptr_id
                     WHERE t.level = 'township' AND p.path LIKE tp.path || '%%') AS township
              FROM councils_councilpage c JOIN wagtailcore_page p ON p.id = c.page_ptr_id
             WHERE c.level IN ('grid', 'village')
            """
        )
        cursor.execute("SELECT count(*) FROM bench_places")
        (places,) = cursor.fetchone()
        cursor.execute(
            """
            INSERT INTO cases_case (
              council_id, council_path, township_id, handler_council_id, reporter_id, source,
              category, level, title, description, place, public, status, reported_at,
              accept_due, resolve_due, promised_by, accepted_at, resolved_at, closed_at,
              on_time, satisfaction, reopened, escalations, changed_at)
            SELECT pl.id, pl.path, pl.township, pl.id, %(reporter)s,
                   (ARRAY['grid_report','demand','dispute','visit','grid_report'])[1 + g %% 5],
                   (ARRAY['roads','sanitation','safety','order','neighbours','land','welfare',
                          'wages','other'])[1 + (g / 7) %% 9],
                   (ARRAY['routine','routine','routine','priority','difficult'])[1 + (g / 3) %% 5],
                   '路灯不亮', '村口路灯坏了', '村口', (g %% 5) IN (0, 4), s.status, s.at,
                   s.at + interval '24 hours', s.at + interval '7 days', s.at + interval '7 days',
                   CASE WHEN s.status <> 'reported' THEN s.at + interval '3 hours' END,
                   CASE WHEN s.status = 'closed' THEN s.at + s.took END,
                   CASE WHEN s.status = 'closed' THEN s.at + s.took + interval '1 hour' END,
                   CASE WHEN s.status = 'closed' THEN s.took <= interval '7 days' END,
                   CASE WHEN s.status = 'closed' THEN 1 + (g * 7) %% 5 END,
                   CASE WHEN g %% 23 = 0 THEN 1 ELSE 0 END, 0, s.at
              FROM generate_series(%(start)s::bigint, %(stop)s::bigint) AS g
              JOIN bench_places pl ON pl.n = (g * 7919) %% %(places)s
              CROSS JOIN LATERAL (
                SELECT %(now)s::timestamptz
                         - (((g * 104729) %% (%(days)s * 1440)) || ' minutes')::interval AS at,
                       ((1 + (g * 31) %% 300) || ' hours')::interval AS took
              ) AS t
              CROSS JOIN LATERAL (
                SELECT t.at, t.took,
                       CASE WHEN t.at > %(now)s::timestamptz - interval '10 days' AND g %% 3 = 0
                            THEN (ARRAY['reported','accepted','in_hand','resolved'])[1 + g %% 4]
                            WHEN g %% 97 = 0 THEN 'in_hand'
                            ELSE 'closed' END AS status
              ) AS s
            """,
            {
                "reporter": reporter.pk,
                "start": start_id,
                "stop": start_id + count - 1,
                "places": places,
                "now": NOW,
                "days": DAYS,
            },
        )
        cursor.execute("ANALYZE cases_case")


def timed(fn, repeat=REPEAT) -> tuple[float, float]:
    fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def queries_of(fn) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        fn()
    return len(captured)


def baseline_rollup(council) -> list:
    """The district's figures straight from the raw cases: one GROUP BY over its subtree."""
    from django.db.models import Avg, Count, F, Q

    from cases.models import Case

    return list(
        Case.objects.in_subtree(council)
        .values("level", "category")
        .annotate(
            reported=Count("pk"),
            closed=Count("pk", filter=Q(status="closed")),
            on_time=Count("pk", filter=Q(on_time=True)),
            reopened=Count("pk", filter=Q(reopened__gt=0)),
            satisfaction=Avg("satisfaction"),
            took=Avg(F("closed_at") - F("reported_at")),
        )
    )


def measure(places: dict, official) -> dict:
    from django.test import Client
    from django.urls import reverse

    from cases import figures, summaries

    client = Client()
    client.force_login(official)
    township, district = places["township"], places["district"]
    out = {}
    started = time.perf_counter()
    figures.rebuild(now=NOW)
    out["rebuild all figures (s)"] = time.perf_counter() - started
    monday = (NOW - datetime.timedelta(days=NOW.weekday() + 7)).date()
    started = time.perf_counter()
    summaries.build_week(week_start=monday, now=NOW)
    out["weekly summaries, all grids and villages (s)"] = time.perf_counter() - started
    pages = {
        "township board": reverse("cases:board", args=[township.pk]),
        "district board": reverse("cases:board", args=[district.pk]),
        "district figures": reverse("cases:figures", args=[district.pk]),
    }
    for name, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        out[name] = (*timed(lambda u=url: client.get(u)), queries_of(lambda u=url: client.get(u)))
    # The first request after a rebuild: the sums read again from the figure rows.
    url = pages["district figures"]
    out["district figures, first after a rebuild"] = (
        *timed(lambda: (figures._figures_changed(), client.get(url)), repeat=10),
        queries_of(lambda: (figures._figures_changed(), client.get(url))),
    )
    out["district roll-up from raw cases (baseline)"] = (
        *timed(lambda: baseline_rollup(district), repeat=10),
        1,
    )
    return out


def child(url: str) -> None:
    import json

    os.environ["DATABASE_URL"] = url
    import django

    django.setup()
    from councils.models import Role
    from tests.councils.factories import member

    started = time.perf_counter()
    places = reused_tree() if os.environ.get("BENCH_CASES_REUSE") else None
    if places is None:
        places = build_tree()
    official = member(places["city"], Role.OFFICIAL)
    built = time.perf_counter() - started
    results = {}
    done = 0
    for size in SIZES:
        started = time.perf_counter()
        add_cases(size - done, done + 1)
        inserted = time.perf_counter() - started
        done = size
        results[size] = {"insert (s)": inserted, **measure(places, official)}
    print(
        json.dumps(
            {"councils": places["councils"], "build_s": built, "results": results},
            ensure_ascii=False,
        )
    )


def main() -> int:
    import json

    if len(sys.argv) == 2:
        child(sys.argv[1])
        return 0
    url = pg_url()
    if url is None:
        print("skipped: no PostgreSQL at DATABASE_URL or 127.0.0.1:5432")
        return 0
    admin = url.rsplit("/", 1)[0] + "/postgres"
    subprocess.run(
        ["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)"], check=True
    )
    subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {DB_NAME}"], check=True)
    result = subprocess.run(
        [sys.executable, __file__, url], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        print(result.stdout[-3000:], result.stderr[-3000:])
        return 1
    data = json.loads(result.stdout.strip().splitlines()[-1])
    small, large = (data["results"][str(size)] for size in SIZES)
    print(f"councils: {data['councils']} (tree built in {data['build_s']:.0f} s); PostgreSQL")
    print(f"{'':46} {'10,000 cases':>16} {'1,000,000 cases':>17} {'ratio':>6}")
    for name, value in small.items():
        other = large[name]
        if isinstance(value, float):
            print(f"{name:46} {value:15.1f}s {other:16.1f}s {other / value:6.1f}")
        else:
            p50, p95, queries = value
            l50, l95, lq = other
            print(
                f"{name:46} {p50:6.1f}/{p95:<6.1f}ms {l50:7.1f}/{l95:<6.1f}ms {l95 / p95:6.1f}"
                f"  queries {queries}/{lq}"
            )
    board, base = large["district figures"], large["district roll-up from raw cases (baseline)"]
    print(
        f"district figures at 1,000,000: precomputed {board[1]:.1f} ms p95 vs raw GROUP BY "
        f"{base[1]:.1f} ms p95 (baseline), {base[1] / board[1]:.0f}x"
    )
    print("goals: boards and roll-up under 200 ms p95 with constant queries; summaries under 300 s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
