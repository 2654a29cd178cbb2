"""The three assets (三资) of a village: registers of its assets (资产), resources (资源) and
contracts (合同), which residents can watch; the funds (资金) are the finance ledger (disclosure/).

An entry (`Entry`) is a stable identity with a code (ZC-001, ZY-003, HT-2026-01). What it says
is an `EntryVersion`. A version is drafted by the committee and published through a disclosure
record of its council (a finance "asset register" record for assets and resources, a village
"land contracts" record for contracts): the same review by the supervisory committee, the same
hash chain, the same residents' questions. A version's state is its record's state; there is no
second status to drift. Once its record is published a version never changes: a change is a new
version, published by a record that corrects the earlier one (docs/assets.md).

A disposal (处分: a lease, contracting, a sale, a write-off) above the township's thresholds
needs a resolution of the villagers' representatives' meeting or of the villagers' assembly
(村民委员会组织法 第二十四条) before it takes effect: a carried motion of a closed session of the
village. Without one it is refused; recorded after the fact without one, it is published as
irregular, visibly.

A contract's payment schedule (`Installment`) is matched against receipts booked in the
published finance ledger of its council (`Receipt`, one row per ledger line, see payments.py);
late and missing payments are flagged on the contract and on the township's dashboard.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from councils.models import CouncilPage


class Register(models.TextChoices):
    ASSET = "asset", _("Assets")
    RESOURCE = "resource", _("Resources")
    CONTRACT = "contract", _("Contracts")


# The prefix of the codes the committee is offered (资产 ZC, 资源 ZY, 合同 HT).
CODE_PREFIX = {Register.ASSET: "ZC", Register.RESOURCE: "ZY", Register.CONTRACT: "HT"}


class AssetCategory(models.TextChoices):
    BUILDING = "building", _("Building")
    EQUIPMENT = "equipment", _("Equipment and facilities")
    VEHICLE = "vehicle", _("Vehicle")
    OTHER_ASSET = "other_asset", _("Other asset")


class ResourceCategory(models.TextChoices):
    LAND = "land", _("Farmland and other land")
    POND = "pond", _("Pond and water surface")
    FOREST = "forest", _("Forest and orchard")
    OTHER_RESOURCE = "other_resource", _("Other resource")


CATEGORIES = {
    Register.ASSET: AssetCategory,
    Register.RESOURCE: ResourceCategory,
}


class ContractKind(models.TextChoices):
    LEASE = "lease", _("Lease (租赁)")
    CONTRACTING = "contracting", _("Contracting (承包)")


class Disposal(models.TextChoices):
    """What a version does to the collective's property; `NONE` for a plain register entry."""

    NONE = "", _("No disposal")
    LEASE = "lease", _("Lease")
    CONTRACTING = "contracting", _("Contracting")
    SALE = "sale", _("Sale")
    WRITE_OFF = "write_off", _("Write-off")


class CounterpartyKind(models.TextChoices):
    PERSON = "person", _("A person")
    ORGANISATION = "organisation", _("A company, cooperative or other organisation")


class Entry(models.Model):
    """One thing on a register: a building, a pond, a lease. Its versions say what it is."""

    council = models.ForeignKey(
        CouncilPage, on_delete=models.PROTECT, related_name="+", verbose_name=_("village")
    )
    register = models.CharField(
        pgettext_lazy("asset register", "register"), max_length=10, choices=Register.choices
    )
    code = models.CharField(pgettext_lazy("register entry", "code"), max_length=30)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("register entry")
        verbose_name_plural = _("register entries")
        ordering = ["council", "register", "code"]
        constraints = [
            models.UniqueConstraint(fields=["council", "code"], name="unique_entry_code"),
        ]

    def __str__(self):
        return self.code

    def get_absolute_url(self) -> str:
        return reverse("assets:entry", args=[self.pk])


class EntryVersion(models.Model):
    """What an entry says, as published by one disclosure record; never changed once published."""

    entry = models.ForeignKey(
        Entry, on_delete=models.PROTECT, related_name="versions", verbose_name=_("entry")
    )
    number = models.PositiveIntegerField(_("version"))
    # The disclosure record that publishes this version (its body is the version's canonical
    # text, see assets.canonical). Its status is this version's status.
    record = models.OneToOneField(
        "disclosure.Record",
        on_delete=models.PROTECT,
        related_name="register_version",
        verbose_name=_("disclosure record"),
    )
    name = models.CharField(pgettext_lazy("register entry", "name"), max_length=100)
    category = models.CharField(_("category"), max_length=20, blank=True)
    location = models.CharField(_("location"), max_length=200, blank=True)
    description = models.TextField(pgettext_lazy("register entry", "description"), blank=True)
    # Assets
    book_value = models.DecimalField(
        _("book value (yuan)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    # Resources
    area = models.DecimalField(
        _("area (mu)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    boundaries = models.TextField(_("boundaries (east, south, west, north)"), blank=True)
    map_reference = models.CharField(_("map reference"), max_length=200, blank=True)
    # Contracts
    subject = models.ForeignKey(
        Entry,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contract_versions",
        verbose_name=_("asset or resource"),
    )
    contract_kind = models.CharField(
        _("kind of contract"), max_length=12, choices=ContractKind.choices, blank=True
    )
    counterparty_kind = models.CharField(
        _("counterparty is"), max_length=12, choices=CounterpartyKind.choices, blank=True
    )
    # A person's name is kept ONLY masked (王*英), as on welfare lists: it is published and
    # hashed for good. An organisation's name is kept whole.
    counterparty = models.CharField(
        pgettext_lazy("contract", "counterparty"), max_length=100, blank=True
    )
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    price = models.DecimalField(
        _("total price (yuan)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    # Disposals: a contract is a lease or contracting of its subject; an asset's or resource's
    # version may record its sale or write-off.
    disposal = models.CharField(
        _("disposal"), max_length=12, choices=Disposal.choices, blank=True, default=""
    )
    disposal_value = models.DecimalField(
        _("value of the disposal (yuan)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    disposed_on = models.DateField(_("takes effect on"), null=True, blank=True)
    resolution = models.ForeignKey(
        "meetings.Motion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="register_versions",
        verbose_name=_("resolution"),
    )
    # Recorded after the fact without the resolution the thresholds required: published, and
    # shown as irregular on every page that shows it.
    irregular = models.BooleanField(_("irregular"), default=False)
    irregular_reason = models.TextField(_("why it is irregular"), blank=True)
    change_reason = models.TextField(_("what changed"), blank=True)
    created_by = models.ForeignKey(
        "core.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(_("drafted at"), auto_now_add=True)

    class Meta:
        verbose_name = _("register entry version")
        verbose_name_plural = _("register entry versions")
        ordering = ["entry", "number"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "number"], name="unique_entry_version"),
            models.CheckConstraint(condition=Q(number__gte=1), name="entry_version_positive"),
            models.CheckConstraint(
                condition=Q(book_value__isnull=True) | Q(book_value__gte=0),
                name="entry_book_value_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(price__isnull=True) | Q(price__gte=0),
                name="entry_price_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(starts_on__isnull=True)
                | Q(ends_on__isnull=True)
                | Q(ends_on__gte=models.F("starts_on")),
                name="entry_term_order",
            ),
        ]

    def __str__(self):
        return f"{self.entry.code} v{self.number}"

    # Like disclosure.Record: whatever path a change takes through the ORM, a published version
    # is never overwritten or deleted (assets.services.verify_registers catches raw SQL).
    def save(self, *args, **kwargs):
        if self.pk is not None and _published(self.pk):
            raise ValidationError(_("A published register entry cannot be changed."))
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("assets:version", args=[self.pk])

    def delete(self, *args, **kwargs):
        if self.pk is not None and _published(self.pk):
            raise ValidationError(_("A published register entry cannot be removed."))
        return super().delete(*args, **kwargs)

    @property
    def council(self) -> CouncilPage:
        return self.entry.council

    @property
    def is_published(self) -> bool:
        return self.record.is_published


def _published(version_pk: int) -> bool:
    return EntryVersion.objects.filter(pk=version_pk, record__status="published").exists()


class Installment(models.Model):
    """One payment due on a contract's schedule (a version's; a new version brings its own)."""

    version = models.ForeignKey(
        EntryVersion,
        on_delete=models.CASCADE,
        related_name="installments",
        verbose_name=_("contract version"),
    )
    due_on = models.DateField(_("due on"))
    amount = models.DecimalField(_("amount (yuan)"), max_digits=14, decimal_places=2)

    class Meta:
        verbose_name = _("payment due")
        verbose_name_plural = _("payments due")
        ordering = ["version", "due_on", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="installment_amount_positive"),
        ]

    def __str__(self):
        return f"{self.due_on} {self.amount}"

    def save(self, *args, **kwargs):
        if _published(self.version_id):
            raise ValidationError(_("A published register entry cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if _published(self.version_id):
            raise ValidationError(_("A published register entry cannot be removed."))
        return super().delete(*args, **kwargs)


class Receipt(models.Model):
    """A line of the published finance ledger that pays a contract: income booked with the
    contract's code in its voucher number, account or description (assets.payments)."""

    contract = models.ForeignKey(
        Entry, on_delete=models.PROTECT, related_name="receipts", verbose_name=_("contract")
    )
    line = models.OneToOneField(
        "disclosure.LineItem",
        on_delete=models.PROTECT,
        related_name="contract_receipt",
        verbose_name=_("ledger line"),
    )
    matched = models.DateTimeField(_("matched at"), auto_now_add=True)

    class Meta:
        verbose_name = _("contract receipt")
        verbose_name_plural = _("contract receipts")
        ordering = ["contract", "line"]

    def __str__(self):
        return f"{self.contract.code} <- {self.line_id}"


class Threshold(models.Model):
    """Set by a township: above these, a disposal needs a villagers' (representatives') resolution.

    Without a row the default holds: every disposal needs one (art. 24 lists them without amounts;
    thresholds are the township's rule for small, routine ones)."""

    township = models.OneToOneField(
        CouncilPage,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("township"),
    )
    lease_amount = models.DecimalField(
        _("leases and contracting above (yuan, total price)"),
        max_digits=14,
        decimal_places=2,
        default=Decimal("0"),
    )
    lease_years = models.PositiveSmallIntegerField(_("or longer than (years)"), default=0)
    sale_amount = models.DecimalField(
        _("sales above (yuan)"), max_digits=14, decimal_places=2, default=Decimal("0")
    )
    write_off_amount = models.DecimalField(
        _("write-offs above (yuan, book value)"),
        max_digits=14,
        decimal_places=2,
        default=Decimal("0"),
    )
    # Days after its due date a payment may arrive before it is flagged late.
    grace_days = models.PositiveSmallIntegerField(_("days of grace for payments"), default=15)
    updated = models.DateTimeField(_("last changed"), auto_now=True)
    updated_by = models.ForeignKey(
        "core.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("disposal thresholds")
        verbose_name_plural = _("disposal thresholds")
        constraints = [
            models.CheckConstraint(
                condition=Q(lease_amount__gte=0)
                & Q(sale_amount__gte=0)
                & Q(write_off_amount__gte=0),
                name="thresholds_not_negative",
            ),
        ]

    def __str__(self):
        return str(self.township_id)


# --- payments (assets.payments): what the sweep found, stored for the pages to read --------------


class PaymentStatus(models.TextChoices):
    """Where one payment due stands on a day (assets.payments.installment_status)."""

    PAID = "paid", _("Paid on time")
    PAID_LATE = "paid_late", _("Paid late")
    PARTLY_PAID = "partly_paid", _("Partly paid")
    OVERDUE = "overdue", _("Overdue")
    DUE_SOON = "due_soon", _("Due soon")
    NOT_DUE = "not_due", _("Not yet due")


class InstallmentState(models.Model):
    """Where a payment due of the current schedule stands, as the last sweep found it."""

    installment = models.OneToOneField(
        Installment, on_delete=models.CASCADE, related_name="state", verbose_name=_("payment due")
    )
    status = models.CharField(_("status"), max_length=12, choices=PaymentStatus.choices)
    paid = models.DecimalField(
        _("paid (yuan)"), max_digits=14, decimal_places=2, default=Decimal("0")
    )
    # The day of the receipt that completed it (paid in full), else null.
    paid_on = models.DateField(_("paid in full on"), null=True, blank=True)
    # Paid late: days from the due date to paid_on; overdue: days from the due date to as_of.
    days_late = models.PositiveIntegerField(_("days late"), default=0)
    as_of = models.DateField(_("as of"))

    class Meta:
        verbose_name = _("payment due, state")
        verbose_name_plural = _("payments due, states")
        constraints = [
            models.CheckConstraint(condition=Q(paid__gte=0), name="installment_paid_not_negative"),
        ]

    def __str__(self):
        return f"{self.installment_id} {self.status}"

    @property
    def missing(self) -> Decimal:
        return max(self.installment.amount - self.paid, Decimal("0"))


class ContractState(models.Model):
    """A contract's payments as the last sweep found them: what the contract page's flags and
    the township's dashboard read (never the ledger's lines, per request)."""

    contract = models.OneToOneField(
        Entry, on_delete=models.CASCADE, related_name="payment_state", verbose_name=_("contract")
    )
    # The village (the contract's council), kept here so the dashboard reads one table.
    council = models.ForeignKey(
        CouncilPage, on_delete=models.CASCADE, related_name="+", verbose_name=_("village")
    )
    version = models.ForeignKey(
        EntryVersion,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("schedule of version"),
    )
    as_of = models.DateField(_("as of"))
    grace_days = models.PositiveSmallIntegerField(_("days of grace for payments"))
    scheduled = models.DecimalField(
        _("total of the schedule (yuan)"), max_digits=14, decimal_places=2, default=Decimal("0")
    )
    due = models.DecimalField(
        _("due so far (yuan)"), max_digits=14, decimal_places=2, default=Decimal("0")
    )
    # Net of reversals: may be below zero only if the ledger reverses more than it booked.
    paid = models.DecimalField(
        _("paid (yuan)"), max_digits=14, decimal_places=2, default=Decimal("0")
    )
    overdue_count = models.PositiveIntegerField(_("payments overdue"), default=0)
    overdue_amount = models.DecimalField(
        _("missing (yuan)"), max_digits=14, decimal_places=2, default=Decimal("0")
    )
    late_count = models.PositiveIntegerField(_("payments made late"), default=0)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("contract payments, state")
        verbose_name_plural = _("contract payments, states")
        indexes = [models.Index(fields=["council", "overdue_count", "late_count"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(overdue_amount__gte=0) & Q(due__gte=0) & Q(scheduled__gte=0),
                name="contract_state_amounts_not_negative",
            ),
        ]

    def __str__(self):
        return f"{self.contract_id} {self.as_of}"

    @property
    def flagged(self) -> bool:
        return bool(self.overdue_count or self.late_count)


class RegisterImport(models.Model):
    """An uploaded register spreadsheet kept between its preview and its save (assets.excel).

    Only a file whose every row passed every check is kept, as the rows read from it (persons'
    names already masked), never as the file: a file with any bad row is shown with its problems
    and dropped, so an ID number typed into a cell is never stored anywhere. Saving drafts every
    row at once and empties `rows`.
    """

    council = models.ForeignKey(
        CouncilPage, on_delete=models.PROTECT, related_name="+", verbose_name=_("village")
    )
    register = models.CharField(
        pgettext_lazy("asset register", "register"), max_length=10, choices=Register.choices
    )
    original_name = models.CharField(_("file name"), max_length=200, blank=True)
    rows = models.JSONField(_("rows read"), default=list, blank=True)
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    created_by = models.ForeignKey(
        "core.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    saved = models.DateTimeField(_("saved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("register import")
        verbose_name_plural = _("register imports")
        ordering = ["-created"]

    def __str__(self):
        return f"{self.original_name} ({self.register})"

    def get_absolute_url(self) -> str:
        return reverse("assets:import_preview", args=[self.pk])
