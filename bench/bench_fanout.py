"""Live-debate fan-out: N websocket clients on one topic, one poster, against a bare server.

    python bench/bench_fanout.py [--clients 100,500,1000] [--messages 20] [--interval 0.25]

For each N it starts Yishi under uvicorn (one worker; the in-memory channel layer, or Redis when
REDIS_URL is set) on a temporary SQLite database, connects N anonymous watchers and one signed-in
poster to the same topic, and measures, for every message and every watcher, the time from the
poster's send to the watcher's receipt. It then does the same against a bare `websockets` server
that just re-broadcasts each post (no Django, no channel layer, no database): the floor. It prints
p50/p99 latency and lost messages for both, and the ratio of the p99s.

Only 127.0.0.1 is used. Each run is bounded in time (connect + send + a drain timeout).
"""

import argparse
import asyncio
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DRAIN_SECONDS = 10
CONNECT_BATCH = 50


# --- servers ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 65536
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


def write_settings(directory: Path, db_path: Path) -> None:
    (directory / "bench_settings.py").write_text(
        textwrap.dedent(f"""
        from yishi.settings.test import *  # noqa: F403

        DATABASES = {{"default": {{"ENGINE": "django.db.backends.sqlite3",
                                   "NAME": {str(db_path)!r},
                                   "OPTIONS": {{"timeout": 30, "init_command":
                                       "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}}}}}}
        YISHI_DELIBERATION_POST_RATE = None
        LOGGING = {{"version": 1, "disable_existing_loggers": False,
                    "handlers": {{"e": {{"class": "logging.StreamHandler"}}}},
                    "root": {{"handlers": ["e"], "level": "ERROR"}}}}
        """),
        encoding="utf-8",
    )


def setup_database() -> None:
    """Run in a subprocess with the bench settings: migrate and make a hall, topic and poster."""
    import django

    django.setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command

    from core.models import User
    from councils.models import CouncilPage, Level, Membership, MembershipStatus
    from deliberation.models import Hall, Topic
    from home.models import HomePage

    call_command("migrate", verbosity=0)
    village = CouncilPage(title="压测村", slug="bench-village", level=Level.VILLAGE)
    HomePage.objects.get().add_child(instance=village)
    poster = User.objects.create_user(phone="13900000000", display_name="压测员")
    Membership.objects.create(user=poster, council=village, status=MembershipStatus.VERIFIED)
    hall = Hall.objects.create(council=village, title="压测议事厅")
    topic = Topic.objects.create(hall=hall, author=poster, title="压测", description="fan-out")
    session = SessionStore()
    session[SESSION_KEY] = str(poster.pk)
    session[BACKEND_SESSION_KEY] = "councils.backends.AuthenticationBackend"
    session[HASH_SESSION_KEY] = poster.get_session_auth_hash()
    session.save()
    print(json.dumps({"topic": topic.pk, "cookie": f"sessionid={session.session_key}"}))


async def bare_server(port: int) -> None:
    """The floor: a websockets server that re-broadcasts each post to every client."""
    from websockets.asyncio.server import broadcast, serve

    clients = set()

    async def handler(ws):
        clients.add(ws)
        await ws.send(json.dumps({"type": "ready", "last_seq": 0}))
        seq = 0
        try:
            async for raw in ws:
                data = json.loads(raw)
                seq += 1
                broadcast(
                    clients,
                    json.dumps(
                        {"type": "message", "seq": seq, "body": data["body"]}, ensure_ascii=False
                    ),
                )
        finally:
            clients.discard(ws)

    async with serve(
        handler, "127.0.0.1", port, max_queue=None, ping_interval=None, compression=None
    ):
        await asyncio.get_running_loop().create_future()


def wait_until_up(port: int, process: subprocess.Popen, path: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server on {port} exited with {process.returncode}")
        try:
            if path:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1):
                    return
            else:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server on {port} did not start")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --- clients ---------------------------------------------------------------------------------


async def run_round(
    url: str,
    origin: str,
    cookie: str | None,
    clients: int,
    messages: int,
    interval: float,
    tag: str,
) -> dict:
    from websockets.asyncio.client import connect

    sent_at: dict[str, float] = {}
    per_body: dict[str, int] = {}
    latencies: list[float] = []
    received = 0
    done = asyncio.Event()
    expected = clients * messages

    heard: set[int] = set()

    async def watch(index, ws):
        nonlocal received
        async for raw in ws:
            heard.add(index)
            now = time.perf_counter()
            frame = json.loads(raw)
            if frame.get("type") == "message" and frame.get("body") in sent_at:
                latencies.append(now - sent_at[frame["body"]])
                per_body[frame["body"]] = per_body.get(frame["body"], 0) + 1
                received += 1
                if received >= expected:
                    done.set()

    async def open_one(headers=None):
        ws = await connect(
            url,
            origin=origin,
            additional_headers=headers,
            max_queue=None,
            ping_interval=None,
            open_timeout=60,
            compression=None,
        )
        while json.loads(await ws.recv()).get("type") != "ready":
            pass
        return ws

    watchers = []
    started = time.perf_counter()
    for i in range(0, clients, CONNECT_BATCH):
        batch = min(CONNECT_BATCH, clients - i)
        watchers += await asyncio.gather(*[open_one() for _ in range(batch)])
    connect_seconds = time.perf_counter() - started
    poster = await open_one({"Cookie": cookie} if cookie else None)
    tasks = [asyncio.create_task(watch(i, ws)) for i, ws in enumerate(watchers)]
    for i in range(messages):
        body = f"bench:{tag}:{i}"
        sent_at[body] = time.perf_counter()
        await poster.send(
            json.dumps(
                {"type": "post", "body": body, "reply_to": None, "client_id": f"bench-{tag}-{i}"}
            )
        )
        await asyncio.sleep(interval)
    try:
        await asyncio.wait_for(done.wait(), timeout=DRAIN_SECONDS)
    except TimeoutError:
        pass
    silent = [(i, ws.state.name, ws.close_code) for i, ws in enumerate(watchers) if i not in heard]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*[ws.close() for ws in watchers + [poster]], return_exceptions=True)
    latencies.sort()
    return {
        "connect_s": connect_seconds,
        "p50_ms": 1000 * statistics.median(latencies) if latencies else float("nan"),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))] if latencies else float("nan"),
        "lost": expected - received,
        "silent": silent[:10],
        "short": {b: clients - per_body.get(b, 0) for b in sent_at if per_body.get(b, 0) < clients},
    }


# --- main ------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="100,500,1000")
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--interval", type=float, default=0.25)
    parser.add_argument("--setup", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--bare-server", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.setup:
        setup_database()
        return 0
    if args.bare_server:
        asyncio.run(bare_server(args.bare_server))
        return 0

    limit = raise_fd_limit()
    counts = [int(n) for n in args.clients.split(",")]
    layer = "Redis" if os.environ.get("REDIS_URL") else "in-memory"
    print(
        f"fan-out: {args.messages} messages, one every {args.interval}s; channel layer "
        f"{layer}; uvicorn, 1 worker, no per-message deflate (bare server: same); "
        f"RLIMIT_NOFILE {limit}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        write_settings(tmp_path, tmp_path / "bench.sqlite3")
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench_settings",
            "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
        }
        env.pop("DATABASE_URL", None)
        made = subprocess.run(
            [sys.executable, __file__, "--setup"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        )
        data = json.loads(made.stdout.strip().splitlines()[-1])
        header = (
            f"{'clients':>7}  {'yishi p50':>9}  {'yishi p99':>9}  {'lost':>4}  "
            f"{'bare p50':>8}  {'bare p99':>8}  {'lost':>4}  {'p99 ratio':>9}"
        )
        rows = []
        for round_no, clients in enumerate(counts):
            after = round_no * args.messages  # only the bench posts, and seq has no gaps
            port = free_port()
            yishi = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "yishi.asgi:application",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--log-level",
                    "error",
                    "--backlog",
                    "4096",
                    # Chat frames are a few hundred bytes: deflate costs more than it saves.
                    "--ws-per-message-deflate",
                    "false",
                    # The harness shares the CPU and may answer pings late while it opens 1,000
                    # sockets; the bare server sends no pings either.
                    "--ws-ping-interval",
                    "600",
                ],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=open(os.environ.get("BENCH_SERVER_LOG", os.devnull), "ab"),
            )
            try:
                wait_until_up(port, yishi, "/healthz")
                ours = asyncio.run(
                    run_round(
                        f"ws://127.0.0.1:{port}/ws/deliberation/topics/{data['topic']}/?after={after}",
                        f"http://127.0.0.1:{port}",
                        data["cookie"],
                        clients,
                        args.messages,
                        args.interval,
                        f"y{clients}",
                    )
                )
            finally:
                stop(yishi)
            port = free_port()
            bare = subprocess.Popen(
                [sys.executable, __file__, "--bare-server", str(port)],
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                wait_until_up(port, bare, "")
                floor = asyncio.run(
                    run_round(
                        f"ws://127.0.0.1:{port}/",
                        None,
                        None,
                        clients,
                        args.messages,
                        args.interval,
                        f"b{clients}",
                    )
                )
            finally:
                stop(bare)
            ratio = ours["p99_ms"] / floor["p99_ms"] if floor["p99_ms"] else float("nan")
            rows.append(
                f"{clients:>7}  {ours['p50_ms']:>7.1f}ms  {ours['p99_ms']:>7.1f}ms  "
                f"{ours['lost']:>4}  {floor['p50_ms']:>6.1f}ms  {floor['p99_ms']:>6.1f}ms"
                f"  {floor['lost']:>4}  {ratio:>8.2f}x"
            )
            print(header if len(rows) == 1 else "", end="\n" if len(rows) == 1 else "")
            print(
                rows[-1],
                f"   (connect {ours['connect_s']:.1f}s vs {floor['connect_s']:.1f}s)",
                flush=True,
            )
            if ours["short"]:
                print(f"        yishi messages short of {clients} receivers: {ours['short']}")
                print(f"        watchers that heard nothing: {ours['silent']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
