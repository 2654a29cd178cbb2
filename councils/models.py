"""The council tree (Wagtail pages), households and memberships with roles.

One site hosts a whole city: city > district > township/street > village/community > grid, plus
special councils (rural worthies, children's councils) under a township or village. Councils are
pages because editors write their introductions and the site's URLs follow the tree; what people
do in them (memberships, requests) is plain Django models.
"""

import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections, models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.models import Page
from wagtail.search import index

from core import state
from core.models import AppendOnlyModel


class Level(models.TextChoices):
    CITY = "city", _("City")
    DISTRICT = "district", _("County / district")
    TOWNSHIP = "township", _("Township / street")
    VILLAGE = "village", _("Village / community")
    GRID = "grid", _("Grid")
    WORTHIES = "worthies", _("Council of rural worthies")
    CHILDREN = "children", _("Children's council")


# Which level may sit directly under which. `None` is the site's home page.
ALLOWED_PARENT_LEVELS: dict[str, set[str | None]] = {
    Level.CITY: {None},
    Level.DISTRICT: {Level.CITY},
    Level.TOWNSHIP: {Level.DISTRICT},
    Level.VILLAGE: {Level.TOWNSHIP},
    Level.GRID: {Level.VILLAGE},
    Level.WORTHIES: {Level.TOWNSHIP, Level.VILLAGE},
    Level.CHILDREN: {Level.TOWNSHIP, Level.VILLAGE},
}
# Levels where people live and can ask to join as residents.
RESIDENT_LEVELS = {Level.VILLAGE, Level.GRID, Level.WORTHIES, Level.CHILDREN}
# Councils a village sets up under itself and its committee runs (they have no committee).
SUB_COUNCIL_LEVELS = (Level.GRID, Level.WORTHIES, Level.CHILDREN)

# CouncilPage.ancestor_ids: path -> (valid until, ids), per worker process.
ANCESTOR_IDS_SECONDS = 60.0
_ancestor_ids: dict[str, tuple[float, frozenset[int]]] = {}


def forget_ancestor_ids() -> None:
    _ancestor_ids.clear()


state.register("councils.models._ancestor_ids", forget_ancestor_ids)


class CouncilPageQuerySet(models.QuerySet):
    pass


class CouncilPage(Page):
    """A council: one page per city, district, township, village, grid or special council."""

    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    division_code = models.CharField(
        _("division code"),
        max_length=20,
        blank=True,
        help_text=_("Statistical division code (统计用区划代码), if there is one."),
    )
    intro = models.TextField(_("introduction"), blank=True)
    office_address = models.CharField(_("office address"), max_length=200, blank=True)

    parent_page_types = ["home.HomePage", "councils.CouncilPage"]
    subpage_types = ["councils.CouncilPage"]
    content_panels = Page.content_panels + [
        FieldPanel("level"),
        FieldPanel("division_code"),
        FieldPanel("intro"),
        FieldPanel("office_address"),
    ]
    search_fields = Page.search_fields + [
        index.AutocompleteField("title"),
        index.SearchField("intro"),
        index.FilterField("level"),
    ]

    class Meta:
        verbose_name = _("council")
        verbose_name_plural = _("councils")

    def clean(self):
        super().clean()
        parent = self.get_parent() if self.pk else getattr(self, "_intended_parent", None)
        if parent is not None:
            check_parent_level(self.level, parent)

    @property
    def accepts_residents(self) -> bool:
        return self.level in RESIDENT_LEVELS

    def ancestor_paths(self) -> list[str]:
        """Paths of every page above this one (treebeard materialised paths), nearest last."""
        step = self.steplen
        return [self.path[:i] for i in range(step, len(self.path), step)]

    def township(self) -> "CouncilPage | None":
        """The township (or street) this council is, or is under; None above or outside one."""
        if self.level == Level.TOWNSHIP:
            return self
        return (
            CouncilPage.objects.filter(path__in=self.ancestor_paths(), level=Level.TOWNSHIP)
            .order_by("-depth")
            .first()
        )

    def ancestor_ids(self) -> frozenset[int]:
        """Ids of the pages above this one, kept per worker (`ANCESTOR_IDS_SECONDS`): every
        permission check asks for them and the tree seldom changes. Any page saved, deleted or
        moved in this process drops them (councils.signals); other workers see such a change
        within the time limit."""
        now = time.monotonic()
        known = _ancestor_ids.get(self.path)
        if known is not None and known[0] > now:
            return known[1]
        ids = frozenset(
            Page.objects.filter(path__in=self.ancestor_paths()).values_list("id", flat=True)
        )
        _ancestor_ids[self.path] = (now + ANCESTOR_IDS_SECONDS, ids)
        return ids

    def council_ancestors(self):
        """Councils above this one, from the top of the tree down: one query."""
        return CouncilPage.objects.filter(path__in=self.ancestor_paths()).order_by("path")

    def get_context(self, request, *args, **kwargs):
        from councils.selectors import council_page_context

        context = super().get_context(request, *args, **kwargs)
        context.update(council_page_context(self, request.user))
        return context


def check_parent_level(level: str, parent) -> None:
    """Raise ValidationError unless a council of `level` may sit under `parent`."""
    parent_level = getattr(parent.specific, "level", None) if parent else None
    allowed = ALLOWED_PARENT_LEVELS.get(level, set())
    if parent_level not in allowed:
        raise ValidationError(
            {
                "level": _("A %(level)s council cannot be placed under %(parent)s.")
                % {
                    "level": Level(level).label,
                    "parent": Level(parent_level).label if parent_level else _("the home page"),
                }
            }
        )


class Household(models.Model):
    """A household (户) of a village or community, identified by its house number."""

    council = models.ForeignKey(
        CouncilPage, on_delete=models.PROTECT, related_name="households", verbose_name=_("council")
    )
    number = models.CharField(_("house number"), max_length=40)
    head = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="headed_households",
        verbose_name=_("household head"),
    )
    representative = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="represented_households",
        verbose_name=_("village representative"),
    )

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        constraints = [
            models.UniqueConstraint(fields=["council", "number"], name="unique_household_number")
        ]
        ordering = ["council", "number"]

    def __str__(self):
        return f"{self.council.title} {self.number}"


class HouseholdMember(models.Model):
    """A person on the household register (户籍名册) kept by the committee.

    The register is how a villager without a phone or an account still votes: the committee
    records their paper ballot against this entry, once (budgets.Participation.member has the
    same one-person-one-ballot constraint as an online voter). Only what tells people apart is
    kept (PIPL minimisation): a name and a birth year, never an ID number or a phone."""

    household = models.ForeignKey(
        Household,
        on_delete=models.CASCADE,
        related_name="register",
        verbose_name=_("household"),
    )
    name = models.CharField(_("name"), max_length=40)
    birth_year = models.PositiveSmallIntegerField(_("year of birth"), null=True, blank=True)
    is_head = models.BooleanField(_("household head"), default=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="register_entry",
        verbose_name=_("account"),
        help_text=_("When this person also has an account: they then vote once, either way."),
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("household member")
        verbose_name_plural = _("household members")
        ordering = ["household", "-is_head", "name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(is_head=True),
                name="one_register_head_per_household",
            ),
            models.CheckConstraint(
                condition=Q(birth_year__isnull=True) | Q(birth_year__gte=1900),
                name="register_birth_year_plausible",
            ),
        ]

    def __str__(self):
        return f"{self.household} · {self.name}"


class Role(models.TextChoices):
    RESIDENT = "resident", _("Resident")
    REPRESENTATIVE = "representative", _("Village representative")
    COMMITTEE = "committee", _("Committee member")
    SUPERVISOR = "supervisor", _("Supervisory committee member")
    GRID_WORKER = "grid_worker", _("Grid worker")
    OFFICIAL = "official", _("Township official")


# Roles one person may not hold together in one council: the village committee and the
# supervisory committee that watches it (村民委员会组织法 art. 32).
EXCLUSIVE_ROLES = {Role.COMMITTEE: Role.SUPERVISOR, Role.SUPERVISOR: Role.COMMITTEE}


def role_conflict_message(role: str) -> str:
    return _(
        "This person already holds the role “%(other)s” in this council. The village committee "
        "and the supervisory committee are held by different people (Organic Law of the "
        "Villagers' Committees, art. 32): remove the other role first."
    ) % {"other": Role(EXCLUSIVE_ROLES[role]).label}


# Roles that carry down the tree: a township official acts in every council under the
# township; a village resident is a resident of the village's grids and special councils.
DOWNWARD_ROLES = {Role.OFFICIAL, Role.RESIDENT}


class MembershipStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for verification")
    VERIFIED = "verified", _("Verified")
    REJECTED = "rejected", _("Rejected")
    REVOKED = "revoked", _("Revoked")


ACTIVE_STATUSES = [MembershipStatus.PENDING, MembershipStatus.VERIFIED]


class MembershipQuerySet(models.QuerySet):
    def verified(self):
        return self.filter(status=MembershipStatus.VERIFIED)

    def pending(self):
        return self.filter(status=MembershipStatus.PENDING)

    def effective_in(self, council: CouncilPage):
        """Verified memberships that count in `council`, including those inherited from above."""
        return self.verified().filter(
            Q(council_id=council.pk)
            | Q(council__path__in=council.ancestor_paths(), role__in=DOWNWARD_ROLES)
        )

    def verified_rows_of(self, user_ids) -> dict[int, list[tuple[int, str]]]:
        """`verified_rows` for many people in one query (everyone told of one event)."""
        rows: dict[int, list[tuple[int, str]]] = {pk: [] for pk in user_ids}
        found = (
            self.verified()
            .filter(user_id__in=list(rows))
            .values_list("user_id", "council_id", "role")
        )
        for user_id, council_id, role in found:
            rows[user_id].append((council_id, role))
        return rows

    def verified_rows(self, user_id: int) -> list[tuple[int, str]]:
        """(council id, role) of every verified membership of one person: one indexed lookup,
        written by hand because every permission check on every page and ballot starts here
        (the ORM's compiling cost more than the query: bench/bench_ballots.py)."""
        table = self.model._meta.db_table
        with connections[self.db].cursor() as cursor:
            cursor.execute(
                f"SELECT council_id, role FROM {table} WHERE user_id = %s AND status = %s",
                [user_id, MembershipStatus.VERIFIED],
            )
            return cursor.fetchall()

    def roles_of(self, user_id: int, council: CouncilPage) -> frozenset[str]:
        """The roles of `self.filter(user=user_id).effective_in(council)`, as a set, from
        `verified_rows` and the council's `ancestor_ids` (tests/councils/test_roles_of.py
        checks the two agree for every person and council)."""
        return effective_roles(self.verified_rows(user_id), council)


def effective_roles(rows: list[tuple[int, str]], council: CouncilPage) -> frozenset[str]:
    """What `MembershipQuerySet.effective_in` says, computed from a person's verified
    (council id, role) rows: their roles in `council` itself, and the roles that carry down
    (`DOWNWARD_ROLES`) from the councils above it."""
    ancestors = council.ancestor_ids() if rows else frozenset()
    return frozenset(
        role
        for council_id, role in rows
        if council_id == council.pk or (council_id in ancestors and role in DOWNWARD_ROLES)
    )


class Membership(models.Model):
    """A person's role in a council. Counts only once a committee member has verified it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("user"),
    )
    council = models.ForeignKey(
        CouncilPage,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("council"),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.RESIDENT)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=MembershipStatus.choices,
        default=MembershipStatus.PENDING,
    )
    household = models.ForeignKey(
        Household,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
        verbose_name=_("household"),
    )
    house_number = models.CharField(
        _("house number given"),
        max_length=40,
        blank=True,
        help_text=_("As written by the applicant, for the residency check."),
    )
    message = models.CharField(_("message to the committee"), max_length=300, blank=True)
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decision_reason = models.CharField(_("reason"), max_length=300, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "council", "role"],
                condition=Q(status__in=ACTIVE_STATUSES),
                name="one_active_membership_per_role",
            )
        ]
        indexes = [models.Index(fields=["council", "status", "role"])]
        ordering = ["-requested_at"]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()} · {self.council.title}"

    def clean(self):
        # Every form that makes a membership (the Wagtail admin included) validates the model.
        super().clean()
        if self.role in EXCLUSIVE_ROLES and self.status in ACTIVE_STATUSES and self.user_id:
            if self.holds_conflicting_role():
                raise ValidationError({"role": role_conflict_message(self.role)})

    def holds_conflicting_role(self) -> bool:
        """The same person holds (or asked for) the role this one excludes, in this council."""
        if self.role not in EXCLUSIVE_ROLES:
            return False
        return (
            Membership.objects.filter(
                user_id=self.user_id,
                council_id=self.council_id,
                role=EXCLUSIVE_ROLES[self.role],
                status__in=ACTIVE_STATUSES,
            )
            .exclude(pk=self.pk)
            .exists()
        )

    @property
    def is_verified(self) -> bool:
        return self.status == MembershipStatus.VERIFIED

    @property
    def is_pending(self) -> bool:
        return self.status == MembershipStatus.PENDING

    @property
    def is_rejected(self) -> bool:
        return self.status == MembershipStatus.REJECTED


# -- what the committee did: one append-only log per council -----------------------------------


class ActionVerb(models.TextChoices):
    CREATE_HALL = "create_hall", _("Opened a discussion hall")
    CREATE_COUNCIL = "create_council", _("Set up a council")
    GRANT_ROLE = "grant_role", _("Assigned a role")
    REVOKE_ROLE = "revoke_role", _("Removed a role")
    SET_HOUSEHOLD = "set_household", _("Changed a household")
    CHANGE_PHASE = "change_phase", _("Changed a budget phase")
    SET_CASE_RULE = "set_case_rule", _("Set a case level's handling and deadlines")
    REGISTER_DEPARTMENT = "add_department", _("Registered a department")
    CREATE_INDEX = "create_index", _("Defined a governance index")
    PUBLISH_INDEX = "publish_index", _("Put a new version of an index in use")


class CouncilAction(AppendOnlyModel):
    """One thing a committee member (or a township official) did to run the council: opening a
    hall or a council, assigning or removing a role, changing a household, moving a budget
    phase. Written by `councils.services.log_action`, by every app; read by the committee, the
    supervisory committee and the township (`councils.view_actions`). Append-only: rows are
    never changed or deleted. Only public names go into `target` (minimisation)."""

    council = models.ForeignKey(
        CouncilPage, on_delete=models.PROTECT, related_name="actions", verbose_name=_("council")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("done by"),
    )
    verb = models.CharField(_("action"), max_length=20, choices=ActionVerb.choices)
    target = models.CharField(_("what"), max_length=200)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        verbose_name = _("committee action")
        verbose_name_plural = _("committee actions")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["council", "-at"])]

    def __str__(self):
        return f"{self.get_verb_display()} · {self.target}"
