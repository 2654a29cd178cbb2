"""Participatory budgets (参与式预算) for micro-projects (微实事).

A cycle runs through phases (collect → review → deliberate → vote → results → implementation →
evaluation). Residents propose; the committee reviews; residents vote by secret ballot with a
receipt; the cycle's rule (budgets.tally) selects the winners; funded projects report progress
and residents rate them.

Secrecy: who voted (`Participation`) and what was voted (`Ballot`) are separate tables with no
link between them: a ballot has a random UUID key, no voter, no timestamp, and is found only by
the hash of the receipt code its voter holds. docs/ballots.md explains the design.
"""

import hashlib
import json
import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.models import AppendOnlyModel
from core.uploads import RandomName
from councils.models import CouncilPage


class PhaseKind(models.TextChoices):
    COLLECT = "collect", _("Proposals")
    REVIEW = "review", _("Review")
    DELIBERATE = "deliberate", _("Deliberation")
    VOTE = "vote", _("Vote")
    RESULTS = "results", _("Results and objections")
    IMPLEMENTATION = "implementation", _("Implementation")
    EVALUATION = "evaluation", _("Evaluation")


PHASE_ORDER = list(PhaseKind.values)


class BallotType(models.TextChoices):
    APPROVAL = "approval", _("Approval: choose up to k projects")
    KNAPSACK = "knapsack", _("Knapsack: choose projects within the budget")
    CUMULATIVE = "cumulative", _("Cumulative: share out points")
    RANKED = "ranked", _("Ranked: order up to k projects")


class TallyRule(models.TextChoices):
    GREEDY = "greedy", _("Greedy by votes")
    GREEDY_NO_SKIP = "greedy-no-skip", _("Greedy, stop at the first that does not fit")
    MES = "mes", _("Method of Equal Shares")
    MES_ADD1 = "mes-add1", _("Method of Equal Shares, add-one completion")
    MES_ADD1_FULL = "mes-add1-full", _("Method of Equal Shares, full add-one completion")


class Satisfaction(models.TextChoices):
    COST = "cost", _("Cost")
    CARDINALITY = "cardinality", _("Number of projects")
    UTILITY = "utility", _("Points given (cumulative and ranked ballots)")


class Eligibility(models.TextChoices):
    PERSON = "person", _("One vote per verified resident")
    HOUSEHOLD = "household", _("One vote per household (一户一票), cast by the head")


class BudgetCycle(models.Model):
    council = models.ForeignKey(
        CouncilPage,
        on_delete=models.PROTECT,
        related_name="budget_cycles",
        verbose_name=_("council"),
    )
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    total_amount = models.DecimalField(
        _("total amount (yuan)"),
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    ballot_type = models.CharField(
        _("ballot type"), max_length=12, choices=BallotType.choices, default=BallotType.APPROVAL
    )
    max_choices = models.PositiveSmallIntegerField(
        _("at most k choices"), default=3, help_text=_("Approval and ranked ballots.")
    )
    min_choices = models.PositiveSmallIntegerField(_("at least m choices"), default=1)
    points = models.PositiveSmallIntegerField(
        _("points to share out"), default=10, help_text=_("Cumulative ballots.")
    )
    eligibility = models.CharField(
        _("who votes"), max_length=10, choices=Eligibility.choices, default=Eligibility.PERSON
    )
    # The exact tally variant is stored with the cycle (LESSONS: variants change outcomes).
    rule = models.CharField(
        _("tally rule"), max_length=16, choices=TallyRule.choices, default=TallyRule.MES_ADD1
    )
    satisfaction = models.CharField(
        _("satisfaction"), max_length=12, choices=Satisfaction.choices, default=Satisfaction.COST
    )
    complete_greedy = models.BooleanField(_("complete greedily"), default=True)
    objection_days = models.PositiveSmallIntegerField(_("objection window (days)"), default=7)
    results_published_at = models.DateTimeField(_("results published"), null=True, blank=True)
    # Set by budgets.services.open_ballots, which turns the sealed ballots into the public list.
    ballots_opened_at = models.DateTimeField(_("ballots opened"), null=True, blank=True)
    max_replacements = models.PositiveSmallIntegerField(
        _("ballot changes allowed"),
        default=3,
        help_text=_("How many times one voter may replace their ballot before the vote closes."),
    )
    imported_from = models.CharField(_("imported from"), max_length=200, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("budget cycle")
        verbose_name_plural = _("budget cycles")
        ordering = ["-created"]
        constraints = [
            models.CheckConstraint(condition=Q(total_amount__gt=0), name="cycle_amount_positive"),
            models.CheckConstraint(
                condition=Q(min_choices__lte=models.F("max_choices")), name="cycle_min_le_max"
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("budgets:cycle", args=[self.pk])

    @property
    def has_approval_ballot(self) -> bool:
        return self.ballot_type == BallotType.APPROVAL

    @property
    def has_knapsack_ballot(self) -> bool:
        return self.ballot_type == BallotType.KNAPSACK

    @property
    def has_cumulative_ballot(self) -> bool:
        return self.ballot_type == BallotType.CUMULATIVE

    @property
    def has_ranked_ballot(self) -> bool:
        return self.ballot_type == BallotType.RANKED

    @property
    def has_numbered_ballot(self) -> bool:
        """The voter writes a number by each project (points or a rank), not a tick."""
        return self.ballot_type in (BallotType.CUMULATIVE, BallotType.RANKED)

    @property
    def adds_greedy_completion(self) -> bool:
        """Greedy completion runs after the rule (a greedy rule needs none)."""
        return self.complete_greedy and self.rule not in (
            TallyRule.GREEDY,
            TallyRule.GREEDY_NO_SKIP,
        )

    @property
    def uses_equal_shares(self) -> bool:
        return self.rule in (TallyRule.MES, TallyRule.MES_ADD1, TallyRule.MES_ADD1_FULL)

    def phase_at(self, when=None) -> str | None:
        """The kind of the phase open at `when` (default now), or None between phases."""
        when = when or timezone.now()
        for phase in self.phases.all():
            if phase.starts_at <= when < phase.ends_at:
                return phase.kind
        return None

    def vote_closed(self, when=None) -> bool:
        """True once the vote phase has ended (results may be shown)."""
        when = when or timezone.now()
        vote = next((p for p in self.phases.all() if p.kind == PhaseKind.VOTE), None)
        return vote is not None and when >= vote.ends_at


class Phase(models.Model):
    cycle = models.ForeignKey(BudgetCycle, on_delete=models.CASCADE, related_name="phases")
    kind = models.CharField(_("phase"), max_length=16, choices=PhaseKind.choices)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "kind"], name="one_phase_per_kind"),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="phase_ends_after_start"
            ),
        ]

    def __str__(self):
        return self.get_kind_display()


class SubBudget(models.Model):
    """A township cycle's share for one village: its proposals compete only with each other."""

    cycle = models.ForeignKey(BudgetCycle, on_delete=models.CASCADE, related_name="sub_budgets")
    council = models.ForeignKey(CouncilPage, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(_("amount (yuan)"), max_digits=14, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cycle", "council"], name="one_sub_budget_per_council"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="sub_budget_positive"),
        ]

    def __str__(self):
        return f"{self.council.title} · {self.amount}"


class BudgetHall(models.Model):
    """The discussion hall where a cycle's proposals from one council are debated: a real key,
    so a renamed cycle, a hall renamed by the committee or another language never opens a
    second hall. A township cycle has one per village share (the proposals' own councils)."""

    cycle = models.ForeignKey(BudgetCycle, on_delete=models.CASCADE, related_name="halls")
    council = models.ForeignKey(CouncilPage, on_delete=models.PROTECT, related_name="+")
    hall = models.OneToOneField(
        "deliberation.Hall", on_delete=models.PROTECT, related_name="budget_link"
    )

    class Meta:
        verbose_name = _("budget debate hall")
        verbose_name_plural = _("budget debate halls")
        constraints = [
            models.UniqueConstraint(fields=["cycle", "council"], name="one_budget_hall_per_council")
        ]

    def __str__(self):
        return f"{self.cycle_id} · {self.council_id} · {self.hall_id}"


class ProposalStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Waiting for review")
    FEASIBLE = "feasible", _("Feasible: on the ballot")
    REJECTED = "rejected", _("Not feasible")


class Proposal(models.Model):
    """A micro-project (微实事) proposed by a resident."""

    cycle = models.ForeignKey(BudgetCycle, on_delete=models.CASCADE, related_name="proposals")
    sub_budget = models.ForeignKey(
        SubBudget, null=True, blank=True, on_delete=models.PROTECT, related_name="proposals"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="budget_proposals",
    )
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), max_length=4000)
    category = models.CharField(_("category"), max_length=20, default="other")
    location = models.CharField(_("location"), max_length=200, blank=True)
    beneficiaries = models.CharField(_("who benefits"), max_length=200, blank=True)
    estimated_cost = models.DecimalField(
        _("estimated cost (yuan)"), max_digits=14, decimal_places=2
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ProposalStatus.choices,
        default=ProposalStatus.SUBMITTED,
    )
    checked_cost = models.DecimalField(
        _("checked cost (yuan)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    review_reason = models.TextField(_("review reason"), blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    source_topic = models.ForeignKey(
        "deliberation.Topic",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="promoted_proposals",
        verbose_name=_("promoted from topic"),
    )
    debate = models.OneToOneField(
        "deliberation.Topic",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="budget_proposal",
        verbose_name=_("debate"),
    )
    external_id = models.CharField(max_length=64, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(estimated_cost__gt=0), name="proposal_cost_positive"
            ),
            models.CheckConstraint(
                condition=Q(checked_cost__isnull=True) | Q(checked_cost__gt=0),
                name="proposal_checked_cost_positive",
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("budgets:proposal", args=[self.pk])

    @property
    def council(self):
        return self.cycle.council

    @property
    def is_rejected(self) -> bool:
        return self.status == ProposalStatus.REJECTED

    @property
    def cost(self) -> Decimal:
        """The cost on the ballot: the committee's checked cost when there is one."""
        return self.checked_cost if self.checked_cost is not None else self.estimated_cost


class ProposalPhoto(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(_("photo"), upload_to=RandomName("budgets/proposals"))

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return f"{self.proposal} · {self.pk}"

    def get_absolute_url(self) -> str:
        """The photo itself, through the permission-checked view (never MEDIA_URL)."""
        return reverse("budgets:proposal_photo", args=[self.pk])


class Channel(models.TextChoices):
    ONLINE = "online", _("Online")
    PAPER = "paper", _("Paper")


class Participation(models.Model):
    """That a voter took part in `cycle` (never what they voted).

    The voter is an account (`voter`) or, for a villager without one, an entry of the committee's
    household register (`member`, always a paper ballot). Either way one participation each."""

    # No index of its own: the unique (cycle, voter) index serves lookups by cycle, and every
    # index is written on every ballot.
    cycle = models.ForeignKey(
        BudgetCycle, on_delete=models.PROTECT, related_name="participations", db_index=False
    )
    voter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="budget_participations",
    )
    member = models.ForeignKey(
        "councils.HouseholdMember",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The register entry of a villager without an account."),
    )
    household = models.ForeignKey(
        "councils.Household", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(max_length=6, choices=Channel.choices, default=Channel.ONLINE)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The officer who entered a paper ballot."),
    )
    replacements = models.PositiveSmallIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cycle", "voter"], name="one_participation_per_voter"),
            models.UniqueConstraint(
                fields=["cycle", "member"],
                condition=Q(member__isnull=False),
                name="one_participation_per_register_member",
            ),
            models.UniqueConstraint(
                fields=["cycle", "household"],
                condition=Q(household__isnull=False),
                name="one_participation_per_household",
            ),
            models.CheckConstraint(
                condition=Q(voter__isnull=False) | Q(member__isnull=False),
                name="participation_has_a_person",
            ),
            models.CheckConstraint(
                condition=Q(member__isnull=True) | Q(channel=Channel.PAPER),
                name="register_member_votes_on_paper",
            ),
            models.CheckConstraint(
                condition=Q(channel=Channel.ONLINE) | Q(replacements=0),
                name="paper_ballot_never_replaced",
            ),
        ]

    def __str__(self):
        return f"{self.cycle_id} · {self.voter_id or self.member_id} · {self.channel}"

    @property
    def is_online(self) -> bool:
        return self.channel == Channel.ONLINE

    @property
    def is_paper(self) -> bool:
        return self.channel == Channel.PAPER

    @property
    def seal_context(self) -> bytes:
        """What a sealed ballot is bound to (budgets.sealing): moved to another row, it fails."""
        return (
            f"{self.cycle_id}:{self.voter_id or ''}:{self.member_id or ''}:{self.channel}"
        ).encode()


class SealedBallot(models.Model):
    """What one participant voted, encrypted, until the vote closes (docs/ballots.md).

    During the vote the ballot sits here, next to its participation, under a key the database
    does not hold (settings.YISHI_BALLOT_KEYS): a database reader sees who voted but not what.
    When the vote closes, budgets.services.open_ballots decrypts every sealed ballot of the
    cycle, writes them to Ballot in a shuffled order in one transaction, and deletes these rows,
    so nothing links a public ballot to a participation: not order, ids, time or transaction."""

    participation = models.OneToOneField(
        Participation, primary_key=True, on_delete=models.CASCADE, related_name="sealed"
    )
    cycle = models.ForeignKey(BudgetCycle, on_delete=models.CASCADE, related_name="+")
    sealed = models.BinaryField()

    def __str__(self):
        return f"sealed · {self.participation_id}"


class Ballot(models.Model):
    """What was voted, with no link to who voted it. Found only by its receipt hash."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    cycle = models.ForeignKey(BudgetCycle, on_delete=models.PROTECT, related_name="ballots")
    sub_budget = models.ForeignKey(
        SubBudget, null=True, blank=True, on_delete=models.PROTECT, related_name="ballots"
    )
    receipt_hash = models.CharField(max_length=64)
    channel = models.CharField(max_length=6, choices=Channel.choices, default=Channel.ONLINE)

    class Meta:
        ordering = ["receipt_hash"]
        # A constraint rather than unique=True: PostgreSQL then gets no second (LIKE) index,
        # which a hash never needs and every ballot would write.
        constraints = [
            models.UniqueConstraint(fields=["receipt_hash"], name="one_ballot_per_receipt")
        ]

    def __str__(self):
        return self.receipt_hash[:16]


class BallotChoice(models.Model):
    # Indexed by the unique (ballot, proposal) constraint below.
    ballot = models.ForeignKey(
        Ballot, on_delete=models.CASCADE, related_name="choices", db_index=False
    )
    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="+")
    # Points for cumulative ballots, rank (1 = first) for ranked ballots, 1 otherwise.
    value = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["value", "proposal_id"]
        constraints = [
            models.UniqueConstraint(fields=["ballot", "proposal"], name="one_choice_per_proposal"),
            models.CheckConstraint(condition=Q(value__gte=1), name="choice_value_positive"),
        ]

    def __str__(self):
        return f"{self.proposal_id}={self.value}"


class ResultOverride(models.Model):
    """The committee overrules the tally for one project, with a published reason."""

    proposal = models.OneToOneField(Proposal, on_delete=models.CASCADE, related_name="override")
    funded = models.BooleanField()
    reason = models.TextField(_("reason"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.proposal} · {self.funded}"


class Objection(models.Model):
    """A resident's objection (异议) to the results during 结果公示, and the committee's public
    answer. Append-only: the answer is written once and nothing changes after it
    (budgets.services.answer_objection); implementation waits until every one is answered."""

    cycle = models.ForeignKey(BudgetCycle, on_delete=models.PROTECT, related_name="objections")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="budget_objections"
    )
    reason = models.TextField(_("reason"), max_length=2000)
    answer = models.TextField(_("answer"), max_length=2000, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        ordering = ["created", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(answered_at__isnull=True, answered_by__isnull=True, answer="")
                    | (Q(answered_at__isnull=False, answered_by__isnull=False) & ~Q(answer=""))
                ),
                name="objection_answered_in_full",
            )
        ]

    def __str__(self):
        return f"{self.cycle_id} · {self.pk}"

    @property
    def is_answered(self) -> bool:
        return self.answered_at is not None


class ProgressStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", pgettext_lazy("a funded project", "In progress")
    DONE = "done", _("Done")
    STOPPED = "stopped", _("Stopped")


class ProgressUpdate(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="updates")
    status = models.CharField(max_length=12, choices=ProgressStatus.choices)
    note = models.TextField(_("note"), max_length=2000)
    spent_so_far = models.DecimalField(
        _("spent so far (yuan)"), max_digits=14, decimal_places=2, default=Decimal("0")
    )
    photo = models.ImageField(_("photo"), upload_to=RandomName("budgets/progress"), blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.CheckConstraint(condition=Q(spent_so_far__gte=0), name="spent_not_negative")
        ]

    def __str__(self):
        return f"{self.proposal} · {self.status}"

    @property
    def photo_url(self) -> str:
        return reverse("budgets:progress_photo", args=[self.pk]) if self.photo else ""


class Rating(models.Model):
    """A resident's satisfaction (满意度) with a finished project, 1-5, public."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="ratings")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    score = models.PositiveSmallIntegerField(_("score"))
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["proposal", "user"], name="one_rating_per_resident"),
            models.CheckConstraint(
                condition=Q(score__gte=1) & Q(score__lte=5), name="score_1_to_5"
            ),
        ]

    def __str__(self):
        return f"{self.proposal} · {self.score}"


class PhaseChangeKind(models.TextChoices):
    END_EARLY = "end_early", _("Ended early")
    EXTEND = "extend", _("Extended")


class PhaseChange(AppendOnlyModel):
    """A phase's end moved by the committee, with the public reason: the cycle's history.

    Append-only (budgets.services.change_phase_end writes it; nothing changes or deletes it).
    The phases after the changed one move by the same amount, so they stay contiguous."""

    cycle = models.ForeignKey(BudgetCycle, on_delete=models.CASCADE, related_name="phase_changes")
    phase = models.CharField(_("phase"), max_length=16, choices=PhaseKind.choices)
    kind = models.CharField(_("change"), max_length=10, choices=PhaseChangeKind.choices)
    old_end = models.DateTimeField(_("planned end"))
    new_end = models.DateTimeField(_("new end"))
    reason = models.CharField(_("reason"), max_length=500)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("changed by"),
    )
    at = models.DateTimeField(_("changed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("phase change")
        verbose_name_plural = _("phase changes")
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.get_phase_display()} · {self.get_kind_display()}"

    @property
    def ended_vote_early(self) -> bool:
        return self.phase == PhaseKind.VOTE and self.kind == PhaseChangeKind.END_EARLY


class SnapshotReason(models.TextChoices):
    PUBLISHED = "published", _("Results published")
    OVERRIDE = "override", _("Committee override after publication")
    BACKFILL = "backfill", _("Stored for results published before snapshots existed")


class ResultSnapshot(AppendOnlyModel):
    """The published results of a cycle, stored once and never recomputed (docs/budgets.md).

    `content` (schema RESULT_SNAPSHOT_SCHEMA in budgets.services) holds everything the results
    page, the live frame, disclosure's funded projects and progress updates read: the rule and
    its variant, the ballot count, per result (the cycle, or each village share) its budget and
    ballots and every project with id, title, cost, votes, funded flag and why, and the
    committee's overrides with their reasons. Append-only: an override after publication adds
    a new version; the latest version counts. `digest` is sha256(previous digest + canonical
    JSON of the content), so an edited row or a removed version breaks the chain (`verify`)."""

    cycle = models.ForeignKey(
        BudgetCycle, on_delete=models.PROTECT, related_name="result_snapshots"
    )
    version = models.PositiveIntegerField()
    reason = models.CharField(max_length=16, choices=SnapshotReason.choices)
    content = models.JSONField()
    previous_digest = models.CharField(max_length=64, blank=True)
    digest = models.CharField(max_length=64)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("stored result")
        verbose_name_plural = _("stored results")
        ordering = ["cycle", "version"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "version"], name="one_snapshot_per_version"),
            models.CheckConstraint(condition=Q(version__gte=1), name="snapshot_version_positive"),
        ]

    def __str__(self):
        return f"{self.cycle_id} v{self.version}"

    def verify(self) -> bool:
        return self.digest == self.digest_of(self.content, self.previous_digest)

    @staticmethod
    def digest_of(content: dict, previous_digest: str = "") -> str:
        canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256((previous_digest + canonical).encode()).hexdigest()
