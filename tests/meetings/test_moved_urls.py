"""Sessions moved from /halls/ to /meetings/ (issue 15): the old addresses answer 301 to the new
ones, and a room's screen still on the old websocket path still connects."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.urls import reverse

from meetings import services as sessions
from tests.meetings.conftest import opened
from yishi.asgi import application


@pytest.mark.django_db
def test_old_session_addresses_redirect_permanently_to_meetings(client, chair, village):
    session = opened(chair, village)
    motion = sessions.add_motion(actor=chair, session=session, title="修建文化广场")
    moved = {
        f"/halls/councils/{village.pk}/sessions/new/": f"/meetings/councils/{village.pk}/new/",
        f"/halls/sessions/{session.pk}/": f"/meetings/{session.pk}/",
        f"/halls/sessions/{session.pk}/screen/?big=1": f"/meetings/{session.pk}/screen/?big=1",
        f"/halls/sessions/{session.pk}/check-in/": f"/meetings/{session.pk}/check-in/",
        f"/halls/sessions/{session.pk}/close/": f"/meetings/{session.pk}/close/",
        f"/halls/motions/{motion.pk}/vote/": f"/meetings/motions/{motion.pk}/vote/",
        "/halls/minutes/7/": "/meetings/minutes/7/",
        "/halls/minutes/7/correct/": "/meetings/minutes/7/correct/",
    }
    for old, new in moved.items():
        response = client.get(old)
        assert (response.status_code, response["Location"]) == (301, new), old
    assert reverse("meetings:session", args=[session.pk]) == f"/meetings/{session.pk}/"
    assert session.get_absolute_url() == f"/meetings/{session.pk}/"


@pytest.mark.django_db
def test_halls_keep_their_own_addresses(client):
    assert client.get("/halls/sessions/x/").status_code == 404
    assert reverse("deliberation:hall", args=[3]) == "/halls/3/"


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.parametrize("path", ["/ws/meetings/{}/", "/ws/deliberation/sessions/{}/"])
async def test_the_live_screen_connects_on_the_new_path_and_the_old(path, chair, village):
    session = await sync_to_async(opened)(chair, village)
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
    socket = WebsocketCommunicator(application, path.format(session.pk), headers=headers)
    connected, _ = await socket.connect()
    try:
        assert connected
        state = await socket.receive_json_from(timeout=3)
        assert (state["type"], state["session"]["id"]) == ("state", session.pk)
    finally:
        await socket.disconnect()
