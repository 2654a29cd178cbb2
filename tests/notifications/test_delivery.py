"""Telling people and delivering it: once per person and event, by the channels they keep on,
outside quiet hours, within the SMS budgets, retried, taken back from a dead worker, paced,
digested (notifications.services, notifications.delivery)."""

import datetime
import io
import json
import urllib.parse

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone
from freezegun import freeze_time

from core.sms import AliyunSmsBackend, MemorySmsBackend
from councils.models import Role
from notifications import delivery, services
from notifications.channels import MemoryWechatBackend
from notifications.kinds import Kind
from notifications.models import (
    Delivery,
    DeliveryStatus,
    Fanout,
    Notification,
    PersonSettings,
    Preference,
    SmsBudget,
    SmsSpend,
)
from tests.councils.factories import UserFactory, member

pytestmark = pytest.mark.django_db

# 10:00 in China: outside the default quiet hours (21:00-08:00).
DAYTIME = "2026-12-01 02:00:00+00:00"
NIGHT = "2026-12-01 14:00:00+00:00"  # 22:00 in China


@pytest.fixture(autouse=True)
def queue_only(settings):
    """Tasks are queued, not run: each test sends by calling the sender itself."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


@pytest.fixture(autouse=True)
def outboxes():
    from django.core.cache import cache

    cache.clear()  # the day's SMS counters and the pace
    MemorySmsBackend.outbox.clear()
    MemoryWechatBackend.outbox.clear()
    yield
    MemorySmsBackend.outbox.clear()
    MemoryWechatBackend.outbox.clear()


@pytest.fixture
def resident(tree):
    return member(tree["village"])


def tell(people, *, key="topic-answered:1", kind=Kind.TOPIC_ANSWERED, council=None, **extra):
    return services.notify(
        kind=kind,
        recipients=people,
        event_key=key,
        url="/topics/1/",
        council=council,
        params={"title": "修路"},
        **extra,
    )


def sms_to(user) -> list[str]:
    return [text for phone, text in MemorySmsBackend.outbox if phone == user.phone]


@freeze_time(DAYTIME)
def test_a_person_is_told_once_per_event_whatever_raises_it_again(resident, tree):
    assert len(tell([resident, resident], council=tree["village"])) == 1
    assert tell([resident], council=tree["village"]) == []  # the same event again
    assert Notification.objects.filter(recipient=resident).count() == 1
    delivery.send_due()
    delivery.send_due()
    assert len(sms_to(resident)) == 1
    assert "修路" in sms_to(resident)[0] and "/topics/1/" in sms_to(resident)[0]


@freeze_time(DAYTIME)
def test_only_people_the_permission_lets_know_are_told(resident, tree):
    outsider = UserFactory()
    committee = member(tree["village"], Role.COMMITTEE)
    made = tell(
        [resident, outsider, committee],
        obj=tree["village"],
        permission="councils.verify_membership",
    )
    assert [n.recipient for n in made] == [committee]


@freeze_time(DAYTIME)
def test_each_outside_channel_follows_the_persons_choice_and_address(resident, tree):
    resident.email = "a@example.cn"
    resident.save()
    PersonSettings.objects.create(user=resident, wechat_openid="o-123")
    Preference.objects.create(user=resident, kind=Kind.TOPIC_ANSWERED, channel="sms", enabled=False)
    no_phone = UserFactory(phone_verified=False)
    tell([resident, no_phone])
    assert set(Delivery.objects.values_list("notification__recipient", "channel")) == {
        (resident.pk, "wechat"),
        (resident.pk, "email"),
    }
    delivery.send_due()
    assert sms_to(resident) == []
    assert [openid for openid, *_ in MemoryWechatBackend.outbox] == ["o-123"]
    assert mail.outbox[0].to == ["a@example.cn"] and "修路" in mail.outbox[0].body


def test_in_quiet_hours_a_delivery_waits_until_they_end(resident):
    with freeze_time(NIGHT):
        tell([resident])
        (due,) = Delivery.objects.filter(channel="sms")
        assert timezone.localtime(due.not_before).time() == datetime.time(8, 0)
        assert delivery.send_due()["sent"] == 0 and sms_to(resident) == []
    with freeze_time("2026-12-02 00:00:01+00:00"):  # 08:00:01 in China
        assert delivery.send_due()["sent"] == 1


def test_quiet_hours_are_checked_again_when_sending(resident):
    with freeze_time(DAYTIME):
        tell([resident])
    with freeze_time(NIGHT):  # it waited (a busy queue) into the night
        counts = delivery.send_due()
    assert counts["deferred"] == 1 and sms_to(resident) == []
    due = Delivery.objects.get(channel="sms")
    assert due.status == DeliveryStatus.PENDING and due.attempts == 0


def test_someone_without_quiet_hours_is_told_at_night(resident):
    PersonSettings.objects.create(user=resident, quiet_hours=False)
    with freeze_time(NIGHT):
        tell([resident])
        assert delivery.send_due()["sent"] == 1


@freeze_time(DAYTIME)
def test_a_failing_provider_is_retried_with_back_off_then_given_up(resident, monkeypatch):
    def broken(self, phone, message, *, params=None, **_notice):
        raise ConnectionError("provider down")

    monkeypatch.setattr(MemorySmsBackend, "send", broken)
    tell([resident])
    waits = []
    for _attempt in range(delivery.MAX_ATTEMPTS):
        outcome = delivery.send_due()
        row = Delivery.objects.get(channel="sms")
        if row.status == DeliveryStatus.PENDING:
            waits.append(row.not_before - timezone.now())
            Delivery.objects.filter(pk=row.pk).update(not_before=timezone.now())
    assert outcome["failed"] == 1 and row.status == DeliveryStatus.FAILED
    assert waits == delivery.RETRY_AFTER and "provider down" in row.reason


@freeze_time(DAYTIME)
def test_a_send_whose_worker_died_is_taken_back_and_sent_once(resident):
    tell([resident])
    (claimed,) = delivery.claim()  # and then the worker was killed
    assert delivery.send_due()["sent"] == 0  # not sent again while it may be in flight
    with freeze_time(timezone.now() + delivery.CLAIM_TIMEOUT + datetime.timedelta(seconds=1)):
        assert delivery.sweep()["notices_taken_back"] == 1  # and it asks for a sender
        delivery.send_due()
        delivery.send_due()
    assert len(sms_to(resident)) == 1
    row = Delivery.objects.get(pk=claimed.pk)
    assert row.status == DeliveryStatus.SENT and row.attempts == 2


@freeze_time(DAYTIME)
def test_a_late_worker_cannot_overwrite_what_the_sweep_gave_to_another(resident):
    tell([resident])
    (slow,) = delivery.claim()
    with freeze_time(timezone.now() + delivery.CLAIM_TIMEOUT + datetime.timedelta(seconds=1)):
        delivery.sweep()
        (again,) = delivery.claim()
        delivery._finish(slow, status=DeliveryStatus.FAILED, reason="late")  # ignored
        assert Delivery.objects.get(pk=slow.pk).status == DeliveryStatus.SENDING
        assert delivery.send_one(again) == "sent"


@freeze_time(DAYTIME)
def test_past_the_councils_monthly_budget_only_the_inbox_is_told(tree):
    village = tree["village"]
    SmsBudget.objects.create(council=village, monthly=2)
    people = [member(village) for _ in range(3)]
    tell(people, council=village)
    counts = delivery.send_due()
    assert counts["sent"] == 2 and counts["skipped"] == 1
    assert len(MemorySmsBackend.outbox) == 2
    assert Notification.objects.filter(council=village).count() == 3  # every inbox has it
    skipped = Delivery.objects.get(status=DeliveryStatus.SKIPPED)
    assert skipped.reason == "budget"
    assert [s.scope for s in delivery.budgets_reached()] == [f"council:{village.pk}:2026-12"]
    # Another council's budget is its own.
    other = member(tree["other_village"])
    tell([other], key="other", council=tree["other_village"])
    assert delivery.send_due()["sent"] == 1


@freeze_time(DAYTIME)
def test_notices_keep_to_their_share_of_the_days_budget(settings, tree):
    settings.YISHI_SMS_DAILY_BUDGET = 10
    settings.YISHI_NOTIFY_SMS_SHARE_OF_DAILY_BUDGET = 0.3
    people = [member(tree["village"]) for _ in range(5)]
    tell(people, council=tree["village"])
    counts = delivery.send_due()
    assert counts["sent"] == 3 and counts["skipped"] == 2, (
        counts,
        list(Delivery.objects.values_list("status", "reason")),
    )
    # Sign-in codes still have the rest of the day.
    from core import sms

    sms.send_sms(phone="13800000000", message="code 123456")


def test_sms_are_paced_to_the_providers_rate_across_workers(settings):
    settings.YISHI_NOTIFY_SMS_PER_SECOND = 2
    now = [100.25]
    slept = []

    def sleep(seconds):
        slept.append(round(seconds, 2))
        now[0] += seconds

    def pace():
        delivery.pace_sms(sleep=sleep, now=lambda: now[0])

    pace()
    pace()
    assert slept == []
    pace()  # the third in second 100 waits for second 101
    assert slept == [0.75] and int(now[0]) == 101
    pace()
    assert len(slept) == 1


def test_a_digest_tells_once_a_day_what_is_new_and_never_an_empty_one(resident):
    PersonSettings.objects.create(user=resident, digest=True, digest_at=datetime.time(19, 0))
    with freeze_time(DAYTIME):
        tell([resident], key="a")
        tell([resident], key="b")
        assert Delivery.objects.count() == 0  # nothing goes out one by one
        assert delivery.send_digests() == 0  # not 19:00 yet
    evening = "2026-12-01 11:30:00+00:00"  # 19:30 in China
    with freeze_time(evening):
        assert delivery.send_digests() == 1
        assert delivery.send_digests() == 0  # not twice a day
        delivery.send_due()
    (text,) = sms_to(resident)
    assert "2" in text
    with freeze_time("2026-12-02 11:30:00+00:00"):
        assert delivery.send_digests() == 0  # nothing new: no empty digest
        assert sms_to(resident) == [text]


def test_a_read_notification_is_not_in_the_digest(resident):
    PersonSettings.objects.create(user=resident, digest=True, digest_at=datetime.time(19, 0))
    with freeze_time(DAYTIME):
        tell([resident], key="a")
        services.mark_read(user=resident)
    with freeze_time("2026-12-01 11:30:00+00:00"):
        assert delivery.send_digests() == 0


@freeze_time(DAYTIME)
def test_a_fanout_is_expanded_in_batches_and_resumes_where_it_stopped(tree, monkeypatch):
    village = tree["village"]
    people = [member(village) for _ in range(7)]
    with transaction.atomic():
        fanout = services.notify_audience(
            kind=Kind.BUDGET_PHASE_OPENED,
            audience="council_residents",
            event_key="cycle:1:vote",
            url="/budgets/1/",
            council=village,
            council_id=village.pk,
        )
    calls = {"n": 0}
    real = services.notify

    def dies_on_the_third_batch(**kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("worker killed")
        return real(**kwargs)

    monkeypatch.setattr(services, "notify", dies_on_the_third_batch)
    with pytest.raises(RuntimeError):
        delivery.expand(fanout.pk, batch=3)
    fanout.refresh_from_db()
    # Two batches were told and saved; the third rolled back with its worker.
    assert fanout.expanded == 6 and fanout.finished_at is None
    monkeypatch.setattr(services, "notify", real)
    delivery.expand(fanout.pk, batch=3)
    fanout.refresh_from_db()
    assert fanout.finished_at is not None and fanout.expanded == 7
    told = Notification.objects.filter(event_key="cycle:1:vote")
    assert sorted(told.values_list("recipient", flat=True)) == sorted(p.pk for p in people)
    # Raising the event again makes no second fan-out.
    again = services.notify_audience(
        kind=Kind.BUDGET_PHASE_OPENED,
        audience="council_residents",
        event_key="cycle:1:vote",
        url="/budgets/1/",
        council_id=village.pk,
    )
    assert again.pk == fanout.pk and Fanout.objects.count() == 1


def test_an_unknown_audience_or_kind_fails_at_once():
    with pytest.raises(LookupError):
        services.notify_audience(kind=Kind.DIGEST, audience="nobody", event_key="x", url="/")
    with pytest.raises(ValueError):
        services.notify(kind="gossip", recipients=[], event_key="x", url="/")


@freeze_time(DAYTIME)
def test_two_workers_never_send_the_same_delivery(resident, tree):
    people = [member(tree["village"]) for _ in range(5)]
    tell(people)
    first = delivery.claim(limit=3)
    second = delivery.claim(limit=10)
    assert len(first) == 3 and len(second) == 2
    assert not {d.pk for d in first} & {d.pk for d in second}


@freeze_time(DAYTIME)
def test_membership_decisions_tell_the_person(tree):
    from councils import services as councils_services
    from councils.models import Membership, MembershipStatus

    committee = member(tree["village"], Role.COMMITTEE)
    applicant = member(tree["village"], status=MembershipStatus.PENDING)
    refused = member(tree["village"], status=MembershipStatus.PENDING)
    councils_services.verify_membership(
        membership_id=Membership.objects.get(user=applicant).pk, by=committee
    )
    councils_services.reject_membership(
        membership_id=Membership.objects.get(user=refused).pk, by=committee, reason="不是本村户籍"
    )
    assert list(Notification.objects.values_list("recipient", "kind").order_by("pk")) == [
        (applicant.pk, Kind.MEMBERSHIP_VERIFIED),
        (refused.pk, Kind.MEMBERSHIP_REJECTED),
    ]
    assert Notification.objects.get(recipient=refused).params["reason"] == "不是本村户籍"
    assert not Notification.objects.filter(recipient=committee).exists()


def test_the_reapers_sweep_runs_the_notification_sweep(resident):
    from core import tasks

    with freeze_time(DAYTIME):
        tell([resident])
        delivery.claim()
    with freeze_time("2026-12-01 03:00:00+00:00"):
        counts = tasks.reap_stalled()
    assert counts["notices_taken_back"] == 1
    assert SmsSpend.objects.count() == 0


@freeze_time(DAYTIME)
def test_a_worker_whose_claim_was_taken_back_does_not_call_the_provider(resident):
    tell([resident])
    (slow,) = delivery.claim()  # a slow worker holds it past the claim timeout
    with freeze_time(timezone.now() + delivery.CLAIM_TIMEOUT + datetime.timedelta(seconds=1)):
        delivery.sweep()
        (fast,) = delivery.claim()
        assert delivery.send_one(fast) == "sent"
        assert delivery.send_one(slow) == "superseded"  # checked right before the provider
    assert len(sms_to(resident)) == 1


@freeze_time(DAYTIME)
def test_the_bells_of_many_people_are_rung_in_one_go_after_the_commit(
    tree, django_capture_on_commit_callbacks, settings
):
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    # This sync test joins, and later receives, in separate async_to_sync calls, each in an event
    # loop of its own. A Redis subscription (core/realtime/pubsub.py) lives in the loop that made
    # it, so the test counts hooks and frames on the in-process layer, whatever REDIS_URL says.
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    people = [member(tree["village"]) for _ in range(6)]
    layer = get_channel_layer()
    channels = {}
    for person in people:
        channels[person.pk] = async_to_sync(layer.new_channel)()
        async_to_sync(layer.group_add)(services.user_group(person.pk), channels[person.pk])
    with django_capture_on_commit_callbacks(execute=True) as hooks:
        made = tell(people)
    assert len(hooks) == 2  # one for every bell, one to queue the sender: not one per person
    for notification in made:
        frame = async_to_sync(layer.receive)(channels[notification.recipient_id])
        assert frame["seq"] == notification.pk and '"notification"' in frame["text"]


def test_a_fanouts_batches_queue_one_sender_not_one_each(tree):
    from django.core.cache import cache

    backend = delivery.send_due_task.get_backend()
    before = len(backend.results)
    for _batch in range(5):
        delivery.enqueue_send()
    assert len(backend.results) - before == 1
    delivery.enqueue_send(force=True)  # the sweep, or a sender handing over
    assert len(backend.results) - before == 2
    cache.delete(delivery.SENDER_QUEUED)  # a sender started: new work queues a new one
    delivery.enqueue_send()
    assert len(backend.results) - before == 3


class TemplateProvider(AliyunSmsBackend):
    """Aliyun's backend, its requests kept instead of sent."""

    sent: list = []

    def __init__(self):
        config = {"ACCESS_KEY_ID": "id", "ACCESS_KEY_SECRET": "s", "SIGN_NAME": "议事"}
        super().__init__({**config, "TEMPLATE_CODE": "SMS_CODE"}, opener=self.answer)

    @staticmethod
    def answer(url, timeout):
        TemplateProvider.sent.append(dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query)))
        return io.BytesIO(b'{"Code": "OK"}')


@freeze_time(DAYTIME)
def test_a_notice_goes_with_its_kinds_template_or_is_skipped_without_one(settings, tree):
    TemplateProvider.sent.clear()
    settings.YISHI_SMS_BACKEND = "tests.notifications.test_delivery.TemplateProvider"
    settings.YISHI_SMS_NOTICE_TEMPLATES = {Kind.TOPIC_ANSWERED: "SMS_ANSWERED"}
    answered, verified = member(tree["village"]), member(tree["village"])
    tell([answered])
    tell([verified], key="verified", kind=Kind.MEMBERSHIP_VERIFIED)  # no template registered
    counts = delivery.send_due()
    assert counts["sent"] == 1 and counts["skipped"] == 1
    (query,) = TemplateProvider.sent
    assert query["PhoneNumbers"] == answered.phone and query["TemplateCode"] == "SMS_ANSWERED"
    assert query["OutId"].startswith("yishi-")
    params = json.loads(query["TemplateParam"])
    assert params["title"] == "修路" and params["link"].endswith("/topics/1/")
    skipped = Delivery.objects.get(status=DeliveryStatus.SKIPPED)
    assert skipped.reason == "no_template" and skipped.notification.recipient == verified


@freeze_time(DAYTIME)
def test_with_the_queue_down_the_event_still_commits_and_the_sweep_sends_later(
    resident, monkeypatch, django_capture_on_commit_callbacks
):
    class QueueDown:
        def enqueue(self, *args, **kwargs):
            raise ConnectionError("Redis is down")

    monkeypatch.setattr(delivery, "send_due_task", QueueDown())
    with django_capture_on_commit_callbacks(execute=True):
        tell([resident])  # the request that raised the event does not fail
    assert Delivery.objects.get(channel="sms").status == DeliveryStatus.PENDING
    assert delivery.sweep()["notices_taken_back"] == 0  # still down: nothing lost, nothing sent
    monkeypatch.undo()
    delivery.sweep()  # Redis is back: the sweep queues a sender
    delivery.send_due()
    assert len(sms_to(resident)) == 1


@freeze_time(DAYTIME)
def test_checking_who_may_know_reads_everyones_roles_at_once(tree):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    committee = member(tree["village"], Role.COMMITTEE)
    people = [member(tree["village"]) for _ in range(8)] + [UserFactory() for _ in range(4)]
    everyone = [committee.pk, *(p.pk for p in people)]
    fresh = list(type(committee).objects.filter(pk__in=everyone))  # no roles cached on them
    with CaptureQueriesContext(connection) as queries:
        made = tell(fresh, obj=tree["village"], permission="councils.view_members")
    # Residents and outsiders may not see the members list; the committee member may.
    assert [n.recipient_id for n in made] == [committee.pk]
    reads = [q for q in queries.captured_queries if "councils_membership" in q["sql"]]
    assert len(reads) == 1
