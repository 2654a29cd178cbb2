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

The client is picows' websockets-compatible one (`picows.websockets`, Cython) when it is
installed (requirements/bench.txt), else (or with BENCH_WS_CLIENT=websockets) the `websockets`
package's own. Both speak the same
API; picows spends about a third of the CPU per frame. At 10,000 watchers on a 2-core machine
the watchers share the cores with the server, so a heavier client makes the server's frames
wait for CPU the clients took, and the latencies measure the clients.
"""

import asyncio
import importlib.util
import json
import os
import random
import resource
import sys
import time

CONNECT_CONCURRENCY = 64  # handshakes in flight per process during a bulk open
OPEN_TIMEOUT = 30
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 32.0
#: Which client library the watchers use (printed by the bench).
CLIENT = os.environ.get("BENCH_WS_CLIENT") or (
    "picows" if importlib.util.find_spec("picows") else "websockets"
)
if CLIENT == "picows":
    import picows

    CLIENT_ERRORS: tuple[type[Exception], ...] = (picows.WSError,)
else:
    from websockets.asyncio.client import connect as websockets_connect
    from websockets.exceptions import WebSocketException

    CLIENT_ERRORS = (WebSocketException,)


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
        "gate",
        "backoff",
        "at_once",
        "close_code",
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
        self.gate: asyncio.Semaphore | None = None
        self.backoff = BACKOFF_FIRST
        self.at_once = False
        self.close_code = None

    def reset(self):
        self.received.clear()
        self.dupes = self.closes = self.gaps = self.failed = 0
        self.ready_times.clear()

    def on_text(self, raw) -> bool:
        """Handle one frame of the server; False on a gap (reconnect at once with `after`)."""
        now = time.time()
        frame = json.loads(raw)
        kind = frame.get("type")
        if kind == "message":
            seq = frame["seq"]
            if self.last is not None and seq <= self.last:
                self.dupes += 1
                dupes = self.shared.dupes_by_seq
                dupes[seq] = dupes.get(seq, 0) + 1
                return True
            if self.last is not None and seq > self.last + 1:
                self.gaps += 1  # the documented answer: reconnect after `last`
                return False
            self.last = seq
            self.received[seq] = now
            body = frame.get("body") or ""
            if body.startswith("bench ") and seq not in self.shared.sent:
                self.shared.sent[seq] = float(body.split()[2])
        elif kind == "ready":
            if self.last is None:
                self.last = frame["last_seq"]  # nothing shown: the history is empty
            self.ready_times.append(now)
            self.backoff = BACKOFF_FIRST
            self.release_gate()
            if not self.first_ready.done():
                self.first_ready.set_result(now)
        return True

    def release_gate(self) -> None:
        if self.gate is not None:
            self.gate, gate = None, self.gate
            gate.release()

    async def run(self, *, use_after: bool, gate: asyncio.Semaphore) -> None:
        self.backoff = BACKOFF_FIRST
        # The first connection holds a place among the handshakes in flight until `ready`.
        await gate.acquire()
        self.gate = gate
        while not self.stopping:
            query = f"?after={self.last}" if self.last is not None and use_after else ""
            use_after = True  # every reconnect catches up from `last`
            self.at_once = False
            try:
                if CLIENT == "picows":
                    await self._session_picows(self.url + query)
                else:
                    await self._session_websockets(self.url + query)
            except (OSError, TimeoutError, asyncio.IncompleteReadError, *CLIENT_ERRORS):
                self.failed += 1
            finally:
                self.release_gate()
            if self.stopping:
                break
            self.closes += 1
            if not self.at_once:
                await asyncio.sleep(self.backoff * (0.5 + random.random()))
                self.backoff = min(self.backoff * 2, BACKOFF_MAX)

    async def _session_picows(self, url: str) -> None:
        """One connection with picows' own API (a callback per frame, no queue), until it
        closes; an error as the `websockets` client would raise one."""
        self.close_code = None
        transport, _listener = await picows.ws_connect(
            lambda _request, _response: _Listener(self),  # picows' two-argument factory
            url,
            websocket_handshake_timeout=OPEN_TIMEOUT,
            extra_headers={"Origin": self.origin} if self.origin else None,
            local_addr=(self.address, 0),
        )
        self.socket = transport
        self.connections += 1
        try:
            await transport.wait_disconnected()
        finally:
            self.socket = None
        clean = (picows.WSCloseCode.OK, picows.WSCloseCode.GOING_AWAY)
        if not self.at_once and not self.stopping and self.close_code not in clean:
            raise ConnectionError(f"closed with {self.close_code}")  # counted as failed

    async def _session_websockets(self, url: str) -> None:
        """One connection with the `websockets` client, until it closes."""
        socket = await websockets_connect(
            url,
            origin=self.origin,
            max_queue=None,
            ping_interval=None,
            open_timeout=OPEN_TIMEOUT,
            close_timeout=2,
            compression=None,
            proxy=None,
            local_addr=(self.address, 0),
        )
        self.socket = socket
        self.connections += 1
        try:
            async for raw in socket:
                if not self.on_text(raw):
                    self.at_once = True
                    break
        finally:
            self.socket = None
            await socket.close()

    async def stop(self) -> None:
        self.stopping = True
        socket = self.socket
        if socket is not None:
            if CLIENT == "picows":
                socket.send_close(picows.WSCloseCode.OK)
                socket.disconnect()
            else:
                await socket.close()
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        self.stopping = False


if CLIENT == "picows":

    class _Listener(picows.WSListener):
        """A watcher's frames from picows: one callback per frame, no queue."""

        def __init__(self, watcher: Watcher):
            super().__init__()
            self.watcher = watcher

        def on_ws_frame(self, transport, frame) -> None:
            watcher, kind = self.watcher, frame.msg_type
            if kind == picows.WSMsgType.TEXT and frame.fin:
                if not watcher.on_text(frame.get_payload_as_bytes()):
                    watcher.at_once = True
                    transport.send_close(picows.WSCloseCode.OK)
                    transport.disconnect()
            elif kind == picows.WSMsgType.CLOSE:
                watcher.close_code = frame.get_close_code()
                transport.send_close(watcher.close_code)
                transport.disconnect()
            elif kind != picows.WSMsgType.PING:  # picows answers pings itself
                raise RuntimeError(f"unexpected frame {kind} (fin {frame.fin})")


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
