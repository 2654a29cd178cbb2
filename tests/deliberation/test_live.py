"""The live debate over websockets: protocol, catch-up, idempotence, authorisation, safety."""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from councils.models import Membership, MembershipStatus, Role
from deliberation import services
from deliberation.models import Message, MessageStatus, SensitiveWord, TopicStatus
from tests.councils.factories import UserFactory, member
from tests.deliberation.factories import HallFactory, TopicFactory, session_cookie
from yishi.asgi import application

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio,
]


async def open_socket(topic_id, user=None, *, after=None, language=None):
    path = f"/ws/deliberation/topics/{topic_id}/"
    if after is not None:
        path += f"?after={after}"
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
    if user is not None:
        cookie = await sync_to_async(session_cookie)(user)
        headers.append((b"cookie", cookie.encode()))
    if language:
        headers.append((b"accept-language", language.encode()))
    socket = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await socket.connect()
    assert connected
    first = await until_ready(socket)
    return socket, first


async def until_ready(socket) -> list[dict]:
    frames = []
    while True:
        frame = await socket.receive_json_from(timeout=3)
        if frame["type"] == "ready":
            return frames + [frame]
        frames.append(frame)


async def send(socket, frame) -> None:
    await socket.send_to(text_data=json.dumps(frame))


async def post(socket, body, *, reply_to=None, client_id=None) -> None:
    await send(socket, {"type": "post", "body": body, "reply_to": reply_to, "client_id": client_id})


async def close_all(*sockets):
    for socket in sockets:
        await socket.disconnect()


async def test_a_post_reaches_everyone_watching(topic, resident, committee):
    poster, _ = await open_socket(topic.pk, resident)
    watcher, _ = await open_socket(topic.pk)  # anonymous, public hall
    officer, _ = await open_socket(topic.pk, committee)
    try:
        await post(poster, "村口的路该修了", client_id="c-1")
        frames = [await s.receive_json_from(timeout=3) for s in (poster, watcher, officer)]
        assert frames[0] == frames[1] == frames[2]
        frame = frames[0]
        assert frame["type"] == "message" and frame["seq"] == 1
        assert frame["body"] == "村口的路该修了" and frame["author"] == resident.public_name
        assert frame["client_id"] == "c-1" and frame["reply_to"] is None
        assert await watcher.receive_nothing()
    finally:
        await close_all(poster, watcher, officer)


async def test_first_frames_are_recent_history_stances_and_ready(topic, resident):
    await sync_to_async(services.post_message)(author=resident, topic=topic, body="一")
    await sync_to_async(services.set_stance)(user=resident, topic=topic, value="support")
    socket, frames = await open_socket(topic.pk)
    try:
        assert [f["type"] for f in frames] == ["message", "stances", "ready"]
        assert frames[1] == {"type": "stances", "support": 1, "oppose": 0, "neutral": 0}
        assert frames[2] == {"type": "ready", "last_seq": 1}
    finally:
        await socket.disconnect()


async def test_catch_up_after_seq_sends_what_was_missed_then_live(topic, resident):
    for body in ["一", "二", "三", "四"]:
        await sync_to_async(services.post_message)(author=resident, topic=topic, body=body)
    socket, frames = await open_socket(topic.pk, after=2)
    try:
        messages = [f for f in frames if f["type"] == "message"]
        assert [(m["seq"], m["body"]) for m in messages] == [(3, "三"), (4, "四")]
        assert frames[-1] == {"type": "ready", "last_seq": 4}
        await sync_to_async(services.post_message)(author=resident, topic=topic, body="五")
        live = await socket.receive_json_from(timeout=3)
        assert (live["seq"], live["body"]) == (5, "五")
    finally:
        await socket.disconnect()


async def test_catch_up_tells_of_messages_hidden_while_away(topic, resident, committee):
    posted = await sync_to_async(services.post_message)(author=resident, topic=topic, body="一")
    await sync_to_async(services.moderate_message)(
        actor=committee, message=posted.message, action="hide", reason="人身攻击"
    )
    socket, frames = await open_socket(topic.pk, after=1)
    try:
        assert {"type": "moderation", "action": "hide", "seq": 1, "reason": "人身攻击"} in frames
    finally:
        await socket.disconnect()


async def test_live_duplicates_of_caught_up_messages_are_dropped(topic, resident):
    """A message committed between group join and the catch-up read arrives once, not twice."""
    socket, _ = await open_socket(topic.pk, after=0)
    try:
        consumer_seen = await sync_to_async(services.post_message)(
            author=resident, topic=topic, body="一"
        )
        first = await socket.receive_json_from(timeout=3)
        assert first["seq"] == consumer_seen.message.seq
        # Replay the same broadcast, as a second worker or a layer retry might.
        from channels.layers import get_channel_layer

        from deliberation.selectors import event_for, message_frame, topic_group

        frame = await sync_to_async(message_frame)(consumer_seen.message)
        await get_channel_layer().group_send(topic_group(topic.pk), event_for(frame))
        assert await socket.receive_nothing(timeout=0.3)
    finally:
        await socket.disconnect()


async def test_a_resent_client_id_is_stored_once_and_answers_with_the_original(topic, resident):
    socket, _ = await open_socket(topic.pk, resident)
    try:
        await post(socket, "同一条", client_id="phone-42")
        original = await socket.receive_json_from(timeout=3)
        await post(socket, "同一条", client_id="phone-42")
        again = await socket.receive_json_from(timeout=3)
        assert again == original
        assert await sync_to_async(Message.objects.filter(topic=topic).count)() == 1
    finally:
        await socket.disconnect()


async def test_anonymous_can_watch_but_not_post(topic):
    socket, _ = await open_socket(topic.pk)
    try:
        await post(socket, "我也说两句")
        frame = await socket.receive_json_from(timeout=3)
        assert frame["type"] == "error" and frame["code"] == "not_signed_in"
        await send(socket, {"type": "stance", "value": "support"})
        assert (await socket.receive_json_from(timeout=3))["code"] == "not_signed_in"
        assert not await sync_to_async(Message.objects.exists)()
    finally:
        await socket.disconnect()


@pytest.mark.parametrize(
    "who", ["outsider", "applicant", "other_resident", "grid_worker", "supervisor_elsewhere"]
)
async def test_people_who_are_not_members_cannot_post_or_take_a_stance(tree, topic, who):
    make = {
        "outsider": lambda: UserFactory(),
        "applicant": lambda: member(tree["village"], status=MembershipStatus.PENDING),
        "other_resident": lambda: member(tree["other_village"]),
        "grid_worker": lambda: member(tree["grid"], Role.GRID_WORKER),
        "supervisor_elsewhere": lambda: member(tree["other_village"], Role.SUPERVISOR),
    }
    user = await sync_to_async(make[who])()
    socket, _ = await open_socket(topic.pk, user)
    try:
        await post(socket, "我也说两句")
        assert (await socket.receive_json_from(timeout=3))["code"] == "forbidden"
        await send(socket, {"type": "stance", "value": "oppose"})
        assert (await socket.receive_json_from(timeout=3))["code"] == "forbidden"
        assert not await sync_to_async(Message.objects.exists)()
    finally:
        await socket.disconnect()


async def test_a_members_only_hall_refuses_anonymous_sockets(tree, resident):
    private = await sync_to_async(
        lambda: TopicFactory(hall=HallFactory(council=tree["village"], is_public=False))
    )()
    socket = WebsocketCommunicator(
        application,
        f"/ws/deliberation/topics/{private.pk}/",
        headers=[(b"origin", b"http://testserver"), (b"host", b"testserver")],
    )
    connected, _ = await socket.connect()
    assert not connected
    await socket.disconnect()
    member_socket, _ = await open_socket(private.pk, resident)
    await member_socket.disconnect()


async def test_a_revoked_resident_is_refused_on_the_next_message(topic, resident):
    socket, _ = await open_socket(topic.pk, resident)
    try:
        await sync_to_async(Membership.objects.filter(user=resident).update)(
            status=MembershipStatus.REVOKED
        )
        await post(socket, "还能发吗")
        assert (await socket.receive_json_from(timeout=3))["code"] == "forbidden"
    finally:
        await socket.disconnect()


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("{not json", "bad_json"),
        ("[1, 2]", "unknown_type"),
        ('{"type": "shout", "body": "hi"}', "unknown_type"),
        (json.dumps({"type": "post", "body": "长" * 5000}), "too_large"),
        (json.dumps({"type": "post", "body": "长" * 1001}), "too_long"),
        (json.dumps({"type": "post", "body": "   "}), "empty"),
        (json.dumps({"type": "post", "body": 12}), "bad_request"),
        (json.dumps({"type": "post", "body": "hi", "reply_to": "x"}), "bad_request"),
        (json.dumps({"type": "post", "body": "hi", "reply_to": 99}), "bad_reply"),
        (json.dumps({"type": "post", "body": "hi", "client_id": "x" * 65}), "bad_request"),
        (json.dumps({"type": "stance", "value": "maybe"}), "bad_request"),
    ],
)
async def test_bad_frames_get_an_error_and_the_connection_survives(topic, resident, raw, code):
    socket, _ = await open_socket(topic.pk, resident)
    try:
        await socket.send_to(text_data=raw)
        frame = await socket.receive_json_from(timeout=3)
        assert frame["type"] == "error" and frame["code"] == code and frame["message"]
        await post(socket, "还在线")
        assert (await socket.receive_json_from(timeout=3))["body"] == "还在线"
        assert await sync_to_async(Message.objects.count)() == 1
    finally:
        await socket.disconnect()


async def test_binary_frames_are_refused_with_an_error(topic, resident):
    socket, _ = await open_socket(topic.pk, resident)
    try:
        await socket.send_to(bytes_data=b"\x00\x01")
        assert (await socket.receive_json_from(timeout=3))["code"] == "bad_json"
    finally:
        await socket.disconnect()


async def test_posting_too_fast_is_rate_limited(settings, topic, resident):
    settings.YISHI_DELIBERATION_POST_RATE = (2, 60)
    socket, _ = await open_socket(topic.pk, resident)
    try:
        for body in ["一", "二"]:
            await post(socket, body)
            assert (await socket.receive_json_from(timeout=3))["type"] == "message"
        await post(socket, "三")
        frame = await socket.receive_json_from(timeout=3)
        assert frame["type"] == "error" and frame["code"] == "rate_limited"
        assert await sync_to_async(Message.objects.count)() == 2
    finally:
        await socket.disconnect()


async def test_a_sensitive_word_holds_the_message_until_the_committee_releases_it(
    settings, topic, resident, committee
):
    settings.YISHI_SENSITIVE_WORDS = ["赌博"]
    await sync_to_async(SensitiveWord.objects.create)(word="高利贷")
    poster, _ = await open_socket(topic.pk, resident)
    watcher, _ = await open_socket(topic.pk)
    try:
        await post(poster, "有人在村里放 高利 贷", client_id="h1")
        told = await poster.receive_json_from(timeout=3)
        assert told["type"] == "error" and told["code"] == "held_for_review"
        assert told["client_id"] == "h1"
        assert await watcher.receive_nothing(timeout=0.3)
        held = await sync_to_async(Message.objects.get)()
        assert held.status == MessageStatus.HELD and held.seq is None
        await sync_to_async(services.moderate_message)(
            actor=committee, message=held, action="release"
        )
        released = await watcher.receive_json_from(timeout=3)
        assert released["seq"] == 1 and "高利" in released["body"]
    finally:
        await close_all(poster, watcher)


async def test_hiding_a_message_reaches_everyone_live(topic, resident, committee):
    watcher, _ = await open_socket(topic.pk)
    try:
        posted = await sync_to_async(services.post_message)(
            author=resident, topic=topic, body="骂人的话"
        )
        await watcher.receive_json_from(timeout=3)
        await sync_to_async(services.moderate_message)(
            actor=committee, message=posted.message, action="hide", reason="不文明用语"
        )
        frame = await watcher.receive_json_from(timeout=3)
        assert frame == {"type": "moderation", "action": "hide", "seq": 1, "reason": "不文明用语"}
        # A newcomer sees the notice in place of the message, never its text.
        late, frames = await open_socket(topic.pk)
        shown = frames[0]
        assert shown["hidden"] and shown["body"] == "" and shown["hidden_reason"] == "不文明用语"
        await late.disconnect()
    finally:
        await watcher.disconnect()


async def test_html_in_a_body_travels_as_plain_text(topic, resident):
    socket, _ = await open_socket(topic.pk, resident)
    body = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    try:
        await post(socket, body)
        text = await socket.receive_from(timeout=3)
        assert json.loads(text)["body"] == body  # verbatim; the client renders with textContent
    finally:
        await socket.disconnect()


async def test_a_reply_quotes_the_message_it_answers(topic, resident, committee):
    socket, _ = await open_socket(topic.pk, committee)
    try:
        await post(socket, "路面破了三个坑")
        await socket.receive_json_from(timeout=3)
        await post(socket, "下周一派人来看", reply_to=1)
        reply = await socket.receive_json_from(timeout=3)
        assert reply["reply_to"] == 1
        assert reply["quote"]["excerpt"] == "路面破了三个坑"
    finally:
        await socket.disconnect()


async def test_stances_are_one_per_person_changeable_and_live(topic, resident):
    socket, _ = await open_socket(topic.pk, resident)
    try:
        await send(socket, {"type": "stance", "value": "support"})
        assert await socket.receive_json_from(timeout=3) == {
            "type": "stances",
            "support": 1,
            "oppose": 0,
            "neutral": 0,
        }
        await send(socket, {"type": "stance", "value": "oppose"})
        assert await socket.receive_json_from(timeout=3) == {
            "type": "stances",
            "support": 0,
            "oppose": 1,
            "neutral": 0,
        }
    finally:
        await socket.disconnect()


async def test_a_closed_topic_takes_no_more_messages(topic, resident, committee):
    socket, _ = await open_socket(topic.pk, resident)
    try:
        await sync_to_async(services.change_topic_status)(
            actor=committee, topic=topic, status=TopicStatus.CLOSED, reason="已办结"
        )
        closed = await socket.receive_json_from(timeout=3)
        assert closed["type"] == "topic" and closed["status"] == "closed"
        await post(socket, "还想说")
        assert (await socket.receive_json_from(timeout=3))["code"] == "topic_closed"
    finally:
        await socket.disconnect()


async def test_many_concurrent_posts_are_numbered_without_gaps(topic, resident, committee):
    sockets = [(await open_socket(topic.pk, user))[0] for user in (resident, committee)]
    try:
        await asyncio.gather(
            *[
                post(s, f"第{i}条", client_id=f"{n}-{i}")
                for i in range(5)
                for n, s in enumerate(sockets)
            ]
        )
        seen = sorted([(await sockets[0].receive_json_from(timeout=3))["seq"] for _ in range(10)])
        assert seen == list(range(1, 11))
    finally:
        await close_all(*sockets)


async def test_error_messages_follow_the_language_of_the_browser(topic):
    socket, _ = await open_socket(topic.pk, language="en")
    try:
        await socket.send_to(text_data='{"type": "x"}')
        assert (await socket.receive_json_from(timeout=3))["message"] == "Unknown frame type."
    finally:
        await socket.disconnect()
    socket, _ = await open_socket(topic.pk, language="zh-CN,zh;q=0.9")
    try:
        await socket.send_to(text_data='{"type": "x"}')
        message = (await socket.receive_json_from(timeout=3))["message"]
        from django.utils import translation

        with translation.override("zh-hans"):
            expected = translation.gettext("Unknown frame type.")
        assert message == expected
    finally:
        await socket.disconnect()


async def test_sockets_of_one_worker_share_one_group_membership(topic, resident):
    """The fan-out hub joins the topic's group once per process, not once per socket."""
    from channels.layers import get_channel_layer

    from deliberation.selectors import topic_group

    sockets = [(await open_socket(topic.pk))[0] for _ in range(3)]
    try:
        layer = get_channel_layer()
        assert len(layer.groups[topic_group(topic.pk)]) == 1
        await sync_to_async(services.post_message)(author=resident, topic=topic, body="大家好")
        for socket in sockets:
            assert (await socket.receive_json_from(timeout=3))["body"] == "大家好"
    finally:
        await close_all(*sockets)
    # The last socket out closed the hub; it leaves the group in the background (its disconnect
    # never waits for the layer).
    for _ in range(50):
        if not get_channel_layer().groups.get(topic_group(topic.pk)):
            break
        await asyncio.sleep(0.02)
    assert not get_channel_layer().groups.get(topic_group(topic.pk))


async def test_a_socket_that_cannot_keep_up_is_closed_to_catch_up_later(topic):
    from core.realtime import hub
    from core.realtime.envelope import Envelope
    from deliberation import consumers

    socket, _ = await open_socket(topic.pk)
    try:
        (consumer,) = next(iter(hub._hubs.values())).subscribers
        for _ in range(consumers.OUTBOX_SIZE + 1):  # no await: the writer cannot drain
            consumer.deliver(Envelope(text="{}", kind="topic"))
        output = await socket.receive_output(timeout=3)
        while output["type"] != "websocket.close":
            output = await socket.receive_output(timeout=3)
        assert output["code"] == consumers.CLOSE_TOO_SLOW
    finally:
        await socket.disconnect()


def _post_quietly(resident, topic, bodies):
    """Store messages without broadcasting them: the test delivers their frames itself."""
    from unittest import mock

    with mock.patch("deliberation.services.broadcast_on_commit"):
        return [
            services.post_message(author=resident, topic=topic, body=body).message
            for body in bodies
        ]


async def _deliver(consumer, message):
    from core.realtime.envelope import Envelope
    from deliberation.selectors import event_for, message_frame

    consumer.deliver(Envelope.of(event_for(await sync_to_async(message_frame)(message))))


async def test_frames_that_arrive_out_of_order_are_sent_in_order(topic, resident):
    """Posts saved by different workers can reach this worker out of order."""
    from core.realtime import hub

    socket, _ = await open_socket(topic.pk, after=0)
    try:
        (consumer,) = next(iter(hub._hubs.values())).subscribers
        one, two, three = await sync_to_async(_post_quietly)(resident, topic, ["一", "二", "三"])
        for message in (three, one, two):
            await _deliver(consumer, message)
        received = [await socket.receive_json_from(timeout=3) for _ in range(3)]
        assert [f["seq"] for f in received] == [1, 2, 3]
        assert [f["body"] for f in received] == ["一", "二", "三"]
        assert await socket.receive_nothing(timeout=0.3)
    finally:
        await socket.disconnect()


async def test_a_gap_that_is_never_filled_live_is_read_from_the_database(topic, resident):
    from core.realtime import hub
    from deliberation import consumers

    socket, _ = await open_socket(topic.pk, after=0)
    try:
        (consumer,) = next(iter(hub._hubs.values())).subscribers
        messages = await sync_to_async(_post_quietly)(resident, topic, ["一", "二", "三"])
        await _deliver(consumer, messages[2])  # 1 and 2 were lost on the way
        assert await socket.receive_nothing(timeout=consumers.REORDER_WAIT / 2)
        received = [await socket.receive_json_from(timeout=3) for _ in range(3)]
        assert [(f["seq"], f["body"]) for f in received] == [(1, "一"), (2, "二"), (3, "三")]
        await _deliver(consumer, messages[1])  # a late duplicate is dropped
        assert await socket.receive_nothing(timeout=0.3)
    finally:
        await socket.disconnect()
