"""Watchers for bench/bench_fanout.py: one process holding a share of the sockets.

Each watcher follows the client algorithm of docs/realtime.md: it keeps `last`, the highest seq
it has shown; ignores (and counts as a duplicate) any message with seq <= last; on a gap
(seq > last + 1) it reconnects at once with `?after=last`; when the socket closes it waits
1 s, 2 s, 4 s ... (up to 32 s, with jitter) and reconnects with `?after=last`.

The bench drives the process with one JSON command a line on stdin and reads one JSON answer a
line on stdout:

    {"cmd": "open", "after": false}    open every socket (at most CONNECT_CONCURRENCY handshakes
                                       at a time) and answer when each has had `ready`
    {"cmd": "cycle"}                   close every socket, then reopen each with ?after=<last>
    {"cmd": "mark"}                    start a measurement: forget receipts, counters, CPU, lag
    {"cmd": "wait", "seq": N, "timeout": T}   answer when every watcher has shown seq N
    {"cmd": "report", "lo": A, "hi": B}       figures for seqs A..B since the mark
    {"cmd": "quit"}

    python bench/fanout_clients.py '<json config: url, origin, count, first, addresses>'
"""

import asyncio
import json
import random
import resource
import sys
import time

CONNECT_CONCURRENCY = 64  # handshakes in flight per process during a bulk open
OPEN_TIMEOUT = 30
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 32.0


class Process:
    """What every watcher of this process shares: the send times read from the bodies, the
    duplicate counts, the measurement's start."""

    def __init__(self):
        self.sent: dict[int, float] = {}  # seq -> poster's send time (from the body)
        self.dupes_by_seq: dict[int, int] = {}
        self.lags: list[float] = []
        self.mark()

    def mark(self):
        self.since = time.time()
        self.dupes_by_seq.clear()
        self.lags.clear()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        self.cpu_at_mark = usage.ru_utime + usage.ru_stime

    def cpu_since_mark(self) -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime - self.cpu_at_mark


class Watcher:
    __slots__ = (
        "shared",
        "url",
        "origin",
        "address",
        "last",
        "received",
        "dupes",
        "closes",
        "gaps",
        "failed",
        "ready_times",
        "connections",
        "socket",
        "stopping",
        "task",
        "first_ready",
    )

    def __init__(self, shared: Process, url: str, origin: str | None, address: str):
        self.shared = shared
        self.url = url
        self.origin = origin
        self.address = address
        self.last: int | None = None
        self.received: dict[int, float] = {}  # seq -> first receipt, since the mark
        self.dupes = self.closes = self.gaps = self.failed = self.connections = 0
        self.ready_times: list[float] = []
        self.socket = None
        self.stopping = False
        self.task = None
        self.first_ready = None

    def reset(self):
        self.received.clear()
        self.dupes = self.closes = self.gaps = self.failed = 0
        self.ready_times.clear()

    async def run(self, *, use_after: bool, gate: asyncio.Semaphore) -> None:
        from websockets.asyncio.client import connect
        from websockets.exceptions import WebSocketException

        backoff = BACKOFF_FIRST
        gated = True
        while not self.stopping:
            query = f"?after={self.last}" if self.last is not None and use_after else ""
            use_after = True  # every reconnect catches up from `last`
            if gated:
                await gate.acquire()
            reconnect_at_once = False
            try:
                self.socket = await connect(
                    self.url + query,
                    origin=self.origin,
                    max_queue=None,
                    ping_interval=None,
                    open_timeout=OPEN_TIMEOUT,
                    close_timeout=2,
                    compression=None,
                    local_addr=(self.address, 0),
                )
                self.connections += 1
                async for raw in self.socket:
                    now = time.time()
                    frame = json.loads(raw)
                    kind = frame.get("type")
                    if kind == "message":
                        seq = frame["seq"]
                        if self.last is not None and seq <= self.last:
                            self.dupes += 1
                            dupes = self.shared.dupes_by_seq
                            dupes[seq] = dupes.get(seq, 0) + 1
                            continue
                        if self.last is not None and seq > self.last + 1:
                            self.gaps += 1  # the documented answer: reconnect after `last`
                            reconnect_at_once = True
                            break
                        self.last = seq
                        self.received[seq] = now
                        body = frame.get("body") or ""
                        if body.startswith("bench ") and seq not in self.shared.sent:
                            self.shared.sent[seq] = float(body.split()[2])
                    elif kind == "ready":
                        if self.last is None:
                            self.last = frame["last_seq"]  # nothing shown: the history is empty
                        self.ready_times.append(now)
                        backoff = BACKOFF_FIRST
                        if gated:
                            gated = False
                            gate.release()
                        if not self.first_ready.done():
                            self.first_ready.set_result(now)
            except (OSError, TimeoutError, WebSocketException, asyncio.IncompleteReadError):
                self.failed += 1
            finally:
                if gated:
                    gated = False
                    gate.release()
                if self.socket is not None:
                    socket, self.socket = self.socket, None
                    if reconnect_at_once or self.stopping:
                        await socket.close()
            if self.stopping:
                break
            self.closes += 1
            if not reconnect_at_once:
                await asyncio.sleep(backoff * (0.5 + random.random()))
                backoff = min(backoff * 2, BACKOFF_MAX)

    async def stop(self) -> None:
        self.stopping = True
        if self.socket is not None:
            await self.socket.close()
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        self.stopping = False


async def measure_lag(shared: Process, period: float = 0.05) -> None:
    """How late this process's event loop wakes: a busy client inflates every receipt time."""
    while True:
        due = time.monotonic() + period
        await asyncio.sleep(period)
        shared.lags.append(time.monotonic() - due)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


async def open_all(watchers: list[Watcher], *, use_after: bool, timeout: float) -> dict:
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    started = time.time()
    for watcher in watchers:
        watcher.first_ready = asyncio.get_running_loop().create_future()
        watcher.task = asyncio.create_task(watcher.run(use_after=use_after, gate=gate))
    waiting = [w.first_ready for w in watchers]
    done, _pending = await asyncio.wait(waiting, timeout=timeout)
    return {
        "ready": len(done),
        "of": len(watchers),
        "seconds": time.time() - started,
        "failed": sum(w.failed for w in watchers),
    }


async def main(config: dict) -> None:
    shared = Process()
    addresses = config["addresses"]
    watchers = [
        Watcher(
            shared,
            config["url"],
            config.get("origin"),
            addresses[(config["first"] + i) % len(addresses)],
        )
        for i in range(config["count"])
    ]
    lag_task = asyncio.create_task(measure_lag(shared))
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line.strip():
            break
        command = json.loads(line)
        cmd = command["cmd"]
        if cmd == "open":
            answer = await open_all(
                watchers, use_after=command.get("after", False), timeout=command["timeout"]
            )
        elif cmd == "cycle":
            await asyncio.gather(*[w.stop() for w in watchers])
            answer = await open_all(watchers, use_after=True, timeout=command["timeout"])
        elif cmd == "mark":
            shared.mark()
            for watcher in watchers:
                watcher.reset()
            answer = {"at": shared.since}
        elif cmd == "wait":
            deadline = time.time() + command["timeout"]
            while time.time() < deadline:
                if all(w.last is not None and w.last >= command["seq"] for w in watchers):
                    break
                await asyncio.sleep(0.05)
            behind = [w for w in watchers if w.last is None or w.last < command["seq"]]
            answer = {"behind": len(behind), "at": time.time()}
        elif cmd == "report":
            lo, hi = command["lo"], command["hi"]
            by_post = {seq: [] for seq in range(lo, hi + 1)}  # latencies of each post
            missing = 0
            for watcher in watchers:
                for seq in range(lo, hi + 1):
                    at = watcher.received.get(seq)
                    if at is None:
                        missing += 1  # every seq measured was posted after the mark
                    elif seq in shared.sent:
                        by_post[seq].append(round(1000 * (at - shared.sent[seq]), 2))
            reconnect_ready = [t for w in watchers for t in w.ready_times]  # since the mark
            answer = {
                "by_post": [by_post[seq] for seq in range(lo, hi + 1)],
                "missing": missing,
                "dupes": sum(w.dupes for w in watchers),
                "dupes_in_range": sum(n for s, n in shared.dupes_by_seq.items() if lo <= s <= hi),
                "dupes_by_seq": {str(s): n for s, n in sorted(shared.dupes_by_seq.items())[:8]},
                "closes": sum(w.closes for w in watchers),
                "gaps": sum(w.gaps for w in watchers),
                "failed": sum(w.failed for w in watchers),
                "watchers_closed": sum(1 for w in watchers if w.closes),
                "last_reconnect_ready": max(reconnect_ready) if reconnect_ready else None,
                "cpu": shared.cpu_since_mark(),
                "wall": time.time() - shared.since,
                "lag_p99_ms": 1000 * percentile(shared.lags, 0.99),
                "lag_max_ms": 1000 * max(shared.lags, default=float("nan")),
            }
        elif cmd == "quit":
            break
        else:
            answer = {"error": f"unknown command {cmd}"}
        print(json.dumps(answer), flush=True)
    lag_task.cancel()
    await asyncio.gather(*[w.stop() for w in watchers], return_exceptions=True)


if __name__ == "__main__":
    import uvloop

    resource.setrlimit(resource.RLIMIT_NOFILE, resource.getrlimit(resource.RLIMIT_NOFILE)[1:] * 2)
    uvloop.run(main(json.loads(sys.argv[1])))
