"""Vote day: residents cast ballots at a steady rate while 1,000 websockets watch, on PostgreSQL +
Redis with 4 uvicorn workers.

Half the watchers follow the cycle's results socket (the turnout during the vote, budgets.live),
half follow a hall topic where residents post a few messages a second. Ballots are POSTed through
the no-JavaScript form by distinct voters at a fixed arrival rate (open loop: a ballot's latency
counts from when it was due, so a slow server cannot hide behind a slow client). Prints ballots/s,
p50/p99 ballot latency, websocket delivery p50/p99 (turnout: count -> receipt; hall: post ->
receipt), how stale the turnout got, errors, duplicates (must be 0) and the workers' memory.

    python bench/bench_voteday.py [--ballots 2000] [--watchers 1000] [--seconds 60]

Two client processes hold the sockets (one per kind); this process sends the ballots. Only
127.0.0.1 is used; every wait is bounded. Database yishi_bench_voteday, Redis db 14.
"""

import argparse
import asyncio
import contextlib
import http.client
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_ballots import free_port, setup, start_server  # noqa: E402
from bench.bench_fanout import CONNECT_BATCH, raise_fd_limit, stop  # noqa: E402

DATABASE = "yishi_bench_voteday"
REDIS = "redis://127.0.0.1:6379/14"
DRAIN_SECONDS = 15
SENDER_THREADS = 64  # ballots in flight at most; later ones wait (and their wait is counted)
POSTS_PER_MINUTE = 5  # per poster, under the halls' limit of 6 a minute


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


# --- the server's workers --------------------------------------------------------------------


def worker_pids(server_pid: int) -> list[int]:
    """uvicorn's worker processes: the children of its supervisor started by multiprocessing."""
    pids = []
    for task in Path(f"/proc/{server_pid}/task").iterdir():
        for pid in (task / "children").read_text().split():
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            if b"spawn_main" in cmdline:
                pids.append(int(pid))
    return sorted(pids)


def fetch(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


class Workers:
    """The supervisor's worker processes, sampled now and then: uvicorn kills a worker that does
    not answer its health check within 5 s and starts another, so new pids mean restarts."""

    def __init__(self, server_pid: int):
        self.server_pid = server_pid
        self.seen = set(worker_pids(server_pid))
        self.first = len(self.seen)

    def rss_mib(self) -> list[float]:
        current = worker_pids(self.server_pid)
        self.seen.update(current)
        sizes = []
        for pid in current:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    sizes.append(int(line.split()[1]) / 1024)
        return sizes

    @property
    def restarts(self) -> int:
        return len(self.seen) - self.first

    def kill_leftovers(self) -> None:
        """A worker the supervisor did not wait for (it was killed after the grace period)."""
        for pid in self.seen:
            with contextlib.suppress(OSError):
                if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    os.kill(pid, signal.SIGKILL)


# --- ballots: open-loop HTTP from this process -----------------------------------------------


def ballot_form(cycle: int, proposals: list[int], session: str, index: int) -> tuple[str, dict]:
    token = "v" * 32
    picks = "&".join(f"p{proposals[(index + k) % len(proposals)]}=1" for k in range(2))
    headers = {
        "Cookie": f"sessionid={session}; csrftoken={token}",
        "Content-Type": "application/x-www-form-urlencoded",
        "Host": "127.0.0.1",
        "Referer": "http://127.0.0.1/",
    }
    return f"csrfmiddlewaretoken={token}&ballot=1&{picks}", headers


def cast_ballots(port: int, path: str, forms: list, rate: float, start: float) -> list[tuple]:
    """POST each form at `start + i / rate`, each on a fresh connection (every voter has a phone
    of their own); returns (status, latency from the due time, done at)."""
    results: list[tuple] = []
    lock = threading.Lock()

    def one(form, due):
        body, headers = form
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            status = 0
        finally:
            conn.close()
        done = time.time()
        with lock:
            results.append((status, done - due, done))

    with ThreadPoolExecutor(SENDER_THREADS) as pool:
        for index, form in enumerate(forms):
            due = start + index / rate
            time.sleep(max(0.0, due - time.time()))
            pool.submit(one, form, due)
    return results


# --- watchers: websocket clients in their own processes --------------------------------------


async def open_socket(url: str, origin: str, cookie: str | None = None):
    from websockets.asyncio.client import connect

    return await connect(
        url,
        origin=origin,
        additional_headers={"Cookie": cookie} if cookie else None,
        max_queue=None,
        ping_interval=None,
        open_timeout=60,
        compression=None,
    )


async def open_many(count: int, opener) -> tuple[list, int]:
    sockets, failed = [], 0
    for first in range(0, count, CONNECT_BATCH):
        batch = min(CONNECT_BATCH, count - first)
        for result in await asyncio.gather(
            *[opener() for _ in range(batch)], return_exceptions=True
        ):
            if isinstance(result, BaseException):
                failed += 1
            else:
                sockets.append(result)
    return sockets, failed


async def read_line() -> dict:
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    return json.loads(line) if line.strip() else {}


async def measure_lag(lags: list[float], period: float = 0.1) -> None:
    """How late this client's own event loop wakes up: a busy client inflates receipt times."""
    while True:
        due = time.monotonic() + period
        await asyncio.sleep(period)
        lags.append(time.monotonic() - due)


def report(data: dict) -> None:
    print(json.dumps(data), flush=True)


async def watch_results(port: int, cycle: int, count: int) -> None:
    """Watchers of the results socket: every turnout frame as (ballots, counted at, received)."""
    url = f"ws://127.0.0.1:{port}/ws/budgets/cycles/{cycle}/"
    origin = f"http://127.0.0.1:{port}"

    async def opener():
        ws = await open_socket(url, origin)
        await asyncio.wait_for(ws.recv(), timeout=60)  # the count on connect: subscribed
        return ws

    sockets, failed = await open_many(count, opener)
    frames: list[list] = [[] for _ in sockets]
    closed = [0]

    async def listen(index, ws):
        try:
            async for raw in ws:
                now = time.time()
                frame = json.loads(raw)
                if frame.get("type") == "turnout":
                    at = datetime.fromisoformat(frame["at"]).timestamp()
                    frames[index].append((frame["ballots"], at, now))
        except Exception:  # noqa: BLE001 - counted as a closed socket
            pass
        closed[0] += 1

    report({"ready": len(sockets), "failed": failed})
    await read_line()  # start
    lags: list[float] = []
    tasks = [asyncio.create_task(listen(i, ws)) for i, ws in enumerate(sockets)]
    tasks.append(asyncio.create_task(measure_lag(lags)))
    final = (await read_line())["final"]
    deadline = time.monotonic() + DRAIN_SECONDS
    while time.monotonic() < deadline:
        if all(f and f[-1][0] >= final for f in frames):
            break
        await asyncio.sleep(0.2)
    closed_early = closed[0]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*[ws.close() for ws in sockets], return_exceptions=True)
    report(
        {"frames": frames, "failed": failed, "closed": closed_early, "lag": percentile(lags, 0.99)}
    )


async def watch_hall(
    port: int, topic: int, count: int, cookies: list[str], rate: float, seconds: float
) -> None:
    """Watchers of a hall topic and residents posting to it: latency from post to receipt."""
    url = f"ws://127.0.0.1:{port}/ws/deliberation/topics/{topic}/"
    origin = f"http://127.0.0.1:{port}"

    def opener_for(cookie=None):
        async def opener():
            ws = await open_socket(url, origin, cookie)
            while json.loads(await asyncio.wait_for(ws.recv(), timeout=60))["type"] != "ready":
                pass
            return ws

        return opener

    sockets, failed = await open_many(count, opener_for())
    posters = []
    for cookie in cookies:
        poster, poster_failed = await open_many(1, opener_for(cookie))
        posters += poster
        failed += poster_failed
    sent_at: dict[str, float] = {}
    latencies: list[float] = []
    seen: list[set] = [set() for _ in sockets]
    duplicates, closed, refused, gaps, late = [0], [0], [], [0], [0]

    async def listen(index, ws):
        last = 0
        try:
            async for raw in ws:
                now = time.time()
                frame = json.loads(raw)
                if frame.get("type") == "message" and frame["body"] in sent_at:
                    if frame["seq"] in seen[index]:
                        duplicates[0] += 1
                        continue
                    seen[index].add(frame["seq"])
                    latencies.append(now - sent_at[frame["body"]])
                    # static/js/topic-live.js reconnects on a gap and ignores a seq it has passed.
                    gaps[0] += frame["seq"] > last + 1
                    late[0] += frame["seq"] < last
                    last = max(last, frame["seq"])
        except Exception:  # noqa: BLE001 - counted as a closed socket
            pass
        closed[0] += 1

    async def hear_errors(ws):
        async for raw in ws:
            frame = json.loads(raw)
            if frame.get("type") == "error":
                refused.append(frame.get("code"))

    report({"ready": len(sockets), "posters": len(posters), "failed": failed})
    start = (await read_line())["start"]
    tasks = [asyncio.create_task(listen(i, ws)) for i, ws in enumerate(sockets)]
    tasks += [asyncio.create_task(hear_errors(ws)) for ws in posters]
    lags: list[float] = []
    tasks.append(asyncio.create_task(measure_lag(lags)))
    for index in range(int(rate * seconds) if posters else 0):
        await asyncio.sleep(max(0.0, start + index / rate - time.time()))
        body = f"vd:{index}"
        sent_at[body] = time.time()
        await posters[index % len(posters)].send(
            json.dumps({"type": "post", "body": body, "reply_to": None, "client_id": body})
        )
    await read_line()  # the ballots are done
    expected = len(sent_at) * len(sockets)
    deadline = time.monotonic() + DRAIN_SECONDS
    while time.monotonic() < deadline and len(latencies) < expected:
        await asyncio.sleep(0.2)
    closed_early = closed[0]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*[ws.close() for ws in sockets + posters], return_exceptions=True)
    report(
        {
            "posts": len(sent_at),
            "received": len(latencies),
            "expected": expected,
            "p50": statistics.median(latencies) if latencies else float("nan"),
            "p99": percentile(latencies, 0.99),
            "duplicates": duplicates[0],
            "gaps": gaps[0],
            "late": late[0],
            "refused": refused,
            "failed": failed,
            "closed": closed_early,
            "lag": percentile(lags, 0.99),
        }
    )


# --- the run ---------------------------------------------------------------------------------


def add_hall(cycle_id: int) -> int:
    """A public hall of the cycle's village with one open topic (in the freshly set-up database)."""
    from budgets.models import BudgetCycle
    from core.models import User
    from deliberation.models import Hall, Topic

    village = BudgetCycle.objects.get(pk=cycle_id).council
    hall = Hall.objects.create(council=village, title="投票日议事厅", is_public=True)
    author = User.objects.order_by("pk").first()
    return Topic.objects.create(
        hall=hall, author=author, title="今天投票", description="投票日的讨论"
    ).pk


def audit(cycle_id: int, topic_id: int) -> dict:
    """Counted in the database after the run: one participation and one ballot per voter."""
    from django.db.models import Count

    from budgets.models import Participation, SealedBallot
    from deliberation.models import Message

    rows = Participation.objects.filter(cycle_id=cycle_id)
    messages = Message.objects.filter(topic_id=topic_id)
    return {
        "participations": rows.count(),
        "voters": rows.values("voter").distinct().count(),
        "twice": rows.values("voter").annotate(n=Count("pk")).filter(n__gt=1).count(),
        "ballots": SealedBallot.objects.filter(cycle_id=cycle_id).count(),  # sealed till close
        "messages": messages.count(),
        "messages_twice": messages.values("client_id")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count(),
    }


def turnout_figures(frames: list[list], acks: list[float], final: int) -> dict:
    """Delivery (count -> receipt), staleness (K ballots confirmed -> a watcher shows >= K),
    frames per watcher, and whether every watcher ended on the final count."""
    delivery = [recv - at for watcher in frames for _, at, recv in watcher]
    acks = sorted(acks)
    stale = []
    for watcher in frames:
        shown = 0
        for ballots, _, recv in watcher:
            for k in range(shown, min(ballots, len(acks))):
                stale.append(max(0.0, recv - acks[k]))
            shown = max(shown, ballots)
    counted_at = sorted({at for watcher in frames for _, at, _ in watcher})
    gaps = [b - a for a, b in zip(counted_at, counted_at[1:], strict=False)]
    return {
        "p50": statistics.median(delivery) if delivery else float("nan"),
        "p99": percentile(delivery, 0.99),
        "stale_p50": statistics.median(stale) if stale else float("nan"),
        "stale_p99": percentile(stale, 0.99),
        "broadcasts": len(counted_at),
        "min_gap": min(gaps) if gaps else float("nan"),
        "per_watcher": statistics.mean(len(w) for w in frames) if frames else 0,
        "final_seen": sum(1 for w in frames if w and w[-1][0] == final),
    }


def child(args, role: str, env: dict, extra: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, __file__, "--role", role, *extra],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def tell(process: subprocess.Popen, data: dict) -> None:
    process.stdin.write(json.dumps(data) + "\n")
    process.stdin.flush()


def run(args) -> int:
    raise_fd_limit()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
        "DATABASE_POOL": os.environ.get("DATABASE_POOL", "8"),
        "REDIS_URL": args.redis,
        "PYTHONPATH": str(ROOT),
    }
    os.environ.update(env)
    import redis

    redis.Redis.from_url(args.redis).flushdb()
    posters = math.ceil(args.hall_rate * 60 / POSTS_PER_MINUTE) if args.hall_rate else 0
    cycle, proposals, sessions = setup(max(args.ballots, posters), database=DATABASE)
    topic = add_hall(cycle)
    from django.db import connection

    connection.close()
    forms = [ballot_form(cycle, proposals, s, i) for i, s in enumerate(sessions[: args.ballots])]
    rate = args.ballots / args.seconds
    port = free_port()
    server = start_server(port, args.workers, env)
    clients: list[subprocess.Popen] = []
    workers = Workers(server.pid)
    try:
        # Warm every worker up (imports, URL resolver, connection pool) before measuring.
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda _: fetch(port, f"/budgets/cycles/{cycle}/"), range(64)))
        idle = workers.rss_mib()
        half = args.watchers // 2
        common = ["--port", str(port)]
        clients = [
            child(args, "results", env, [*common, "--cycle", str(cycle), "--count", str(half)]),
            child(
                args,
                "hall",
                env,
                [
                    *common,
                    "--topic",
                    str(topic),
                    "--count",
                    str(args.watchers - half),
                    "--hall-rate",
                    str(args.hall_rate),
                    "--seconds",
                    str(args.seconds),
                    "--cookies",
                    ",".join(sessions[:posters]),
                ],
            ),
        ]
        started = time.monotonic()
        ready = [json.loads(c.stdout.readline()) for c in clients]
        connect_s = time.monotonic() - started
        watching = workers.rss_mib()
        start = time.time() + 1
        for c in clients:
            tell(c, {"start": start})
        sent = cast_ballots(port, f"/budgets/cycles/{cycle}/vote/", forms, rate, start)
        wall = max(done for _, _, done in sent) - start
        loaded = workers.rss_mib()
        import django

        django.setup()
        counts = audit(cycle, topic)
        for c in clients:
            tell(c, {"final": counts["participations"]})
        results, hall = (json.loads(c.stdout.readline()) for c in clients)
        for c in clients:
            c.wait(timeout=60)
        counts.update({k: v for k, v in audit(cycle, topic).items() if k.startswith("messages")})
    finally:
        for c in clients:
            if c.poll() is None:
                c.kill()
        workers.rss_mib()
        stop(server)
        workers.kill_leftovers()
    connection.close()

    statuses: dict[int, int] = {}
    for status, _, _ in sent:
        statuses[status] = statuses.get(status, 0) + 1
    ok = [latency for status, latency, _ in sent if status == 302]
    acks = [done for status, _, done in sent if status == 302]
    turnout = turnout_figures(results["frames"], acks, counts["participations"])
    errors = len(sent) - len(ok)
    ws_errors = (
        ready[0]["failed"] + ready[1]["failed"] + results["closed"] + hall["closed"]
    ) + len(hall["refused"])
    duplicates = (
        counts["participations"]
        - counts["voters"]
        + counts["twice"]
        + abs(counts["ballots"] - counts["participations"])
        + counts["messages_twice"]
        + hall["duplicates"]
    )
    ms = 1000
    print(
        f"vote day: {args.ballots} ballots over {args.seconds:g} s (open loop, {rate:.1f}/s), "
        f"{ready[0]['ready']} results watchers + {ready[1]['ready']} hall watchers "
        f"(+{ready[1]['posters']} posters, {args.hall_rate:g} posts/s); uvicorn x{args.workers}, "
        f"PostgreSQL + Redis; sockets connected in {connect_s:.1f} s"
    )
    print(
        f"ballots: {len(ok) / wall:.1f}/s achieved (offered {rate:.1f}/s), "
        f"p50 {statistics.median(ok) * ms if ok else float('nan'):.0f} ms, "
        f"p99 {percentile(ok, 0.99) * ms:.0f} ms; statuses {statuses}"
    )
    print(
        f"turnout frames: delivery p50 {turnout['p50'] * ms:.0f} ms, "
        f"p99 {turnout['p99'] * ms:.0f} ms "
        f"(count -> receipt); staleness p50 {turnout['stale_p50'] * ms:.0f} ms, "
        f"p99 {turnout['stale_p99'] * ms:.0f} ms (ballot confirmed -> shown); "
        f"{turnout['broadcasts']} broadcasts, closest two counts "
        f"{turnout['min_gap'] * ms:.0f} ms apart, "
        f"{turnout['per_watcher']:.1f} frames per watcher; "
        f"final count seen by {turnout['final_seen']}/{len(results['frames'])}"
    )
    print(
        f"hall messages: {hall['posts']} posted, delivery p50 {hall['p50'] * ms:.0f} ms, "
        f"p99 {hall['p99'] * ms:.0f} ms (post -> receipt); "
        f"received {hall['received']}/{hall['expected']}; posts refused: {hall['refused'] or 0}; "
        f"out of order at a watcher: {hall['late']} late, {hall['gaps']} gaps "
        "(static/js/topic-live.js reconnects on a gap and drops a late one)"
    )
    print(
        f"client event-loop lag p99: results watchers {results['lag'] * ms:.0f} ms, hall "
        f"{hall['lag'] * ms:.0f} ms (included in the delivery figures above)"
    )
    print(
        f"worker RSS MiB (each): idle {fmt(idle)}; {args.watchers} sockets open {fmt(watching)}; "
        f"after the ballots {fmt(loaded)}; workers restarted by uvicorn's health check: "
        f"{workers.restarts}"
    )
    print(
        f"errors: {errors} HTTP, {ws_errors} websocket (failed to open, closed, refused posts); "
        f"participations {counts['participations']}, distinct voters {counts['voters']}, "
        f"ballots {counts['ballots']}, hall messages stored {counts['messages']}; "
        f"duplicates: {duplicates}"
    )
    return 0 if errors == 0 and ws_errors == 0 and duplicates == 0 else 1


def fmt(sizes: list[float]) -> str:
    return " / ".join(f"{s:.0f}" for s in sizes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=2000)
    parser.add_argument("--watchers", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--hall-rate", type=float, default=3, help="hall posts per second")
    parser.add_argument("--redis", default=REDIS)
    parser.add_argument("--role", choices=["results", "hall"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--cycle", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--topic", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--cookies", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "results":
        raise_fd_limit()
        asyncio.run(watch_results(args.port, args.cycle, args.count))
        return 0
    if args.role == "hall":
        raise_fd_limit()
        cookies = [f"sessionid={c}" for c in args.cookies.split(",") if c]
        asyncio.run(
            watch_hall(args.port, args.topic, args.count, cookies, args.hall_rate, args.seconds)
        )
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
