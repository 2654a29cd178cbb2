"""The township board's socket: officials only; every step of a case under it sends a frame
with a growing seq, to the township's board and to every board above it."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from cases import services
from cases.live import board_seq
from tests.cases.conftest import grid_report
from tests.deliberation.factories import session_cookie
from yishi.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def connect(council_id, user=None):
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
    if user is not None:
        cookie = await sync_to_async(session_cookie)(user)
        headers.append((b"cookie", cookie.encode()))
    socket = WebsocketCommunicator(application, f"/ws/cases/boards/{council_id}/", headers=headers)
    connected, _ = await socket.connect()
    return socket, connected


async def test_each_step_reaches_the_township_and_district_boards(tree, people):
    township, district = tree["township"], tree["district"]
    board, ok = await connect(township.pk, people["official"])
    above, ok_above = await connect(district.pk, people["district_official"])
    assert ok and ok_above
    try:
        first = await board.receive_json_from(timeout=3)
        assert first == {"type": "board", "council": township.pk, "seq": 0}
        assert (await above.receive_json_from(timeout=3))["seq"] == 0
        case = await sync_to_async(grid_report)(tree, people)
        frame = await board.receive_json_from(timeout=3)
        assert frame == {"type": "board", "council": township.pk, "seq": 1}
        assert (await above.receive_json_from(timeout=3))["council"] == district.pk
        await sync_to_async(services.accept_case)(user=people["committee"], case=case)
        assert (await board.receive_json_from(timeout=3))["seq"] == 2
        assert await sync_to_async(board_seq)(township.pk) == 2
        # Nothing about the case itself travels on the socket.
        assert await board.receive_nothing()
    finally:
        await board.disconnect()
        await above.disconnect()


async def test_a_case_elsewhere_does_not_reach_the_board(tree, people):
    board, ok = await connect(tree["other_township"].pk, people["other_official"])
    assert ok
    try:
        await board.receive_json_from(timeout=3)
        await sync_to_async(grid_report)(tree, people)
        assert await board.receive_nothing(timeout=0.3)
    finally:
        await board.disconnect()


@pytest.mark.parametrize(
    "who",
    [None, "resident", "grid_worker", "committee", "supervisor", "other_official"],
)
async def test_only_officials_of_that_council_may_watch(tree, people, who):
    user = people[who] if who else None
    socket, ok = await connect(tree["township"].pk, user)
    assert not ok
    await socket.disconnect()


async def test_a_village_has_no_board(tree, people):
    socket, ok = await connect(tree["village"].pk, people["official"])
    assert not ok
    await socket.disconnect()
