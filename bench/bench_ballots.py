"""Ballot submissions per second through the real HTTP stack, beside a minimal Django view.

PostgreSQL (+ Redis for cache and sessions when REDIS_URL is set), uvicorn with 4 workers.
Every voter casts one ballot by POSTing the no-JavaScript ballot form with a session cookie;
10% of them try a second time (must be refused). The baseline is a Django view doing one
INSERT, through the same server, client and concurrency. Prints throughput, p50/p99 latency,
errors and duplicates (must be 0), and the ratio ours / baseline.

    python bench/bench_ballots.py [--voters 2000] [--concurrency 32] [--workers 4]
"""

import argparse
import datetime
import http.client
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG = "postgres://postgres@127.0.0.1:5432/yishi_bench_ballots"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def setup(voters: int, database: str = "yishi_bench_ballots") -> tuple[int, list[int], list[str]]:
    """Fresh database, a village, a cycle in its vote phase, voters with signed-in sessions."""
    subprocess.run(
        ["dropdb", "--if-exists", "-h", "127.0.0.1", "-U", "postgres", database], check=True
    )
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", database], check=True)
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.core.management import call_command
    from django.db import connection
    from django.utils.module_loading import import_string

    from core.models import User
    from councils.models import Membership
    from tests.budgets.factories import add_proposal, make_cycle
    from tests.councils.factories import make_tree

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_insert (id serial PRIMARY KEY, body text)")
    village = make_tree()["village"]
    cycle = make_cycle(village, phase="vote", max_choices=3)
    proposals = [add_proposal(cycle, f"项目{i}", "10000").pk for i in range(6)]
    users = User.objects.bulk_create(
        User(username=f"1380000{i:04d}", phone=f"1380000{i:04d}", phone_verified=True)
        for i in range(voters)
    )
    Membership.objects.bulk_create(
        Membership(user=u, council=village, status="verified") for u in users
    )
    store_class = import_string(settings.SESSION_ENGINE + ".SessionStore")
    cookies = []
    for user in users:
        session = store_class()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "councils.backends.AuthenticationBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        cookies.append(session.session_key)
    return cycle.pk, proposals, cookies


def start_server(port: int, workers: int, env: dict) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "yishi.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise RuntimeError("server did not start")


class Client(threading.local):
    pass


def run_load(port: int, requests: list[tuple[str, str, dict]], concurrency: int):
    local = Client()
    latencies, statuses = [], []
    lock = threading.Lock()

    def one(item):
        method, path, headers_body = item
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        started = time.perf_counter()
        try:
            local.conn.request(
                method, path, body=headers_body.get("body"), headers=headers_body.get("headers", {})
            )
            response = local.conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            local.conn.close()
            local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            status = 0
        elapsed = (time.perf_counter() - started) * 1000
        with lock:
            latencies.append(elapsed)
            statuses.append(status)

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, requests))
    wall = time.perf_counter() - started
    latencies.sort()
    return {
        "rps": len(requests) / wall,
        "p50": statistics.median(latencies),
        "p99": latencies[max(0, int(len(latencies) * 0.99) - 1)],
        "statuses": statuses,
        "latencies": latencies,
        "wall": wall,
    }


def run_round(port, baseline_requests, ballots, index, args):
    """One round: a slice of the baseline's requests, then the same number of ballots."""
    size = -(-len(ballots) // args.rounds)
    chunk = slice(index * size, (index + 1) * size)
    return (
        run_load(port, baseline_requests[chunk], args.concurrency),
        run_load(port, ballots[chunk], args.concurrency),
    )


def merge(results: list[dict]) -> dict:
    """Rounds added up: throughput over the summed wall time, percentiles over all requests."""
    latencies = sorted(x for r in results for x in r["latencies"])
    return {
        "rps": sum(len(r["latencies"]) for r in results) / sum(r["wall"] for r in results),
        "p50": statistics.median(latencies),
        "p99": latencies[max(0, int(len(latencies) * 0.99) - 1)],
        "statuses": [s for r in results for s in r["statuses"]],
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--voters", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": PG,
        "DATABASE_POOL": "8",
        "PYTHONPATH": str(ROOT),
    }
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/3")
    os.environ.update(env)
    cycle, proposals, cookies = setup(args.voters)
    token = "b" * 32
    ballots = []
    for index, session in enumerate(cookies):
        picks = "&".join(f"p{proposals[(index + k) % len(proposals)]}=1" for k in range(2))
        ballots.append(
            (
                "POST",
                f"/budgets/cycles/{cycle}/vote/",
                {
                    "body": f"csrfmiddlewaretoken={token}&ballot=1&{picks}",
                    "headers": {
                        "Cookie": f"sessionid={session}; csrftoken={token}",
                        "Content-Type": "application/x-www-form-urlencoded",
                        "Host": "127.0.0.1",
                        "Referer": "http://127.0.0.1/",
                    },
                },
            )
        )
    repeats = ballots[::10]
    baseline_requests = [
        ("POST", "/bench/insert/", {"body": "x" * 60, "headers": {"Content-Type": "text/plain"}})
        for _ in range(len(ballots))
    ]
    port = free_port()
    server = start_server(port, args.workers, env)
    try:
        # Warm up both paths: each worker builds its URL resolver's tables on the first page
        # that reverses a URL (about 30 ms, in every thread that asks meanwhile).
        run_load(port, baseline_requests[:200], args.concurrency)
        run_load(port, [("GET", f"/budgets/cycles/{cycle}/", {})] * 200, args.concurrency)
        # Alternate the two in rounds, so that whatever else the machine does weighs on both.
        rounds = [run_round(port, baseline_requests, ballots, r, args) for r in range(args.rounds)]
        baseline = merge([b for b, _ in rounds])
        ours = merge([o for _, o in rounds])
        again = run_load(port, repeats, args.concurrency)
    finally:
        server.terminate()
        server.wait(timeout=30)
    import django
    from django.db import connection

    django.setup()
    from budgets.models import Participation, SealedBallot

    participations = Participation.objects.filter(cycle_id=cycle).count()
    distinct = Participation.objects.filter(cycle_id=cycle).values("voter").distinct().count()
    # Sealed until the vote closes (docs/ballots.md): one sealed ballot per participation.
    ballot_count = SealedBallot.objects.filter(cycle_id=cycle).count()
    # The close: every sealed ballot decrypted, shuffled and written as a public ballot, once.
    opening = _time_the_opening(cycle)
    connection.close()
    errors = sum(1 for s in ours["statuses"] if s != 302)
    from collections import Counter

    print(
        "statuses:", dict(Counter(ours["statuses"])), "repeats:", dict(Counter(again["statuses"]))
    )
    refused = sum(1 for s in again["statuses"] if s == 400)
    print(
        f"{args.voters} voters, {args.concurrency} concurrent clients, uvicorn x{args.workers}, "
        f"PostgreSQL{' + Redis' if env.get('REDIS_URL') else ''}"
    )
    print(f"{'':28} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    print(
        f"{'minimal view (1 INSERT)':28} {baseline['rps']:8.1f} {baseline['p50']:8.1f} "
        f"{baseline['p99']:8.1f}"
    )
    print(
        f"{'Yishi ballot submission':28} {ours['rps']:8.1f} {ours['p50']:8.1f} {ours['p99']:8.1f}"
    )
    print(f"ratio ours / baseline throughput: {ours['rps'] / baseline['rps']:.2f} (goal >= 0.5)")
    print(
        f"errors: {errors}; second attempts refused: {refused}/{len(repeats)}; "
        f"participations {participations}, distinct voters {distinct}, ballots {ballot_count}; "
        f"duplicates: {participations - distinct + abs(ballot_count - participations)}"
    )
    print(
        f"opening {opening['ballots']} sealed ballots at the close: {opening['seconds']:.2f} s "
        f"({opening['ballots'] / max(opening['seconds'], 1e-9):.0f} ballots/s), "
        f"public ballots {opening['public']}, count problems {opening['problems']}"
    )
    return 0 if errors == 0 and participations == distinct == ballot_count else 1


def _time_the_opening(cycle_id: int) -> dict:
    from django.utils import timezone

    from budgets import services
    from budgets.models import Ballot, BudgetCycle, Phase, PhaseKind

    Phase.objects.filter(cycle_id=cycle_id, kind=PhaseKind.VOTE).update(
        ends_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    cycle = BudgetCycle.objects.prefetch_related("phases").get(pk=cycle_id)
    started = time.perf_counter()
    opened = services.open_ballots(cycle=cycle)
    seconds = time.perf_counter() - started
    return {
        "ballots": opened,
        "seconds": seconds,
        "public": Ballot.objects.filter(cycle_id=cycle_id).count(),
        "problems": len(services.ballot_count_problems(cycle)),
    }


if __name__ == "__main__":
    sys.exit(main())
