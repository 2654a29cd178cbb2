"""Issue 8, part 3: Hypothesis-generated frames to every websocket consumer.

Each consumer routed in yishi.routing gets, from a signed-in member, an outsider and an
anonymous visitor: valid shapes with bad values, wrong types, unknown types, text that is not
JSON, deeply nested JSON, binary and oversized frames. The consumer never crashes (an exception
would surface from the communicator); every frame it refuses is answered by an error frame with a
message in words; after the fuzzing the socket still answers, i.e. it was not left broken.
"""

import json

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.urls import URLPattern
from hypothesis import given
from hypothesis import strategies as st

from budgets.consumers import CycleResultsConsumer
from cases.consumers import BoardConsumer
from core.consumers import HealthConsumer
from deliberation.consumers import MAX_FRAME_BYTES, TopicConsumer
from governance.consumers import ScreenConsumer
from meetings.consumers import SessionConsumer
from notifications.consumers import NotificationConsumer
from tests.conftest import isolate_cache_and_layer
from tests.councils.factories import UserFactory, make_tree, member
from tests.deliberation.factories import HallFactory, TopicFactory, session_cookie
from yishi.asgi import application
from yishi.routing import websocket_urlpatterns

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 5  # seconds a reply may take on a loaded machine; not a speed assertion

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats()
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


def _dump(value) -> str:
    return json.dumps(value, ensure_ascii=False)  # NaN and Infinity included, as browsers can't


_topic_shapes = st.one_of(
    st.fixed_dictionaries(
        {"type": st.just("post")},
        optional={"body": json_values, "reply_to": json_values, "client_id": json_values},
    ),
    st.fixed_dictionaries(
        {"type": st.just("post"), "body": st.text(max_size=1200), "client_id": st.text(max_size=70)}
    ),
    st.fixed_dictionaries({"type": st.just("stance")}, optional={"value": json_values}),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["stance"])},
        optional={"value": st.sampled_from(["support", "oppose", "neutral", "SUPPORT", ""])},
    ),
    st.fixed_dictionaries({"type": json_values}),
    st.dictionaries(st.text(max_size=8), json_values, max_size=4),
)

# (key, payload): the key of the ASGI websocket.receive event, "text" or "bytes"
NASTY_FRAMES = [
    ("text", ""),
    ("bytes", b""),
    ("bytes", b"\x00\xff"),
    ("text", "{"),
    ("text", "null"),
    ("text", "NaN"),
    ("text", "[]"),
    ("text", "\x00"),
    ("text", "[" * 1500 + "]" * 1500),  # deeper than json.loads can recurse
    ("text", '{"a":' * 2600 + "1" + "}" * 2600),
    ("text", "1" * 5000),  # an integer longer than Python parses by default
    ("text", _dump({"type": "post", "body": "x" * MAX_FRAME_BYTES})),
    ("text", _dump({"type": "post", "body": "路" * 2000})),  # few characters, many bytes
    ("text", _dump({"type": "post", "body": 5})),
    ("text", _dump({"type": "post", "body": "好", "reply_to": 10**30})),
    ("text", _dump({"type": "post", "body": "好", "reply_to": float("nan")})),
    ("text", _dump({"type": "post", "body": "好", "reply_to": True})),
    ("text", _dump({"type": "post", "body": "好", "client_id": {"a": 1}})),
    ("text", _dump({"type": "post", "body": "好", "client_id": "\x00" * 10})),
    ("text", _dump({"type": "post", "body": "\x00"})),
    ("text", _dump({"type": "stance", "value": ["support"]})),
    ("text", _dump({"type": "stance", "value": {"support": 1}})),
    ("text", _dump({"type": ["post"]})),
    ("text", _dump({"type": None})),
    ("text", _dump({"type": "subscribe", "topic": 1})),
]

frames = st.one_of(
    st.sampled_from(NASTY_FRAMES),
    _topic_shapes.map(lambda v: ("text", _dump(v))),
    json_values.map(lambda v: ("text", _dump(v))),  # JSON that is not an object
    st.text(max_size=200).map(lambda t: ("text", t)),  # mostly not JSON
    st.sampled_from(["", "{", "null", "NaN", '{"type": "post", "body": "\\ud800"}', "\x00"]).map(
        lambda t: ("text", t)
    ),
    st.integers(900, 7000).map(lambda n: ("text", "[" * n + "]" * n)),
    st.integers(MAX_FRAME_BYTES - 40, MAX_FRAME_BYTES + 40).map(
        lambda n: ("text", _dump({"type": "post", "body": "x" * n}))
    ),
    st.binary(max_size=300).map(lambda b: ("bytes", b)),
)


def assert_error_frame(frame: dict) -> None:
    message = frame.get("message")
    assert isinstance(message, str) and message.strip(), f"error frame without a message: {frame}"
    assert message != frame.get("code"), f"a code is not a message: {frame}"


async def _open(path: str, user) -> tuple[WebsocketCommunicator, bool, list[dict]]:
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
    if user is not None:
        cookie = await sync_to_async(session_cookie)(user)
        headers.append((b"cookie", cookie.encode()))
    socket = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await socket.connect(timeout=WAIT)
    first = []
    if connected:
        while not await socket.receive_nothing(timeout=0.2):
            output = await socket.receive_output(timeout=WAIT)
            if output["type"] == "websocket.close":
                break
            first.append(json.loads(output["text"]))
    else:
        assert code is None or code >= 4000 or code == 1000, f"closed with {code} on connect"
    return socket, connected, first


async def _fuzz(path: str, user, sent: list[tuple[str, object]], replies: set[str]) -> None:
    socket, connected, _first = await _open(path, user)
    if not connected:
        return
    try:
        for kind, payload in sent:
            # send_input, not send_to: an empty frame is a frame too
            await socket.send_input({"type": "websocket.receive", kind: payload})
            output = await socket.receive_output(timeout=WAIT)
            assert output["type"] == "websocket.send", f"socket closed: {output}"
            frame = json.loads(output["text"])
            assert frame.get("type") in replies | {"error"}, frame
            if frame["type"] == "error":
                assert_error_frame(frame)
        # Still alive and still answering after all that.
        await socket.send_to(text_data="{")
        frame = json.loads((await socket.receive_output(timeout=WAIT))["text"])
        assert frame["type"] == "error"
        assert_error_frame(frame)
    finally:
        await socket.disconnect()


@pytest.fixture
def isolated(settings, request):
    isolate_cache_and_layer(settings, request)
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def village(isolated):
    return make_tree()["village"]


@pytest.fixture
def people(village):
    from councils.models import Role

    committee = member(village)
    member(village, Role.COMMITTEE, user=committee)
    return {
        "resident": member(village),
        "committee": committee,
        "outsider": UserFactory(),
        "official": member(_township(village), Role.OFFICIAL),
    }


def _township(village):
    from cases.services import township_of

    return township_of(village)


def _user(people, data):
    name = data.draw(st.sampled_from(["resident", "resident", "outsider", "anonymous"]))
    return people.get(name)


# --- the routes --------------------------------------------------------------------------------

FUZZED_CONSUMERS = {
    TopicConsumer,
    SessionConsumer,
    CycleResultsConsumer,
    NotificationConsumer,
    BoardConsumer,
    ScreenConsumer,
}
CLOSES_AT_ONCE = {HealthConsumer}


def test_every_websocket_consumer_is_fuzzed():
    routed = {
        pattern.callback.consumer_class
        for pattern in websocket_urlpatterns
        if isinstance(pattern, URLPattern)
    }
    assert routed == FUZZED_CONSUMERS | CLOSES_AT_ONCE, (
        "a new consumer: add a fuzz test for each of its message types in tests/fuzz"
    )


@given(data=st.data(), sent=st.lists(frames, min_size=1, max_size=6))
def test_topic_socket_survives_any_frame_and_explains_every_refusal(village, people, data, sent):
    topic = TopicFactory(hall=HallFactory(council=village), author=people["resident"])
    after = data.draw(
        st.one_of(
            st.just(""),
            st.integers(-5, 10**30).map(lambda n: f"?after={n}"),
            st.text(max_size=10).map(lambda t: f"?after={t}"),
        )
    )
    path = f"/ws/deliberation/topics/{topic.pk}/{after}"
    async_to_sync(_fuzz)(path, _user(people, data), sent, {"message", "stances"})


@given(data=st.data(), sent=st.lists(frames, min_size=1, max_size=4))
def test_session_socket_is_read_only_and_says_so(village, people, data, sent):
    from django.utils import timezone

    from meetings import services as sessions

    session = sessions.schedule_session(
        actor=people["committee"],
        council=village,
        kind="representatives",
        title="村民代表会议",
        starts_at=timezone.now(),
        place="村委会",
    )
    path = f"/ws/meetings/{session.pk}/"
    async_to_sync(_fuzz)(path, _user(people, data), sent, set())


@given(data=st.data(), sent=st.lists(frames, min_size=1, max_size=4))
def test_budget_socket_is_read_only_and_says_so(village, people, data, sent):
    from tests.budgets.factories import make_cycle

    cycle = make_cycle(village, phase=data.draw(st.sampled_from(["collect", "vote"])))
    path = f"/ws/budgets/cycles/{cycle.pk}/"
    async_to_sync(_fuzz)(path, _user(people, data), sent, set())


@given(data=st.data(), sent=st.lists(frames, min_size=1, max_size=4))
def test_notification_socket_is_read_only_and_says_so(village, people, data, sent):
    async_to_sync(_fuzz)("/ws/notifications/", _user(people, data), sent, set())


@given(data=st.data(), sent=st.lists(frames, min_size=1, max_size=4))
def test_board_socket_is_read_only_and_says_so(village, people, data, sent):
    """The township's case board: its officials watch it; nobody else is let in."""
    name = data.draw(st.sampled_from(["official", "official", "resident", "anonymous"]))
    path = f"/ws/cases/boards/{_township(village).pk}/"
    async_to_sync(_fuzz)(path, people.get(name), sent, set())


@given(data=st.data(), sent=st.lists(frames, min_size=1, max_size=4))
def test_screen_socket_is_read_only_and_says_so(village, people, data, sent):
    """The big screen of the township: public, so anyone, signed in or not, may watch it."""
    name = data.draw(st.sampled_from(["anonymous", "resident", "outsider", "official"]))
    path = f"/ws/governance/screens/{_township(village).pk}/"
    async_to_sync(_fuzz)(path, people.get(name), sent, set())


@pytest.mark.parametrize("route", ["topic", "session", "cycle", "notifications", "board", "screen"])
def test_every_nasty_frame_is_answered_by_every_socket(village, people, route):
    """The known traps, each sent once to each consumer, by a member who may take part."""
    from django.utils import timezone

    from meetings import services as sessions
    from tests.budgets.factories import make_cycle

    if route == "topic":
        topic = TopicFactory(hall=HallFactory(council=village), author=people["resident"])
        path, replies = f"/ws/deliberation/topics/{topic.pk}/", {"message", "stances"}
    elif route == "session":
        session = sessions.schedule_session(
            actor=people["committee"],
            council=village,
            kind="representatives",
            title="村民代表会议",
            starts_at=timezone.now(),
            place="村委会",
        )
        path, replies = f"/ws/meetings/{session.pk}/", set()
    elif route == "cycle":
        path, replies = f"/ws/budgets/cycles/{make_cycle(village, phase='vote').pk}/", set()
    elif route == "board":
        path, replies = f"/ws/cases/boards/{_township(village).pk}/", set()
    elif route == "screen":
        path, replies = f"/ws/governance/screens/{_township(village).pk}/", set()
    else:
        path, replies = "/ws/notifications/", set()
    user = people["official"] if route == "board" else people["resident"]
    async_to_sync(_fuzz)(path, user, NASTY_FRAMES, replies)


@pytest.mark.parametrize(
    "path",
    [
        "/ws/deliberation/topics/0/",
        "/ws/deliberation/topics/99999999999999999999999/",
        "/ws/meetings/99999999999999999999999/",
        "/ws/budgets/cycles/99999999999999999999999/",
        "/ws/cases/boards/0/",
        "/ws/cases/boards/99999999999999999999999/",
        "/ws/governance/screens/0/",
        "/ws/governance/screens/99999999999999999999999/",
    ],
)
def test_a_socket_to_nothing_is_closed_deliberately(isolated, path):
    async def run():
        socket = WebsocketCommunicator(
            application, path, headers=[(b"origin", b"http://testserver")]
        )
        connected, code = await socket.connect(timeout=WAIT)
        assert not connected and code == 4404
        await socket.disconnect()

    async_to_sync(run)()


def test_health_socket_says_hello_and_closes_deliberately(isolated):
    async def run():
        socket = WebsocketCommunicator(
            application, "/ws/health/", headers=[(b"origin", b"http://testserver")]
        )
        connected, _code = await socket.connect(timeout=WAIT)
        assert connected
        assert await socket.receive_json_from(timeout=WAIT) == {
            "type": "hello",
            "authenticated": False,
        }
        closing = await socket.receive_output(timeout=WAIT)
        assert closing["type"] == "websocket.close" and closing.get("code", 1000) == 1000
        await socket.disconnect()

    async_to_sync(run)()
