"""Notifications: an inbox row per person and event, and its deliveries by SMS, WeChat or e-mail.

- `Notification`: what one person is told, once per event (unique by person and `event_key`, so
  an event raised twice, a retried task or a re-run fan-out tells nobody twice). Its text is
  rendered when shown, in the reader's language, from `kind` and `params` (notifications.kinds).
- `Delivery`: one row per notification and outside channel that is due to carry it; a state
  machine the delivery tasks move (notifications.delivery), so a send is claimed, done and
  recorded, retried with back-off, and taken back if its worker died.
- `Fanout`: an event for many people (a vote opened for a township): written in the event's
  transaction, expanded into notifications by a task, idempotently, in batches.
- `Preference`, `PersonSettings`: what a person wants by kind and channel, quiet hours, digest.
- `Follow`: a person follows a topic, a proposal or a record.
- `SmsSpend`, `SmsBudget`: SMS counted against each council's monthly budget and the day's.
"""

import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from notifications.kinds import Channel, Kind


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    kind = models.CharField(_("kind"), max_length=40, choices=Kind.choices)
    council = models.ForeignKey(
        "councils.CouncilPage",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("council"),
    )
    event_key = models.CharField(_("event"), max_length=120)
    url = models.CharField(_("link"), max_length=300)
    params = models.JSONField(_("details"), default=dict, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    digested_at = models.DateTimeField(_("in a digest at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "event_key"], name="one_notification_per_person_and_event"
            )
        ]
        indexes = [
            # The inbox pages by id, newest first (selectors.inbox_page): this index reads just
            # one person's rows, however many others have (bench/bench_notify.py).
            models.Index(fields=["recipient", "-id"], name="inbox_newest_first"),
            models.Index(
                fields=["recipient"],
                condition=models.Q(read_at__isnull=True),
                name="inbox_unread",
            ),
        ]

    def __str__(self):
        return f"{self.kind} → {self.recipient_id}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("waiting to be sent")
    SENDING = "sending", _("being sent")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")
    SKIPPED = "skipped", _("not sent")
    DIGESTED = "digested", _("sent in a digest")


class Delivery(models.Model):
    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.outside_choices())
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    # Why it was not sent (SKIPPED, FAILED): "budget", "no_address", "refused", an error.
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    not_before = models.DateTimeField(_("not before"), db_index=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "channel"], name="one_delivery_per_channel"
            )
        ]
        indexes = [
            models.Index(
                fields=["not_before"],
                condition=models.Q(status="pending"),
                name="delivery_due",
            ),
            models.Index(
                fields=["claimed_at"],
                condition=models.Q(status="sending"),
                name="delivery_in_flight",
            ),
        ]

    def __str__(self):
        return f"{self.channel} {self.status} ({self.notification_id})"


class Fanout(models.Model):
    """An event for an audience too large to expand inside the event's transaction."""

    kind = models.CharField(_("kind"), max_length=40, choices=Kind.choices)
    council = models.ForeignKey(
        "councils.CouncilPage", on_delete=models.CASCADE, related_name="+", null=True
    )
    event_key = models.CharField(_("event"), max_length=120, unique=True)
    url = models.CharField(_("link"), max_length=300)
    params = models.JSONField(default=dict, blank=True)
    audience = models.CharField(_("audience"), max_length=60)  # a registered audience's name
    audience_args = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    cursor = models.BigIntegerField(default=0)  # the last user id expanded
    expanded = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return self.event_key


class Preference(models.Model):
    """One person's choice for one kind on one channel; without a row, the kind's default."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(_("kind"), max_length=40, choices=Kind.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.outside_choices())
    enabled = models.BooleanField(_("enabled"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "channel"], name="one_preference_per_kind_and_channel"
            )
        ]

    def __str__(self):
        return f"{self.user_id} {self.kind} {self.channel}: {self.enabled}"


def default_quiet_start() -> datetime.time:
    return datetime.time(21, 0)


def default_quiet_end() -> datetime.time:
    return datetime.time(8, 0)


class PersonSettings(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_settings"
    )
    quiet_hours = models.BooleanField(_("quiet hours"), default=True)
    quiet_start = models.TimeField(_("quiet from"), default=default_quiet_start)
    quiet_end = models.TimeField(_("quiet until"), default=default_quiet_end)
    digest = models.BooleanField(_("one daily digest instead of each message"), default=False)
    digest_at = models.TimeField(_("digest time"), default=datetime.time(19, 0))
    wechat_openid = models.CharField(_("WeChat OpenID"), max_length=64, blank=True)
    last_digest_on = models.DateField(null=True, blank=True)

    def __str__(self):
        return f"settings of {self.user_id}"


class Follow(models.Model):
    """A person follows a topic, a proposal or a record (`target`: "app.model:pk")."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follows"
    )
    target = models.CharField(_("followed"), max_length=80)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "target"], name="one_follow_per_target")
        ]
        indexes = [models.Index(fields=["target"], name="follow_by_target")]

    def __str__(self):
        return f"{self.user_id} follows {self.target}"


class SmsBudget(models.Model):
    """A council's own monthly SMS budget, in place of YISHI_NOTIFY_SMS_MONTHLY_PER_COUNCIL."""

    council = models.OneToOneField(
        "councils.CouncilPage",
        on_delete=models.CASCADE,
        related_name="sms_budget",
        verbose_name=_("council"),
    )
    monthly = models.PositiveIntegerField(_("SMS per month"))

    class Meta:
        verbose_name = _("SMS budget")
        verbose_name_plural = _("SMS budgets")

    def __str__(self):
        return f"{self.council} {self.monthly}"


class SmsSpend(models.Model):
    """SMS sent (or being sent) in one scope: "council:<id>:<YYYY-MM>" or "day:<YYYY-MM-DD>".
    Taken with a conditional UPDATE, so two workers never both take the last one."""

    scope = models.CharField(max_length=60, unique=True)
    count = models.PositiveIntegerField(default=0)
    limit = models.PositiveIntegerField()
    reached_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.scope}: {self.count}/{self.limit}"
