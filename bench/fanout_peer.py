"""The peer of bench/bench_fanout.py: a bare `websockets` server speaking the same protocol.

No Django, no channel layer, no database: one process that numbers each post, keeps the history
in memory and writes the frame (encoded once) to every socket. It answers the same URL shapes as
Yishi (`/...?after=<seq>`: every message after seq, else the latest 50; then `ready`), so the
same clients measure both. A `{"type": "drop", "fraction": 0.25}` frame aborts that share of the
sockets without a close handshake: the peer's version of a worker killed under its sockets.

    python bench/fanout_peer.py PORT [HISTORY]
"""

import asyncio
import json
import random
import sys
import time
from urllib.parse import parse_qs, urlsplit

FIRST_CONNECT_HISTORY = 50


async def serve_forever(port: int, history_size: int) -> None:
    from websockets.asyncio.server import broadcast, serve

    clients: set = set()
    frames: list[str] = []  # frames[i] is message seq i + 1

    def publish(body: str, client_id: str = "") -> None:
        seq = len(frames) + 1
        frame = {"type": "message", "seq": seq, "body": body, "client_id": client_id}
        frames.append(json.dumps({**frame, "created": time.time()}, ensure_ascii=False))
        broadcast(clients, frames[-1])

    for i in range(history_size):
        publish(f"history {i + 1}")

    async def handler(ws):
        query = parse_qs(urlsplit(ws.request.path).query)
        try:
            after = max(0, int(query["after"][0]))
        except (KeyError, ValueError, IndexError):
            after = None
        # Join, then read: as in Yishi, nothing published in between is missed.
        clients.add(ws)
        catch_up = frames[-FIRST_CONNECT_HISTORY:] if after is None else frames[after:]
        for text in catch_up:
            await ws.send(text)
        await ws.send(json.dumps({"type": "ready", "last_seq": len(frames)}))
        try:
            async for raw in ws:
                data = json.loads(raw)
                if data.get("type") == "post":
                    publish(data["body"], data.get("client_id", ""))
                elif data.get("type") == "drop":
                    victims = [c for c in clients if c is not ws]
                    for victim in random.sample(victims, int(len(victims) * data["fraction"])):
                        victim.transport.abort()
        finally:
            clients.discard(ws)

    async with serve(
        handler,
        "127.0.0.1",
        port,
        max_queue=None,
        ping_interval=None,
        compression=None,
        backlog=2048,
    ):
        await asyncio.get_running_loop().create_future()


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(serve_forever(int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 0))
