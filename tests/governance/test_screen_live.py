"""The big screen's socket: anyone may watch a live township, district or city (the frames
carry no data); it wakes at every step of a case under the council and at every recompute of
its figures; every other address is refused."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction

from governance.live import figures_changed
from tests.councils.factories import UserFactory
from tests.deliberation.factories import session_cookie
from tests.governance.cases_made import case_people, close, report
from yishi.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def connect(council_id, user=None, origin=b"http://testserver"):
    headers = [(b"host", b"testserver")]
    if origin is not None:
        headers.append((b"origin", origin))
    if user is not None:
        cookie = await sync_to_async(session_cookie)(user)
        headers.append((b"cookie", cookie.encode()))
    socket = WebsocketCommunicator(
        application, f"/ws/governance/screens/{council_id}/", headers=headers
    )
    connected, _ = await socket.connect(timeout=3)
    return socket, connected


async def test_anyone_may_watch_a_township_district_or_city(tree):
    for name in ("township", "district", "city"):
        socket, ok = await connect(tree[name].pk)
        try:
            assert ok, name
            assert await socket.receive_json_from(timeout=3) == {
                "type": "board",
                "council": tree[name].pk,
                "seq": 0,
            }
        finally:
            await socket.disconnect()


async def test_a_signed_in_resident_may_watch_too(tree):
    socket, ok = await connect(tree["township"].pk, await sync_to_async(UserFactory)())
    await socket.disconnect()
    assert ok


@pytest.mark.parametrize("name", ["village", "grid"])
async def test_a_village_or_grid_is_refused(tree, name):
    socket, ok = await connect(tree[name].pk)
    await socket.disconnect()
    assert not ok


@pytest.mark.parametrize("pk", [999_999, 2**63, 2**70])
async def test_an_unknown_council_is_refused(db, pk):
    socket, ok = await connect(pk)
    await socket.disconnect()
    assert not ok


async def test_an_unpublished_township_is_refused(tree):
    await sync_to_async(tree["township"].unpublish)()
    socket, ok = await connect(tree["township"].pk)
    await socket.disconnect()
    assert not ok


async def test_a_foreign_page_cannot_open_it(tree):
    for origin in (b"https://evil.example", None):
        socket, ok = await connect(tree["township"].pk, origin=origin)
        await socket.disconnect()
        assert not ok


async def test_every_step_of_a_case_under_it_wakes_the_screen(tree):
    township, district = tree["township"], tree["district"]
    people = await sync_to_async(case_people)(tree)
    screen, ok = await connect(township.pk)
    above, ok_above = await connect(district.pk)
    elsewhere, ok_elsewhere = await connect(tree["other_township"].pk)
    assert ok and ok_above and ok_elsewhere
    try:
        for socket in (screen, above, elsewhere):
            assert (await socket.receive_json_from(timeout=3))["seq"] == 0
        case = await sync_to_async(report)(tree, people)
        assert await screen.receive_json_from(timeout=3) == {
            "type": "board",
            "council": township.pk,
            "seq": 1,
        }
        assert (await above.receive_json_from(timeout=3))["council"] == district.pk
        await sync_to_async(close)(case, people)  # accept, resolve, confirm: three steps
        seqs = [(await screen.receive_json_from(timeout=3))["seq"] for _ in range(3)]
        assert seqs == [2, 3, 4]
        # Nothing about the case travels, and nothing reaches another township's screen.
        assert await screen.receive_nothing(timeout=0.2)
        assert await elsewhere.receive_nothing(timeout=0.2)
    finally:
        for socket in (screen, above, elsewhere):
            await socket.disconnect()


async def test_a_recompute_wakes_the_screens_of_the_councils_it_rebuilt(tree):
    township = tree["township"]
    screen, ok = await connect(township.pk)
    elsewhere, ok_elsewhere = await connect(tree["other_township"].pk)
    assert ok and ok_elsewhere
    try:
        await screen.receive_json_from(timeout=3)
        await elsewhere.receive_json_from(timeout=3)

        def recomputed():
            with transaction.atomic():
                figures_changed([township.pk, tree["village"].pk])

        await sync_to_async(recomputed)()
        assert await screen.receive_json_from(timeout=3) == {
            "type": "board",
            "council": township.pk,
            "seq": 1,
        }
        assert await elsewhere.receive_nothing(timeout=0.2)
    finally:
        await screen.disconnect()
        await elsewhere.disconnect()


async def test_a_rolled_back_recompute_sends_nothing(tree):
    screen, ok = await connect(tree["township"].pk)
    assert ok
    try:
        await screen.receive_json_from(timeout=3)

        def rolled_back():
            with transaction.atomic():
                figures_changed([tree["township"].pk])
                transaction.set_rollback(True)

        await sync_to_async(rolled_back)()
        assert await screen.receive_nothing(timeout=0.3)
    finally:
        await screen.disconnect()


async def test_the_screen_is_read_only(tree):
    screen, ok = await connect(tree["township"].pk)
    assert ok
    try:
        await screen.receive_json_from(timeout=3)
        await screen.send_to(text_data='{"type": "post", "body": "hello"}')
        frame = await screen.receive_json_from(timeout=3)
        assert frame["type"] == "error" and frame["code"] == "read_only"
    finally:
        await screen.disconnect()
