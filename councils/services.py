"""Use cases of the councils app: joining a council and verifying residency."""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from councils import registry
from councils.models import (
    ACTIVE_STATUSES,
    SUB_COUNCIL_LEVELS,
    ActionVerb,
    CouncilPage,
    Household,
    HouseholdMember,
    Level,
    Membership,
    MembershipStatus,
    Role,
    role_conflict_message,
)
from councils.predicates import forget_roles


def request_membership(
    *, user, council: CouncilPage, house_number: str = "", message: str = ""
) -> Membership:
    """A resident asks to join `council`; the request counts only once verified."""
    if not user.is_authenticated:
        raise PermissionDenied(_("Sign in first."))
    if not council.accepts_residents:
        raise ValidationError(
            _("Residents join a village, community or grid, not a %(level)s.")
            % {"level": council.get_level_display()}
        )
    try:
        with transaction.atomic():
            membership = Membership.objects.create(
                user=user,
                council=council,
                role=Role.RESIDENT,
                house_number=house_number.strip(),
                message=message.strip(),
            )
    except IntegrityError:
        raise ValidationError(
            _("You have already asked to join this council, or you are already a member.")
        ) from None
    return membership


def _decide(membership_id: int, *, by, council_check) -> Membership:
    membership = (
        Membership.objects.select_for_update().select_related("council").get(pk=membership_id)
    )
    if not by.has_perm("councils.verify_membership", membership.council):
        raise PermissionDenied(_("Only the council's committee can decide on membership."))
    if membership.status != MembershipStatus.PENDING:
        raise ValidationError(_("This request has already been decided."))
    if membership.user_id == by.pk:
        raise PermissionDenied(_("You cannot decide on your own request."))
    council_check(membership)
    return membership


def _refuse_conflicting_role(membership: Membership) -> None:
    """Committee and supervisory committee are never the same person in one council (art. 32).

    The person's row is locked first, so two grants to the same person take turns and cannot
    both pass this check.
    """
    get_user_model().objects.select_for_update().filter(pk=membership.user_id).first()
    if membership.holds_conflicting_role():
        raise ValidationError(role_conflict_message(membership.role))


@transaction.atomic
def verify_membership(*, membership_id: int, by, household_number: str = "") -> Membership:
    """A committee member confirms residency; optionally places the resident in a household."""

    def attach_household(membership: Membership) -> None:
        _refuse_conflicting_role(membership)
        number = household_number.strip() or membership.house_number
        if number:
            membership.household, _created = Household.objects.get_or_create(
                council=membership.council, number=number
            )

    membership = _decide(membership_id, by=by, council_check=attach_household)
    membership.status = MembershipStatus.VERIFIED
    membership.decided_by = by
    membership.decided_at = timezone.now()
    membership.save()
    forget_roles(membership.user)
    registry.membership_decided(membership, verified=True)
    return membership


@transaction.atomic
def reject_membership(*, membership_id: int, by, reason: str) -> Membership:
    """Refuse a request, with a reason the applicant will read."""
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("Give the applicant a reason."))
    membership = _decide(membership_id, by=by, council_check=lambda m: None)
    membership.status = MembershipStatus.REJECTED
    membership.decided_by = by
    membership.decided_at = timezone.now()
    membership.decision_reason = reason[:300]
    membership.save()
    registry.membership_decided(membership, verified=False, reason=membership.decision_reason)
    return membership


@transaction.atomic
def grant_role(*, user, council: CouncilPage, role: str, by=None) -> Membership:
    """Give a verified role directly (committee appoints; staff seed officials).

    `by=None` is for management commands run by the operator; otherwise `by` needs
    councils.assign_role on the council.
    """
    if by is not None and not by.has_perm("councils.assign_role", council):
        raise PermissionDenied(_("Only the committee or a township official can assign roles."))
    if role not in Role.values:
        raise ValidationError(_("Unknown role."))
    membership = (
        Membership.objects.select_for_update()
        .filter(user=user, council=council, role=role, status__in=ACTIVE_STATUSES)
        .first()
    ) or Membership(user=user, council=council, role=role)
    _refuse_conflicting_role(membership)
    if membership.status != MembershipStatus.VERIFIED or membership.pk is None:
        membership.status = MembershipStatus.VERIFIED
        membership.decided_by = by
        membership.decided_at = timezone.now()
        membership.save()
    forget_roles(user)
    return membership


UNCHANGED = object()


def _verified_resident(council: CouncilPage, user) -> Membership | None:
    return (
        Membership.objects.filter(
            user=user, council=council, role=Role.RESIDENT, status=MembershipStatus.VERIFIED
        )
        .select_related("household")
        .first()
    )


@transaction.atomic
def save_household(
    *, council: CouncilPage, number: str, representative=None, head=UNCHANGED, by
) -> Household:
    """Create a household, or set who heads it and which village representative speaks for it.

    The representative must hold that role in the council; the head must be a verified resident
    who is not registered in another household (they are placed in this one if in none).
    `head` left out keeps the current head. Each change is written to the committee's log."""
    if not by.has_perm("councils.manage_household", council):
        raise PermissionDenied(_("Only the committee manages households."))
    number = number.strip()
    if not number:
        raise ValidationError(_("Write the house number, for example 3组12号."))
    if (
        representative is not None
        and not Membership.objects.filter(
            user=representative,
            council=council,
            role=Role.REPRESENTATIVE,
            status=MembershipStatus.VERIFIED,
        ).exists()
    ):
        raise ValidationError(_("Only a verified village representative can represent households."))
    household, _created = Household.objects.select_for_update().get_or_create(
        council=council, number=number
    )
    changes = []
    if head is not UNCHANGED and head != household.head:
        if head is not None:
            residency = _verified_resident(council, head)
            if residency is None:
                raise ValidationError(_("The household head must be a verified resident."))
            if residency.household_id not in (None, household.pk):
                raise ValidationError(
                    _(
                        "%(name)s is registered in household %(number)s: a head belongs to "
                        "the household they head. Change their household first."
                    )
                    % {"name": head.public_name, "number": residency.household.number}
                )
            if residency.household_id is None:
                Membership.objects.filter(pk=residency.pk).update(household=household)
        household.head = head
        changes.append(_("head: %(name)s") % {"name": head.public_name if head else _("none")})
    if representative != household.representative:
        household.representative = representative
        changes.append(
            _("representative: %(name)s")
            % {"name": representative.public_name if representative else _("none")}
        )
    household.save(update_fields=["head", "representative"])
    if changes or _created:
        log_action(
            council=council,
            actor=by,
            verb=ActionVerb.SET_HOUSEHOLD,
            target=f"{number} · " + "; ".join(str(c) for c in changes) if changes else number,
        )
    return household


# -- the household register (户籍名册): villagers without an account ------------------------------


@transaction.atomic
def add_register_member(
    *, by, council: CouncilPage, number: str, name: str, birth_year=None, is_head: bool = False
) -> HouseholdMember:
    """The committee puts a villager on its household register, so that their paper ballot can
    be recorded against it once (budgets.services.enter_paper_ballot)."""
    if not by.has_perm("councils.manage_household", council):
        raise PermissionDenied(_("Only the committee manages households."))
    number, name = number.strip(), " ".join(name.split())
    if not number:
        raise ValidationError(_("Write the house number, for example 3组12号."))
    if not name:
        raise ValidationError(_("Write the person's name."))
    if any(ch.isdigit() for ch in name):
        raise ValidationError(_("A name has no digits: do not write ID or phone numbers here."))
    household, _created = Household.objects.get_or_create(council=council, number=number)
    if is_head and household.register.filter(is_head=True).exists():
        raise ValidationError(_("This household already has a head on the register."))
    return HouseholdMember.objects.create(
        household=household, name=name, birth_year=birth_year, is_head=is_head
    )


@transaction.atomic
def remove_register_member(*, by, member: HouseholdMember) -> None:
    if not by.has_perm("councils.manage_household", member.household.council):
        raise PermissionDenied(_("Only the committee manages households."))
    from django.db.models import ProtectedError

    try:
        member.delete()
    except ProtectedError as error:
        raise ValidationError(
            _("This person has voted on the register: they stay on it until the vote is archived.")
        ) from error


# -- running the council from its own pages (issue 14, point 5) -----------------------------------
# Every act below is logged with `log_action` in the same transaction: the committee's log is
# read by the supervisory committee and the township (councils.view_actions).


def log_action(*, council: CouncilPage, actor, verb: str, target: str, reason: str = ""):
    """Append one line to the council's log of committee actions; any app may call it, inside
    the transaction of the act it records. Write only public names in `target`."""
    from councils.models import ActionVerb, CouncilAction

    # Checked here, not only by the database: SQLite would store an unknown or too long verb.
    if verb not in ActionVerb.values:
        raise ValueError(f"unknown action verb {verb!r}: add it to councils.models.ActionVerb")
    return CouncilAction.objects.create(
        council=council,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        verb=verb,
        target=target[:200],
        reason=(reason or "").strip()[:500],
    )


# Roles the committee assigns and removes from the council's pages. Committee and official
# memberships are elections and appointments outside the site (the Wagtail admin, or grant_role).
MANAGED_ROLES = (Role.REPRESENTATIVE, Role.SUPERVISOR, Role.GRID_WORKER)


def _require_runs(by, village: CouncilPage, message: str) -> None:
    if not by.has_perm("councils.assign_role", village):
        raise PermissionDenied(message)


def role_place(village: CouncilPage, role: str, grid: CouncilPage | None) -> CouncilPage:
    """Where a managed role is held: representatives and supervisors in the village, a grid
    worker in one of the village's grids."""
    if role not in MANAGED_ROLES:
        raise ValidationError(
            _("The committee assigns representatives, supervisors and grid workers only.")
        )
    if village.level != Level.VILLAGE:
        raise ValidationError(_("Roles are assigned in a village or community."))
    if role == Role.GRID_WORKER:
        if (
            grid is None
            or grid.level != Level.GRID
            or not grid.path.startswith(village.path)
            or (grid.depth != village.depth + 1)
        ):
            raise ValidationError(_("Choose the grid of this village where the grid worker works."))
        return grid
    return village


def representatives_share(
    village: CouncilPage, *, without_user_id: int | None = None
) -> tuple[int, int]:
    """(representatives, members) of a representatives' meeting of `village` as its roster
    would be built now (meetings.services._roster_people): committee members and village
    representatives, each person once; a committee member who is also a representative sits
    as a committee member. `without_user_id` leaves out that person's representative role."""
    rows = Membership.objects.verified().filter(
        council=village, role__in=[Role.COMMITTEE, Role.REPRESENTATIVE]
    )
    roles: dict[int, set[str]] = {}
    for user_id, role in rows.values_list("user_id", "role"):
        if user_id == without_user_id and role == Role.REPRESENTATIVE:
            continue
        roles.setdefault(user_id, set()).add(role)
    representatives = sum(1 for held in roles.values() if Role.COMMITTEE not in held)
    return representatives, len(roles)


def meets_four_fifths(representatives: int, members: int) -> bool:
    """村民委员会组织法 art. 25: 村民代表应当占村民代表会议组成人员的五分之四以上."""
    return members == 0 or representatives * 5 >= members * 4


def _scheduled_representatives_meetings(village: CouncilPage):
    from django.apps import apps

    Session = apps.get_model("meetings", "Session")  # the spine imports no app
    return (
        Session.objects.filter(council=village)
        .scheduled_representatives_meetings()
        .order_by("starts_at")
    )


@transaction.atomic
def assign_role(
    *, by, village: CouncilPage, role: str, user, grid: CouncilPage | None = None
) -> Membership:
    """The committee (or a township official) makes someone a village representative, a
    supervisor, or a grid worker of one of the village's grids. Representatives and supervisors
    are verified residents of the village; no one is both on the committee and a supervisor."""
    _require_runs(by, village, _("Only the committee or a township official can assign roles."))
    council = role_place(village, role, grid)
    if role in (Role.REPRESENTATIVE, Role.SUPERVISOR) and not (
        Membership.objects.effective_in(village).filter(user=user, role=Role.RESIDENT).exists()
    ):
        raise ValidationError(_("Only a verified resident of the village can hold this role."))
    if Membership.objects.filter(
        user=user, council=council, role=role, status=MembershipStatus.VERIFIED
    ).exists():
        raise ValidationError(_("This person already holds this role here."))
    membership = grant_role(user=user, council=council, role=role, by=None)
    Membership.objects.filter(pk=membership.pk).update(decided_by=by)
    log_action(
        council=village,
        actor=by,
        verb=ActionVerb.GRANT_ROLE,
        target=f"{council.title} · {Role(role).label} · {user.public_name}",
    )
    return membership


@transaction.atomic
def remove_role(*, by, membership: Membership, reason: str) -> Membership:
    """End a representative's, supervisor's or grid worker's role, with a reason kept in the log.

    A representative is not removed while a representatives' meeting of the village is
    scheduled and the roster it would get without them breaks the 4/5 rule (art. 25): appoint
    the replacement first, or postpone the meeting."""
    membership = (
        Membership.objects.select_for_update()
        .select_related("council", "user")
        .get(pk=membership.pk)
    )
    council = membership.council
    village = council
    if council.level == Level.GRID:
        village = CouncilPage.objects.get(path=council.path[: -council.steplen])
    _require_runs(by, village, _("Only the committee or a township official can remove roles."))
    if membership.role not in MANAGED_ROLES:
        raise ValidationError(
            _("The committee removes representatives, supervisors and grid workers only.")
        )
    if membership.status != MembershipStatus.VERIFIED:
        raise ValidationError(_("This role has already ended."))
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationError(
            _("Say why the role ends: the reason is kept in the committee's log.")
        )
    if membership.role == Role.REPRESENTATIVE:
        meeting = _scheduled_representatives_meetings(village).first()
        if meeting is not None:
            representatives, members = representatives_share(
                village, without_user_id=membership.user_id
            )
            if not meets_four_fifths(representatives, members):
                raise ValidationError(
                    _(
                        "The representatives' meeting “%(meeting)s” is scheduled: without this "
                        "representative, representatives would be %(reps)s of its %(members)s "
                        "members, less than four fifths (Organic Law of the Villagers' "
                        "Committees, art. 25). Appoint the new representative first, or "
                        "postpone the meeting."
                    )
                    % {"meeting": meeting.title, "reps": representatives, "members": members}
                )
    membership.status = MembershipStatus.REVOKED
    membership.decided_by = by
    membership.decided_at = timezone.now()
    membership.decision_reason = reason[:300]
    membership.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    if membership.role == Role.REPRESENTATIVE:
        # Households this person represented have no representative until a new one is chosen.
        Household.objects.filter(council=village, representative=membership.user).update(
            representative=None
        )
    forget_roles(membership.user)
    log_action(
        council=village,
        actor=by,
        verb=ActionVerb.REVOKE_ROLE,
        target=f"{council.title} · {membership.get_role_display()} · {membership.user.public_name}",
        reason=reason,
    )
    return membership


def _sub_council_slug(village: CouncilPage, level: str) -> str:
    taken = set(CouncilPage.objects.child_of(village).values_list("slug", flat=True))
    number = 1
    while f"{village.slug}-{level}-{number}" in taken:
        number += 1
    return f"{village.slug}-{level}-{number}"[:255]


@transaction.atomic
def create_sub_council(*, by, village: CouncilPage, level: str, title: str) -> CouncilPage:
    """Set up a grid, a council of rural worthies or a children's council under the village:
    a Wagtail page added to the tree and published (its first revision names `by`)."""
    if not by.has_perm("councils.add_council", village):
        raise PermissionDenied(_("Only the committee or a township official can set up a council."))
    if village.level != Level.VILLAGE or level not in SUB_COUNCIL_LEVELS:
        raise ValidationError(
            _("A village sets up grids, councils of rural worthies and children's councils only.")
        )
    from councils.models import check_parent_level

    title = " ".join((title or "").split())
    if len(title) < 2:
        raise ValidationError(_("Name the new council (at least 2 characters)."))
    if CouncilPage.objects.child_of(village).filter(title=title).exists():
        raise ValidationError(_("A council of this name already exists under the village."))
    check_parent_level(level, village)
    page = CouncilPage(title=title[:255], slug=_sub_council_slug(village, level), level=level)
    village.add_child(instance=page)
    # Our permission (councils.add_council) was checked above; a committee member holds no
    # Wagtail page permission, and the revision still names them in the page's history.
    actor = by if by.is_authenticated else None
    page.save_revision(user=actor).publish(user=actor, skip_permission_checks=True)
    log_action(
        council=village,
        actor=by,
        verb=ActionVerb.CREATE_COUNCIL,
        target=f"{Level(level).label} · {title}",
    )
    return page
