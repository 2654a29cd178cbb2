"""Representatives' sessions (村民代表会议, 村民会议, 两委会议, 党员大会): roster, roll call,
proxies, motions, roll-call votes, minutes. Use cases in meetings/services.py; the law's counting
rules in meetings/quorum.py; docs/sessions.md explains both.

These models were born in deliberation/ and moved here (issue 15); their tables keep the old names
(`deliberation_session`, ...), so the move changed no row (meetings/migrations/0001_initial.py).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.models import AppendOnlyModel
from councils.models import CouncilPage
from deliberation.models import Topic
from meetings import quorum as _quorum


class SessionKind(models.TextChoices):
    REPRESENTATIVES = "representatives", _("Village representatives' meeting")
    ASSEMBLY = "assembly", _("Villagers' assembly")
    TWO_COMMITTEES = "two_committees", _("Joint meeting of the two committees")
    PARTY_MEMBERS = "party_members", _("Party members' meeting")


class RosterMode(models.TextChoices):
    REPRESENTATIVES = "representatives", _("Committee members and village representatives")
    RESIDENTS = "residents", _("All verified adult residents")
    HOUSEHOLDS = "households", _("One representative per household (the household head)")
    COMMITTEE = "committee", _("Committee members")


# The roster modes each kind of session may use; the first is the default.
ROSTER_MODES_BY_KIND = {
    SessionKind.REPRESENTATIVES: [RosterMode.REPRESENTATIVES],
    SessionKind.ASSEMBLY: [RosterMode.RESIDENTS, RosterMode.HOUSEHOLDS],
    SessionKind.TWO_COMMITTEES: [RosterMode.COMMITTEE],
    SessionKind.PARTY_MEMBERS: [RosterMode.COMMITTEE],
}


def default_rule(kind: str, roster_mode: str) -> _quorum.Rule:
    """The counting rule a new session starts with (docs/sessions.md quotes the articles)."""
    if kind == SessionKind.ASSEMBLY and roster_mode == RosterMode.HOUSEHOLDS:
        return _quorum.Rule(
            quorum=_quorum.AT_LEAST_TWO_THIRDS,
            decision=_quorum.MORE_THAN_HALF,
            source="村民委员会组织法 第二十二条（三分之二以上的户的代表）",
        )
    if kind == SessionKind.ASSEMBLY:
        return _quorum.Rule(
            quorum=_quorum.MORE_THAN_HALF,
            decision=_quorum.MORE_THAN_HALF,
            source="村民委员会组织法 第二十二条（十八周岁以上村民的过半数）",
        )
    if kind == SessionKind.REPRESENTATIVES:
        return _quorum.Rule(
            quorum=_quorum.AT_LEAST_TWO_THIRDS,
            decision=_quorum.MORE_THAN_HALF,
            source="村民委员会组织法 第二十六条",
        )
    # No article of the Organic Law governs these; a cautious default the chair can see.
    return _quorum.Rule(quorum=_quorum.MORE_THAN_HALF, decision=_quorum.MORE_THAN_HALF)


class SessionStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    OPEN = "open", _("In session")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


class SessionQuerySet(models.QuerySet):
    def public(self):
        return self.filter(is_public=True)

    def scheduled_representatives_meetings(self):
        return self.filter(kind=SessionKind.REPRESENTATIVES, status=SessionStatus.SCHEDULED)


class Session(models.Model):
    """A formal meeting of a council: agenda, roster, roll call, motions and minutes."""

    council = models.ForeignKey(
        CouncilPage, on_delete=models.PROTECT, related_name="sessions", verbose_name=_("council")
    )
    kind = models.CharField(_("kind of meeting"), max_length=20, choices=SessionKind.choices)
    roster_mode = models.CharField(
        _("who may attend and vote"), max_length=20, choices=RosterMode.choices
    )
    title = models.CharField(_("title"), max_length=120)
    starts_at = models.DateTimeField(_("starts at"))
    place = models.CharField(_("place"), max_length=200)
    convened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("convened by"),
    )
    is_public = models.BooleanField(_("public"), default=True)
    status = models.CharField(
        _("status"), max_length=10, choices=SessionStatus.choices, default=SessionStatus.SCHEDULED
    )
    # The counting rule (quorum.Rule.to_dict()); each motion keeps its own frozen copy.
    rule = models.JSONField(_("counting rule"))
    # Frozen when the session opens: the denominator of the quorum (roster entries, or every
    # household of the council in the household mode, since a household without a head still
    # counts in "三分之二以上的户").
    entitled_count = models.PositiveIntegerField(_("entitled to attend"), default=0)
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    check_in_open = models.BooleanField(_("check-in open"), default=False)
    check_in_code = models.CharField(max_length=6, blank=True, editable=False)
    # The last number given to a live frame; allocated under the session's row lock.
    last_seq = models.PositiveIntegerField(default=0, editable=False)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    objects = SessionQuerySet.as_manager()

    class Meta:
        db_table = "deliberation_session"  # kept from deliberation/
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        ordering = ["-starts_at"]
        indexes = [
            models.Index(fields=["council", "-starts_at"], name="deliberatio_council_4aaacd_idx")
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("meetings:session", args=[self.pk])

    @property
    def counting_rule(self) -> _quorum.Rule:
        return _quorum.Rule.from_dict(self.rule)

    @property
    def is_scheduled(self) -> bool:
        return self.status == SessionStatus.SCHEDULED

    @property
    def is_open(self) -> bool:
        return self.status == SessionStatus.OPEN

    @property
    def is_closed(self) -> bool:
        return self.status == SessionStatus.CLOSED

    @property
    def is_cancelled(self) -> bool:
        return self.status == SessionStatus.CANCELLED


class AgendaItem(models.Model):
    session = models.ForeignKey(
        Session, on_delete=models.CASCADE, related_name="agenda", verbose_name=_("session")
    )
    position = models.PositiveIntegerField(_("number"))
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    topic = models.ForeignKey(
        Topic,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="agenda_items",
        verbose_name=_("hall topic"),
    )
    budget_cycle = models.ForeignKey(
        "budgets.BudgetCycle",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="agenda_items",
        verbose_name=_("budget cycle"),
    )
    record = models.ForeignKey(
        "disclosure.Record",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="agenda_items",
        verbose_name=_("published record"),
    )

    class Meta:
        db_table = "deliberation_agendaitem"  # kept from deliberation/
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda")
        ordering = ["session", "position"]
        constraints = [
            models.UniqueConstraint(fields=["session", "position"], name="unique_agenda_position")
        ]

    def __str__(self):
        return f"{self.position}. {self.title}"


class Attendance(models.TextChoices):
    ABSENT = "absent", _("Absent")
    PRESENT = "present", _("Present")
    PROXY = "proxy", _("Represented by proxy")


class CheckInMethod(models.TextChoices):
    CHAIR = "chair", _("Recorded by the chair")
    CODE = "code", _("Checked in with the room code")


class RosterEntry(models.Model):
    """One person entitled to attend, snapshotted when the session opens."""

    session = models.ForeignKey(
        Session, on_delete=models.PROTECT, related_name="roster", verbose_name=_("session")
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="roster_entries",
        verbose_name=_("person"),
    )
    household = models.ForeignKey(
        "councils.Household",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("household"),
    )
    # The name and capacity as they were when the session opened (names may change later).
    name = models.CharField(_("name"), max_length=80)
    capacity = models.CharField(_("capacity"), max_length=40, blank=True)
    attendance = models.CharField(
        _("attendance"), max_length=8, choices=Attendance.choices, default=Attendance.ABSENT
    )
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    check_in_method = models.CharField(
        _("how"), max_length=8, choices=CheckInMethod.choices, blank=True
    )
    proxy_holder = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="proxies_held",
        verbose_name=_("proxy held by"),
    )

    class Meta:
        db_table = "deliberation_rosterentry"  # kept from deliberation/
        verbose_name = _("roster entry")
        verbose_name_plural = _("roster")
        ordering = ["session", "name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["session", "person"], name="one_roster_entry_each"),
            models.CheckConstraint(
                condition=Q(attendance=Attendance.PROXY, proxy_holder__isnull=False)
                | (~Q(attendance=Attendance.PROXY) & Q(proxy_holder__isnull=True)),
                name="roster_proxy_has_holder",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_present(self) -> bool:
        return self.attendance == Attendance.PRESENT


class MajorityKind(models.TextChoices):
    SESSION = "session", _("The session's rule (more than half of those present)")
    TWO_THIRDS_PRESENT = "two_thirds_present", _("At least two thirds of those present")
    HALF_MEMBERS = "half_members", _("More than half of all members")
    TWO_THIRDS_MEMBERS = "two_thirds_members", _("At least two thirds of all members")


MAJORITIES = {
    MajorityKind.TWO_THIRDS_PRESENT: (_quorum.AT_LEAST_TWO_THIRDS, _quorum.Base.PRESENT),
    MajorityKind.HALF_MEMBERS: (_quorum.MORE_THAN_HALF, _quorum.Base.MEMBERS),
    MajorityKind.TWO_THIRDS_MEMBERS: (_quorum.AT_LEAST_TWO_THIRDS, _quorum.Base.MEMBERS),
}


class MotionStatus(models.TextChoices):
    DRAFT = "draft", _("Not yet put to the vote")
    OPEN = "open", _("Voting")
    CLOSED = "closed", _("Vote closed")


class Motion(models.Model):
    """A proposal put to a roll-call vote (议案); its rule and voters freeze when voting opens."""

    session = models.ForeignKey(
        Session, on_delete=models.PROTECT, related_name="motions", verbose_name=_("session")
    )
    agenda_item = models.ForeignKey(
        AgendaItem,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="motions",
        verbose_name=_("agenda item"),
    )
    title = models.CharField(_("motion"), max_length=200)
    text = models.TextField(_("text"), blank=True)
    majority = models.CharField(
        _("majority required"),
        max_length=20,
        choices=MajorityKind.choices,
        default=MajorityKind.SESSION,
    )
    status = models.CharField(
        _("status"), max_length=8, choices=MotionStatus.choices, default=MotionStatus.DRAFT
    )
    # Frozen when voting opens, so that a past result can always be recomputed.
    rule = models.JSONField(_("counting rule"), null=True, blank=True)
    # [[roster entry, roster entry casting its vote], ...]: present members and proxies.
    voters = models.JSONField(_("who votes, and who casts each vote"), default=list, blank=True)
    entitled_count = models.PositiveIntegerField(default=0)
    present_count = models.PositiveIntegerField(default=0)
    result = models.CharField(
        _("result"),
        max_length=10,
        choices=[(o.value, o.value) for o in _quorum.Outcome],
        blank=True,
    )
    opened_at = models.DateTimeField(_("vote opened"), null=True, blank=True)
    closed_at = models.DateTimeField(_("vote closed"), null=True, blank=True)
    resolution_record = models.OneToOneField(
        "disclosure.Record",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="resolved_motion",
        verbose_name=_("disclosure of the resolution"),
    )
    implementation_record = models.OneToOneField(
        "disclosure.Record",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="implemented_motion",
        verbose_name=_("disclosure of the implementation"),
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        db_table = "deliberation_motion"  # kept from deliberation/
        verbose_name = _("motion")
        verbose_name_plural = _("motions")
        ordering = ["session", "pk"]

    def __str__(self):
        return self.title

    @property
    def council(self) -> CouncilPage:
        return self.session.council

    @property
    def counting_rule(self) -> _quorum.Rule:
        return _quorum.Rule.from_dict(self.rule or self.session.rule)

    @property
    def passed(self) -> bool:
        return self.result == _quorum.Outcome.PASSED

    @property
    def failed(self) -> bool:
        return self.result == _quorum.Outcome.FAILED

    @property
    def is_draft(self) -> bool:
        return self.status == MotionStatus.DRAFT

    @property
    def is_voting(self) -> bool:
        return self.status == MotionStatus.OPEN

    @property
    def is_closed(self) -> bool:
        return self.status == MotionStatus.CLOSED


class VoteChoice(models.TextChoices):
    YES = "yes", _("For")
    NO = "no", _("Against")
    ABSTAIN = "abstain", _("Abstain")


class Vote(AppendOnlyModel):
    """One roster entry's vote on one motion, by name; `cast_by` differs when a proxy voted."""

    motion = models.ForeignKey(
        Motion, on_delete=models.PROTECT, related_name="votes", verbose_name=_("motion")
    )
    entry = models.ForeignKey(
        RosterEntry, on_delete=models.PROTECT, related_name="votes", verbose_name=_("member")
    )
    cast_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("cast by"),
    )
    choice = models.CharField(_("vote"), max_length=8, choices=VoteChoice.choices)
    by_proxy = models.BooleanField(_("by proxy"), default=False)
    created = models.DateTimeField(_("cast at"), auto_now_add=True)

    class Meta:
        db_table = "deliberation_vote"  # kept from deliberation/
        verbose_name = _("vote")
        verbose_name_plural = _("votes")
        ordering = ["motion", "entry__name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["motion", "entry"], name="one_vote_per_member")
        ]

    def __str__(self):
        return f"{self.motion_id} {self.entry_id} {self.choice}"


class MinutesStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class PublishedMinutesError(ValidationError):
    """Raised when anything tries to change published minutes."""


class Minutes(models.Model):
    """会议纪要: the chair's narrative plus a snapshot of the record (attendance, votes, results).

    Published minutes never change (checked here and in the services); a correction is a new
    Minutes row pointing at the one it corrects.
    """

    session = models.ForeignKey(
        Session, on_delete=models.PROTECT, related_name="minutes", verbose_name=_("session")
    )
    narrative = models.TextField(_("narrative"), blank=True)
    record = models.JSONField(_("record of the session"), default=dict)
    status = models.CharField(
        _("status"), max_length=10, choices=MinutesStatus.choices, default=MinutesStatus.DRAFT
    )
    corrects = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="corrected_by",
        verbose_name=_("corrects"),
    )
    correction_reason = models.TextField(_("reason for the correction"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("written by"),
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    class Meta:
        db_table = "deliberation_minutes"  # kept from deliberation/
        verbose_name = _("minutes")
        verbose_name_plural = _("minutes")
        ordering = ["session", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["session"],
                condition=Q(corrects__isnull=True),
                name="one_original_minutes_per_session",
            )
        ]

    def __str__(self):
        return f"{self.session} · {self.get_status_display()}"

    def save(self, *args, **kwargs):
        if not self._state.adding and self.pk is not None:
            stored = Minutes.objects.filter(pk=self.pk).values_list("status", flat=True).first()
            if stored == MinutesStatus.PUBLISHED:
                raise PublishedMinutesError(
                    _("These minutes are published and cannot change. Publish a correction.")
                )
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("meetings:minutes", args=[self.pk])

    def delete(self, *args, **kwargs):
        if self.is_published:
            raise PublishedMinutesError(_("Published minutes cannot be deleted."))
        return super().delete(*args, **kwargs)

    @property
    def council(self) -> CouncilPage:
        return self.session.council

    @property
    def is_published(self) -> bool:
        return self.status == MinutesStatus.PUBLISHED
