"""Websocket actions as every role, and cross-site websocket hijacking refused.

The session cookie authenticates a websocket, so a foreign page could open one with the
victim's cookie: the Origin check must refuse it on every route, even with a valid session.
Each consumer authorises in connect() and, for the topic's live debate, every frame again.
"""

import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from budgets.models import SealedBallot as Ballot  # what a vote writes until the close
from deliberation.models import Message, Stance
from meetings.models import RosterEntry, Vote
from tests.deliberation.factories import session_cookie
from tests.security.world import ROLES, VILLAGERS_AND_OFFICIAL, World
from yishi.asgi import application
from yishi.routing import websocket_urlpatterns

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

OUR_ORIGIN = b"http://testserver"
FOREIGN_ORIGINS = [
    b"https://evil.example",
    b"http://testserver.evil.example",  # our name as a prefix of theirs
    b"http://eviltestserver",  # our name as a suffix of theirs
    b"null",  # sandboxed iframes and file:// pages
]


async def open_socket(path, user=None, origin=OUR_ORIGIN):
    headers = [(b"host", b"testserver")]
    if origin is not None:
        headers.append((b"origin", origin))
    if user is not None:
        cookie = await sync_to_async(session_cookie)(user)
        headers.append((b"cookie", cookie.encode()))
    socket = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await socket.connect(timeout=3)
    return socket, connected


async def frames_until(socket, kind) -> list[dict]:
    frames = []
    while True:
        frame = await socket.receive_json_from(timeout=3)
        frames.append(frame)
        if frame["type"] in (kind, "error"):
            return frames


def count(model, **filters):
    return sync_to_async(lambda: model.objects.filter(**filters).count())()


def built_world(*names):
    def build():
        world = World()
        for name in names:
            getattr(world, name)
        return world

    return sync_to_async(build)()


def route_paths(world) -> dict[str, str]:
    """A real path for every websocket route, so that a new route cannot go unchecked."""
    ids = {
        "topic_id": world.topic.pk,
        "session_id": world.open_session.pk,
        "pk": world.voting_cycle.pk,
        # A case board: the township's officials only; a big screen (ws/governance/screens/):
        # anyone, the frames carry no data.
        "council_id": world.tree["township"].pk,
    }
    paths = {}
    for pattern in websocket_urlpatterns:
        route = str(pattern.pattern)
        for key, value in ids.items():
            route = route.replace(f"<int:{key}>", str(value))
        assert "<" not in route, f"no object for the websocket route {pattern.pattern}"
        paths[str(pattern.pattern)] = "/" + route
    return paths


async def test_every_route_refuses_a_foreign_origin_even_with_a_valid_session():
    world = await built_world("topic", "open_session", "voting_cycle")
    for route, path in (await sync_to_async(route_paths)(world)).items():
        # Someone the route admits from our own origin: the committee, or for a case board the
        # township's official.
        who = world.people["official" if "boards" in route else "committee"]
        for origin in [*FOREIGN_ORIGINS, None]:
            socket, connected = await open_socket(path, who, origin=origin)
            await socket.disconnect()
            assert not connected, f"{route} accepted origin {origin!r}"
        socket, connected = await open_socket(path, who)
        await socket.disconnect()
        assert connected, f"{route} refused our own origin"


async def test_topic_debate_frames_by_role():
    world = await built_world("topic")
    path = f"/ws/deliberation/topics/{world.topic.pk}/"
    problems = []
    for role in ROLES:
        user = world.people[role]
        socket, connected = await open_socket(path, user)
        try:
            if not connected:  # a public hall's topic is open to every reader
                problems.append(f"{role}: could not watch a public topic")
                continue
            await frames_until(socket, "ready")
            messages_before = await count(Message, topic=world.topic)
            await socket.send_to(text_data=json.dumps({"type": "post", "body": f"{role}说两句"}))
            reply = (await frames_until(socket, "message"))[-1]
            wrote = await count(Message, topic=world.topic) != messages_before
            stances_before = await count(Stance, topic=world.topic)
            await socket.send_to(text_data=json.dumps({"type": "stance", "value": "support"}))
            stance_reply = (await frames_until(socket, "stances"))[-1]
            stanced = await count(Stance, topic=world.topic) != stances_before
        finally:
            await socket.disconnect()
        if role in VILLAGERS_AND_OFFICIAL:
            if not (wrote and reply["type"] == "message" and stanced):
                problems.append(f"{role}: refused {reply} {stance_reply}")
        else:
            if wrote or stanced:
                problems.append(f"{role}: WROTE over the socket although not allowed")
            expected = "not_signed_in" if user is None else "forbidden"
            if not (reply.get("code") == stance_reply.get("code") == expected):
                problems.append(f"{role}: expected {expected}, got {reply} {stance_reply}")
    assert not problems, "\n".join(problems)


async def test_private_hall_topic_socket_only_for_its_members():
    world = await built_world("private_topic")
    path = f"/ws/deliberation/topics/{world.private_topic.pk}/"
    for role in ROLES:
        socket, connected = await open_socket(path, world.people[role])
        if connected:
            frames = await frames_until(socket, "ready")
        await socket.disconnect()
        assert connected == (role in VILLAGERS_AND_OFFICIAL), role
        if not connected:
            continue
        assert frames[-1]["type"] == "ready"


async def test_nobody_posts_or_takes_a_stance_on_a_closed_topic_over_the_socket():
    world = await built_world("closed_topic")
    path = f"/ws/deliberation/topics/{world.closed_topic.pk}/"
    for role in ROLES:
        socket, connected = await open_socket(path, world.people[role])
        assert connected, role
        await frames_until(socket, "ready")
        for frame in ({"type": "post", "body": "还没修好"}, {"type": "stance", "value": "oppose"}):
            await socket.send_to(text_data=json.dumps(frame))
            reply = await socket.receive_json_from(timeout=3)
            assert reply["type"] == "error", (role, reply)
        await socket.disconnect()
    assert await count(Message, topic=world.closed_topic) == 0
    assert await count(Stance, topic=world.closed_topic) == 0


async def test_session_socket_is_read_only_and_private_sessions_stay_private():
    world = await built_world("private_session", "voting_motion")
    private = f"/ws/meetings/{world.private_session.pk}/"
    voting = f"/ws/meetings/{world.voting_motion.session_id}/"
    votes, present = await count(Vote), await count(RosterEntry, attendance="present")
    for role in ROLES:
        user = world.people[role]
        socket, connected = await open_socket(private, user)
        await socket.disconnect()
        assert connected == (role in VILLAGERS_AND_OFFICIAL), role
        socket, connected = await open_socket(voting, user)
        assert connected, role
        assert (await socket.receive_json_from(timeout=3))["type"] == "state"
        for frame in (
            {"type": "vote", "motion": world.voting_motion.pk, "choice": "yes"},
            {"type": "check_in", "code": "000000"},
        ):
            await socket.send_to(text_data=json.dumps(frame))
            assert (await socket.receive_json_from(timeout=3))["code"] == "read_only", role
        await socket.disconnect()
    assert (await count(Vote), await count(RosterEntry, attendance="present")) == (votes, present)


async def test_budget_results_socket_is_read_only_and_silent_before_publication():
    world = await built_world("voting_cycle")
    path = f"/ws/budgets/cycles/{world.voting_cycle.pk}/"
    ballots = await count(Ballot)
    for role in ROLES:
        socket, connected = await open_socket(path, world.people[role])
        assert connected, role
        await socket.send_to(text_data=json.dumps({"type": "ballot", "p1": 1}))
        frames = await frames_until(socket, "read_only")
        assert frames[-1].get("code") == "read_only", (role, frames)
        # The turnout may be shown during the vote; what was voted may not.
        assert {f["type"] for f in frames} <= {"turnout", "error"}, (role, frames)
        await socket.disconnect()
    assert await count(Ballot) == ballots
