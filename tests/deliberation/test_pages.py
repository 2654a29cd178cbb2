"""The no-JavaScript pages: reading, posting, stances, committee tools, labels, size, queries."""

import gzip
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from councils.models import Role
from deliberation import services
from deliberation.models import (
    Message,
    MessageStatus,
    ModerationLog,
    Stance,
    Topic,
    TopicEvent,
    TopicPhoto,
    TopicStatus,
)
from tests.councils.factories import UserFactory, member
from tests.deliberation.factories import HallFactory, TopicFactory

pytestmark = pytest.mark.django_db


def png(size=(20, 20)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, "PNG")
    return buffer.getvalue()


def test_council_page_lists_its_public_halls_only_to_outsiders(client, tree, resident):
    HallFactory(council=tree["village"], title="村民议事厅")
    HallFactory(council=tree["village"], title="青年议事厅", is_public=False)
    html = client.get(tree["village"].url).content.decode()
    assert "村民议事厅" in html and "青年议事厅" not in html
    client.force_login(resident)
    assert "青年议事厅" in client.get(tree["village"].url).content.decode()


def test_members_only_hall_and_its_topics_are_closed_to_outsiders(client, tree):
    topic = TopicFactory(hall=HallFactory(council=tree["village"], is_public=False))
    assert client.get(topic.hall.get_absolute_url()).status_code == 403
    assert client.get(topic.get_absolute_url()).status_code == 403
    client.force_login(UserFactory())
    assert client.get(topic.get_absolute_url()).status_code == 403


def test_topic_page_is_readable_without_javascript(client, topic, resident):
    services.post_message(author=resident, topic=topic, body="见 https://example.org/map 的位置")
    response = client.get(topic.get_absolute_url())
    html = response.content.decode()
    assert response.status_code == 200
    assert topic.title in html and "见" in html
    assert '<a href="https://example.org/map" rel="nofollow">' in html
    assert '<script src="/static/js/topic-live.js" defer></script>' in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "no inline scripts"
    assert " style=" not in html


def test_html_in_a_message_is_shown_as_text(client, topic, resident):
    services.post_message(
        author=resident, topic=topic, body='<script>alert("x")</script><b onclick="x()">粗</b>'
    )
    html = client.get(topic.get_absolute_url()).content.decode()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "<b onclick" not in html


def test_posting_through_the_form_publishes_and_redirects(client, topic, resident):
    client.force_login(resident)
    response = client.post(
        f"/halls/topics/{topic.pk}/post/", {"body": "同意修路", "client_id": "form-1"}
    )
    assert response.status_code == 302 and response["Location"].endswith("#message-1")
    # A double-click sends the same form twice: stored once.
    client.post(f"/halls/topics/{topic.pk}/post/", {"body": "同意修路", "client_id": "form-1"})
    assert list(Message.objects.values_list("seq", "body")) == [(1, "同意修路")]


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({"body": ""}, "Write something first."),
        ({"body": "   "}, "Write something first."),
        ({"body": "长" * 1001}, "at most 1000 characters"),
        ({"body": "好", "reply_to": "abc"}, "Enter a whole number."),
        ({"body": "好", "reply_to": "7"}, "The message you reply to does not exist."),
        ({"body": "好", "client_id": "x" * 65}, "at most 64 characters"),
    ],
)
def test_bad_message_form_says_why_and_saves_nothing(client, topic, resident, data, says):
    client.force_login(resident)
    response = client.post(f"/halls/topics/{topic.pk}/post/", data)
    assert response.status_code == 400
    assert says in response.content.decode()
    assert not Message.objects.exists()


@pytest.mark.parametrize("who", ["anonymous", "outsider", "other_resident", "grid_worker"])
def test_people_outside_the_council_cannot_post_through_the_form(client, tree, topic, who):
    if who != "anonymous":
        client.force_login(
            {
                "outsider": UserFactory,
                "other_resident": lambda: member(tree["other_village"]),
                "grid_worker": lambda: member(tree["grid"], Role.GRID_WORKER),
            }[who]()
        )
    response = client.post(f"/halls/topics/{topic.pk}/post/", {"body": "路过"})
    assert response.status_code in (302, 403)
    if response.status_code == 302:
        assert "/accounts/login/" in response["Location"]
    assert not Message.objects.exists()
    assert client.post(f"/halls/topics/{topic.pk}/stance/", {"value": "support"}).status_code in (
        302,
        403,
    )
    assert not Stance.objects.exists()


def test_stance_form_saves_one_stance_and_changes_it(client, topic, resident):
    client.force_login(resident)
    client.post(f"/halls/topics/{topic.pk}/stance/", {"value": "support"})
    client.post(f"/halls/topics/{topic.pk}/stance/", {"value": "neutral"})
    assert list(Stance.objects.values_list("value", flat=True)) == ["neutral"]
    response = client.post(f"/halls/topics/{topic.pk}/stance/", {"value": "maybe"})
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    assert list(Stance.objects.values_list("value", flat=True)) == ["neutral"]


def test_raising_a_topic_with_a_photo(client, hall, resident):
    client.force_login(resident)
    response = client.post(
        f"/halls/{hall.pk}/topics/new/",
        {
            "title": "路灯坏了",
            "description": "村东头三盏路灯不亮",
            "category": "safety",
            "location": "村东头",
            "photo_1": SimpleUploadedFile("lamp.png", png(), "image/png"),
        },
    )
    topic = Topic.objects.get()
    assert response.status_code == 302 and response["Location"] == topic.get_absolute_url()
    assert TopicPhoto.objects.filter(topic=topic).count() == 1
    assert list(topic.events.values_list("kind", flat=True)) == ["raised"]


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({"title": "", "description": "x", "category": "roads"}, "Give the topic a title."),
        ({"title": "x", "description": "", "category": "roads"}, "Describe the matter"),
        ({"title": "x", "description": "y", "category": "gossip"}, "Select a valid choice"),
        ({"title": "长" * 121, "description": "y", "category": "roads"}, "at most 120"),
        (
            {
                "title": "x",
                "description": "y",
                "category": "roads",
                "photo_1": SimpleUploadedFile("a.png", b"not an image", "image/png"),
            },
            # checked by the service (core/uploads.py), which names the file
            "The file a.png is not a JPEG, PNG or WebP photo.",
        ),
        (
            {
                "title": "x",
                "description": "y",
                "category": "roads",
                "photo_2": SimpleUploadedFile(
                    "big.png", png() + b"\0" * (5 * 1024 * 1024), "image/png"
                ),
            },
            "larger than 5 MB",
        ),
    ],
)
def test_bad_topic_form_says_why_and_saves_nothing(client, hall, resident, data, says):
    client.force_login(resident)
    response = client.post(f"/halls/{hall.pk}/topics/new/", data)
    assert response.status_code == 400
    assert says in response.content.decode()
    assert not Topic.objects.exists() and not TopicPhoto.objects.exists()


@pytest.mark.parametrize("who", ["outsider", "applicant", "other_resident", "grid_worker"])
def test_only_verified_residents_may_open_the_topic_form(client, tree, hall, who):
    from councils.models import MembershipStatus

    client.force_login(
        {
            "outsider": UserFactory,
            "applicant": lambda: member(tree["village"], status=MembershipStatus.PENDING),
            "other_resident": lambda: member(tree["other_village"]),
            "grid_worker": lambda: member(tree["grid"], Role.GRID_WORKER),
        }[who]()
    )
    assert client.get(f"/halls/{hall.pk}/topics/new/").status_code == 403
    assert (
        client.post(
            f"/halls/{hall.pk}/topics/new/", {"title": "x", "description": "y", "category": "roads"}
        ).status_code
        == 403
    )
    assert not Topic.objects.exists()


def test_committee_tools_change_status_answer_and_merge(client, hall, topic, committee):
    duplicate = TopicFactory(hall=hall)
    client.force_login(committee)
    client.post(f"/halls/topics/{topic.pk}/status/", {"status-status": "taken_up"})
    client.post(f"/halls/topics/{topic.pk}/answer/", {"answer-answer": "下月开工"})
    client.post(f"/halls/topics/{duplicate.pk}/merge/", {"merge-into": topic.pk})
    topic.refresh_from_db()
    duplicate.refresh_from_db()
    assert topic.status == TopicStatus.TAKEN_UP and topic.official_answer == "下月开工"
    assert duplicate.status == TopicStatus.MERGED and duplicate.merged_into == topic
    html = client.get(topic.get_absolute_url()).content.decode()
    assert "下月开工" in html and "Taken up by the committee" in html
    assert TopicEvent.objects.filter(topic=topic).count() == 3  # taken up, answered, absorbed


def test_closing_without_a_reason_is_refused_with_a_message(client, topic, committee):
    client.force_login(committee)
    response = client.post(
        f"/halls/topics/{topic.pk}/status/", {"status-status": "closed"}, follow=True
    )
    assert "Give a reason" in response.content.decode()
    topic.refresh_from_db()
    assert topic.status == TopicStatus.OPEN


@pytest.mark.parametrize("role", [None, Role.REPRESENTATIVE, Role.SUPERVISOR])
def test_residents_cannot_use_committee_tools(client, tree, topic, role):
    user = member(tree["village"])
    if role:
        member(tree["village"], role, user=user)
    client.force_login(user)
    posted = services.post_message(author=user, topic=topic, body="一")
    assert (
        client.post(f"/halls/topics/{topic.pk}/status/", {"status-status": "decided"}).status_code
        == 403
    )
    assert (
        client.post(f"/halls/topics/{topic.pk}/answer/", {"answer-answer": "x"}).status_code == 403
    )
    assert (
        client.post(
            f"/halls/messages/{posted.message.pk}/moderate/",
            {"mod-action": "hide", "mod-reason": "x"},
        ).status_code
        == 403
    )
    topic.refresh_from_db()
    assert topic.status == TopicStatus.OPEN and not topic.official_answer
    assert Message.objects.get().status == MessageStatus.PUBLISHED


def test_hidden_message_shows_the_committees_reason_not_its_text(
    client, topic, resident, committee
):
    posted = services.post_message(author=resident, topic=topic, body="不该出现的话")
    client.force_login(committee)
    client.post(
        f"/halls/messages/{posted.message.pk}/moderate/",
        {"mod-action": "hide", "mod-reason": "涉及隐私"},
    )
    client.logout()
    html = client.get(topic.get_absolute_url()).content.decode()
    assert "不该出现的话" not in html
    assert "Hidden by the committee: 涉及隐私" in html
    assert ModerationLog.objects.get().action == "hide"
    client.force_login(committee)
    assert "Moderation log" in client.get(topic.get_absolute_url()).content.decode()
    client.force_login(resident)
    assert "Moderation log" not in client.get(topic.get_absolute_url()).content.decode()


def test_topic_page_queries_do_not_grow_with_messages(client, topic, resident, committee):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(topic.get_absolute_url()).status_code == 200
        return len(ctx)

    client.force_login(committee)
    for i in range(3):
        services.post_message(author=resident, topic=topic, body=f"第{i}条")
    count()  # warm the per-process caches (site root, content types)
    few = count()
    other = member(topic.hall.council)
    for i in range(30):
        author = resident if i % 2 else other
        Message.objects.create(
            topic=topic,
            author=author,
            body=f"more {i}",
            seq=10 + i,
            reply_to=Message.objects.first(),
        )
    assert count() == few


def test_latest_messages_with_a_link_to_older_ones(client, topic, resident):
    for i in range(55):
        Message.objects.create(topic=topic, author=resident, body=f"msg-{i}", seq=i + 1)
    html = client.get(topic.get_absolute_url()).content.decode()
    assert "msg-54" in html and "msg-4<" not in html and "?before=6" in html
    older = client.get(topic.get_absolute_url() + "?before=6").content.decode()
    assert "msg-4<" in older and "msg-54" not in older
    assert "topic-live.js" not in older


def test_pages_are_small_and_every_input_is_labelled(client, settings, topic, resident, committee):
    settings.YISHI_DELIBERATION_POST_RATE = None
    for i in range(50):
        services.post_message(
            author=resident if i % 2 else committee,
            topic=topic,
            body="这条路需要修一修，大家怎么看？" * 10,
            client_id=f"c{i}",
        )
    client.force_login(committee)
    for url in [
        topic.hall.get_absolute_url(),
        topic.get_absolute_url(),
        f"/halls/{topic.hall.pk}/topics/new/",
        f"/halls/{topic.hall.pk}/days/new/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert len(gzip.compress(response.content)) < 60 * 1024, url
        html = response.content.decode()
        for input_id in re.findall(r'<(?:input|textarea|select)[^>]*\sid="([^"]+)"', html):
            assert f'for="{input_id}"' in html, f"{url}: #{input_id} has no label"


def test_topic_page_in_chinese_by_default(client, settings, topic):
    settings.LANGUAGE_CODE = "zh-hans"
    html = client.get(topic.get_absolute_url()).content.decode()
    assert 'lang="zh-hans"' in html
