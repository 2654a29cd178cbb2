"""The projector's websocket: full state on connect, numbered frames for votes and results."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from meetings import services as sessions
from tests.deliberation.factories import session_cookie
from tests.meetings.conftest import mark_present, opened, representatives
from yishi.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def open_screen(session_id, user=None):
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
    if user is not None:
        cookie = await sync_to_async(session_cookie)(user)
        headers.append((b"cookie", cookie.encode()))
    socket = WebsocketCommunicator(application, f"/ws/meetings/{session_id}/", headers=headers)
    connected, _ = await socket.connect()
    assert connected
    state = await socket.receive_json_from(timeout=3)
    assert state["type"] == "state"
    return socket, state


def setup_room(chair, village):
    reps = representatives(village, 2)
    session = opened(chair, village)
    mark_present(chair, session, [chair, *reps])
    motion = sessions.add_motion(actor=chair, session=session, title="修建文化广场")
    motion = sessions.open_vote(actor=chair, motion=motion)
    return session, reps, motion


async def test_a_vote_sends_a_tally_and_the_close_a_result(chair, village):
    session, reps, motion = await sync_to_async(setup_room)(chair, village)
    screen, state = await open_screen(session.pk)  # anonymous: a public session
    try:
        assert state["attendance"]["present"] == 3 and state["attendance"]["quorum_met"]
        assert state["motions"][0]["status"] == "open"
        await sync_to_async(sessions.cast_vote)(voter=reps[0], motion=motion, choice="yes")
        tally = await screen.receive_json_from(timeout=3)
        assert tally["type"] == "tally" and tally["seq"] == state["seq"] + 1
        assert (tally["yes"], tally["no"], tally["cast"]) == (1, 0, 1)
        assert tally["vote"] == {"name": reps[0].public_name, "choice": "yes", "by_proxy": False}
        await sync_to_async(sessions.cast_vote)(voter=reps[1], motion=motion, choice="yes")
        await screen.receive_json_from(timeout=3)
        await sync_to_async(sessions.close_vote)(actor=chair, motion=motion)
        result = await screen.receive_json_from(timeout=3)
        assert result["type"] == "result" and result["result"] == "passed"
        assert result["seq"] == state["seq"] + 3
        assert [v["name"] for v in result["votes"]] == [r.public_name for r in reps]
        assert await screen.receive_nothing()
    finally:
        await screen.disconnect()


async def test_a_reconnect_gets_the_full_state(chair, village):
    session, reps, motion = await sync_to_async(setup_room)(chair, village)
    screen, first = await open_screen(session.pk)
    await screen.disconnect()
    await sync_to_async(sessions.cast_vote)(voter=reps[0], motion=motion, choice="no")
    await sync_to_async(sessions.close_vote)(actor=chair, motion=motion)
    screen, state = await open_screen(session.pk)
    try:
        assert state["seq"] == first["seq"] + 2
        (shown,) = state["motions"]
        assert (shown["status"], shown["result"], shown["no"]) == ("closed", "failed", 1)
        assert shown["votes"] == [{"name": reps[0].public_name, "choice": "no", "by_proxy": False}]
    finally:
        await screen.disconnect()


async def test_attendance_changes_reach_the_screen(chair, village):
    reps = await sync_to_async(representatives)(village, 2)
    session = await sync_to_async(opened)(chair, village)
    screen, state = await open_screen(session.pk)
    try:
        assert state["attendance"]["present"] == 0 and not state["attendance"]["quorum_met"]
        await sync_to_async(mark_present)(chair, session, reps)
        await screen.receive_json_from(timeout=3)
        frame = await screen.receive_json_from(timeout=3)
        assert frame["type"] == "attendance" and frame["present"] == 2 and frame["quorum_met"]
    finally:
        await screen.disconnect()


async def test_a_private_session_refuses_outsiders(chair, village):
    session = await sync_to_async(opened)(chair, village, is_public=False)
    socket = WebsocketCommunicator(
        application,
        f"/ws/meetings/{session.pk}/",
        headers=[(b"origin", b"http://testserver"), (b"host", b"testserver")],
    )
    connected, _ = await socket.connect()
    assert not connected
    await socket.disconnect()


async def test_the_check_in_code_is_never_broadcast(chair, village):
    session = await sync_to_async(opened)(chair, village)
    screen, state = await open_screen(session.pk)
    try:
        code = await sync_to_async(sessions.open_check_in)(actor=chair, session=session)
        frame = await screen.receive_json_from(timeout=3)
        assert frame == {"type": "check_in", "open": True, "seq": state["seq"] + 1}
        assert code not in str(state)
    finally:
        await screen.disconnect()


async def test_screens_that_resync_together_read_the_state_once(chair, village, monkeypatch):
    """The channel layer came back: every screen of the worker gets the state again, from one
    read (core.realtime.hub.shared_read), not one per screen."""
    from core.realtime import hub
    from core.realtime.envelope import RESYNC
    from meetings import consumers

    session, _reps, _motion = await sync_to_async(setup_room)(chair, village)
    screens = [(await open_screen(session.pk))[0] for _ in range(5)]
    reads = []
    read = consumers.SessionConsumer._read
    monkeypatch.setattr(
        consumers.SessionConsumer,
        "_read",
        lambda self, wishes: (reads.append(len(wishes)), read(self, wishes))[1],
    )
    try:
        hub.hub_of(sessions.session_group(session.pk)).tell_all(RESYNC)
        for screen in screens:
            assert (await screen.receive_json_from(timeout=3))["type"] == "state"
        assert reads == [5]
    finally:
        for screen in screens:
            await screen.disconnect()
