"""Benchmark the live layer: from a group send to its receipt in 4 worker processes.

Run from the repository root (needs Redis; REDIS_URL, default redis://127.0.0.1:6379/6)::

    python bench/bench_layer.py [--sends 200] [--rounds 2]

Four subscriber processes stand for four uvicorn workers, each with one channel in the group
(a hub); one process sends `--sends` events at 50 a second, each carrying its send time. Ours:
core.realtime.pubsub.RedisPubSubLayer (one PUBLISH, pushed to the subscribers). Baseline:
channels_redis's RedisChannelLayer, the layer Yishi used before (a Lua script over the group's
members to send; a blocking pop, a backup write and a clean-up to receive). The two alternate,
`--rounds` times each; printed: p50 / p90 / p99 of send-to-receipt over every receipt, and the
ratio baseline / ours.
"""

import argparse
import asyncio
import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/6")
WORKERS = 4
GROUP = "bench-layer"


def make_layer(kind: str):
    if kind == "ours":
        from core.realtime.pubsub import RedisPubSubLayer

        return RedisPubSubLayer(hosts=[URL])
    from channels_redis.core import RedisChannelLayer

    return RedisChannelLayer(hosts=[URL], capacity=1000, expiry=30)


async def subscribe(kind: str, sends: int, ready, results) -> None:
    layer = make_layer(kind)
    channel = await layer.new_channel()
    await layer.group_add(GROUP, channel)
    ready.set()
    late = []
    while len(late) < sends:
        event = await layer.receive(channel)
        late.append(1000 * (time.time() - event["sent"]))
    await layer.group_discard(GROUP, channel)
    results.put(late)


def subscriber(kind: str, sends: int, ready, results) -> None:
    asyncio.run(subscribe(kind, sends, ready, results))


async def send(kind: str, sends: int) -> None:
    layer = make_layer(kind)
    for i in range(sends):
        await layer.group_send(GROUP, {"type": "realtime.frame", "seq": i, "sent": time.time()})
        await asyncio.sleep(0.02)


def one_round(kind: str, sends: int) -> list[float]:
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    readies = [context.Event() for _ in range(WORKERS)]
    workers = [
        context.Process(target=subscriber, args=(kind, sends, ready, results)) for ready in readies
    ]
    for worker in workers:
        worker.start()
    for ready in readies:
        if not ready.wait(30):
            raise RuntimeError("a subscriber did not start")
    time.sleep(0.5)
    asyncio.run(send(kind, sends))
    late = [x for _ in workers for x in results.get(timeout=60)]
    for worker in workers:
        worker.join(timeout=30)
    return late


def figures(late: list[float]) -> tuple[float, float, float]:
    ordered = sorted(late)
    at = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return statistics.median(ordered), at(0.9), at(0.99)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sends", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    print(
        f"{WORKERS} subscriber processes, {args.sends} sends at 50/s, Redis {URL}; "
        "ms from send to receipt"
    )
    collected: dict[str, list[float]] = {"ours": [], "channels_redis": []}
    for _ in range(args.rounds):
        for kind in ("ours", "channels_redis"):
            late = one_round(kind, args.sends)
            p50, p90, p99 = figures(late)
            print(f"  {kind:15} p50 {p50:6.2f}  p90 {p90:6.2f}  p99 {p99:6.2f}", flush=True)
            collected[kind] += late
    ours, base = figures(collected["ours"]), figures(collected["channels_redis"])
    print(
        "all rounds: ours p50/p90/p99 {:.2f} / {:.2f} / {:.2f} ms; channels_redis {:.2f} / "
        "{:.2f} / {:.2f} ms; ratio (channels_redis / ours) {:.1f}x / {:.1f}x / {:.1f}x".format(
            *ours, *base, *(b / o for b, o in zip(base, ours, strict=True))
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
