"""Telling people: the one way an app notifies (docs/notifications.md).

    notify(kind=Kind.TOPIC_ANSWERED, recipients=[asker, *followers],
           event_key=f"topic-answered:{topic.pk}:{answer.pk}", url=topic.url, council=council,
           params={"title": topic.title}, obj=topic, permission="deliberation.view_topic")

is called inside the event's own transaction: the inbox rows and their deliveries commit or roll
back with the event. Each person is told once per `event_key` (a database constraint), only if
`permission` on `obj` lets them know, and by each outside channel they keep on for that kind,
with an address, outside their quiet hours (the delivery waits until they end) unless they take a
daily digest. Sending is done by tasks after the commit (notifications.delivery).

For a large audience (every resident of a township when a vote opens), `notify_audience` writes
one `Fanout` row in the transaction; a task expands it in batches (idempotently, resuming where
it stopped if its worker dies).
"""

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from core import sms
from core.realtime import broadcast_many_on_commit, broadcast_on_commit, group_name
from core.realtime.envelope import event
from councils.predicates import know_roles_of
from notifications import registry
from notifications.kinds import SPECS, Channel, Kind
from notifications.models import (
    Delivery,
    Fanout,
    Follow,
    Notification,
    PersonSettings,
    Preference,
)

FRAME = "notification"  # one more notification: {"type", "id"}
UNREAD_FRAME = "unread"  # the exact count: {"type", "count"}


def user_group(user_id: int) -> str:
    return group_name("notify_user", user_id)


def target_key(obj) -> str:
    """ "app_label.model:pk": what a follow or an event is about."""
    return f"{obj._meta.label_lower}:{obj.pk}"


# --- Telling ------------------------------------------------------------------------------


def notify(
    *,
    kind: str,
    recipients: Iterable,
    event_key: str,
    url: str,
    council=None,
    params: dict | None = None,
    obj=None,
    permission: str | None = None,
) -> list[Notification]:
    """Tell each of `recipients` (users or user ids) about one event; returns the notifications
    made now (none for a person told of this event before)."""
    if kind not in SPECS:
        raise ValueError(f"unknown notification kind {kind!r}")
    users = _users(recipients)
    if permission is not None:
        know_roles_of(users)  # one query for everyone's roles, not one a person
        users = [user for user in users if user.has_perm(permission, obj)]
    if not users:
        return []
    told = set(
        Notification.objects.filter(
            event_key=event_key, recipient__in=[u.pk for u in users]
        ).values_list("recipient_id", flat=True)
    )
    fresh = [
        Notification(
            recipient=user,
            kind=kind,
            council=council,
            event_key=event_key,
            url=url,
            params=params or {},
        )
        for user in users
        if user.pk not in told
    ]
    if not fresh:
        return []
    # A racing transaction telling the same person of the same event loses on the constraint
    # and tells nobody twice.
    Notification.objects.bulk_create(fresh, ignore_conflicts=True)
    made = list(
        Notification.objects.filter(
            event_key=event_key, recipient__in=[n.recipient_id for n in fresh]
        ).select_related("recipient")
    )
    plan_deliveries(made)
    # The id as the frame's seq: a socket that opened after this committed has it in its count
    # already and drops the frame (notifications.consumers); the page adds one. All of them in
    # one go after the commit (a fan-out tells a thousand people per call).
    broadcast_many_on_commit(
        [(user_group(n.recipient_id), event({"type": FRAME, "id": n.pk}, seq=n.pk)) for n in made]
    )
    transaction.on_commit(_send_soon)
    return made


def notify_audience(
    *,
    kind: str,
    audience: str,
    event_key: str,
    url: str,
    council=None,
    params: dict | None = None,
    **audience_args,
) -> Fanout:
    """Tell a registered audience (notifications.registry) about one event, expanded by a task
    after this transaction commits. Raising the same event again changes nothing."""
    if kind not in SPECS:
        raise ValueError(f"unknown notification kind {kind!r}")
    registry.audience(audience)  # fails now, not in the task, if no such audience
    fanout, created = Fanout.objects.get_or_create(
        event_key=event_key,
        defaults={
            "kind": kind,
            "council": council,
            "url": url,
            "params": params or {},
            "audience": audience,
            "audience_args": audience_args,
        },
    )
    if created:
        transaction.on_commit(lambda: _expand_soon(fanout.pk))
    return fanout


def _users(recipients: Iterable) -> list:
    seen: dict[int, object] = {}
    ids = []
    for recipient in recipients:
        if recipient is None:
            continue
        if isinstance(recipient, int):
            ids.append(recipient)
        elif recipient.pk not in seen and getattr(recipient, "is_active", True):
            seen[recipient.pk] = recipient
    ids = [pk for pk in ids if pk not in seen]
    if ids:
        for user in get_user_model().objects.filter(pk__in=ids, is_active=True):
            seen[user.pk] = user
    return list(seen.values())


# --- Planning deliveries --------------------------------------------------------------------


def plan_deliveries(notifications: list[Notification], *, digest: bool = False) -> list[Delivery]:
    """A delivery per notification and outside channel the person keeps on for its kind and has
    an address for, due now or when their quiet hours end; none for people who take a digest
    (the digest tells them), unless these are `digest`s. Three queries for any number."""
    if not notifications:
        return []
    user_ids = {n.recipient_id for n in notifications}
    kinds = {n.kind for n in notifications}
    chosen = {
        (p.user_id, p.kind, p.channel): p.enabled
        for p in Preference.objects.filter(user_id__in=user_ids, kind__in=kinds)
    }
    person = {s.user_id: s for s in PersonSettings.objects.filter(user_id__in=user_ids)}
    now = timezone.now()
    deliveries = []
    for notification in notifications:
        own = person.get(notification.recipient_id)
        if own is not None and own.digest and not digest:
            continue
        due = quiet_until(own, now) or now
        for channel in Channel.outside():
            if not wants(chosen, notification.recipient_id, notification.kind, channel):
                continue
            if not has_address(notification.recipient, channel, own):
                continue
            deliveries.append(Delivery(notification=notification, channel=channel, not_before=due))
    Delivery.objects.bulk_create(deliveries, ignore_conflicts=True)
    return deliveries


def wants(chosen: dict, user_id: int, kind: str, channel: str) -> bool:
    """The person's own choice, else the kind's default."""
    choice = chosen.get((user_id, kind, channel))
    if choice is not None:
        return choice
    return channel in SPECS[kind].outside and channel in default_channels()


def default_channels() -> frozenset[str]:
    """Outside channels a deployment has (YISHI_NOTIFY_CHANNELS): SMS and e-mail by default,
    WeChat once an official account is configured."""
    return frozenset(getattr(settings, "YISHI_NOTIFY_CHANNELS", ("sms", "email")))


def has_address(user, channel: str, own: PersonSettings | None) -> bool:
    if channel == Channel.SMS:
        return bool(user.phone and user.phone_verified and sms.may_receive_sms(user.phone))
    if channel == Channel.WECHAT:
        return bool(own is not None and own.wechat_openid)
    if channel == Channel.EMAIL:
        return bool(user.email)
    return False


def quiet_until(own: PersonSettings | None, now: datetime.datetime) -> datetime.datetime | None:
    """When the person's quiet hours end, if `now` falls in them (default 21:00–08:00, China
    time); else None."""
    start, end = QUIET_DEFAULT
    if own is not None:
        if not own.quiet_hours:
            return None
        start, end = own.quiet_start, own.quiet_end
    if start == end:
        return None
    local = timezone.localtime(now)
    clock = local.time()
    inside = (start <= clock < end) if start < end else (clock >= start or clock < end)
    if not inside:
        return None
    ends = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if ends <= local:
        ends += datetime.timedelta(days=1)
    return ends


QUIET_DEFAULT = (datetime.time(21, 0), datetime.time(8, 0))


# --- Reading --------------------------------------------------------------------------------


def mark_read(*, user, ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications read (all of them, or those of `ids`); returns how many."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    marked = unread.update(read_at=timezone.now())
    if marked:
        # The person's other open pages show the new count (their bell).
        left = Notification.objects.filter(recipient=user, read_at__isnull=True).count()
        broadcast_on_commit(user_group(user.pk), event({"type": UNREAD_FRAME, "count": left}))
    return marked


# --- Following ------------------------------------------------------------------------------


def follow(*, user, obj) -> Follow:
    found, _created = Follow.objects.get_or_create(user=user, target=target_key(obj))
    return found


def unfollow(*, user, obj) -> None:
    Follow.objects.filter(user=user, target=target_key(obj)).delete()


def is_following(user, obj) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return Follow.objects.filter(user=user, target=target_key(obj)).exists()


def followers(obj) -> list[int]:
    """The ids of the people following `obj`."""
    return list(Follow.objects.filter(target=target_key(obj)).values_list("user_id", flat=True))


# --- Tasks (after commit) -------------------------------------------------------------------


def _send_soon() -> None:
    from notifications import delivery

    delivery.enqueue_send()


def _expand_soon(fanout_id: int) -> None:
    from notifications import delivery

    delivery.enqueue_expand(fanout_id)


__all__ = [
    "Kind",
    "follow",
    "followers",
    "is_following",
    "mark_read",
    "notify",
    "notify_audience",
    "target_key",
    "unfollow",
    "user_group",
]
