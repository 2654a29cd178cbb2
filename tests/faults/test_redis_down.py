"""Redis stopped mid-debate: pages, ballots and posts keep working; nothing is lost when it returns.

A private `redis-server` (no persistence, so a restart forgets every key and group like a crash)
backs both the cache (core.cache.FaultTolerantRedisCache) and the channel layer. Two sockets
follow a debate; Redis is killed; the sockets are told the live layer is down, pages and a
secret ballot still work, posts over the no-JS form and over the socket are stored; Redis comes
back on the same port; the sockets receive every missed message in order and new ones live,
and what each socket saw equals the database.
"""

import json
import time
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.cache import cache
from django.test import Client

from budgets.models import BallotType, Proposal, SealedBallot
from deliberation import moderation
from deliberation.models import Message
from tests.budgets.factories import add_proposal, make_cycle
from tests.councils.factories import make_tree, member
from tests.deliberation.factories import HallFactory, TopicFactory, session_cookie
from tests.faults.servers import RedisServer
from yishi.asgi import application
from yishi.settings.base import channel_layer, redis_cache_options

pytestmark = [
    pytest.mark.skipif(RedisServer.binary is None, reason="needs the redis-server binary"),
    pytest.mark.django_db(transaction=True),
]

FRAME_TIMEOUT = 15  # generous: the machine may be busy; this guards against hangs only


@pytest.fixture
def on_private_redis(settings, redis_server):
    """Cache and channel layer on the private server, configured as in production."""
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.FaultTolerantRedisCache",
            "LOCATION": redis_server.url,
            "OPTIONS": {**redis_cache_options(), "RETRY_AFTER": 0.2},
        }
    }
    settings.CHANNEL_LAYERS = {"default": channel_layer(redis_server.url)}
    settings.YISHI_SENSITIVE_WORDS = []
    return redis_server


def world():
    tree = make_tree()
    village = tree["village"]
    hall = HallFactory(council=village, is_public=True)
    poster = member(village)
    voter = member(village)
    topic = TopicFactory(hall=hall, author=poster)
    cycle = make_cycle(
        village, phase="vote", total_amount=Decimal("100000"), ballot_type=BallotType.KNAPSACK
    )
    add_proposal(cycle, "修路", "60000")
    add_proposal(cycle, "路灯", "30000")
    return {
        "village": village,
        "hall": hall,
        "topic": topic,
        "cycle": cycle,
        "poster": poster,
        "voter": voter,
        "poster_cookie": session_cookie(poster),
    }


async def open_socket(topic_id, cookie=None, after=0):
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    socket = WebsocketCommunicator(
        application, f"/ws/deliberation/topics/{topic_id}/?after={after}", headers=headers
    )
    connected, _ = await socket.connect(timeout=FRAME_TIMEOUT)
    assert connected
    return socket


async def frames_until(socket, predicate) -> list[dict]:
    """Every frame received up to and including the first one that satisfies `predicate`."""
    frames = []
    while True:
        frame = await socket.receive_json_from(timeout=FRAME_TIMEOUT)
        frames.append(frame)
        if predicate(frame):
            return frames


async def catch_up_through(socket, seq: int) -> list[dict]:
    """Frames up to a `ready` that comes after message `seq`: a catch-up may arrive in more than
    one batch on a busy machine; what counts is that every seq comes, once, and nothing else."""
    frames = await frames_until(socket, is_ready)
    while seq not in message_seqs(frames):
        frames += await frames_until(socket, is_ready)
    return frames


def is_ready(frame):
    return frame["type"] == "ready"


def is_live_down(frame):
    return frame == {"type": "live", "status": "unavailable"}


def message_seqs(frames) -> list[int]:
    return [f["seq"] for f in frames if f["type"] == "message"]


def browse_and_vote(w) -> dict:
    """What a resident does over plain HTTP; returns the status codes seen."""
    codes = {}
    anonymous = Client()
    codes["council"] = anonymous.get(w["village"].url).status_code
    codes["hall"] = anonymous.get(w["hall"].get_absolute_url()).status_code
    codes["topic"] = anonymous.get(w["topic"].get_absolute_url()).status_code
    poster = Client()
    poster.cookies.load(w["poster_cookie"])  # a session made while Redis was up
    codes["topic signed in"] = poster.get(w["topic"].get_absolute_url()).status_code
    form = {"body": "表单发言：Redis停了也要记下", "client_id": "form-1"}
    post = poster.post(f"/halls/topics/{w['topic'].pk}/post/", form)
    codes["post form"] = post.status_code
    voter = Client()
    voter.force_login(w["voter"])  # a new session, written to the database only
    cycle = w["cycle"]
    codes["vote page"] = voter.get(f"/budgets/cycles/{cycle.pk}/vote/").status_code
    lamps = Proposal.objects.get(cycle=cycle, title="路灯")
    codes["cast ballot"] = voter.post(
        f"/budgets/cycles/{cycle.pk}/vote/", {f"p{lamps.pk}": "1"}
    ).status_code
    return codes


def db_seqs(topic_id) -> list[int]:
    return list(
        Message.objects.filter(topic_id=topic_id, seq__isnull=False)
        .order_by("seq")
        .values_list("seq", flat=True)
    )


def post_over_http(w, body: str) -> int:
    client = Client()
    client.cookies.load(w["poster_cookie"])
    return client.post(f"/halls/topics/{w['topic'].pk}/post/", {"body": body}).status_code


@pytest.mark.asyncio
async def test_redis_stopped_mid_debate_then_back_loses_nothing(on_private_redis):
    redis = on_private_redis
    w = await sync_to_async(world)()
    topic_id = w["topic"].pk
    poster = await open_socket(topic_id, w["poster_cookie"])
    watcher = await open_socket(topic_id)
    await frames_until(poster, is_ready)
    await frames_until(watcher, is_ready)

    # Live as usual: a post reaches both sockets through Redis.
    await poster.send_to(text_data=json.dumps({"type": "post", "body": "第一条", "client_id": "a"}))
    for socket in (poster, watcher):
        assert message_seqs(await frames_until(socket, lambda f: f["type"] == "message")) == [1]

    redis.kill()
    # Both sockets stay open and are told that live updates are interrupted.
    for socket in (poster, watcher):
        await frames_until(socket, is_live_down)

    # Pages, a secret ballot and a post through the no-JS form all work without Redis.
    codes = await sync_to_async(browse_and_vote)(w)
    assert codes == {
        "council": 200,
        "hall": 200,
        "topic": 200,
        "topic signed in": 200,
        "post form": 302,
        "vote page": 200,
        "cast ballot": 302,
    }
    assert await sync_to_async(SealedBallot.objects.filter(cycle=w["cycle"]).count)() == 1
    # A post over the socket is stored too, and the poster sees it (read from the database)
    # together with the form's post that no broadcast carried.
    await poster.send_to(text_data=json.dumps({"type": "post", "body": "第三条", "client_id": "c"}))
    assert message_seqs(await catch_up_through(poster, 3)) == [2, 3]
    # A socket opened during the outage gets the history and the same warning.
    late = await open_socket(topic_id, after=0)
    opening = await frames_until(late, is_live_down)
    assert message_seqs(opening) == [1, 2, 3] and any(is_ready(f) for f in opening)
    assert await sync_to_async(db_seqs)(topic_id) == [1, 2, 3]

    redis.start()  # same port, empty: the groups are gone
    # Each socket's hub rejoins its group and every socket catches up from the database.
    watcher_frames = await catch_up_through(watcher, 3)
    assert message_seqs(watcher_frames) == [2, 3]
    await frames_until(poster, is_ready)
    await frames_until(late, is_ready)

    # And live again: a post over HTTP reaches every socket through the restarted Redis.
    assert await sync_to_async(post_over_http)(w, "Redis回来了") == 302
    for socket in (poster, watcher, late):
        assert message_seqs(await frames_until(socket, lambda f: f["type"] == "message")) == [4]
    assert await sync_to_async(db_seqs)(topic_id) == [1, 2, 3, 4]
    for socket in (poster, watcher, late):
        await socket.disconnect()


def test_cache_falls_back_and_forgets_what_was_written_during_the_outage(on_private_redis):
    """Rate limits keep counting (per process) while Redis is down; stale values do not return."""
    redis = on_private_redis
    session_key = "django.contrib.sessions.cached_db" + "x" * 32
    cache.set(session_key, {"signed_in": True})
    cache.set("note", 1)
    redis.kill()

    # Reads miss and writes do not raise; sessions are never served from a local copy.
    assert cache.get(session_key) is None
    cache.delete(session_key)  # a sign-out while Redis is down
    cache.set(session_key, {"written": "during the outage"})
    assert cache.get(session_key) is None
    cache.set("note", 2)
    assert cache.get("note") == 2  # other keys: the process-local fallback
    # The post rate limit counts in that fallback: still enforced, per worker process.
    limit, _seconds = moderation.post_rate()
    allowed = [moderation.take_post_token(4242) for _ in range(limit + 2)]
    assert allowed == [True] * limit + [False, False]

    redis.start()
    # In production Redis may come back with its old data (a network cut, not a crash).
    client = redis_client(redis.url)
    client.set(cache.make_and_validate_key(session_key), 7)
    client.set(cache.make_and_validate_key("note"), 7)
    time.sleep(0.3)  # past RETRY_AFTER: the next call tries Redis again
    # The first successful call deletes every key written during the outage, before reading.
    assert cache.get("note", "gone") == "gone"
    assert cache.get(session_key) is None
    assert client.exists(cache.make_and_validate_key(session_key)) == 0
    cache.set("note", 3)
    assert int(client.get(cache.make_and_validate_key("note"))) == 3


def redis_client(url):
    import redis

    return redis.Redis.from_url(url)
