"""Council pages stay fast as the city grows: a 3,000+-council city against the demo city.

Builds two databases (the ~75-council demo city, and a city with 3,000+ councils), renders the
same kinds of page in each through Django's full request stack, and prints the median and p95
time per page side by side with the ratio (large / small; 1.0 means size does not matter) and
the SQL query count of each page. Uses DATABASE_URL if set (PostgreSQL), else SQLite files.
"""

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yishi.settings.test")

REPEAT = 40


def build(size: str) -> None:
    from django.core.management import call_command

    from councils.demo import DemoBuilder
    from councils.models import CouncilPage, Level
    from home.models import HomePage

    call_command("migrate", verbosity=0)
    DemoBuilder(households_per_village=4).build()
    if size == "large":
        home = HomePage.objects.get()
        city = CouncilPage.objects.child_of(home).get()
        count = CouncilPage.objects.count()
        district = 0
        while count < 3100:
            district += 1
            d = CouncilPage(
                title=f"第{district}区", slug=f"bench-d{district}", level=Level.DISTRICT
            )
            city.add_child(instance=d)
            count += 1
            for t in range(10):
                town = CouncilPage(title=f"第{district}区{t}镇", slug=f"t{t}", level=Level.TOWNSHIP)
                d.add_child(instance=town)
                count += 1
                for v in range(15):
                    village = CouncilPage(
                        title=f"{district}区{t}镇{v}村", slug=f"v{v}", level=Level.VILLAGE
                    )
                    town.add_child(instance=village)
                    count += 1


def measure() -> dict[str, tuple[float, float, int]]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from councils.models import CouncilPage, Level

    client = Client()
    village = CouncilPage.objects.filter(slug="liushu").get()
    township = CouncilPage.objects.filter(slug="baisha").get()
    city = CouncilPage.objects.filter(level=Level.CITY).get()
    pages = {
        "city page": city.url,
        "township page": township.url,
        "village page": village.url,
        "search 柳树": "/councils/search/?q=柳树",
        "search 村 (many hits)": "/councils/search/?q=村",
    }
    results = {}
    for name, url in pages.items():
        assert client.get(url).status_code == 200, url
        timings = []
        for _ in range(REPEAT):
            started = time.perf_counter()
            client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        timings.sort()
        results[name] = (
            statistics.median(timings),
            timings[int(len(timings) * 0.95) - 1],
            len(queries),
        )
    return results, CouncilPage.objects.count()


def run_in_child(size: str, db_path: str) -> None:
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = f"sqlite:///{db_path}"
    import django
    from django.conf import settings

    django.setup()
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        settings.DATABASES["default"]["NAME"] = db_path
    started = time.perf_counter()
    build(size)
    built = time.perf_counter() - started
    results, councils = measure()
    import json

    print(json.dumps({"councils": councils, "build_s": built, "results": results}))


def main() -> int:
    import json
    import subprocess

    if len(sys.argv) == 3:
        run_in_child(sys.argv[1], sys.argv[2])
        return 0
    outputs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in ("small", "large"):
            env = dict(os.environ)
            if env.get("DATABASE_URL", "").startswith("postgres"):
                env["DATABASE_URL"] = env["DATABASE_URL"].rsplit("/", 1)[0] + f"/yishi_bench_{size}"
                subprocess.run(
                    [
                        "dropdb",
                        "--if-exists",
                        "-h",
                        "127.0.0.1",
                        "-U",
                        "postgres",
                        f"yishi_bench_{size}",
                    ],
                    check=False,
                )
                subprocess.run(
                    ["createdb", "-h", "127.0.0.1", "-U", "postgres", f"yishi_bench_{size}"],
                    check=True,
                )
            result = subprocess.run(
                [sys.executable, __file__, size, f"{tmp}/{size}.sqlite3"],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            outputs[size] = json.loads(result.stdout.strip().splitlines()[-1])
    small, large = outputs["small"], outputs["large"]
    print(
        f"councils: demo city {small['councils']}, large city {large['councils']} "
        f"(built in {large['build_s']:.0f} s)"
    )
    print(
        f"{'page':24} {'demo ms p50/p95':>16} {'large ms p50/p95':>17} {'ratio':>6} {'queries':>8}"
    )
    for name, (p50, p95, queries) in small["results"].items():
        l50, l95, lq = large["results"][name]
        print(
            f"{name:24} {p50:7.1f}/{p95:<8.1f} {l50:8.1f}/{l95:<8.1f} {l50 / p50:6.2f} "
            f"{queries:>3}/{lq:<3}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
