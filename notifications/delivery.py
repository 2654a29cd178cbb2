"""Sending what is due, durably and at the provider's pace (docs/notifications.md, "Delivery").

A delivery moves PENDING -> SENDING -> SENT, in the database:
- `claim` takes up to a batch of due PENDING rows with FOR UPDATE SKIP LOCKED (two task workers
  never take the same row), marks them SENDING with the time, and commits;
- each is sent (notifications.channels) and then marked SENT at once, in its own statement; a
  failure that may pass is retried with back-off (RETRY_AFTER), then FAILED; a refusal that
  will not pass (no address, no budget) is SKIPPED with its reason;
- a worker that dies mid-send leaves rows SENDING: `sweep` (the reaper, every minute) gives them
  back as PENDING once they are older than CLAIM_TIMEOUT. The send is repeated only for the rows
  whose provider call may have gone out before the worker died; each carries its delivery id as
  the provider's de-duplication key (`id`), which providers that support one use.
- SMS are paced: at most YISHI_NOTIFY_SMS_PER_SECOND in every second, counted in the shared
  cache so every task worker together keeps to it; and each one is taken from the council's
  monthly budget (`SmsSpend`, a conditional UPDATE) and from the day's (core.sms). Past either,
  the delivery is SKIPPED ("budget"): the inbox still has it.
- A `Fanout` is expanded in batches of EXPAND_BATCH people, its cursor saved with each batch,
  so a killed expansion resumes where it stopped and tells nobody twice.

The tasks re-enqueue themselves while work remains; the reaper's `sweep` re-enqueues them if the
queue lost them (Redis died). Quiet hours are checked again at send time.
"""

import datetime
import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django_tasks import task

from core import ratelimit
from notifications import channels, registry
from notifications.kinds import Channel, Kind
from notifications.models import (
    Delivery,
    DeliveryStatus,
    Fanout,
    Notification,
    PersonSettings,
    SmsBudget,
    SmsSpend,
)

logger = logging.getLogger("yishi.notifications")

BATCH = 200  # deliveries claimed at once
EXPAND_BATCH = 1000  # people told per transaction of a fan-out
TASK_SECONDS = 50.0  # a task sends for this long, then hands over to a new one
CLAIM_TIMEOUT = datetime.timedelta(minutes=5)
MAX_ATTEMPTS = 5
RETRY_AFTER = [
    datetime.timedelta(seconds=30),
    datetime.timedelta(minutes=2),
    datetime.timedelta(minutes=10),
    datetime.timedelta(hours=1),
]


# --- Tasks --------------------------------------------------------------------------------


SENDER_QUEUED = "yishi:notify:sender-queued"


@task()
def send_due_task() -> dict:
    # From here on, new work queues a new sender (this one may already have passed it by).
    cache.delete(SENDER_QUEUED)
    counts = send_due(max_seconds=TASK_SECONDS)
    if counts["more"]:
        enqueue_send(force=True)
    return counts


@task()
def expand_task(fanout_id: int) -> int:
    return expand(fanout_id)


def enqueue_send(*, force: bool = False) -> None:
    """Queue a sender, unless one is queued and not started yet (a fan-out's batches would
    queue one each). `force`: queue one all the same (the sweep, a sender handing over)."""
    if not force and not cache.add(SENDER_QUEUED, 1, timeout=int(TASK_SECONDS * 2)):
        return
    try:
        send_due_task.enqueue()
    except Exception:  # noqa: BLE001 - the queue is down: the reaper's sweep sends them
        logger.warning("could not enqueue the notification sender; the sweep will", exc_info=True)


def enqueue_expand(fanout_id: int) -> None:
    try:
        expand_task.enqueue(fanout_id)
    except Exception:  # noqa: BLE001 - the sweep resumes unfinished fan-outs
        logger.warning("could not enqueue fan-out %s; the sweep will", fanout_id, exc_info=True)


# --- Sending ------------------------------------------------------------------------------


def claim(limit: int = BATCH) -> list[Delivery]:
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(status=DeliveryStatus.PENDING, not_before__lte=now)
            .order_by("not_before", "pk")[:limit]
        )
        if not rows:
            return []
        Delivery.objects.filter(pk__in=[d.pk for d in rows]).update(
            status=DeliveryStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
    return list(
        Delivery.objects.filter(pk__in=[d.pk for d in rows])
        .select_related("notification__recipient__notification_settings")
        .order_by("not_before", "pk")
    )


def send_due(*, max_seconds: float | None = None, clock=time.monotonic) -> dict:
    """Send due deliveries until none is left (or `max_seconds`); returns counts by outcome and
    `more`: whether some were left for the next task."""
    started = clock()
    counts = {"sent": 0, "retry": 0, "failed": 0, "skipped": 0, "deferred": 0, "superseded": 0}
    counts["more"] = False
    while True:
        if max_seconds is not None and clock() - started > max_seconds:
            counts["more"] = Delivery.objects.filter(
                status=DeliveryStatus.PENDING, not_before__lte=timezone.now()
            ).exists()
            return counts
        batch = claim()
        if not batch:
            return counts
        for position, delivery in enumerate(batch):
            if max_seconds is not None and clock() - started > max_seconds:
                release(batch[position:])  # back to PENDING, untouched, for the next task
                counts["more"] = True
                return counts
            counts[send_one(delivery)] += 1


def release(deliveries: list[Delivery]) -> None:
    Delivery.objects.filter(
        pk__in=[d.pk for d in deliveries], status=DeliveryStatus.SENDING
    ).update(status=DeliveryStatus.PENDING, claimed_at=None, attempts=F("attempts") - 1)


def send_one(delivery: Delivery) -> str:
    """Send one claimed delivery and record what happened; returns the outcome's name."""
    notification = delivery.notification
    own = getattr(notification.recipient, "notification_settings", None)
    from notifications.services import quiet_until

    later = quiet_until(own, timezone.now())
    if later is not None:
        _finish(delivery, status=DeliveryStatus.PENDING, not_before=later, undo_attempt=True)
        return "deferred"
    if delivery.channel == Channel.SMS:
        pace_sms()
    # Still ours? The sweep takes back rows a slow worker held too long, and another worker may
    # have sent it since: check (and renew the claim) right before the provider is called.
    if not Delivery.objects.filter(
        pk=delivery.pk, status=DeliveryStatus.SENDING, attempts=delivery.attempts
    ).update(claimed_at=timezone.now()):
        return "superseded"
    if delivery.channel == Channel.SMS:
        if not take_from_council_budget(notification.council_id):
            _finish(delivery, status=DeliveryStatus.SKIPPED, reason="budget")
            return "skipped"
    try:
        channels.send(delivery, key=f"yishi-{delivery.pk}")
    except channels.Refused as refused:
        _finish(delivery, status=DeliveryStatus.SKIPPED, reason=refused.reason)
        return "skipped"
    except Exception as error:  # noqa: BLE001 - a provider's failure: retry with back-off
        reason = f"{type(error).__name__}: {error}"[:200]
        if delivery.attempts >= MAX_ATTEMPTS:
            _finish(delivery, status=DeliveryStatus.FAILED, reason=reason)
            logger.error("notification delivery %s failed for good: %s", delivery.pk, reason)
            return "failed"
        wait = RETRY_AFTER[min(delivery.attempts, len(RETRY_AFTER)) - 1]
        _finish(
            delivery,
            status=DeliveryStatus.PENDING,
            reason=reason,
            not_before=timezone.now() + wait,
        )
        return "retry"
    _finish(delivery, status=DeliveryStatus.SENT, sent_at=timezone.now())
    return "sent"


def _finish(delivery: Delivery, *, undo_attempt: bool = False, **fields) -> None:
    """Record the outcome, only if this attempt still holds the row (the sweep may have taken
    it back from a worker it thought dead)."""
    if undo_attempt:
        fields["attempts"] = F("attempts") - 1
    if fields.get("status") != DeliveryStatus.SENDING:
        fields.setdefault("claimed_at", None)
    Delivery.objects.filter(
        pk=delivery.pk, status=DeliveryStatus.SENDING, attempts=delivery.attempts
    ).update(**fields)


def pace_sms(*, sleep=time.sleep, now=time.time) -> None:
    """Wait until the current second has room under YISHI_NOTIFY_SMS_PER_SECOND, counted in the
    shared cache so that every task worker together keeps to the provider's rate."""
    rate = getattr(settings, "YISHI_NOTIFY_SMS_PER_SECOND", 20)
    if not rate:
        return
    while True:
        second = int(now())
        if ratelimit.count(f"yishi:notify:sms-pace:{second}", timeout=2) <= rate:
            return
        sleep(max(0.01, second + 1 - now()))


# --- Budgets ------------------------------------------------------------------------------


def monthly_limit(council_id: int | None) -> int:
    own = SmsBudget.objects.filter(council_id=council_id).values_list("monthly", flat=True).first()
    if own is not None:
        return own
    return int(getattr(settings, "YISHI_NOTIFY_SMS_MONTHLY_PER_COUNCIL", 2000))


def take_from_council_budget(council_id: int | None) -> bool:
    """Take one SMS from the council's budget for this month; False once it is spent (and the
    admin's warning is set). Two workers can never both take the last one."""
    month = timezone.localdate().strftime("%Y-%m")
    scope = f"council:{council_id or 0}:{month}"
    limit = monthly_limit(council_id)
    spend, _created = SmsSpend.objects.get_or_create(scope=scope, defaults={"limit": limit})
    if spend.limit != limit:  # the committee changed its budget this month
        SmsSpend.objects.filter(pk=spend.pk).update(limit=limit)
    taken = SmsSpend.objects.filter(pk=spend.pk, count__lt=limit).update(count=F("count") + 1)
    if not taken:
        SmsSpend.objects.filter(pk=spend.pk, reached_at__isnull=True).update(
            reached_at=timezone.now()
        )
    return bool(taken)


def budgets_reached() -> list[SmsSpend]:
    """This month's councils whose SMS budget is spent (the admin's warning)."""
    month = timezone.localdate().strftime("%Y-%m")
    return list(
        SmsSpend.objects.filter(scope__endswith=f":{month}", reached_at__isnull=False).order_by(
            "scope"
        )
    )


# --- Fan-out ------------------------------------------------------------------------------


def expand(fanout_id: int, *, batch: int = EXPAND_BATCH) -> int:
    """Tell a fan-out's audience, batch by batch; returns how many were told by this call."""
    from notifications.services import notify

    told = 0
    while True:
        with transaction.atomic():
            fanout = Fanout.objects.select_for_update().filter(pk=fanout_id).first()
            if fanout is None or fanout.finished_at is not None:
                return told
            resolver = registry.audience(fanout.audience)
            ids = resolver(fanout.cursor, batch, **fanout.audience_args)
            if ids:
                made = notify(
                    kind=fanout.kind,
                    recipients=ids,
                    event_key=fanout.event_key,
                    url=fanout.url,
                    council=fanout.council,
                    params=fanout.params,
                )
                told += len(made)
                fanout.cursor = max(ids)
                fanout.expanded += len(made)
            if len(ids) < batch:
                fanout.finished_at = timezone.now()
            fanout.save(update_fields=["cursor", "expanded", "finished_at"])
            if fanout.finished_at is not None:
                return told


# --- Digest -------------------------------------------------------------------------------


def send_digests(now: datetime.datetime | None = None) -> int:
    """For each person who takes a digest and whose digest time has come today: one message,
    by their channels, counting their unread notifications not yet in a digest. No digest when
    there is nothing new; never two on one day (its event key is the day)."""
    from notifications.services import plan_deliveries

    now = now or timezone.now()
    local = timezone.localtime(now)
    sent = 0
    due = PersonSettings.objects.filter(digest=True, digest_at__lte=local.time()).filter(
        Q(last_digest_on__isnull=True) | Q(last_digest_on__lt=local.date())
    )
    for own in due.select_related("user"):
        with transaction.atomic():
            locked = PersonSettings.objects.select_for_update().get(pk=own.pk)
            if locked.last_digest_on is not None and locked.last_digest_on >= local.date():
                continue
            waiting = Notification.objects.filter(
                recipient_id=own.user_id, read_at__isnull=True, digested_at__isnull=True
            ).exclude(kind=Kind.DIGEST)
            count = waiting.count()
            locked.last_digest_on = local.date()
            locked.save(update_fields=["last_digest_on"])
            if not count:
                continue
            waiting.update(digested_at=now)
            digest = Notification.objects.create(
                recipient=own.user,
                kind=Kind.DIGEST,
                event_key=f"digest:{local.date().isoformat()}",
                url="/notifications/",
                params={"count": count},
                read_at=now,  # the inbox lists the notifications themselves
            )
            digest.recipient = own.user
            plan_deliveries([digest], digest=True)
            sent += 1
    if sent:
        transaction.on_commit(enqueue_send)
    return sent


# --- The reaper's sweep -------------------------------------------------------------------


def sweep() -> dict[str, int]:
    """Every minute (manage.py reap_tasks): take back sends whose worker died, resume fan-outs,
    send digests that are due, and make sure a sender runs if anything is due."""
    counts = {"notices_taken_back": 0, "fanouts_resumed": 0, "digests": 0}
    stale = Delivery.objects.filter(
        status=DeliveryStatus.SENDING, claimed_at__lt=timezone.now() - CLAIM_TIMEOUT
    )
    # A delivery whose sends keep killing their worker is given up on, not tried for ever.
    stale.filter(attempts__gte=MAX_ATTEMPTS).update(
        status=DeliveryStatus.FAILED, claimed_at=None, reason="worker_lost"
    )
    counts["notices_taken_back"] = stale.update(status=DeliveryStatus.PENDING, claimed_at=None)
    for fanout_id in Fanout.objects.filter(
        finished_at__isnull=True, created__lt=timezone.now() - datetime.timedelta(seconds=30)
    ).values_list("pk", flat=True):
        enqueue_expand(fanout_id)
        counts["fanouts_resumed"] += 1
    counts["digests"] = send_digests()
    if Delivery.objects.filter(
        status=DeliveryStatus.PENDING, not_before__lte=timezone.now()
    ).exists():
        enqueue_send(force=True)
    return counts
