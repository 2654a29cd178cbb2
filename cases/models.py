"""Cases: grid reports, residents' demands, disputes and visit findings, tracked to closure.

A case (事件/诉求/纠纷) happens in a council (a grid or a village) and is handled by a unit: the
grid, the village, the township, or a department (部门) that a township whistled in (吹哨报到).
Its life is a chain of append-only events (CaseEvent): reported, accepted, in hand, resolved,
confirmed by the reporter, closed (销号); dissatisfaction reopens it, an overdue step escalates
it one council up the tree. The `Case` row holds the present state derived from those events,
changed only by cases.services under a row lock.

Levels and deadlines are data (LevelRule, per township); figures are precomputed per council and
month (CaseFigure, CaseCloseTime) by cases.figures, never computed per request over raw cases.
docs/cases.md explains the levels, deadlines, roles and figures.
"""

import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.models import AppendOnlyModel
from core.uploads import RandomName, private_storage


class Whistle(models.TextChoices):
    """The grid worker's sorting of an event by how hard it is (湛江: 常规哨/重点哨/疑难哨)."""

    ROUTINE = "routine", _("Routine whistle")
    PRIORITY = "priority", _("Priority whistle")
    DIFFICULT = "difficult", _("Difficult whistle")


class Source(models.TextChoices):
    GRID_REPORT = "grid_report", _("Grid worker's report")
    DEMAND = "demand", _("Resident's demand")
    DISPUTE = "dispute", _("Dispute")
    VISIT = "visit", _("Household visit finding")
    TOPIC = "topic", _("Hall topic escalated")


class Category(models.TextChoices):
    ROADS = "roads", _("Roads, lamps and public facilities")
    SANITATION = "sanitation", _("Sanitation and environment")
    SAFETY = "safety", _("Safety hazard")
    ORDER = "order", _("Public order")
    NEIGHBOURS = "neighbours", _("Neighbours and family")
    LAND = "land", _("Land, housing and homesteads")
    WELFARE = "welfare", _("Welfare and services")
    WAGES = "wages", _("Wages and labour")
    OTHER = "other", _("Other")


# Matters about shared places: a case of one of these may be shown on the public page, without
# names, when it is not a dispute or a visit finding and its reporter did not mark it private.
PUBLIC_CATEGORIES = frozenset({Category.ROADS, Category.SANITATION, Category.SAFETY})
# Never public, whatever the category: they are about named people.
PERSONAL_SOURCES = frozenset({Source.DISPUTE, Source.VISIT})


class Tier(models.TextChoices):
    """Where a level of case is handled (小事不出村、大事不出乡)."""

    GRID = "grid", _("in the grid")
    VILLAGE = "village", _("in the village")
    TOWNSHIP = "township", _("by the township")


class Status(models.TextChoices):
    REPORTED = "reported", pgettext_lazy("case status", "Reported")
    ACCEPTED = "accepted", _("Accepted")
    IN_HAND = "in_hand", _("In hand")
    RESOLVED = "resolved", _("Resolved, waiting for the reporter")
    CLOSED = "closed", pgettext_lazy("case status", "Closed")


OPEN_STATUSES = (Status.REPORTED, Status.ACCEPTED, Status.IN_HAND, Status.RESOLVED)


class DepartmentKind(models.TextChoices):
    POLICE = "police", _("Police station")
    JUSTICE = "justice", _("Justice office")
    URBAN = "urban", _("Urban management")
    CIVIL = "civil", _("Civil affairs")
    LAND = "land", _("Natural resources")
    ENVIRONMENT = "environment", _("Ecology and environment")
    HOUSING = "housing", _("Housing and construction")
    LABOUR = "labour", _("Human resources and social security")
    HEALTH = "health", _("Health")
    OTHER = "other", _("Other")


class Department(models.Model):
    """A handling unit (部门) registered under a township, district or city."""

    council = models.ForeignKey(
        "councils.CouncilPage",
        on_delete=models.CASCADE,
        related_name="departments",
        verbose_name=_("registered under"),
    )
    name = models.CharField(pgettext_lazy("case", "name"), max_length=80)
    kind = models.CharField(_("kind"), max_length=16, choices=DepartmentKind.choices)
    active = models.BooleanField(_("active"), default=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="DepartmentMember",
        related_name="departments",
        verbose_name=_("members"),
    )

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["council_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["council", "name"], name="cases_department_unique_name")
        ]

    def __str__(self):
        return self.name


class DepartmentMember(models.Model):
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="department_memberships"
    )
    added_at = models.DateTimeField(_("added at"), default=timezone.now)

    class Meta:
        verbose_name = _("department member")
        verbose_name_plural = _("department members")
        constraints = [
            models.UniqueConstraint(fields=["department", "user"], name="cases_department_member")
        ]

    def __str__(self):
        return f"{self.department_id}:{self.user_id}"


class LevelRule(models.Model):
    """What a township decides for one whistle level: where such a case is handled, whether the
    township is told, and the deadlines to accept and to resolve it."""

    township = models.ForeignKey(
        "councils.CouncilPage",
        on_delete=models.CASCADE,
        related_name="case_level_rules",
        verbose_name=_("township"),
    )
    level = models.CharField(_("whistle level"), max_length=16, choices=Whistle.choices)
    tier = models.CharField(_("handled"), max_length=16, choices=Tier.choices)
    inform_township = models.BooleanField(_("township informed"), default=False)
    accept_hours = models.PositiveIntegerField(
        _("hours to accept"), validators=[MinValueValidator(1), MaxValueValidator(24 * 30)]
    )
    resolve_days = models.PositiveIntegerField(
        _("days to resolve"), validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    changed_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("level rule")
        verbose_name_plural = _("level rules")
        constraints = [
            models.UniqueConstraint(fields=["township", "level"], name="cases_level_rule_unique")
        ]

    def __str__(self):
        return f"{self.township_id}:{self.level}"


class CaseQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATUSES)

    def public(self):
        return self.filter(public=True)

    def in_subtree(self, council):
        """Cases that happened in `council` or any council under it."""
        return self.filter(council_path__startswith=council.path)


class Case(models.Model):
    """One matter, from the report to closure. Changed only by cases.services."""

    council = models.ForeignKey(
        "councils.CouncilPage",
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("where"),
    )
    # The council's tree path, so a district's cases are one indexed prefix scan.
    council_path = models.CharField(max_length=255, db_index=True, editable=False)
    township = models.ForeignKey(
        "councils.CouncilPage",
        on_delete=models.PROTECT,
        related_name="township_cases",
        verbose_name=_("township"),
    )
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    category = models.CharField(_("category"), max_length=16, choices=Category.choices)
    level = models.CharField(_("whistle level"), max_length=16, choices=Whistle.choices)
    title = models.CharField(_("title"), max_length=80)
    description = models.TextField(_("what happened"), max_length=2000)
    place = models.CharField(_("place"), max_length=120, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    public = models.BooleanField(
        _("shown on the public page"),
        default=False,
        help_text=_("Only matters about shared places, never disputes or family matters."),
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="reported_cases",
        verbose_name=_("reported by"),
    )
    # Who handles it now: a council (grid, village, township, district, city) and, once a
    # township whistled one in, a department.
    handler_council = models.ForeignKey(
        "councils.CouncilPage",
        on_delete=models.PROTECT,
        related_name="handled_cases",
        verbose_name=_("handled by"),
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("department"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.REPORTED
    )
    reported_at = models.DateTimeField(_("reported at"), default=timezone.now, db_index=True)
    accept_due = models.DateTimeField(_("accept by"))
    resolve_due = models.DateTimeField(_("resolve by"))
    # The resolve deadline given at the report: on time means resolved by then, whatever
    # whistles, escalations or reopenings moved the working deadline since.
    promised_by = models.DateTimeField(_("promised by"))
    accepted_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Resolved (the last time, after any reopening) by promised_by.
    on_time = models.BooleanField(null=True)
    satisfaction = models.PositiveSmallIntegerField(
        null=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    reopened = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    escalations = models.PositiveSmallIntegerField(_("times escalated"), default=0)
    # Where it came from, when not typed in directly.
    topic = models.ForeignKey(
        "deliberation.Topic",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cases",
    )
    visit = models.ForeignKey(
        "cases.Visit", on_delete=models.SET_NULL, null=True, blank=True, related_name="findings"
    )
    # Bumped on every event: the board and the figures know what moved.
    changed_at = models.DateTimeField(default=timezone.now)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-reported_at", "-pk"]
        indexes = [
            # The boards: open cases by township, with every column their counts read.
            models.Index(
                fields=["township", "level", "status", "reported_at", "accept_due", "resolve_due"],
                name="cases_open_by_township",
                condition=~Q(status="closed"),
            ),
            models.Index(fields=["handler_council", "status"], name="cases_by_handler"),
            models.Index(fields=["department", "status"], name="cases_by_department"),
            models.Index(fields=["council_path", "reported_at"], name="cases_subtree_time"),
            models.Index(fields=["changed_at"], name="cases_changed"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(satisfaction__isnull=True)
                | Q(satisfaction__gte=1, satisfaction__lte=5),
                name="cases_satisfaction_1_to_5",
            ),
            models.CheckConstraint(
                condition=~Q(source__in=sorted(PERSONAL_SOURCES)) | Q(public=False),
                name="cases_personal_never_public",
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status != Status.CLOSED

    def due(self) -> datetime.datetime | None:
        """The deadline of the step the case waits for now."""
        if self.status == Status.REPORTED:
            return self.accept_due
        if self.status in (Status.ACCEPTED, Status.IN_HAND):
            return self.resolve_due
        return None

    def is_overdue(self, now: datetime.datetime | None = None) -> bool:
        due = self.due()
        return due is not None and (now or timezone.now()) > due

    @property
    def is_personal(self) -> bool:
        return not self.public


class CaseParty(models.Model):
    """A named party to a dispute (当事人). A party with an account sees the case."""

    class Side(models.TextChoices):
        APPLICANT = "applicant", _("Applicant")
        RESPONDENT = "respondent", _("Respondent")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="parties")
    side = models.CharField(_("side"), max_length=16, choices=Side.choices)
    name = models.CharField(_("name"), max_length=40)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="case_parties",
    )

    class Meta:
        verbose_name = _("party")
        verbose_name_plural = _("parties")
        constraints = [
            models.UniqueConstraint(
                fields=["case", "user"],
                condition=Q(user__isnull=False),
                name="cases_party_once",
            )
        ]

    def __str__(self):
        return self.name


class EventKind(models.TextChoices):
    REPORTED = "reported", pgettext_lazy("case event", "Reported")
    ACCEPTED = "accepted", pgettext_lazy("case event", "Accepted")
    STARTED = "started", pgettext_lazy("case event", "In hand")
    WHISTLED = "whistled", pgettext_lazy("case event", "Whistled to a department")
    TRANSFERRED = "transferred", pgettext_lazy("case event", "Passed to another department")
    ESCALATED = "escalated", pgettext_lazy("case event", "Escalated, overdue")
    RESOLVED = "resolved", pgettext_lazy("case event", "Resolved")
    CONFIRMED = "confirmed", pgettext_lazy("case event", "Confirmed by the reporter")
    REOPENED = "reopened", pgettext_lazy("case event", "Reopened, reporter not satisfied")
    CLOSED = "closed", pgettext_lazy("case event", "Closed")
    NOTE = "note", pgettext_lazy("case event", "Note")
    MEDIATOR = "mediator", pgettext_lazy("case event", "Mediator named")
    MEDIATION = "mediation", pgettext_lazy("case event", "Mediation session")
    AGREEMENT = "agreement", pgettext_lazy("case event", "Mediation agreement")
    FOLLOW_UP = "follow_up", pgettext_lazy("case event", "Follow-up visit")


class CaseEvent(AppendOnlyModel):
    """One step of a case, with who and when. Never changed: the case's history."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("step"), max_length=16, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty for what the system did (an overdue escalation)."),
    )
    at = models.DateTimeField(default=timezone.now)
    text = models.TextField(blank=True, max_length=4000)
    # The handler after this step (for whistle, transfer, escalation).
    handler_council = models.ForeignKey(
        "councils.CouncilPage", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    satisfaction = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["case", "at"], name="cases_event_case_at")]


class CasePhoto(models.Model):
    """A photo of the report or of the outcome, kept on the private storage and served only to
    those who may see the case."""

    event = models.ForeignKey(CaseEvent, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(_("photo"), upload_to=RandomName("cases"), storage=private_storage)

    class Meta:
        verbose_name = _("case photo")
        verbose_name_plural = _("case photos")

    def __str__(self):
        return self.image.name


class Mediation(models.Model):
    """The mediation of a dispute (人民调解): the mediator, the agreement, the follow-up."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="mediation")
    mediator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="mediations",
        verbose_name=_("mediator"),
    )
    # The council the mediator comes from, for example the council of rural worthies.
    mediator_council = models.ForeignKey(
        "councils.CouncilPage",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("mediator's council"),
    )
    agreement = models.TextField(_("mediation agreement"), blank=True, max_length=8000)
    agreed_at = models.DateTimeField(_("agreed at"), null=True, blank=True)
    follow_up_on = models.DateField(_("follow up on"), null=True, blank=True)
    followed_up_at = models.DateTimeField(_("followed up at"), null=True, blank=True)

    class Meta:
        verbose_name = _("mediation")
        verbose_name_plural = _("mediations")

    def __str__(self):
        return f"mediation of case {self.case_id}"


class Visit(models.Model):
    """A household visit (走访), or a night visit (平安夜访), logged by a cadre or grid worker."""

    council = models.ForeignKey(
        "councils.CouncilPage", on_delete=models.PROTECT, related_name="visits"
    )
    visitor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="visits"
    )
    visited_on = models.DateField(_("date"), default=datetime.date.today)
    night = models.BooleanField(_("night visit"), default=False)
    households = models.PositiveIntegerField(
        _("households visited"), validators=[MinValueValidator(1)]
    )
    notes = models.TextField(_("what was heard"), blank=True, max_length=4000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("household visit")
        verbose_name_plural = _("household visits")
        ordering = ["-visited_on", "-pk"]

    def __str__(self):
        return f"{self.visited_on} ({self.households})"


class WeeklySummary(models.Model):
    """一周一结: a grid's or village's week, built on Monday from the cases, noted and signed by
    its grid worker (or the committee), then archived: a signed summary is never changed."""

    council = models.ForeignKey(
        "councils.CouncilPage", on_delete=models.CASCADE, related_name="weekly_summaries"
    )
    week_start = models.DateField(_("week from"))  # a Monday
    figures = models.JSONField(_("figures"), default=dict)
    note = models.TextField(_("grid worker's note"), blank=True, max_length=4000)
    built_at = models.DateTimeField(default=timezone.now)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("signed by"),
    )
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("weekly summary")
        verbose_name_plural = _("weekly summaries")
        ordering = ["-week_start", "council_id"]
        constraints = [
            models.UniqueConstraint(fields=["council", "week_start"], name="cases_summary_week")
        ]

    def __str__(self):
        return f"{self.council_id} {self.week_start}"

    @property
    def signed(self) -> bool:
        return self.signed_at is not None


class FigureCounts(models.Model):
    """The counts of one council, one month (by report date), one level and one category."""

    council = models.ForeignKey("councils.CouncilPage", on_delete=models.CASCADE, related_name="+")
    council_path = models.CharField(max_length=255)
    month = models.DateField()  # the first of the month
    level = models.CharField(max_length=16, choices=Whistle.choices)
    category = models.CharField(max_length=16, choices=Category.choices)
    reported = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)
    closed_on_time = models.PositiveIntegerField(default=0)
    reopened = models.PositiveIntegerField(default=0)  # cases reopened at least once
    rated = models.PositiveIntegerField(default=0)
    satisfaction_sum = models.PositiveIntegerField(default=0)
    overdue_open = models.PositiveIntegerField(default=0)  # open and past due when built
    built_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.council_id} {self.month} {self.level} {self.category}"


class CloseTimeCounts(models.Model):
    """How many cases of one council, month, level and category closed within `hours` hours
    (whole hours, rounded up; by the day after two days): the median is read from these."""

    council = models.ForeignKey("councils.CouncilPage", on_delete=models.CASCADE, related_name="+")
    council_path = models.CharField(max_length=255)
    month = models.DateField()
    level = models.CharField(max_length=16, choices=Whistle.choices)
    category = models.CharField(max_length=16, choices=Category.choices)
    hours = models.PositiveIntegerField()
    count = models.PositiveIntegerField()

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.council_id} {self.month} {self.hours}h"


class CaseFigure(FigureCounts):
    """The counts of the cases that happened in one grid or village. Rebuilt by
    cases.figures; summed over a village's subtree by prefix."""

    township = models.ForeignKey(
        "councils.CouncilPage", on_delete=models.CASCADE, related_name="+", null=True
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["council", "month", "level", "category"], name="cases_figure_unique"
            )
        ]
        indexes = [
            models.Index(fields=["council_path", "month"], name="cases_figure_subtree"),
            models.Index(fields=["township", "month"], name="cases_figure_township"),
        ]


class CaseCloseTime(CloseTimeCounts):
    township = models.ForeignKey(
        "councils.CouncilPage", on_delete=models.CASCADE, related_name="+", null=True
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["council", "month", "level", "category", "hours"],
                name="cases_close_time_unique",
            )
        ]
        indexes = [
            models.Index(fields=["council_path", "month"], name="cases_close_subtree"),
            models.Index(fields=["township", "month"], name="cases_close_township"),
        ]


class TownshipFigure(FigureCounts):
    """A township's whole subtree in one row per month, level and category: the sum of its
    CaseFigure rows, rebuilt with them. A district or a city sums its townships' rows (a few
    thousand), not its villages' (hundreds of thousands at city scale)."""

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["council", "month", "level", "category"], name="cases_township_figure"
            )
        ]
        indexes = [models.Index(fields=["council_path", "month"], name="cases_tfigure_subtree")]


class TownshipCloseTime(CloseTimeCounts):
    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["council", "month", "level", "category", "hours"],
                name="cases_township_close_time",
            )
        ]
        indexes = [models.Index(fields=["council_path", "month"], name="cases_tclose_subtree")]
