"""Use cases of the councils app: joining a council and verifying residency."""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from councils.models import (
    ACTIVE_STATUSES,
    CouncilPage,
    Household,
    HouseholdMember,
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


@transaction.atomic
def save_household(*, council: CouncilPage, number: str, representative=None, by) -> Household:
    """Create a household, or update its representative; the representative must hold that role."""
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
    household, _created = Household.objects.get_or_create(council=council, number=number)
    household.representative = representative
    household.save(update_fields=["representative"])
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
