"""Governance figures: metrics computed from Yishi's own records, and indexes built on them.

A metric (governance.metrics.METRICS) is a figure of one council and everything under it over one
month or one quarter: the share of records published on time, of questions answered on time, of
sessions that reached quorum, turnout in budgets, closure of cases ... `MetricValue` keeps it as
computed by the recompute task (governance.figures), with its numerator and denominator, so a
rolled-up figure is a sum of counts and never an average of percentages. Pages and the API read
these rows; nothing computes a figure per request over raw records.

An index (强基善治指数, docs/governance.md) is data: a township or a district defines dimensions
and weighted indicators; each indicator reads a metric or a figure that an official enters with
its evidence. An index has versions: a published version never changes, scores keep the version
they were computed with, and a change is a new version.
"""

import operator
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.uploads import RandomName, private_storage


class PeriodKind(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")


class MetricValue(models.Model):
    """One metric of one council (the council and everything under it) over one period."""

    council = models.ForeignKey(
        "councils.CouncilPage",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("council"),
    )
    # Copied from the council so that a subtree or one level of it is read by index alone.
    council_path = models.CharField(max_length=255, db_index=False)
    council_level = models.CharField(max_length=16)
    period_kind = models.CharField(_("period"), max_length=8, choices=PeriodKind.choices)
    period_start = models.DateField(_("period starts"))
    metric = models.CharField(_("metric"), max_length=40)
    # The counts behind the figure: on time / due, reached quorum / held, ballots / eligible ...
    # For a median, `numerator` is unused and `denominator` is how many it is the median of.
    numerator = models.BigIntegerField(default=0)
    denominator = models.BigIntegerField(default=0)
    # The figure as shown: a percentage, a mean rating, a median in hours, a count. None when
    # there is nothing to divide by (no record was due: no figure, not 0% and not 100%).
    value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    # For a median: {hours bucket: how many} (cases.figures.CloseBucket), so that figures
    # summed over councils or months take the median of the summed histogram, never a
    # median of medians. Empty for the other units.
    histogram = models.JSONField(default=dict, blank=True)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("metric value")
        verbose_name_plural = _("metric values")
        constraints = [
            models.UniqueConstraint(
                fields=["council", "period_kind", "period_start", "metric"],
                name="governance_metric_value_unique",
            )
        ]
        indexes = [
            models.Index(
                fields=["metric", "period_kind", "period_start", "council_level", "council_path"],
                name="governance_metric_level",
            ),
            models.Index(
                fields=["council", "period_kind", "period_start"], name="governance_metric_council"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.council_id} {self.period_start}: {self.value}"


class Index(models.Model):
    """An index a township or district measures its villages with (e.g. 强基善治指数)."""

    owner = models.ForeignKey(
        "councils.CouncilPage",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("defined by"),
    )
    name = models.CharField(pgettext_lazy("index", "name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    # The template it was made from ("ruian" for the default), for the docs' mapping.
    template = models.CharField(max_length=40, blank=True)
    created = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )

    class Meta:
        verbose_name = _("index")
        verbose_name_plural = _("indexes")
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="governance_index_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("In use")
    RETIRED = "retired", _("Replaced")


class IndexVersion(models.Model):
    """One version of an index: its dimensions, indicators, weights and star thresholds.
    A draft may be edited; once published it never changes (a change is a new version), and
    the scores computed with it keep pointing at it."""

    index = models.ForeignKey(Index, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=10, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    # Minimum scores (0-100) for one to five stars (星级), ascending: [60, 70, 80, 90, 95].
    star_thresholds = models.JSONField(_("star thresholds"), default=list)
    note = models.CharField(_("what changed"), max_length=300, blank=True)
    created = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    class Meta:
        verbose_name = _("index version")
        verbose_name_plural = _("index versions")
        ordering = ["index", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["index", "number"], name="governance_index_version_unique"
            ),
            # At most one version of an index is in use.
            models.UniqueConstraint(
                fields=["index"],
                condition=Q(status="published"),
                name="governance_one_version_in_use",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.index} v{self.number}"

    @property
    def is_draft(self) -> bool:
        return self.status == VersionStatus.DRAFT

    def check_editable(self) -> None:
        """Raise unless this version is a draft: a published or replaced version never changes,
        because the scores computed with it must keep meaning what they meant."""
        if not self.is_draft:
            raise ValidationError(
                _(
                    "Version %(number)s is published and can no longer change. Start a new "
                    "version to change the index; the scores of this one stay as they are."
                )
                % {"number": self.number}
            )


class _DraftOnly(models.Model):
    """A part of an index version: saved or deleted only while its version is a draft."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self._check_draft()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self._check_draft()
        return super().delete(*args, **kwargs)

    # The attributes leading from the part to its version: "version", "dimension.version".
    version_path = "version"

    def _check_draft(self) -> None:
        # Read from the database: an object in memory may not know its version was published.
        version = operator.attrgetter(self.version_path)(self)
        IndexVersion.objects.only("status", "number").get(pk=version.pk).check_editable()


class Dimension(_DraftOnly):
    version = models.ForeignKey(IndexVersion, on_delete=models.CASCADE, related_name="dimensions")
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(pgettext_lazy("index", "name"), max_length=100)
    weight = models.DecimalField(
        _("weight"), max_digits=6, decimal_places=2, validators=[MinValueValidator(Decimal(0))]
    )
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("dimension")
        verbose_name_plural = _("dimensions")
        ordering = ["version", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="governance_dimension_code"),
            models.CheckConstraint(condition=Q(weight__gte=0), name="governance_dimension_weight"),
        ]

    def __str__(self) -> str:
        return self.name


class IndicatorSource(models.TextChoices):
    METRIC = "metric", _("A Yishi figure")
    ENTERED = "entered", _("Entered by an official, with evidence")


class Indicator(_DraftOnly):
    """One weighted indicator. Its raw value (a metric's value, or an entered figure) becomes a
    score of 0-100 linearly between `floor` (0 points) and `target` (100 points), clipped; a
    target below the floor means lower is better (e.g. median days to answer)."""

    dimension = models.ForeignKey(Dimension, on_delete=models.CASCADE, related_name="indicators")
    version_path = "dimension.version"
    # Stable across versions: an entered figure is kept by (index, code), not by version.
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(pgettext_lazy("index", "name"), max_length=100)
    weight = models.DecimalField(_("weight"), max_digits=6, decimal_places=2)
    source = models.CharField(_("source"), max_length=10, choices=IndicatorSource.choices)
    metric = models.CharField(_("metric"), max_length=40, blank=True)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    floor = models.DecimalField(_("0 points at"), max_digits=14, decimal_places=2, default=0)
    target = models.DecimalField(_("100 points at"), max_digits=14, decimal_places=2, default=100)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["dimension", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["dimension", "code"], name="governance_indicator_code"),
            models.CheckConstraint(condition=Q(weight__gte=0), name="governance_indicator_weight"),
            models.CheckConstraint(
                condition=(Q(source="metric") & ~Q(metric=""))
                | (Q(source="entered") & Q(metric="")),
                name="governance_indicator_source",
            ),
            models.CheckConstraint(
                condition=~Q(floor=models.F("target")), name="governance_indicator_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class FigureStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", pgettext_lazy("index version", "Published")


class EnteredFigure(models.Model):
    """A figure an official enters for one council, one indicator code and one period, with its
    evidence (a file or a link). Officials of the council's subtree see a draft; everyone sees
    it once published. A published figure is never edited: a correction is a new row that
    `supersedes` it, and scores read the newest published one."""

    index = models.ForeignKey(Index, on_delete=models.CASCADE, related_name="entered_figures")
    code = models.SlugField(_("indicator"), max_length=40)
    council = models.ForeignKey(
        "councils.CouncilPage",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("council"),
    )
    council_path = models.CharField(max_length=255)
    period_kind = models.CharField(_("period"), max_length=8, choices=PeriodKind.choices)
    period_start = models.DateField(_("period starts"))
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=2)
    evidence_file = models.FileField(
        _("evidence file"),
        storage=private_storage,
        upload_to=RandomName("governance/evidence"),
        blank=True,
        max_length=200,
    )
    evidence_url = models.URLField(_("evidence link"), blank=True, max_length=500)
    note = models.CharField(_("note"), max_length=300, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=FigureStatus.choices, default=FigureStatus.DRAFT
    )
    supersedes = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by"
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    entered_at = models.DateTimeField(default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("entered figure")
        verbose_name_plural = _("entered figures")
        constraints = [
            models.CheckConstraint(
                condition=~Q(evidence_file="") | ~Q(evidence_url=""),
                name="governance_figure_has_evidence",
            ),
            models.CheckConstraint(
                condition=Q(status="draft", published_at__isnull=True)
                | Q(status="published", published_at__isnull=False),
                name="governance_figure_published_when",
            ),
        ]
        indexes = [
            models.Index(
                fields=["index", "period_kind", "period_start", "code"],
                name="governance_figure_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.council_id} {self.period_start}: {self.value}"

    @property
    def is_published(self) -> bool:
        return self.status == FigureStatus.PUBLISHED


class IndexScore(models.Model):
    """A council's score on one index version for one period, as computed then. Recomputing
    replaces the row of the same version; a new version's scores are new rows, and the old
    version's stay as they were."""

    version = models.ForeignKey(IndexVersion, on_delete=models.PROTECT, related_name="scores")
    council = models.ForeignKey(
        "councils.CouncilPage",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("council"),
    )
    council_path = models.CharField(max_length=255)
    council_level = models.CharField(max_length=16)
    period_kind = models.CharField(_("period"), max_length=8, choices=PeriodKind.choices)
    period_start = models.DateField(_("period starts"))
    score = models.DecimalField(_("score"), max_digits=6, decimal_places=2, null=True)
    stars = models.PositiveSmallIntegerField(
        _("stars"), default=0, validators=[MaxValueValidator(5)]
    )
    # {dimension code: {"score": "81.20", "indicators": {code: {"value": ..., "score": ...}}}}
    breakdown = models.JSONField(default=dict)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("index score")
        verbose_name_plural = _("index scores")
        constraints = [
            models.UniqueConstraint(
                fields=["version", "council", "period_kind", "period_start"],
                name="governance_score_unique",
            ),
            models.CheckConstraint(condition=Q(stars__lte=5), name="governance_score_stars"),
        ]
        indexes = [
            models.Index(
                fields=["version", "period_kind", "period_start", "council_level", "council_path"],
                name="governance_score_level",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version} {self.council_id} {self.period_start}: {self.score}"
