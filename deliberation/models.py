"""Discussion halls (民主议事厅), their topics (议题), live debate and consultation days.

Halls are plain Django models that belong to a council; what residents create (topics, messages,
stances, registrations) is plain Django models too. Event and moderation logs are append-only.

Extension point for budgets: a topic that the committee has decided on can later be promoted into a
budget proposal. The budgets app will point at the topic (proposal.source_topic) rather than the
topic pointing at the proposal, so nothing here has to change; see docs/halls.md.
"""

from django.conf import settings
from django.db import models
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.models import AppendOnlyModel
from core.uploads import RandomName
from councils.models import CouncilPage

MESSAGE_MAX_LENGTH = 1000


class HallQuerySet(models.QuerySet):
    def public(self):
        return self.filter(is_public=True)


class Hall(models.Model):
    """A standing place where a council's residents raise and debate local matters."""

    council = models.ForeignKey(
        CouncilPage, on_delete=models.PROTECT, related_name="halls", verbose_name=_("council")
    )
    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    is_public = models.BooleanField(
        _("public"),
        default=True,
        help_text=_("Anyone may read a public hall; only members may read the others."),
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)

    objects = HallQuerySet.as_manager()

    class Meta:
        verbose_name = _("discussion hall")
        verbose_name_plural = _("discussion halls")
        ordering = ["council", "title"]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("deliberation:hall", args=[self.pk])


class TopicCategory(models.TextChoices):
    ROADS = "roads", _("Roads and bridges")
    WATER = "water", _("Water and drainage")
    ENVIRONMENT = "environment", _("Environment and sanitation")
    SAFETY = "safety", _("Public safety")
    SERVICES = "services", _("Public services")
    ELDERLY_CHILDREN = "elderly_children", _("The elderly and children")
    FARMING = "farming", _("Farming and the collective economy")
    OTHER = "other", _("Other")


class TopicStatus(models.TextChoices):
    OPEN = "open", _("Open for discussion")
    TAKEN_UP = "taken_up", _("Taken up by the committee")
    DECIDED = "decided", _("Decided")
    CLOSED = "closed", _("Closed")
    MERGED = "merged", _("Merged into another topic")


# Topics that still take messages and stances.
DISCUSSABLE_STATUSES = [TopicStatus.OPEN, TopicStatus.TAKEN_UP]


class TopicQuerySet(models.QuerySet):
    def discussable(self):
        return self.filter(status__in=DISCUSSABLE_STATUSES)

    def with_stance_counts(self):
        return self.annotate(
            support_count=Count("stances", filter=Q(stances__value=StanceValue.SUPPORT)),
            oppose_count=Count("stances", filter=Q(stances__value=StanceValue.OPPOSE)),
        )


class Topic(models.Model):
    """One matter raised by a resident in a hall."""

    hall = models.ForeignKey(
        Hall, on_delete=models.PROTECT, related_name="topics", verbose_name=_("hall")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="topics",
        verbose_name=_("raised by"),
    )
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), max_length=4000)
    category = models.CharField(
        _("category"), max_length=20, choices=TopicCategory.choices, default=TopicCategory.OTHER
    )
    location = models.CharField(_("location"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=TopicStatus.choices, default=TopicStatus.OPEN
    )
    status_reason = models.CharField(_("reason"), max_length=500, blank=True)
    official_answer = models.TextField(_("official answer"), blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_topics",
        verbose_name=_("merged into"),
    )
    # The last sequence number given to a published message; allocated under a row lock.
    last_seq = models.PositiveIntegerField(default=0, editable=False)
    created = models.DateTimeField(_("raised at"), auto_now_add=True)

    objects = TopicQuerySet.as_manager()

    class Meta:
        verbose_name = _("topic")
        verbose_name_plural = _("topics")
        ordering = ["-created"]
        indexes = [models.Index(fields=["hall", "status", "-created"])]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("deliberation:topic", args=[self.pk])

    @property
    def council(self) -> CouncilPage:
        return self.hall.council

    @property
    def is_discussable(self) -> bool:
        return self.status in DISCUSSABLE_STATUSES


PHOTO_MAX_BYTES = 5 * 1024 * 1024
PHOTO_MAX_COUNT = 3


class TopicPhoto(models.Model):
    topic = models.ForeignKey(
        Topic, on_delete=models.CASCADE, related_name="photos", verbose_name=_("topic")
    )
    image = models.ImageField(_("photo"), upload_to=RandomName("topics"))

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")

    def __str__(self):
        return f"{self.topic_id} · {self.pk}"

    def get_absolute_url(self) -> str:
        """The photo itself, through the permission-checked view (never MEDIA_URL)."""
        return reverse("deliberation:topic_photo", args=[self.pk])


class TopicEventKind(models.TextChoices):
    RAISED = "raised", _("Raised")
    TAKEN_UP = "taken_up", _("Taken up by the committee")
    ANSWERED = "answered", _("Official answer given")
    DECIDED = "decided", _("Decided")
    CLOSED = "closed", _("Closed")
    REOPENED = "reopened", _("Reopened")
    MERGED = "merged", _("Merged into another topic")
    ABSORBED = "absorbed", _("Another topic was merged into this one")
    RATED = "rated", _("The asker rated the answer")


class TopicEvent(AppendOnlyModel):
    """What happened to a topic, in order: shown on the topic page."""

    topic = models.ForeignKey(
        Topic, on_delete=models.PROTECT, related_name="events", verbose_name=_("topic")
    )
    kind = models.CharField(_("what"), max_length=12, choices=TopicEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("by"),
    )
    note = models.TextField(_("note"), blank=True)
    other_topic = models.ForeignKey(
        Topic,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("other topic"),
    )
    created = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        verbose_name = _("topic event")
        verbose_name_plural = _("topic events")
        ordering = ["created", "pk"]

    def __str__(self):
        return f"{self.topic_id} {self.kind}"


class TopicRating(AppendOnlyModel):
    """The asker's evaluation (评事) of the committee's answer: 1-5 and a comment, given once.

    Like a budget project's rating (budgets.Rating), but only the topic's author gives it, only
    after the official answer, and it is part of the topic's public record: it never changes.
    """

    topic = models.OneToOneField(
        Topic, on_delete=models.PROTECT, related_name="rating", verbose_name=_("topic")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("rated by"),
    )
    score = models.PositiveSmallIntegerField(_("score"))
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    created = models.DateTimeField(_("rated at"), auto_now_add=True)

    class Meta:
        verbose_name = _("rating of the answer")
        verbose_name_plural = _("ratings of answers")
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=1) & Q(score__lte=5), name="topic_rating_score_1_to_5"
            ),
        ]

    def __str__(self):
        return f"{self.topic_id} · {self.score}"


class MessageStatus(models.TextChoices):
    PUBLISHED = "published", _("Published")
    HELD = "held", _("Held for review")
    HIDDEN = "hidden", _("Hidden by the committee")
    REJECTED = "rejected", _("Not published after review")


class Message(models.Model):
    """A message in a topic's debate. `seq` numbers published messages 1, 2, 3 ... per topic.

    A held message has no `seq` until the committee releases it, so that what clients see is
    numbered without gaps; a hidden message keeps its `seq` and is shown as a notice.
    """

    topic = models.ForeignKey(
        Topic, on_delete=models.PROTECT, related_name="messages", verbose_name=_("topic")
    )
    seq = models.PositiveIntegerField(_("number"), null=True, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="deliberation_messages",
        verbose_name=_("author"),
    )
    body = models.TextField(_("message"), max_length=MESSAGE_MAX_LENGTH)
    reply_to = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replies",
        verbose_name=_("reply to"),
    )
    client_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=MessageStatus.choices, default=MessageStatus.PUBLISHED
    )
    hidden_reason = models.CharField(_("reason"), max_length=300, blank=True)
    created = models.DateTimeField(_("posted at"), auto_now_add=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["seq"]
        constraints = [
            models.UniqueConstraint(fields=["topic", "seq"], name="unique_message_seq"),
            models.UniqueConstraint(
                fields=["topic", "author", "client_id"],
                condition=~Q(client_id=""),
                name="unique_message_client_id",
            ),
        ]
        indexes = [models.Index(fields=["topic", "status"])]

    def __str__(self):
        return f"#{self.seq} {self.body[:40]}"

    @property
    def is_hidden(self) -> bool:
        return self.status == MessageStatus.HIDDEN


class StanceValue(models.TextChoices):
    SUPPORT = "support", _("Support")
    OPPOSE = "oppose", _("Oppose")
    NEUTRAL = "neutral", _("Neutral")


class Stance(models.Model):
    """One person's stance on a topic; they may change it."""

    topic = models.ForeignKey(
        Topic, on_delete=models.CASCADE, related_name="stances", verbose_name=_("topic")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="stances",
        verbose_name=_("user"),
    )
    value = models.CharField(_("stance"), max_length=8, choices=StanceValue.choices)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("stance")
        verbose_name_plural = _("stances")
        constraints = [
            models.UniqueConstraint(fields=["topic", "user"], name="one_stance_per_user_per_topic")
        ]

    def __str__(self):
        return f"{self.topic_id} {self.user_id} {self.value}"


class ModerationAction(models.TextChoices):
    HIDE = "hide", _("Hidden")
    RELEASE = "release", _("Released after review")
    REJECT = "reject", _("Rejected after review")


class ModerationLog(AppendOnlyModel):
    """Every moderation decision, by whom and why."""

    message = models.ForeignKey(
        Message,
        on_delete=models.PROTECT,
        related_name="moderation_log",
        verbose_name=_("message"),
    )
    action = models.CharField(_("action"), max_length=8, choices=ModerationAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("by"),
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    created = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        verbose_name = _("moderation log entry")
        verbose_name_plural = _("moderation log")
        ordering = ["created", "pk"]

    def __str__(self):
        return f"{self.message_id} {self.action}"


class SensitiveWord(models.Model):
    """A word or phrase that holds a message for review; edited in the Wagtail admin."""

    word = models.CharField(_("word or phrase"), max_length=50, unique=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        verbose_name = _("sensitive word")
        verbose_name_plural = _("sensitive words")
        ordering = ["word"]

    def __str__(self):
        return self.word


class ConsultationDay(models.Model):
    """A day when officials meet residents in a hall (民情恳谈日 / 协商议事日)."""

    hall = models.ForeignKey(
        Hall, on_delete=models.PROTECT, related_name="consultation_days", verbose_name=_("hall")
    )
    title = models.CharField(_("title"), max_length=120)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    place = models.CharField(_("place"), max_length=200)
    officials = models.CharField(
        _("officials attending"),
        max_length=500,
        help_text=_("Names and posts, for example: 李明（镇党委副书记）、王芳（村委会主任）"),
    )
    topics = models.ManyToManyField(
        Topic, blank=True, related_name="consultation_days", verbose_name=_("topics discussed")
    )
    outcome = models.TextField(_("outcome"), blank=True)
    outcome_published_at = models.DateTimeField(_("outcome published"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("scheduled by"),
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("consultation day")
        verbose_name_plural = _("consultation days")
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")),
                name="consultation_day_ends_after_start",
            )
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("deliberation:day", args=[self.pk])

    @property
    def council(self) -> CouncilPage:
        return self.hall.council


class DayRegistration(models.Model):
    day = models.ForeignKey(
        ConsultationDay,
        on_delete=models.CASCADE,
        related_name="registrations",
        verbose_name=_("consultation day"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="day_registrations",
        verbose_name=_("user"),
    )
    note = models.CharField(_("what you want to raise"), max_length=300, blank=True)
    created = models.DateTimeField(_("registered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        constraints = [
            models.UniqueConstraint(fields=["day", "user"], name="one_registration_per_day")
        ]

    def __str__(self):
        return f"{self.day_id} {self.user_id}"
