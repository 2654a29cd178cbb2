"""The notification pages, per role: the bell, the inbox, marking read, the settings, the live
count (ws/notifications/), and the SMS budgets in the Wagtail admin."""

import datetime
import re

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from notifications import services
from notifications.kinds import Channel, Kind
from notifications.models import (
    Delivery,
    Notification,
    PersonSettings,
    Preference,
    SmsSpend,
)
from tests.conftest import isolate_cache_and_layer
from tests.councils.factories import UserFactory
from tests.deliberation.factories import session_cookie
from yishi.asgi import application

pytestmark = pytest.mark.django_db

NIGHT = "2026-12-01 14:00:00+00:00"  # 22:00 in China: inside the default quiet hours
INBOX = "/notifications/"
SETTINGS = "/notifications/settings/"


@pytest.fixture(autouse=True)
def _isolated(settings, request):
    isolate_cache_and_layer(settings, request)
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def tell(user, n: int = 1, *, kind=Kind.TOPIC_ANSWERED, url="/topics/1/", read=False) -> list:
    """`n` notifications for `user`, written directly (no deliveries): the pages' state."""
    now = timezone.now()
    rows = [
        Notification(
            recipient=user,
            kind=kind,
            event_key=f"test:{user.pk}:{kind}:{i}",
            url=url,
            params={"title": f"修路{i}"},
            read_at=now if read else None,
        )
        for i in range(n)
    ]
    Notification.objects.bulk_create(rows, batch_size=2000)
    return list(Notification.objects.filter(recipient=user).order_by("pk"))


def login_url_of(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


def form_data(**changes) -> dict:
    """What the settings page posts with its defaults (test settings: SMS, WeChat, e-mail)."""
    from notifications.forms import PreferencesForm

    form = PreferencesForm(user=UserFactory())
    data = {}
    for name in form.fields:
        value = form.initial.get(name)
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif isinstance(value, datetime.time):
            data[name] = value.strftime("%H:%M")
    for name, value in changes.items():
        if value is False:
            data.pop(name, None)
        elif value is True:
            data[name] = "on"
        else:
            data[name] = value
    return data


# --- who may ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", INBOX),
        ("get", SETTINGS),
        ("post", SETTINGS),
        ("get", "/notifications/1/"),
        ("post", "/notifications/read/"),
        ("post", "/notifications/follow/"),
    ],
)
def test_a_visitor_is_sent_to_sign_in(client, method, path):
    assert login_url_of(getattr(client, method)(path))


@pytest.mark.parametrize("path", ["/notifications/read/", "/notifications/follow/"])
def test_post_only_views_refuse_a_get(client, path):
    user = UserFactory()
    mine = tell(user)[0]
    client.force_login(user)
    assert client.get(path, {"id": mine.pk}).status_code == 405
    assert Notification.objects.get(pk=mine.pk).read_at is None


def test_the_settings_page_refuses_other_methods(client):
    client.force_login(UserFactory())
    assert client.put(SETTINGS).status_code == 405


def test_a_person_cannot_mark_anothers_notification_read(client):
    owner, other = UserFactory(), UserFactory()
    theirs = tell(owner)[0]
    client.force_login(other)
    client.post("/notifications/read/", {"id": theirs.pk})
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert client.get(f"/notifications/{theirs.pk}/").status_code == 404
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    client.post("/notifications/read/")  # "all": all of their own, none of the owner's
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_a_person_cannot_see_anothers_notifications(client):
    owner, other = UserFactory(), UserFactory()
    tell(owner)
    client.force_login(other)
    html = client.get(INBOX).content.decode()
    assert "修路0" not in html
    assert "Nothing yet" in html


def test_a_follow_of_something_that_cannot_be_followed_is_not_found(client):
    client.force_login(UserFactory())
    assert client.post("/notifications/follow/", {"target": "core.user:1"}).status_code == 404
    assert client.post("/notifications/follow/", {"target": "nonsense"}).status_code == 404


# --- the bell -----------------------------------------------------------------------------


def test_every_page_shows_the_bell_with_the_unread_count(client, tree):
    user = UserFactory()
    tell(user, 3)
    tell(user, 2, kind=Kind.TOPIC_CLOSED, read=True)
    client.force_login(user)
    html = client.get("/").content.decode()
    bell = re.search(r'<a href="/notifications/" id="notification-bell".*?</a>', html, re.S)
    assert bell, "no bell on the home page"
    # The link's name is what it shows: "Notifications 3 unread" (the last word for screen readers).
    words = re.sub(r"<[^>]+>", " ", bell.group(0)).split()
    assert words == ["Notifications", "3", "unread"]
    assert 'class="bell-number">3</span>' in bell.group(0)
    assert 'src="/static/js/notifications.js" defer' in html


def test_the_bell_without_unread_notifications_says_so(client, tree):
    client.force_login(UserFactory())
    html = client.get("/").content.decode()
    assert 'class="bell-count" hidden' in html


def test_a_visitor_has_no_bell_and_no_script(client, tree):
    html = client.get("/").content.decode()
    assert "notification-bell" not in html and "notifications.js" not in html


def test_the_bell_shows_99_plus_for_more(client):
    user = UserFactory()
    tell(user, 120)
    client.force_login(user)
    html = client.get(INBOX).content.decode()
    assert 'class="bell-number">99+</span>' in html
    assert 'data-count="120"' in html


def test_the_bell_and_the_inbox_share_one_count_query(client):
    user = UserFactory()
    tell(user, 5)
    client.force_login(user)
    client.get(INBOX)
    with CaptureQueriesContext(connection) as captured:
        html = client.get(INBOX).content.decode()
    counts = [q["sql"] for q in captured if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1, counts
    assert "You have 5 unread notifications." in html


# --- the inbox ----------------------------------------------------------------------------


def test_the_inbox_lists_newest_first_and_marks_unread_ones_in_words(client):
    user = UserFactory()
    first, second = tell(user, 2)
    services.mark_read(user=user, ids=[first.pk])
    client.force_login(user)
    html = client.get(INBOX).content.decode()
    assert html.index("修路1") < html.index("修路0")
    unread = re.search(r'<li class="inbox-item unread">.*?</li>', html, re.S).group(0)
    assert "修路1" in unread and ">Unread<" in unread
    assert f'href="/notifications/{second.pk}/"' in unread
    assert "Mark as read" in unread
    read = re.search(r'<li class="inbox-item">.*?</li>', html, re.S).group(0)
    assert "修路0" in read and "Unread" not in read and "Mark as read" not in read
    assert "The committee has answered the topic “修路1”." in html


def test_the_inbox_pages_to_older_notifications_by_id(client):
    user = UserFactory()
    made = tell(user, 25)
    client.force_login(user)
    html = client.get(INBOX).content.decode()
    older = re.search(r'href="\?before=(\d+)">Older</a>', html)
    assert older and int(older.group(1)) == made[5].pk  # 20 a page, newest first
    page2 = client.get(INBOX, {"before": older.group(1)}).content.decode()
    assert "修路4" in page2 and "修路0" in page2 and "修路5" not in page2
    assert "Older</a>" not in page2 and "Newest</a>" in page2
    assert client.get(INBOX, {"before": "x"}).status_code == 200  # nonsense: the first page


def _inbox_queries(client, user) -> int:
    client.force_login(user)
    client.get(INBOX)  # warm the per-process caches
    with CaptureQueriesContext(connection) as captured:
        assert client.get(INBOX).status_code == 200
    with CaptureQueriesContext(connection) as older:
        first = Notification.objects.filter(recipient=user).order_by("-pk")[3]
        assert client.get(INBOX, {"before": first.pk}).status_code == 200
    return len(captured), len(older) - 1  # the lookup of `first` above


def test_the_inbox_costs_the_same_queries_for_ten_or_ten_thousand(client):
    few, many = UserFactory(), UserFactory()
    tell(few, 10)
    tell(many, 10_000)
    assert _inbox_queries(client, few) == _inbox_queries(client, many)


def test_opening_a_notification_marks_it_read_and_goes_to_it(client):
    user = UserFactory()
    notification = tell(user, url="/topics/7/")[0]
    client.force_login(user)
    response = client.get(f"/notifications/{notification.pk}/")
    assert response.status_code == 302 and response["Location"] == "/topics/7/"
    assert Notification.objects.get(pk=notification.pk).read_at is not None


def test_opening_a_notification_never_leads_off_the_site(client):
    user = UserFactory()
    notification = tell(user, url="https://evil.example/")[0]
    client.force_login(user)
    response = client.get(f"/notifications/{notification.pk}/")
    assert response["Location"] == INBOX


def test_marking_one_and_then_all_read(client):
    user = UserFactory()
    one, two, three = tell(user, 3)
    client.force_login(user)
    response = client.post("/notifications/read/", {"id": one.pk, "next": INBOX}, follow=True)
    assert "1 notification marked as read." in response.content.decode()
    assert Notification.objects.filter(recipient=user, read_at__isnull=True).count() == 2
    response = client.post("/notifications/read/", {"next": "https://evil.example/"})
    assert response["Location"] == INBOX
    assert not Notification.objects.filter(recipient=user, read_at__isnull=True).exists()
    html = client.get(INBOX).content.decode()
    assert "You have read all your notifications." in html and "Mark all as read" not in html


# --- the settings -------------------------------------------------------------------------


def test_the_settings_start_from_the_defaults(client):
    user = UserFactory()
    client.force_login(user)
    response = client.get(SETTINGS)
    form = response.context["form"]
    # Topic answered: SMS, WeChat and e-mail by default; taken up: not by SMS.
    assert form.initial["topic_answered__sms"] is True
    assert form.initial["topic_taken_up__sms"] is False
    assert form.initial["quiet_hours"] is True
    assert form.initial["quiet_start"] == datetime.time(21, 0)
    assert form.initial["quiet_end"] == datetime.time(8, 0)
    assert form.initial["digest"] is False
    html = response.content.decode()
    assert 'name="topic_answered__sms" id="id_topic_answered__sms" checked' in html
    assert "Topic answered by SMS" in html  # each box's own label
    assert 'name="digest__sms"' in html  # how the digest comes: its own choice
    assert "topic_answered__digest" not in html


def test_only_the_deployments_channels_are_offered(client, settings):
    settings.YISHI_NOTIFY_CHANNELS = ["sms"]
    client.force_login(UserFactory())
    html = client.get(SETTINGS).content.decode()
    assert 'name="topic_answered__sms"' in html
    assert "__wechat" not in html and "__email" not in html


def test_saved_settings_are_what_planning_deliveries_uses(client):
    user = UserFactory(email="li@example.com")
    PersonSettings.objects.create(user=user, wechat_openid="o-123")
    client.force_login(user)
    response = client.post(
        SETTINGS,
        form_data(topic_answered__sms=False, topic_taken_up__sms=True, quiet_hours=False),
    )
    assert response.status_code == 302 and response["Location"] == SETTINGS
    # Only the choices that differ from the defaults are stored.
    assert set(Preference.objects.filter(user=user).values_list("kind", "channel", "enabled")) == {
        (Kind.TOPIC_ANSWERED, Channel.SMS, False),
        (Kind.TOPIC_TAKEN_UP, Channel.SMS, True),
    }
    own = PersonSettings.objects.get(user=user)
    assert own.quiet_hours is False and own.wechat_openid == "o-123"  # the binding is kept

    with freeze_time(NIGHT):
        services.notify(kind=Kind.TOPIC_ANSWERED, recipients=[user], event_key="t:1", url="/t/1/")
        services.notify(kind=Kind.TOPIC_TAKEN_UP, recipients=[user], event_key="t:2", url="/t/1/")
    answered = Delivery.objects.filter(notification__event_key="t:1")
    assert set(answered.values_list("channel", flat=True)) == {Channel.WECHAT, Channel.EMAIL}
    taken_up = Delivery.objects.filter(notification__event_key="t:2")
    assert set(taken_up.values_list("channel", flat=True)) == {
        Channel.SMS,
        Channel.WECHAT,
        Channel.EMAIL,
    }
    # No quiet hours: due at once, at 22:00.
    assert {d.not_before for d in answered} == {datetime.datetime.fromisoformat(NIGHT)}

    # Back to the default: its row is removed.
    client.post(SETTINGS, form_data(topic_taken_up__sms=True, topic_answered__sms=True))
    assert list(Preference.objects.filter(user=user).values_list("kind", "channel")) == [
        (Kind.TOPIC_TAKEN_UP, Channel.SMS)
    ]


def test_a_digest_reader_gets_no_single_messages(client):
    user = UserFactory()
    client.force_login(user)
    client.post(SETTINGS, form_data(digest=True, digest_at="07:30", digest__sms=False))
    own = PersonSettings.objects.get(user=user)
    assert own.digest and own.digest_at == datetime.time(7, 30)
    assert Preference.objects.get(user=user, kind=Kind.DIGEST, channel=Channel.SMS).enabled is False
    services.notify(kind=Kind.TOPIC_ANSWERED, recipients=[user], event_key="t:1", url="/t/1/")
    assert not Delivery.objects.exists()


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "Write the time as hours and minutes, for example 21:00."),
        ("zh-hans", "请按“时:分”填写时间，例如 21:00。"),
    ],
)
def test_a_wrong_time_is_refused_with_a_message_and_nothing_is_lost(
    client, settings, language, message
):
    settings.LANGUAGE_CODE = language
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        SETTINGS,
        form_data(quiet_start="25:00", topic_answered__sms=False, digest=True),
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert not PersonSettings.objects.filter(user=user).exists()
    assert not Preference.objects.filter(user=user).exists()
    # What was typed and ticked is still there, to correct and send again.
    assert 'value="25:00"' in html
    assert re.search(r'name="topic_answered__sms" id="id_topic_answered__sms"(?! checked)>', html)
    assert re.search(r'name="digest"[^>]* checked', html)


@pytest.mark.parametrize("missing", ["quiet_end", "digest_at"])
def test_an_empty_time_is_refused(client, missing):
    client.force_login(UserFactory())
    data = form_data()
    data.pop(missing)
    response = client.post(SETTINGS, data)
    assert response.status_code == 200
    assert "Write a time, for example 21:00." in response.content.decode()


def test_quiet_hours_that_end_when_they_begin_are_refused(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(SETTINGS, form_data(quiet_start="22:00", quiet_end="22:00"))
    assert "Quiet hours must end at another time than they begin." in response.content.decode()
    assert not PersonSettings.objects.filter(user=user).exists()
    # Without quiet hours the times do not matter.
    client.post(SETTINGS, form_data(quiet_hours=False, quiet_start="22:00", quiet_end="22:00"))
    assert PersonSettings.objects.get(user=user).quiet_hours is False


def test_the_wechat_binding_is_shown_and_cannot_be_changed_here(client):
    user = UserFactory()
    client.force_login(user)
    html = client.get(SETTINGS).content.decode()
    assert "not linked, so no WeChat message can reach you." in html
    assert "wechat_openid" not in html
    client.post(SETTINGS, {**form_data(), "wechat_openid": "o-forged"})
    assert PersonSettings.objects.get(user=user).wechat_openid == ""
    PersonSettings.objects.filter(user=user).update(wechat_openid="o-real")
    assert "linked to your account." in client.get(SETTINGS).content.decode()


def test_the_settings_say_where_messages_go(client):
    user = UserFactory(phone="13912345678", phone_verified=False, email="")
    client.force_login(user)
    html = client.get(SETTINGS).content.decode()
    assert "no confirmed mobile number, so no SMS can reach you." in html
    assert "no e-mail address, so no e-mail can reach you." in html
    user.phone_verified, user.email = True, "li@example.com"
    user.save()
    html = client.get(SETTINGS).content.decode()
    assert "139****5678" in html and "13912345678" not in html
    assert "li@example.com" in html


# --- live: ws/notifications/ -----------------------------------------------------------------


async def open_socket(user=None):
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
    if user is not None:
        cookie = await sync_to_async(session_cookie)(user)
        headers.append((b"cookie", cookie.encode()))
    socket = WebsocketCommunicator(application, "/ws/notifications/", headers=headers)
    connected, _ = await socket.connect()
    return socket, connected


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_live_count_refuses_a_visitor():
    socket, connected = await open_socket()
    assert not connected
    await socket.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_live_count_opens_with_the_count_then_follows_new_and_read_ones():
    user = await sync_to_async(UserFactory)()
    other = await sync_to_async(UserFactory)()
    await sync_to_async(tell)(user, 2)
    socket, connected = await open_socket(user)
    assert connected
    try:
        assert await socket.receive_json_from(timeout=3) == {"type": "unread", "count": 2}
        made = await sync_to_async(services.notify)(
            kind=Kind.TOPIC_ANSWERED, recipients=[user, other], event_key="t:9", url="/t/9/"
        )
        mine = next(n for n in made if n.recipient_id == user.pk)
        assert await socket.receive_json_from(timeout=3) == {"type": "notification", "id": mine.pk}
        await sync_to_async(services.mark_read)(user=user, ids=[mine.pk])
        assert await socket.receive_json_from(timeout=3) == {"type": "unread", "count": 2}
        await socket.send_json_to({"type": "post"})
        assert (await socket.receive_json_from(timeout=3))["code"] == "read_only"
        assert await socket.receive_nothing(timeout=0.2)
    finally:
        await socket.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_notification_already_in_the_opening_count_is_not_counted_again():
    from core.realtime.envelope import Envelope, event
    from notifications.consumers import NotificationConsumer

    user = await sync_to_async(UserFactory)()
    (before,) = await sync_to_async(tell)(user, 1)
    consumer = NotificationConsumer()
    consumer.user, consumer.counted_up_to = user, 0
    await consumer._count_frame()
    old = Envelope.of(event({"type": "notification", "id": before.pk}, seq=before.pk))
    new = Envelope.of(event({"type": "notification", "id": before.pk + 1}, seq=before.pk + 1))
    assert consumer.take(old) is None
    assert consumer.take(new) == new.text


# --- the Wagtail admin: SMS budgets ---------------------------------------------------------


def test_a_councils_spent_monthly_sms_budget_is_shown_on_the_admin_home(client, tree):
    admin = UserFactory(is_superuser=True, is_staff=True)
    client.force_login(admin)
    assert "sms-monthly-budget-alert" not in client.get("/admin/").content.decode()
    month = timezone.localdate().strftime("%Y-%m")
    SmsSpend.objects.create(
        scope=f"council:{tree['village'].pk}:{month}", count=50, limit=50, reached_at=timezone.now()
    )
    SmsSpend.objects.create(scope=f"council:{tree['township'].pk}:{month}", count=3, limit=50)
    SmsSpend.objects.create(
        scope=f"council:{tree['township'].pk}:2020-01", count=5, limit=5, reached_at=timezone.now()
    )
    html = client.get("/admin/").content.decode()
    alert = re.search(r'<section[^>]*id="sms-monthly-budget-alert".*?</section>', html, re.S)
    assert alert, "no warning"
    assert tree["village"].title in alert.group(0) and "50 of 50 SMS" in alert.group(0)
    assert tree["township"].title not in alert.group(0)


def test_an_official_sets_a_councils_monthly_sms_budget_as_a_snippet(client, tree):
    from notifications.models import SmsBudget

    admin = UserFactory(is_superuser=True, is_staff=True)
    client.force_login(admin)
    listing = "/admin/snippets/notifications/smsbudget/"
    assert client.get(listing).status_code == 200
    response = client.post(listing + "add/", {"council": tree["village"].pk, "monthly": 500})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert SmsBudget.objects.get(council=tree["village"]).monthly == 500
    resident = UserFactory()
    client.force_login(resident)
    assert client.get(listing).status_code in (302, 403)


def test_following_and_unfollowing_say_so(client, tree):
    from notifications.models import Follow
    from tests.councils.factories import member
    from tests.deliberation.factories import HallFactory, TopicFactory

    resident = member(tree["village"])
    topic = TopicFactory(hall=HallFactory(council=tree["village"]))
    client.force_login(resident)
    target = f"deliberation.topic:{topic.pk}"
    response = client.post("/notifications/follow/", {"target": target, "next": "a b"}, follow=True)
    assert "You follow this now" in response.content.decode()
    assert Follow.objects.filter(user=resident, target=target).exists()
    response = client.post(
        "/notifications/follow/", {"target": target, "action": "unfollow", "next": "/"}
    )
    assert response["Location"] == "/"
    assert not Follow.objects.filter(user=resident, target=target).exists()
    outsider = UserFactory()
    client.force_login(outsider)
    hidden = TopicFactory(hall=HallFactory(council=tree["village"], is_public=False))
    target = f"deliberation.topic:{hidden.pk}"
    assert client.post("/notifications/follow/", {"target": target}).status_code == 403
