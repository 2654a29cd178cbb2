"""The three openings (三务公开): records of Party, village and financial affairs, their review,
the questions residents ask about them, and the hash chain that proves nothing changed.

A council's "ledger" of a kind is simply its published records of that kind; there is no ledger
row to create or forget. A record is drafted by the committee, reviewed by the supervisory
committee (监委会), then published. Once published it never changes: a mistake is put right by a
new correcting record that points to the original (for money, red-ink reversing lines 红字冲销
plus new lines). Each published record is appended to its council's hash chain (hashchain.py).
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import TaskRunStatus
from core.uploads import RandomName, private_storage
from councils.models import CouncilPage

GENESIS_HASH = "0" * 64


class Kind(models.TextChoices):
    PARTY = "party", _("Party affairs")
    VILLAGE = "village", _("Village affairs")
    FINANCE = "finance", _("Finance")


class RecordType(models.TextChoices):
    # 党务
    BRANCH_MEETING = "branch_meeting", _("Branch meetings (three meetings, one lesson)")
    PARTY_MEMBERSHIP = "party_membership", _("Party membership changes")
    PARTY_DUES = "party_dues", _("Party dues")
    PARTY_OTHER = "party_other", _("Other Party affairs")
    # 村务
    RESOLUTION = "resolution", _("Resolutions and decisions")
    WELFARE_LIST = "welfare_list", _("Subsidy and minimum-living-allowance lists")
    LAND_CONTRACT = "land_contract", _("Land contracts")
    PROJECT_TENDER = "project_tender", _("Project tenders")
    VILLAGE_OTHER = "village_other", _("Other village affairs")
    # 财务
    STATEMENT = "statement", _("Income and expense statement")
    ASSET_REGISTER = "asset_register", _("Asset register")
    DEBTS = "debts", _("Debts and claims")
    FINANCE_OTHER = "finance_other", _("Other financial matters")


TYPES_BY_KIND: dict[str, list[str]] = {
    Kind.PARTY: [
        RecordType.BRANCH_MEETING,
        RecordType.PARTY_MEMBERSHIP,
        RecordType.PARTY_DUES,
        RecordType.PARTY_OTHER,
    ],
    Kind.VILLAGE: [
        RecordType.RESOLUTION,
        RecordType.WELFARE_LIST,
        RecordType.LAND_CONTRACT,
        RecordType.PROJECT_TENDER,
        RecordType.VILLAGE_OTHER,
    ],
    Kind.FINANCE: [
        RecordType.STATEMENT,
        RecordType.ASSET_REGISTER,
        RecordType.DEBTS,
        RecordType.FINANCE_OTHER,
    ],
}
# Lists of named people receiving public money: names are masked in public, ID numbers refused.
WELFARE_TYPES = {RecordType.WELFARE_LIST}
# Records that may carry money lines: every financial record and the welfare lists.
LINE_ITEM_TYPES = set(TYPES_BY_KIND[Kind.FINANCE]) | WELFARE_TYPES


class PeriodKind(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")
    AD_HOC = "ad_hoc", _("Ad hoc (as it happens)")


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("Waiting for the supervisory committee")
    SIGNED_OFF = "signed_off", _("Signed off, ready to publish")
    PUBLISHED = "published", _("Published")


class ImmutableRecordError(ValidationError):
    """Raised when anything tries to change a published record, its lines or attachments."""


def immutable_message():
    return _(
        "This record is published and can no longer be changed. To put a mistake right, "
        "publish a correcting record."
    )


class RecordQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=Status.PUBLISHED)

    def of_ledger(self, council, kind: str):
        return self.filter(council=council, kind=kind)

    def with_totals(self):
        return self.annotate(
            total_income=Sum("lines__income", default=Decimal("0")),
            total_expense=Sum("lines__expense", default=Decimal("0")),
        )


class Record(models.Model):
    """One disclosure: a meeting record, a welfare list, a month's accounts ..."""

    council = models.ForeignKey(
        CouncilPage, on_delete=models.PROTECT, related_name="disclosures", verbose_name=_("council")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    record_type = models.CharField(_("type"), max_length=20, choices=RecordType.choices)
    period_kind = models.CharField(_("period"), max_length=10, choices=PeriodKind.choices)
    period_start = models.DateField(_("period starts"))
    period_end = models.DateField(_("period ends"))
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.DRAFT
    )
    corrects = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="corrections",
        verbose_name=_("corrects"),
    )
    correction_reason = models.TextField(_("reason for the correction"), blank=True)
    # Kept by another app ("assets": it publishes a register entry's version), whose services
    # write its text: the ledger pages never edit or correct it (a new version does).
    managed_by = models.CharField(_("kept by"), max_length=20, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("drafted by"),
    )
    created_at = models.DateTimeField(_("drafted at"), default=timezone.now)
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    objects = RecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("disclosure record")
        verbose_name_plural = _("disclosure records")
        ordering = ["-period_start", "-published_at", "-pk"]
        indexes = [
            models.Index(fields=["council", "kind", "status", "period_start"]),
            models.Index(fields=["status", "council"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")), name="record_period_order"
            ),
            models.CheckConstraint(
                condition=Q(status=Status.PUBLISHED, published_at__isnull=False)
                | (~Q(status=Status.PUBLISHED) & Q(published_at__isnull=True)),
                name="record_published_at_iff_published",
            ),
        ]

    def __str__(self):
        return self.title

    # The model-level guard: whatever path a change takes through the ORM, a stored published
    # record is never overwritten or deleted. A raw SQL UPDATE bypasses this; the hash chain
    # (verify_ledgers) is what catches that.
    def save(self, *args, **kwargs):
        if self.pk is not None:
            stored = Record.objects.filter(pk=self.pk).values_list("status", flat=True).first()
            if stored == Status.PUBLISHED:
                raise ImmutableRecordError(immutable_message())
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("disclosure:record", args=[self.pk])

    def delete(self, *args, **kwargs):
        if (
            self.pk is not None
            and Record.objects.filter(pk=self.pk, status=Status.PUBLISHED).exists()
        ):
            raise ImmutableRecordError(immutable_message())
        return super().delete(*args, **kwargs)

    @property
    def is_published(self) -> bool:
        return self.status == Status.PUBLISHED

    @property
    def is_draft(self) -> bool:
        return self.status == Status.DRAFT

    @property
    def is_in_review(self) -> bool:
        return self.status == Status.IN_REVIEW

    @property
    def is_finance(self) -> bool:
        return self.kind == Kind.FINANCE

    @property
    def is_welfare_list(self) -> bool:
        return self.record_type in WELFARE_TYPES

    @property
    def has_lines(self) -> bool:
        return self.record_type in LINE_ITEM_TYPES

    @property
    def period_label(self) -> str:
        return period_label(self.period_kind, self.period_start, self.period_end)

    @property
    def period_slug(self) -> str:
        """The period in URLs: 2025-03 for a month, 2025-Q1 for a quarter, '' otherwise."""
        if self.period_kind == PeriodKind.MONTH:
            return f"{self.period_start.year}-{self.period_start.month:02d}"
        if self.period_kind == PeriodKind.QUARTER:
            return f"{self.period_start.year}-Q{(self.period_start.month + 2) // 3}"
        return ""


def period_label(period_kind: str, start: datetime.date, end: datetime.date) -> str:
    if period_kind == PeriodKind.MONTH:
        return _("%(year)d-%(month)02d") % {"year": start.year, "month": start.month}
    if period_kind == PeriodKind.QUARTER:
        return _("%(year)d Q%(quarter)d") % {"year": start.year, "quarter": (start.month + 2) // 3}
    if start == end:
        return start.isoformat()
    return f"{start.isoformat()} – {end.isoformat()}"


class GuardedByRecord(models.Model):
    """Lines and attachments change only while their record is not published."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self._refuse_if_published()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self._refuse_if_published()
        return super().delete(*args, **kwargs)

    def _refuse_if_published(self):
        if Record.objects.filter(pk=self.record_id, status=Status.PUBLISHED).exists():
            raise ImmutableRecordError(immutable_message())


class LineItem(GuardedByRecord):
    """One line of an account or a welfare list: exactly one of income and expense is non-zero.

    An ordinary line carries a positive amount. A reversing line (红字冲销) points to the line it
    cancels and carries the same amount negated, in the same column.
    """

    record = models.ForeignKey(
        Record, on_delete=models.PROTECT, related_name="lines", verbose_name=_("record")
    )
    position = models.PositiveIntegerField(_("line"))
    date = models.DateField(_("date"))
    voucher_number = models.CharField(_("voucher number"), max_length=40, blank=True)
    account = models.CharField(_("account (subject)"), max_length=60, blank=True)
    description = models.CharField(_("description"), max_length=200)
    income = models.DecimalField(
        _("income (yuan)"), max_digits=14, decimal_places=2, default=Decimal("0")
    )
    expense = models.DecimalField(
        _("expense (yuan)"), max_digits=14, decimal_places=2, default=Decimal("0")
    )
    counterparty = models.CharField(_("counterparty"), max_length=100, blank=True)
    # Welfare lists only: the person's name, stored ONLY in its masked public form (王*英, see
    # disclosure.privacy.mask_name). The full name is never kept: it would be hashed for good.
    person_name = models.CharField(_("name (partly hidden)"), max_length=40, blank=True)
    reverses = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
        verbose_name=_("reverses line"),
    )
    # Spending on a funded micro-project (微实事) is booked as lines tagged with it; only funded
    # proposals of the record's own council are accepted (checked in services, see linecheck).
    project = models.ForeignKey(
        "budgets.Proposal",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="finance_lines",
        verbose_name=_("micro-project"),
    )

    class Meta:
        verbose_name = _("line item")
        verbose_name_plural = _("line items")
        ordering = ["record", "position"]
        indexes = [models.Index(fields=["project", "record"])]
        constraints = [
            models.UniqueConstraint(fields=["record", "position"], name="unique_line_position"),
            models.CheckConstraint(
                condition=(
                    Q(reverses__isnull=True)
                    & (Q(income__gt=0, expense=0) | Q(income=0, expense__gt=0))
                )
                | (
                    Q(reverses__isnull=False)
                    & (Q(income__lt=0, expense=0) | Q(income=0, expense__lt=0))
                ),
                name="line_exactly_one_amount",
            ),
        ]

    def __str__(self):
        return f"{self.record_id}/{self.position} {self.description}"

    @property
    def amount(self) -> Decimal:
        return self.income - self.expense


class Attachment(GuardedByRecord):
    """A scanned voucher, a PDF or a photo; its SHA-256 is taken at upload and hashed in."""

    record = models.ForeignKey(
        Record, on_delete=models.PROTECT, related_name="attachments", verbose_name=_("record")
    )
    file = models.FileField(_("file"), upload_to=RandomName("disclosure/attachments"))
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=60)
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["record", "pk"]

    def __str__(self):
        return self.original_name

    def get_absolute_url(self) -> str:
        """The file itself, through the permission-checked view (never MEDIA_URL)."""
        return reverse("disclosure:attachment", args=[self.pk])


class Action(models.TextChoices):
    DRAFTED = "drafted", _("drafted")
    SUBMITTED = "submitted", _("submitted for review")
    SIGNED_OFF = "signed_off", _("signed off")
    OBJECTED = "objected", _("objected")
    PUBLISHED = "published", _("published")
    CORRECTED = "corrected", _("corrected by a new record")
    EDITED = "edited", _("edited")
    LINE_ADDED = "line_added", _("added a line")
    LINE_REMOVED = "line_removed", _("removed a line")
    ATTACHED = "attached", _("attached a file")


# Whoever did one of these to a record prepared it, and may not sign it off (docs/permissions.md).
PREPARING_ACTIONS = (
    Action.DRAFTED,
    Action.EDITED,
    Action.LINE_ADDED,
    Action.LINE_REMOVED,
    Action.ATTACHED,
    Action.SUBMITTED,
)


class RecordEvent(models.Model):
    """Append-only history of a record: who did what, when, and why."""

    record = models.ForeignKey(
        Record, on_delete=models.PROTECT, related_name="events", verbose_name=_("record")
    )
    action = models.CharField(_("action"), max_length=12, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("by"),
    )
    # The actor's user id, kept when the account is deleted (then `actor` is NULL): it is what
    # the journal hashes, so who acted cannot be changed afterwards without breaking the journal.
    actor_number = models.PositiveIntegerField(_("actor number"), null=True, blank=True)
    actor_role = models.CharField(_("as"), max_length=20, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    created = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("record event")
        verbose_name_plural = _("record events")
        ordering = ["created", "pk"]

    def __str__(self):
        return f"{self.record_id} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError(_("The history of a record cannot be rewritten."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("The history of a record cannot be rewritten."))


class ChainHead(models.Model):
    """The last entry of a council's chain; its row is the lock that serialises appends."""

    council = models.OneToOneField(
        CouncilPage,
        primary_key=True,
        on_delete=models.PROTECT,
        related_name="chain_head",
        verbose_name=_("council"),
    )
    position = models.PositiveIntegerField(_("length"), default=0)
    entry_hash = models.CharField(_("head hash"), max_length=64, default=GENESIS_HASH)

    class Meta:
        verbose_name = _("chain head")
        verbose_name_plural = _("chain heads")

    def __str__(self):
        return f"{self.council_id}@{self.position}"


class ChainEntry(models.Model):
    """One published record in its council's chain. entry_hash = sha256(previous + content)."""

    council = models.ForeignKey(
        CouncilPage, on_delete=models.PROTECT, related_name="chain", verbose_name=_("council")
    )
    position = models.PositiveIntegerField(_("position"))
    record = models.OneToOneField(
        Record, on_delete=models.PROTECT, related_name="chain_entry", verbose_name=_("record")
    )
    previous_hash = models.CharField(_("previous hash"), max_length=64)
    content_hash = models.CharField(_("content hash"), max_length=64)
    entry_hash = models.CharField(_("entry hash"), max_length=64)
    created = models.DateTimeField(_("appended at"), default=timezone.now)

    class Meta:
        verbose_name = _("chain entry")
        verbose_name_plural = _("chain entries")
        ordering = ["council", "position"]
        constraints = [
            models.UniqueConstraint(fields=["council", "position"], name="unique_chain_position"),
            models.CheckConstraint(condition=Q(position__gte=1), name="chain_position_positive"),
        ]

    def __str__(self):
        return f"{self.council_id}#{self.position}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError(_("A chain entry cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("A chain entry cannot be removed."))


class JournalKind(models.TextChoices):
    EVENT = "event", _("step of a record")
    QUESTION = "question", _("question")
    ANSWER = "answer", _("answer")


class JournalHead(models.Model):
    """The last entry of a council's journal; its row is the lock that serialises appends."""

    council = models.OneToOneField(
        CouncilPage,
        primary_key=True,
        on_delete=models.PROTECT,
        related_name="journal_head",
        verbose_name=_("council"),
    )
    position = models.PositiveIntegerField(_("length"), default=0)
    entry_hash = models.CharField(_("head hash"), max_length=64, default=GENESIS_HASH)

    class Meta:
        verbose_name = _("journal head")
        verbose_name_plural = _("journal heads")

    def __str__(self):
        return f"{self.council_id}@{self.position}"


class JournalEntry(models.Model):
    """The council's second chain: every step of every record (drafted, submitted, signed off,
    objected, published ...), every question and every answer, in the order they happened.

    Linked like the ledger chain (entry_hash = sha256(previous + content)); verify_ledgers
    recomputes each entry from the RecordEvent or Question row it points to.
    """

    council = models.ForeignKey(
        CouncilPage, on_delete=models.PROTECT, related_name="journal", verbose_name=_("council")
    )
    position = models.PositiveIntegerField(_("position"))
    kind = models.CharField(_("kind"), max_length=10, choices=JournalKind.choices)
    event = models.OneToOneField(
        RecordEvent,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="journal_entry",
        verbose_name=_("record event"),
    )
    question = models.ForeignKey(
        "Question",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="journal_entries",
        verbose_name=_("question"),
    )
    previous_hash = models.CharField(_("previous hash"), max_length=64)
    content_hash = models.CharField(_("content hash"), max_length=64)
    entry_hash = models.CharField(_("entry hash"), max_length=64)
    created = models.DateTimeField(_("appended at"), default=timezone.now)

    class Meta:
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal entries")
        ordering = ["council", "position"]
        constraints = [
            models.UniqueConstraint(fields=["council", "position"], name="unique_journal_position"),
            models.UniqueConstraint(
                fields=["question", "kind"],
                condition=Q(question__isnull=False),
                name="one_journal_entry_per_question_kind",
            ),
            models.CheckConstraint(condition=Q(position__gte=1), name="journal_position_positive"),
        ]

    def __str__(self):
        return f"{self.council_id}~{self.position}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError(_("A journal entry cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("A journal entry cannot be removed."))


class QuestionQuerySet(models.QuerySet):
    def open(self):
        return self.filter(answered_at__isnull=True)

    def overdue(self, now=None):
        return self.open().filter(due_at__lt=now or timezone.now())


class Question(models.Model):
    """质询: a resident's public question on a published record; the committee must answer."""

    record = models.ForeignKey(
        Record, on_delete=models.PROTECT, related_name="questions", verbose_name=_("record")
    )
    council = models.ForeignKey(
        CouncilPage, on_delete=models.PROTECT, related_name="+", verbose_name=_("council")
    )
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="disclosure_questions",
        verbose_name=_("asked by"),
    )
    text = models.TextField(_("question"), max_length=2000)
    asked_at = models.DateTimeField(_("asked at"), default=timezone.now)
    due_at = models.DateTimeField(_("answer due by"))
    answer = models.TextField(_("answer"), blank=True, max_length=4000)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("answered by"),
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    # When the asker, the committee and the supervisors were told it had no answer by its
    # deadline (services.notify_overdue_questions): once per question, and the sweep never
    # looks at it again.
    overdue_told_at = models.DateTimeField(_("told overdue at"), null=True, blank=True)

    objects = QuestionQuerySet.as_manager()

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["asked_at", "pk"]
        indexes = [
            models.Index(fields=["council", "answered_at", "due_at"]),
            models.Index(
                fields=["due_at"],
                condition=Q(answered_at__isnull=True, overdue_told_at__isnull=True),
                name="question_overdue_untold",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True) | ~Q(answer=""),
                name="question_answer_has_text",
            )
        ]

    def __str__(self):
        return self.text[:40]

    def is_overdue(self, now=None) -> bool:
        now = now or timezone.now()
        if self.answered_at is None:
            return now > self.due_at
        return self.answered_at > self.due_at

    @property
    def answered_late(self) -> bool:
        return self.answered_at is not None and self.answered_at > self.due_at


class Frequency(models.TextChoices):
    MONTHLY = "monthly", _("Every month")
    QUARTERLY = "quarterly", _("Every quarter")


class DisclosureRule(models.Model):
    """A council's own calendar for one kind, where it is stricter than the statutory default.

    Without a row the statutory minimum applies (Organic Law of Villagers' Committees, art. 30:
    at least every quarter). A village with many financial transactions sets finance monthly.
    """

    council = models.ForeignKey(
        CouncilPage,
        on_delete=models.CASCADE,
        related_name="disclosure_rules",
        verbose_name=_("council"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    frequency = models.CharField(_("how often"), max_length=10, choices=Frequency.choices)
    grace_days = models.PositiveSmallIntegerField(
        _("days allowed after the period ends"), default=10
    )

    class Meta:
        verbose_name = _("disclosure calendar rule")
        verbose_name_plural = _("disclosure calendar rules")
        constraints = [
            models.UniqueConstraint(fields=["council", "kind"], name="one_rule_per_council_kind")
        ]

    def __str__(self):
        return f"{self.council_id} {self.kind} {self.frequency}"


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded, waiting to be read")
    PARSING = "parsing", _("Being read")
    READY = "ready", _("Read: no problems, ready to save")
    INVALID = "invalid", _("Read: has problems")
    FAILED = "failed", _("Could not be read")
    SAVED = "saved", _("Saved as a draft")


class ImportBatch(models.Model):
    """An uploaded spreadsheet of income and expense lines, read and previewed before saving.

    The file is kept only until the lines are saved as a draft record (or the batch is dropped);
    what was read is kept here so the preview and the save need not read the file twice.
    """

    council = models.ForeignKey(
        CouncilPage, on_delete=models.CASCADE, related_name="+", verbose_name=_("council")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    record_type = models.CharField(_("type"), max_length=20, choices=RecordType.choices)
    period_kind = models.CharField(_("period"), max_length=10, choices=PeriodKind.choices)
    period_start = models.DateField(_("period starts"))
    period_end = models.DateField(_("period ends"))
    title = models.CharField(_("title"), max_length=200)
    file = models.FileField(
        _("file"),
        upload_to=RandomName("disclosure/imports"),
        storage=private_storage,
        blank=True,
    )
    original_name = models.CharField(_("file name"), max_length=200)
    size = models.PositiveIntegerField(_("size (bytes)"))
    status = models.CharField(
        _("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.UPLOADED
    )
    rows_total = models.PositiveIntegerField(_("rows in the sheet"), null=True, blank=True)
    rows_read = models.PositiveIntegerField(_("rows read"), default=0)
    # The tracked job that reads the file on the task runner (core.tasks): its attempts, its
    # heartbeat and why it failed. None when the file was read in the web request
    # (YISHI_IMPORT_IN_BACKGROUND=False). Reading again may start a new run: the batch follows
    # the newest, and an older one that wakes up finds the batch no longer its own.
    run = models.ForeignKey(
        "core.TaskRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("reading task"),
    )
    # {"columns": [...], "ignored": [...], "lines": [[date, voucher, account, description,
    #  income, expense, counterparty, project], ...], "problems": [{"row", "column", "code",
    #  "params"}, ...], "income": "...", "expense": "..."}
    result = models.JSONField(_("what was read"), default=dict, blank=True)
    record = models.ForeignKey(
        Record,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("saved as"),
    )
    created_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)

    class Meta:
        verbose_name = _("spreadsheet import")
        verbose_name_plural = _("spreadsheet imports")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return self.original_name

    def get_absolute_url(self) -> str:
        return reverse("disclosure:import_batch", args=[self.pk])

    @property
    def file_url(self) -> str:
        return reverse("disclosure:import_file", args=[self.pk]) if self.file else ""

    @property
    def is_ready(self) -> bool:
        """Read without problems: the lines may be saved as a draft."""
        return self.status == ImportStatus.READY

    @property
    def is_finished_reading(self) -> bool:
        return self.status in (ImportStatus.READY, ImportStatus.INVALID, ImportStatus.FAILED)

    @property
    def reading_failed(self) -> bool:
        """Every attempt at reading the file failed (the worker broke or was lost each time):
        the page says so and offers "Try again". A file that was read and found unusable is
        FAILED itself, with its reason, and is not this."""
        return (
            self.status in (ImportStatus.UPLOADED, ImportStatus.PARSING)
            and self.run is not None
            and self.run.status == TaskRunStatus.FAILED
        )

    @property
    def percent_read(self) -> int:
        if not self.rows_total:
            return 0
        return min(100, self.rows_read * 100 // self.rows_total)


class ExportWhat(models.TextChoices):
    LEDGER = "ledger", _("a ledger's lines")
    PERIOD = "period", _("a period's finance lines")
    BUNDLE = "bundle", _("the open-data bundle")


class ExportJob(models.Model):
    """A big export (a ledger's or a period's lines, the open-data bundle) prepared on the task
    runner (docs/finance-tools.md, section 3). One job per export and per state of the council's
    chain (`chain_position`): everything exported is published, so asking again while nothing
    new was published gets the same file, and the number of jobs is bounded by what was
    published, not by who asks. The file lives in the private storage and is served by
    `finance_views.export_file` after the same check as the export itself.
    """

    council = models.ForeignKey(
        CouncilPage, on_delete=models.CASCADE, related_name="+", verbose_name=_("council")
    )
    what = models.CharField(_("what"), max_length=10, choices=ExportWhat.choices)
    kind = models.CharField(_("ledger"), max_length=20, blank=True)
    period = models.CharField(_("period"), max_length=10, blank=True)
    fmt = models.CharField(_("format"), max_length=4)
    chain_position = models.PositiveIntegerField(_("chain entries when asked"))
    run = models.OneToOneField(
        "core.TaskRun", on_delete=models.PROTECT, related_name="+", verbose_name=_("task")
    )
    file = models.FileField(
        _("file"), upload_to=RandomName("disclosure/exports"), storage=private_storage, blank=True
    )
    filename = models.CharField(_("file name"), max_length=120)
    created_at = models.DateTimeField(_("asked at"), default=timezone.now)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        constraints = [
            models.UniqueConstraint(
                fields=["council", "what", "kind", "period", "fmt", "chain_position"],
                name="one_export_per_chain_state",
            )
        ]

    def __str__(self):
        return self.filename

    def get_absolute_url(self) -> str:
        return reverse("disclosure:export_job", args=[self.pk])

    @property
    def file_url(self) -> str:
        return reverse("disclosure:export_file", args=[self.pk]) if self.file else ""
