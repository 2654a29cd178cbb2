"""The live debate exactly as docs/realtime.md says (issue 16): each seq once whatever `after`
is, every frame authorised against the topic as it is now, every error of a post with its
client_id, and a reconnect storm that costs one catch-up read per topic per worker."""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async

from core.realtime import hub
from core.realtime.envelope import RESYNC
from deliberation import consumers, services
from deliberation.models import Message, TopicStatus
from deliberation.selectors import topic_group
from tests.deliberation.test_live import open_socket, post, send, until_ready

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


def _post_many(resident, topic, bodies):
    for body in bodies:
        services.post_message(author=resident, topic=topic, body=body)


async def _messages_until_quiet(socket) -> list[int]:
    seqs = []
    while not await socket.receive_nothing(timeout=consumers.REORDER_WAIT + 0.5):
        frame = await socket.receive_json_from(timeout=3)
        if frame["type"] == "message":
            seqs.append(frame["seq"])
    return seqs


async def test_after_the_latest_seq_sends_nothing_old_and_the_next_message_once(topic, resident):
    """Today's bug: nothing newer, `last_seq` stayed 0, the next live message was "early" and
    the gap filler resent the whole history."""
    await sync_to_async(_post_many)(resident, topic, ["一", "二", "三"])
    socket, frames = await open_socket(topic.pk, after=3)
    try:
        assert [f["type"] for f in frames] == ["stances", "ready"]
        assert frames[-1] == {"type": "ready", "last_seq": 3}
        await sync_to_async(_post_many)(resident, topic, ["四"])
        assert await _messages_until_quiet(socket) == [4]
    finally:
        await socket.disconnect()


async def test_after_beyond_the_latest_is_taken_as_the_latest(topic, resident):
    await sync_to_async(_post_many)(resident, topic, ["一", "二"])
    socket, frames = await open_socket(topic.pk, after=40)
    try:
        assert [f["type"] for f in frames] == ["stances", "ready"]
        assert frames[-1] == {"type": "ready", "last_seq": 2}  # the client sets its last to 2
        await sync_to_async(_post_many)(resident, topic, ["三", "四"])
        assert await _messages_until_quiet(socket) == [3, 4]
    finally:
        await socket.disconnect()


@pytest.mark.parametrize("after", [0, 1, 2, 3])
async def test_every_after_gets_every_later_seq_exactly_once(topic, resident, after):
    await sync_to_async(_post_many)(resident, topic, ["一", "二", "三"])
    socket, frames = await open_socket(topic.pk, after=after)
    try:
        caught_up = [f["seq"] for f in frames if f["type"] == "message"]
        assert caught_up == list(range(after + 1, 4))
        await sync_to_async(_post_many)(resident, topic, ["四", "五"])
        assert await _messages_until_quiet(socket) == [4, 5]
    finally:
        await socket.disconnect()


async def test_a_socket_opened_on_a_closed_topic_says_closed_and_posts_once_it_reopens(
    topic, resident, committee
):
    await sync_to_async(services.change_topic_status)(
        actor=committee, topic=topic, status=TopicStatus.CLOSED, reason="已办结"
    )
    socket, _ = await open_socket(topic.pk, resident)
    try:
        await post(socket, "还没修好", client_id="c-closed")
        refused = await socket.receive_json_from(timeout=3)
        assert (refused["code"], refused["client_id"]) == ("topic_closed", "c-closed")
        await send(socket, {"type": "stance", "value": "oppose"})
        assert (await socket.receive_json_from(timeout=3))["code"] == "topic_closed"
        await sync_to_async(services.change_topic_status)(
            actor=committee, topic=topic, status=TopicStatus.OPEN, reason="还有问题"
        )
        reopened = await socket.receive_json_from(timeout=3)
        assert (reopened["type"], reopened["status"]) == ("topic", "open")
        await post(socket, "重新开了", client_id="c-open")
        frame = await socket.receive_json_from(timeout=3)
        assert (frame["type"], frame["client_id"]) == ("message", "c-open")
    finally:
        await socket.disconnect()


async def test_a_non_member_on_a_closed_topic_is_still_forbidden(tree, topic, committee):
    from tests.councils.factories import member

    outsider = await sync_to_async(member)(tree["other_village"])
    await sync_to_async(services.change_topic_status)(
        actor=committee, topic=topic, status=TopicStatus.CLOSED, reason="已办结"
    )
    socket, _ = await open_socket(topic.pk, outsider)
    try:
        await post(socket, "我也说两句", client_id="x")
        assert (await socket.receive_json_from(timeout=3))["code"] == "forbidden"
    finally:
        await socket.disconnect()


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ({"type": "post", "body": "长" * 5000, "client_id": "big-1"}, "too_large"),
        ({"type": "post", "body": "长" * 1001, "client_id": "long-1"}, "too_long"),
        ({"type": "post", "body": "  ", "client_id": "empty-1"}, "empty"),
        ({"type": "post", "body": "hi", "reply_to": 99, "client_id": "reply-1"}, "bad_reply"),
        ({"type": "post", "body": 12, "client_id": "type-1"}, "bad_request"),
    ],
)
async def test_every_error_of_a_post_carries_its_client_id(topic, resident, frame, code):
    socket, _ = await open_socket(topic.pk, resident)
    try:
        await socket.send_to(text_data=json.dumps(frame))
        error = await socket.receive_json_from(timeout=3)
        assert (error["type"], error["code"]) == ("error", code)
        assert error["client_id"] == frame["client_id"]
    finally:
        await socket.disconnect()


async def test_an_oversized_frame_that_is_not_json_gets_too_large_without_client_id(topic):
    socket, _ = await open_socket(topic.pk)
    try:
        await socket.send_to(text_data="x" * (consumers.MAX_FRAME_BYTES + 1))
        error = await socket.receive_json_from(timeout=3)
        assert error["code"] == "too_large" and "client_id" not in error
    finally:
        await socket.disconnect()


# --- Reconnect storms ----------------------------------------------------------------------

STORM = 20


@pytest.fixture
def catch_up_reads(monkeypatch):
    """Every catch-up read of the topic consumers (one per worker per batch of sockets)."""
    reads = []
    read = consumers.TopicConsumer._read

    def counted(self, wishes):
        reads.append(sorted(wishes, key=lambda after: -1 if after is None else after))
        return read(self, wishes)

    monkeypatch.setattr(consumers.TopicConsumer, "_read", counted)
    return reads


@pytest.fixture
def admission_reads(monkeypatch):
    """Every read of the topic to admit sockets (shared like the catch-up reads)."""
    reads = []
    read = consumers.TopicConsumer._read_topic

    def counted(self, wishes):
        reads.append(len(wishes))
        return read(self, wishes)

    monkeypatch.setattr(consumers.TopicConsumer, "_read_topic", counted)
    return reads


async def test_a_reconnect_storm_costs_one_catch_up_read_not_one_per_socket(
    topic, resident, catch_up_reads, admission_reads
):
    await sync_to_async(_post_many)(resident, topic, ["一", "二", "三", "四"])
    opened = await asyncio.gather(*[open_socket(topic.pk, after=n % 5) for n in range(STORM)])
    try:
        for n, (_socket, frames) in enumerate(opened):
            assert [f["seq"] for f in frames if f["type"] == "message"] == list(range(n % 5 + 1, 5))
            assert frames[-1] == {"type": "ready", "last_seq": 4}
        # Sockets that ask before a read starts share it; those that ask while it runs wait
        # for it and use it, completed by what the hub handed out since; those that ask after
        # it ended use it the same way. One read (the code before cost twenty).
        assert len(catch_up_reads) == 1, catch_up_reads
        # Admitting them reads the topic the same way: those that ask while the first read of
        # a worker with no socket on the topic yet runs wait for it; one more at most, asked
        # by a socket that came once the hub existed and before a read was kept there.
        assert 1 <= len(admission_reads) <= 2, admission_reads
    finally:
        await asyncio.gather(*[socket.disconnect() for socket, _ in opened])


@pytest.fixture
def no_post_rate(settings):
    """These tests post more than a resident may in a minute."""
    settings.YISHI_DELIBERATION_POST_RATE = None


async def _open_each_after_a_broadcast(resident, topic, keeper, afters):
    """One socket per `after`, each opened after one more message went out live (the keeper
    has it, so the worker's hub handed it out): a storm as it comes, spread over time."""
    opened = []
    for after in afters:
        await sync_to_async(_post_many)(resident, topic, [f"又一条 {after}"])
        frame = await keeper.receive_json_from(timeout=3)
        assert frame["type"] == "message"
        socket, frames = await open_socket(topic.pk, after=after)
        opened.append((socket, frames, after, frame["seq"]))
    return opened


async def _seqs_of_each(opened, latest: int) -> list[tuple[list[int], list[int]]]:
    """Per socket: the seqs it was sent, in order, and those it should have been sent, once all
    up to `latest` went out."""
    result = []
    for socket, frames, after, _latest_then in opened:
        caught_up = [f["seq"] for f in frames if f["type"] == "message"]
        after = after or 0  # a first connect: the latest 50, here every message
        result.append(
            (caught_up + await _messages_until_quiet(socket), list(range(after + 1, latest + 1)))
        )
    return result


async def test_sockets_arriving_over_time_cost_one_read_and_get_each_seq_once(
    topic, resident, catch_up_reads, no_post_rate
):
    """Each socket joins after the first read ended: it gets that read plus what the hub handed
    out since, in order, each seq once, and the database is read once for all of them."""
    await sync_to_async(_post_many)(resident, topic, ["一", "二", "三", "四"])
    keeper, _ = await open_socket(topic.pk, after=4)
    opened = await _open_each_after_a_broadcast(resident, topic, keeper, [0, None, 4, 2, 6, 5, 9])
    try:
        for sent, expected in await _seqs_of_each(opened, latest=opened[-1][3]):
            assert sent == expected
        assert len(catch_up_reads) == 1, catch_up_reads
        # And live from here on, once each.
        await sync_to_async(_post_many)(resident, topic, ["最后一条"])
        for socket, *_ in opened:
            assert await _messages_until_quiet(socket) == [12]
    finally:
        await asyncio.gather(keeper.disconnect(), *[socket.disconnect() for socket, *_ in opened])


async def test_a_read_is_not_used_for_an_after_below_what_it_read(
    topic, resident, catch_up_reads, monkeypatch, no_post_rate
):
    monkeypatch.setattr(consumers, "CATCH_UP_BATCH", 2)  # a read covers the last two numbers
    await sync_to_async(_post_many)(resident, topic, ["一", "二", "三", "四", "五", "六"])
    keeper, _ = await open_socket(topic.pk, after=6)  # reads from 4
    opened = await _open_each_after_a_broadcast(resident, topic, keeper, [5, 1, 0])
    try:
        for sent, expected in await _seqs_of_each(opened, latest=opened[-1][3]):
            assert sent == expected
        # after=5 uses the first read; 1 is below its floor: a read from 1 (or lower), which
        # after=0 cannot use either.
        assert [wishes for wishes in catch_up_reads] == [[6], [1], [0]]
    finally:
        await asyncio.gather(keeper.disconnect(), *[socket.disconnect() for socket, *_ in opened])


async def test_a_read_is_not_used_once_the_hub_has_dropped_what_came_since(
    topic, resident, catch_up_reads, monkeypatch, no_post_rate
):
    monkeypatch.setattr(hub, "HISTORY", 2)
    await sync_to_async(_post_many)(resident, topic, ["一"])
    keeper, _ = await open_socket(topic.pk, after=1)
    opened = await _open_each_after_a_broadcast(resident, topic, keeper, [0, 0])
    try:
        for _n in range(2):  # two more: the history holds two, not the three since the read
            await sync_to_async(_post_many)(resident, topic, ["再一条"])
            await keeper.receive_json_from(timeout=3)
        late, frames = await open_socket(topic.pk, after=0)
        opened.append((late, frames, 0, 5))
        for sent, expected in await _seqs_of_each(opened, latest=opened[-1][3]):
            assert sent == expected
        assert len(catch_up_reads) == 2, catch_up_reads
    finally:
        await asyncio.gather(keeper.disconnect(), *[socket.disconnect() for socket, *_ in opened])


async def test_a_read_is_not_used_after_its_time_or_across_a_layer_outage(
    topic, resident, catch_up_reads, monkeypatch
):
    await sync_to_async(_post_many)(resident, topic, ["一", "二"])
    keeper, _ = await open_socket(topic.pk, after=2)
    sockets = [keeper]
    try:
        sockets.append((await open_socket(topic.pk, after=0))[0])
        assert len(catch_up_reads) == 1
        hub.hub_of(topic_group(topic.pk)).tell_all(RESYNC)  # broadcasts may have been lost
        await until_ready(keeper)
        await until_ready(sockets[1])
        assert len(catch_up_reads) == 2  # both resynced from one new read
        socket, frames = await open_socket(topic.pk, after=1)
        sockets.append(socket)
        assert [f["seq"] for f in frames if f["type"] == "message"] == [2]
        assert len(catch_up_reads) == 2  # the resync's read, used again
        monkeypatch.setattr(hub, "KEEP_READS", 0.0)
        sockets.append((await open_socket(topic.pk, after=1))[0])
        assert len(catch_up_reads) == 3
    finally:
        await asyncio.gather(*[socket.disconnect() for socket in sockets])


async def test_admission_reuses_the_topic_until_a_change_to_it_is_broadcast(
    topic, resident, committee, admission_reads
):
    keeper, _ = await open_socket(topic.pk, after=0)
    sockets = [keeper]
    try:
        for _n in range(3):
            sockets.append((await open_socket(topic.pk, after=0))[0])
        # The keeper's read had no hub to keep it in; the second socket's is used by the rest.
        assert len(admission_reads) == 2, admission_reads
        await sync_to_async(services.change_topic_status)(
            actor=committee, topic=topic, status=TopicStatus.CLOSED, reason="已办结"
        )
        assert (await keeper.receive_json_from(timeout=3))["type"] == "topic"
        sockets.append((await open_socket(topic.pk, after=0))[0])
        assert len(admission_reads) == 3, admission_reads  # the topic changed: read again
    finally:
        await asyncio.gather(*[socket.disconnect() for socket in sockets])


async def test_a_resync_of_every_socket_costs_one_read(topic, resident, catch_up_reads):
    """The channel layer came back: every socket of the worker catches up, from one read."""
    sockets = [(await open_socket(topic.pk, after=0))[0] for _ in range(STORM)]
    try:
        catch_up_reads.clear()
        with_no_broadcast = sync_to_async(_post_quietly)
        await with_no_broadcast(resident, topic, ["停电时说的"])  # lost with the layer
        hub.hub_of(topic_group(topic.pk)).tell_all(RESYNC)
        for socket in sockets:
            frames = await until_ready(socket)
            assert [f["seq"] for f in frames if f["type"] == "message"] == [1]
            assert frames[-1] == {"type": "ready", "last_seq": 1}
        # One read: the sockets that ask while it runs wait for it and use it.
        assert len(catch_up_reads) == 1 and catch_up_reads[0][0] == 0
    finally:
        await asyncio.gather(*[socket.disconnect() for socket in sockets])
    assert await sync_to_async(Message.objects.count)() == 1


def _post_quietly(resident, topic, bodies):
    from unittest import mock

    with mock.patch("deliberation.services.broadcast_on_commit"):
        _post_many(resident, topic, bodies)


async def test_a_message_hidden_after_a_read_never_reaches_a_newcomer_from_that_read(
    topic, resident, committee, catch_up_reads
):
    posted = await sync_to_async(services.post_message)(author=resident, topic=topic, body="骂人")
    keeper, frames = await open_socket(topic.pk)  # its read holds the text
    try:
        assert frames[0]["body"] == "骂人"
        await sync_to_async(services.moderate_message)(
            actor=committee, message=posted.message, action="hide", reason="不文明用语"
        )
        assert (await keeper.receive_json_from(timeout=3))["type"] == "moderation"
        for after in (None, 0):
            late, frames = await open_socket(topic.pk, after=after)
            await late.disconnect()
            shown = [f for f in frames if f["type"] == "message"]
            assert [(m["seq"], m["hidden"], m["body"]) for m in shown] == [(1, True, "")]
            assert "骂人" not in json.dumps(frames, ensure_ascii=False)
        assert len(catch_up_reads) == 2  # read again after the hide, then used again
    finally:
        await keeper.disconnect()
