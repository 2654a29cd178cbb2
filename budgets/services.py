"""Use cases of participatory budgets: cycles, proposals, review, ballots, results, follow-up."""

import copy
import random
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from budgets import live, notices, sealing
from budgets.ballots import Rules, clean_choices, new_receipt_code, receipt_hash
from budgets.models import (
    PHASE_ORDER,
    Ballot,
    BallotChoice,
    BallotType,
    BudgetCycle,
    BudgetHall,
    Channel,
    Eligibility,
    Objection,
    Participation,
    Phase,
    PhaseKind,
    ProgressStatus,
    ProgressUpdate,
    Proposal,
    ProposalPhoto,
    ProposalStatus,
    Rating,
    ResultOverride,
    ResultSnapshot,
    Satisfaction,
    SealedBallot,
    SnapshotReason,
    SubBudget,
)
from budgets.predicates import voter_council
from budgets.rules import phase_refusal
from budgets.selectors import (  # noqa: F401  (Result, ProjectResult: their old home was here)
    ProjectResult,
    Result,
    funded_proposal_ids,
    latest_snapshot,
    results_from_snapshot,
    results_of,
)
from budgets.tally.profile import Ballot as TallyBallot
from budgets.tally.profile import Instance, Project
from budgets.tally.rules import tally
from core import state
from core.permissions import require_perm as _require
from core.realtime import broadcast_on_commit, group_name
from core.uploads import clean_photo, clean_photos
from councils.models import ActionVerb, Household, HouseholdMember
from deliberation import services as deliberation
from deliberation.models import TopicCategory


def _require_phase(cycle: BudgetCycle, action: str) -> None:
    """Refuse `action` outside its phase, in the words of budgets.rules (what views show)."""
    closed = phase_refusal(action, cycle)
    if closed:
        raise ValidationError(closed, code="phase")


# -- cycles -------------------------------------------------------------------------------------

DEFAULT_PHASE_DAYS = {
    PhaseKind.COLLECT: 14,
    PhaseKind.REVIEW: 7,
    PhaseKind.DELIBERATE: 7,
    PhaseKind.VOTE: 7,
    PhaseKind.RESULTS: 7,
    PhaseKind.IMPLEMENTATION: 120,
    PhaseKind.EVALUATION: 30,
}


@transaction.atomic
def create_cycle(
    *,
    by,
    council,
    title: str,
    total_amount: Decimal,
    starts_at=None,
    phase_days: dict | None = None,
    sub_budgets: dict | None = None,
    **options,
) -> BudgetCycle:
    """A council sets money aside; phases follow one another from `starts_at` (default now).

    `phase_days` overrides the default length of each phase; the results phase is the objection
    window (公示, 7 days by default). `sub_budgets` maps village councils to their share.
    """
    if by is not None:
        _require(
            by,
            "budgets.manage_cycle",
            council,
            _("Only the committee or a township official can create a budget."),
        )
    cycle = BudgetCycle(council=council, title=title.strip(), total_amount=total_amount, **options)
    cycle.full_clean()
    if cycle.satisfaction == Satisfaction.UTILITY and cycle.ballot_type not in (
        BallotType.CUMULATIVE,
        BallotType.RANKED,
    ):
        raise ValidationError(_("Points as satisfaction need cumulative or ranked ballots."))
    cycle.save()
    days = {**DEFAULT_PHASE_DAYS, **(phase_days or {})}
    if "objection_days" in options:
        days[PhaseKind.RESULTS] = options["objection_days"]
    start = starts_at or timezone.now()
    for kind in PHASE_ORDER:
        end = start + timedelta(days=days[kind])
        Phase.objects.create(cycle=cycle, kind=kind, starts_at=start, ends_at=end)
        start = end
    if sub_budgets:
        if sum(sub_budgets.values()) > total_amount:
            raise ValidationError(_("The villages' shares add up to more than the total."))
        for village, amount in sub_budgets.items():
            SubBudget.objects.create(cycle=cycle, council=village, amount=amount)
    return cycle


# -- proposals ----------------------------------------------------------------------------------


@transaction.atomic
def submit_proposal(
    *,
    author,
    cycle: BudgetCycle,
    title: str,
    description: str,
    estimated_cost: Decimal,
    category: str = TopicCategory.OTHER,
    location: str = "",
    beneficiaries: str = "",
    source_topic=None,
    photos=(),
) -> Proposal:
    """A verified resident proposes a micro-project, with up to three photos; it gets its own
    live debate in a hall."""
    _require(
        author,
        "budgets.submit_proposal",
        cycle,
        _("Only verified residents of this council can propose projects."),
    )
    _require_phase(cycle, "budgets.submit_proposal")
    title, description = title.strip(), description.strip()
    if not title or not description:
        raise ValidationError(_("A proposal needs a title and a description."))
    if estimated_cost is None or estimated_cost <= 0:
        raise ValidationError(_("The estimated cost must be more than 0 yuan."))
    # At most three, decoded under the pixel cap and re-encoded without EXIF/GPS.
    photos = clean_photos(photos)
    council = voter_council(author, cycle)
    sub_budget = cycle.sub_budgets.filter(council=council).first()
    proposal = Proposal.objects.create(
        cycle=cycle,
        sub_budget=sub_budget,
        author=author,
        title=title,
        description=description,
        estimated_cost=estimated_cost,
        category=category,
        location=location.strip(),
        beneficiaries=beneficiaries.strip(),
        source_topic=source_topic,
    )
    for photo in photos:
        ProposalPhoto.objects.create(proposal=proposal, image=photo)
    proposal.debate = open_debate(proposal=proposal, author=author)
    proposal.save(update_fields=["debate"])
    return proposal


def open_debate(*, proposal: Proposal, author):
    """The proposal's live debate is a topic in its council's hall for this cycle: the halls'
    machinery (messages, stances, moderation, catch-up) serves proposals unchanged. The hall is
    found by its key (BudgetHall), opened through deliberation's services the first time."""
    council = proposal.sub_budget.council if proposal.sub_budget else proposal.cycle.council
    link = budget_hall(cycle=proposal.cycle, council=council)
    return deliberation.open_linked_topic(
        hall=link.hall,
        author=author,
        title=proposal.title,
        description=proposal.description,
        location=proposal.location,
    )


def budget_hall(*, cycle: BudgetCycle, council) -> BudgetHall:
    """The cycle's debate hall in `council`, opened on first use. Two first proposals at once:
    the cycle row is locked, so only one hall is opened."""
    link = BudgetHall.objects.select_related("hall").filter(cycle=cycle, council=council).first()
    if link:
        return link
    BudgetCycle.objects.select_for_update().filter(pk=cycle.pk).first()
    link = BudgetHall.objects.select_related("hall").filter(cycle=cycle, council=council).first()
    if link:
        return link
    hall = deliberation.open_linked_hall(
        council=council,
        title=_("Participatory budget: %(title)s") % {"title": cycle.title},
        description=cycle.description,
    )
    return BudgetHall.objects.create(cycle=cycle, council=council, hall=hall)


def promote_topic(*, by, topic, cycle: BudgetCycle, estimated_cost: Decimal) -> Proposal:
    """Turn a hall topic into a micro-project proposal of an open cycle, keeping the link."""
    _require(
        by,
        "budgets.review_proposal",
        cycle,
        _("Only the committee can promote a topic into a proposal."),
    )
    if topic.hall.council_id not in {
        cycle.council_id,
        *cycle.sub_budgets.values_list("council_id", flat=True),
    }:
        raise ValidationError(_("This topic belongs to another council."))
    return submit_proposal(
        author=topic.author,
        cycle=cycle,
        title=topic.title,
        description=topic.description,
        estimated_cost=estimated_cost,
        location=topic.location,
        source_topic=topic,
    )


@transaction.atomic
def review_proposal(
    *, by, proposal: Proposal, feasible: bool, reason: str, checked_cost: Decimal | None = None
) -> Proposal:
    """The committee records feasibility and a checked cost, with a public reason."""
    proposal = Proposal.objects.select_for_update().select_related("cycle").get(pk=proposal.pk)
    _require(
        by, "budgets.review_proposal", proposal.cycle, _("Only the committee can review proposals.")
    )
    _require_phase(proposal.cycle, "budgets.review_proposal")
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("Give a reason: residents will read it."))
    if checked_cost is not None and checked_cost <= 0:
        raise ValidationError(_("The checked cost must be more than 0 yuan."))
    proposal.status = ProposalStatus.FEASIBLE if feasible else ProposalStatus.REJECTED
    proposal.checked_cost = checked_cost
    proposal.review_reason = reason
    proposal.reviewed_by = by
    proposal.reviewed_at = timezone.now()
    proposal.save()
    return proposal


# -- ballots --------------------------------------------------------------------------------------


BALLOT_CACHE_SECONDS = 60
# Each worker keeps its copy this long before asking the shared cache again. A change made
# through another worker reaches this one within that time; the vote's own phase check never
# depends on it (see cast_ballot).
BALLOT_LOCAL_SECONDS = 5.0
_local_cycles: dict[int, tuple[float, BudgetCycle]] = {}
state.register("budgets.services._local_cycles", _local_cycles.clear)


def _ballot_cache_key(cycle_id: int) -> str:
    return f"budgets:ballot-cycle:{cycle_id}"


def cycle_for_ballot(pk: int) -> BudgetCycle | None:
    """The cycle with its council, phases, sub-budgets and the proposals on its ballots, read
    once and kept in memory and in the shared cache: on vote day every ballot needs them, and
    they do not change while the vote is open. Any change to a cycle, phase, sub-budget or
    proposal drops the copies (budgets.signals); the phase check that counts is made again in
    the ballot's own write (`cast_ballot`), so a stale copy never lets a ballot in after the
    close. Treat the returned object as read-only: it is shared by concurrent requests."""
    local = _local_cycles.get(pk)
    if local is not None and local[0] > time.monotonic():
        return local[1]
    key = _ballot_cache_key(pk)
    cycle = cache.get(key)
    if cycle is None:
        cycle = (
            BudgetCycle.objects.select_related("council")
            .prefetch_related(
                "phases",
                "sub_budgets",
                Prefetch(
                    "proposals",
                    queryset=Proposal.objects.filter(status=ProposalStatus.FEASIBLE).order_by("pk"),
                    to_attr="ballot_proposal_list",
                ),
            )
            .filter(pk=pk)
            .first()
        )
        if cycle is None:
            return None
        cache.set(key, cycle, BALLOT_CACHE_SECONDS)
    _local_cycles[pk] = (time.monotonic() + BALLOT_LOCAL_SECONDS, cycle)
    return cycle


def forget_ballot_cycle(cycle_id: int) -> None:
    """Drop the cached copies now and again once the change commits (a request that read the
    old rows in between must not leave them in the cache)."""
    key = _ballot_cache_key(cycle_id)

    def forget():
        _local_cycles.pop(cycle_id, None)
        cache.delete(key)

    forget()
    transaction.on_commit(forget)


def ballot_proposals(cycle: BudgetCycle, sub_budget: SubBudget | None) -> list[Proposal]:
    """The feasible proposals on the ballot of `sub_budget` (or of the whole cycle)."""
    prefetched = getattr(cycle, "ballot_proposal_list", None)
    if prefetched is not None:
        # Copies: the cached cycle is shared, and pages mark the voter's choices on these.
        return [
            copy.copy(p)
            for p in prefetched
            if sub_budget is None or p.sub_budget_id == sub_budget.pk
        ]
    queryset = cycle.proposals.filter(status=ProposalStatus.FEASIBLE)
    if sub_budget is not None:
        queryset = queryset.filter(sub_budget=sub_budget)
    return list(queryset.order_by("pk"))


def ballot_costs(cycle: BudgetCycle, sub_budget: SubBudget | None) -> dict[int, Decimal]:
    """The cost of each proposal on the ballot paper, read from the cached cycle without copying
    the proposals (the ballot path needs only these)."""
    prefetched = getattr(cycle, "ballot_proposal_list", None)
    if prefetched is None:
        return {p.pk: p.cost for p in ballot_proposals(cycle, sub_budget)}
    return {
        p.pk: p.cost for p in prefetched if sub_budget is None or p.sub_budget_id == sub_budget.pk
    }


def ballot_rules(cycle: BudgetCycle, sub_budget: SubBudget | None) -> Rules:
    return Rules(
        ballot_type=cycle.ballot_type,
        budget=sub_budget.amount if sub_budget else cycle.total_amount,
        max_choices=cycle.max_choices,
        min_choices=cycle.min_choices,
        points=cycle.points,
    )


@dataclass
class VoterPlace:
    """Where a voter votes: their sub-budget (or None) and, in household mode, their household."""

    sub_budget: SubBudget | None
    household: Household | None = None


def voter_place(voter, cycle: BudgetCycle) -> VoterPlace:
    council = voter_council(voter, cycle)
    if council is None:
        raise PermissionDenied(_("Only verified residents of this council can vote here."))
    sub_budget = next((s for s in cycle.sub_budgets.all() if s.council_id == council.pk), None)
    household = None
    if cycle.eligibility == Eligibility.HOUSEHOLD:
        household = Household.objects.filter(council=council, head=voter).first()
        if household is None:
            raise PermissionDenied(
                _("This vote is one per household: only the household head votes.")
            )
    return VoterPlace(sub_budget=sub_budget, household=household)


def member_place(member: HouseholdMember, cycle: BudgetCycle) -> VoterPlace:
    """Where a villager on the household register votes (always on paper)."""
    council_id = member.household.council_id
    sub_budgets = list(cycle.sub_budgets.all())
    if sub_budgets:
        sub_budget = next((s for s in sub_budgets if s.council_id == council_id), None)
        if sub_budget is None:
            raise PermissionDenied(_("This person is not on the register of this council."))
    elif council_id != cycle.council_id:
        raise PermissionDenied(_("This person is not on the register of this council."))
    else:
        sub_budget = None
    household = None
    if cycle.eligibility == Eligibility.HOUSEHOLD:
        if not member.is_head:
            raise PermissionDenied(
                _("This vote is one per household: only the household head votes.")
            )
        household = member.household
    return VoterPlace(sub_budget=sub_budget, household=household)


@dataclass
class CastResult:
    receipt_code: str
    participation_id: int
    channel: str
    choices: dict[int, int]
    replaced: bool = False
    replacements_left: int = 0


def cast_ballot(
    *,
    cycle: BudgetCycle,
    choices: dict[int, int],
    voter=None,
    member: HouseholdMember | None = None,
    replace: bool = False,
    channel: str = Channel.ONLINE,
    entered_by=None,
) -> CastResult:
    """Record one secret ballot and the voter's participation, sealed (docs/ballots.md).

    The participation row (unique per cycle and voter, per register entry, and per household in
    一户一票 mode) says who voted. What they voted is sealed beside it (budgets.sealing) under a
    key the database does not hold, and becomes a public, unlinkable ballot only when the vote
    closes (`open_ballots`). The voter gets a receipt code; only its hash is ever stored, inside
    the seal. `replace=True` replaces the voter's own ballot (never anybody else's: the sealed
    ballot is found through the voter's participation, not through a receipt)."""
    _require_phase(cycle, "budgets.cast_ballot")
    if member is not None:
        place = member_place(member, cycle)
        voter = member.user  # an account holder on the register still votes once
        channel = Channel.PAPER
    else:
        place = voter_place(voter, cycle)
    costs = ballot_costs(cycle, place.sub_budget)
    cleaned = clean_choices(ballot_rules(cycle, place.sub_budget), costs, choices)
    code = new_receipt_code()
    participation = Participation(
        cycle=cycle,
        voter=voter,
        member=member,
        household=place.household,
        channel=channel,
        entered_by=entered_by,
        created=timezone.now(),
    )
    sealed = sealing.seal(
        context=participation.seal_context,
        sub_budget_id=place.sub_budget.pk if place.sub_budget else None,
        receipt_hash=receipt_hash(code),
        ballot_paper=costs,
        choices=cleaned,
    )
    if replace:
        left = _replace_ballot(participation, sealed)
        return CastResult(
            receipt_code=code,
            participation_id=participation.pk,
            channel=channel,
            choices=cleaned,
            replaced=True,
            replacements_left=left,
        )
    record = _record_first_ballot_pg if connection.vendor == "postgresql" else _record_first_ballot
    vote_open, recorded = record(participation, sealed)
    if not vote_open:
        raise ValidationError(_("Voting is not open now."), code="phase")
    if not recorded:
        raise ValidationError(_already_voted_message(cycle, voter, member), code="already_voted")
    live.ballot_cast(cycle.pk)  # the turnout frame, throttled, after commit (budgets/live.py)
    return CastResult(
        receipt_code=code,
        participation_id=participation.pk,
        channel=channel,
        choices=cleaned,
        replacements_left=cycle.max_replacements if channel == Channel.ONLINE else 0,
    )


def _already_voted_message(cycle, voter, member) -> str:
    if member is not None and Participation.objects.filter(cycle=cycle, member=member).exists():
        return _("This person has already voted.")
    if voter is not None and Participation.objects.filter(cycle=cycle, voter=voter).exists():
        if member is not None:
            return _("This person has already voted.")
        return _(
            "You have already voted. To change your vote, choose to replace your ballot "
            "before the vote closes."
        )
    return _("Someone in your household has already voted.")


def _vote_open_now(cycle_id: int, now) -> bool:
    """The phase check that counts: read in the ballot's own transaction, not from a cache, and
    refused once the ballots have been opened (a ballot arriving then could not be counted)."""
    return (
        Phase.objects.filter(
            cycle_id=cycle_id, kind=PhaseKind.VOTE, starts_at__lte=now, ends_at__gt=now
        ).exists()
        and BudgetCycle.objects.filter(pk=cycle_id, ballots_opened_at__isnull=True).exists()
    )


def _record_first_ballot(participation, sealed: bytes) -> tuple[bool, bool]:
    """Portable path: the participation and its sealed ballot in one transaction. A second vote
    by the same voter (or household, or register entry) breaks a unique constraint and rolls
    the whole ballot back."""
    try:
        with transaction.atomic():
            if not _vote_open_now(participation.cycle_id, participation.created):
                return False, False
            participation.save(force_insert=True)
            SealedBallot.objects.create(
                participation=participation, cycle_id=participation.cycle_id, sealed=sealed
            )
    except IntegrityError:
        return True, False
    return True, True


# PostgreSQL: the phase check and both inserts in one statement, one round trip. The unique
# constraints on participation decide a race (ON CONFLICT DO NOTHING: the later request inserts
# nothing, and so no ballot); a statement is atomic, so no transaction block is needed. Its
# tables are locked before its snapshot is taken, so a ballot blocked by `open_ballots`'s table
# lock sees the cycle opened and is refused (tests/budgets/test_secrecy_pg.py).
_FIRST_BALLOT_SQL = """
WITH open_vote AS (
    SELECT 1 FROM {phase}
    WHERE cycle_id = %(cycle)s AND kind = %(vote)s AND starts_at <= %(now)s AND ends_at > %(now)s
      AND EXISTS (SELECT 1 FROM {cycle} WHERE id = %(cycle)s AND ballots_opened_at IS NULL)
), participation AS (
    INSERT INTO {participation} (cycle_id, voter_id, member_id, household_id, channel,
                                 entered_by_id, replacements, created)
    SELECT %(cycle)s, %(voter)s, %(member)s, %(household)s, %(channel)s, %(entered_by)s, 0,
           %(now)s
    WHERE EXISTS (SELECT 1 FROM open_vote)
    ON CONFLICT DO NOTHING
    RETURNING id
), sealed AS (
    INSERT INTO {sealed} (participation_id, cycle_id, sealed)
    SELECT participation.id, %(cycle)s, %(sealed)s FROM participation
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM open_vote), (SELECT id FROM participation)
"""


def _record_first_ballot_pg(participation, sealed: bytes) -> tuple[bool, bool]:
    sql = _FIRST_BALLOT_SQL.format(
        phase=Phase._meta.db_table,
        cycle=BudgetCycle._meta.db_table,
        participation=Participation._meta.db_table,
        sealed=SealedBallot._meta.db_table,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                "cycle": participation.cycle_id,
                "vote": PhaseKind.VOTE,
                "now": participation.created,
                "voter": participation.voter_id,
                "member": participation.member_id,
                "household": participation.household_id,
                "channel": participation.channel,
                "entered_by": participation.entered_by_id,
                "sealed": sealed,
            },
        )
        vote_open, participation_id = cursor.fetchone()
    if participation_id is not None:
        participation.pk = participation_id
        participation._state.adding, participation._state.db = False, connection.alias
    return vote_open, participation_id is not None


@transaction.atomic
def _replace_ballot(new: Participation, sealed: bytes) -> int:
    """Replace the sealed ballot of the voter's own participation; returns the changes left.

    The participation row is locked, so two replacements cannot race past the cap. Only an
    online voter replaces, and only their own ballot: nothing here is found by a receipt."""
    participation = (
        Participation.objects.select_for_update()
        .filter(cycle_id=new.cycle_id, voter=new.voter)
        .first()
        if new.voter_id
        else None
    )
    if participation is None:
        raise ValidationError(
            _("You have not voted yet: there is no ballot to replace."), code="not_voted"
        )
    if participation.channel == Channel.PAPER or new.channel == Channel.PAPER:
        raise ValidationError(_("A paper ballot cannot be replaced."), code="paper")
    cycle = BudgetCycle.objects.only("max_replacements").get(pk=new.cycle_id)
    if participation.replacements >= cycle.max_replacements:
        raise ValidationError(
            _("You have already changed your ballot %(n)d times, the most this vote allows.")
            % {"n": participation.replacements},
            code="too_many_replacements",
        )
    if not _vote_open_now(new.cycle_id, timezone.now()):
        raise ValidationError(_("Voting is not open now."), code="phase")
    if participation.household_id != new.household_id:
        raise ValidationError(_("Your household has changed since you voted."), code="household")
    # Sealed against the stored participation (same cycle, voter and channel: same context).
    if not SealedBallot.objects.filter(participation=participation).update(sealed=sealed):
        # Opened meanwhile (the vote closed): nothing is replaced.
        raise ValidationError(_("Voting is not open now."), code="phase")
    participation.replacements += 1
    participation.save(update_fields=["replacements"])
    new.pk = participation.pk
    return cycle.max_replacements - participation.replacements


def enter_paper_ballot(
    *,
    officer,
    cycle: BudgetCycle,
    choices: dict[int, int],
    voter=None,
    member: HouseholdMember | None = None,
) -> CastResult:
    """An officer enters a paper ballot for a voter with an account, or for a villager on the
    household register; either is checked against the roll like any other ballot, once."""
    _require(
        officer,
        "budgets.enter_paper_ballot",
        cycle,
        _("Only the committee can enter paper ballots."),
    )
    if (voter is None) == (member is None):
        raise ValidationError(_("Choose the voter: a mobile number or a register entry."))
    return cast_ballot(
        voter=voter,
        member=member,
        cycle=cycle,
        choices=choices,
        channel=Channel.PAPER,
        entered_by=officer,
    )


def sealed_choices(*, participation_id: int, receipt_code: str) -> dict[int, int] | None:
    """Before the vote closes: the choices sealed for a participation, if `receipt_code` is the
    receipt of that very ballot (so the page right after casting shows what was recorded)."""
    row = (
        SealedBallot.objects.select_related("participation")
        .filter(participation_id=participation_id)
        .first()
    )
    if row is None:
        return None
    try:
        opened = sealing.unseal(row.sealed, context=row.participation.seal_context)
    except sealing.SealError:
        return None
    return opened.choices if opened.receipt_hash == receipt_hash(receipt_code) else None


def find_ballot(*, cycle: BudgetCycle, receipt_code: str) -> Ballot | None:
    """The public ballot a receipt code belongs to, once the vote has closed and the ballots are
    open, so its voter can check it was counted as cast."""
    if not cycle.vote_closed():
        return None
    ensure_opened(cycle)
    return (
        Ballot.objects.filter(cycle=cycle, receipt_hash=receipt_hash(receipt_code))
        .prefetch_related("choices__proposal")
        .first()
    )


# -- opening the ballots --------------------------------------------------------------------------


class BallotCountError(ValidationError):
    """Participations and ballots do not match: results are not computed nor published."""


def ensure_opened(cycle: BudgetCycle) -> None:
    """Open the cycle's sealed ballots if the vote has closed and any are still sealed."""
    if cycle.vote_closed() and SealedBallot.objects.filter(cycle_id=cycle.pk).exists():
        open_ballots(cycle=cycle)


def open_ballots(*, cycle: BudgetCycle) -> int:
    """Turn every sealed ballot of a closed vote into a public ballot, unlinkably.

    In one transaction: decrypt each sealed ballot (refusing the lot if any fails its check),
    shuffle them with the cycle's already-public ballots (a late one, or an imported list), write
    them all again in that random order under new random keys, and delete the sealed rows. Every
    public ballot of the cycle then has the same transaction id, and row order, keys and
    positions are a fresh random permutation: nothing links one to a participation. On
    PostgreSQL the sealed table is locked first, so a ballot still being cast either commits
    before (and is opened now) or is refused after (budgets.services._vote_open_now)."""
    if not cycle.vote_closed():
        raise ValidationError(_("Ballots are opened only after the vote closes."))
    with transaction.atomic():
        # Always this order (cycle row, then the sealed table), here and in publish_results.
        locked = BudgetCycle.objects.select_for_update().get(pk=cycle.pk)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    f"LOCK TABLE {SealedBallot._meta.db_table} IN SHARE ROW EXCLUSIVE MODE"
                )
        sealed = list(
            SealedBallot.objects.filter(cycle_id=cycle.pk).select_related("participation")
        )
        if not sealed:
            if locked.ballots_opened_at is None:
                locked.ballots_opened_at = timezone.now()
                locked.save(update_fields=["ballots_opened_at"])
            return 0
        ballots = []
        for row in sealed:
            try:
                opened = sealing.unseal(row.sealed, context=row.participation.seal_context)
            except sealing.SealError as error:
                raise BallotCountError(
                    _("A sealed ballot fails its check: the database was altered. Nothing opened.")
                ) from error
            ballots.append(
                (opened.sub_budget_id, opened.receipt_hash, row.participation.channel, opened)
            )
        public: dict = {}
        for ballot_id, sub_budget_id, digest, channel in Ballot.objects.filter(
            cycle_id=cycle.pk
        ).values_list("id", "sub_budget_id", "receipt_hash", "channel"):
            public[ballot_id] = (sub_budget_id, digest, channel, {})
        for ballot_id, proposal_id, value in BallotChoice.objects.filter(
            ballot__cycle_id=cycle.pk
        ).values_list("ballot_id", "proposal_id", "value"):
            public[ballot_id][3][proposal_id] = value
        everything = [
            (sub, digest, channel, sealing.Opened(sub, digest, picks))
            for sub, digest, channel, picks in public.values()
        ] + ballots
        random.SystemRandom().shuffle(everything)
        BallotChoice.objects.filter(ballot__cycle_id=cycle.pk).delete()
        Ballot.objects.filter(cycle_id=cycle.pk).delete()
        SealedBallot.objects.filter(cycle_id=cycle.pk).delete()
        rows, picks = [], []
        for sub_budget_id, digest, channel, opened in everything:
            ballot = Ballot(
                id=uuid.uuid4(),
                cycle_id=cycle.pk,
                sub_budget_id=sub_budget_id,
                receipt_hash=digest,
                channel=channel,
            )
            rows.append(ballot)
            picks.extend(
                BallotChoice(ballot=ballot, proposal_id=pk, value=value)
                for pk, value in sorted(opened.choices.items())
            )
        Ballot.objects.bulk_create(rows, batch_size=2000)
        BallotChoice.objects.bulk_create(picks, batch_size=5000)
        locked.ballots_opened_at = timezone.now()
        locked.save(update_fields=["ballots_opened_at"])
        forget_ballot_cycle(cycle.pk)
    return len(ballots)


def ballot_count_problems(cycle: BudgetCycle) -> list[str]:
    """Every participation has exactly one ballot, paper and online alike: counted per channel
    (sealed and public ballots together). Empty when the counts hold."""
    participations = dict(
        Participation.objects.filter(cycle_id=cycle.pk)
        .values_list("channel")
        .annotate(n=Count("pk"))
        .values_list("channel", "n")
    )
    ballots: dict[str, int] = {}
    for channel, n in (
        Ballot.objects.filter(cycle_id=cycle.pk)
        .values_list("channel")
        .annotate(n=Count("pk"))
        .values_list("channel", "n")
    ):
        ballots[channel] = ballots.get(channel, 0) + n
    for channel, n in (
        SealedBallot.objects.filter(cycle_id=cycle.pk)
        .values_list("participation__channel")
        .annotate(n=Count("pk"))
        .values_list("participation__channel", "n")
    ):
        ballots[channel] = ballots.get(channel, 0) + n
    problems = []
    for channel in Channel:
        if cycle.imported_from and not participations:
            continue  # an imported election has its ballots but no participations
        expected, found = participations.get(channel.value, 0), ballots.get(channel.value, 0)
        if expected != found:
            problems.append(
                _("%(channel)s: %(participations)d people voted but there are %(ballots)d ballots.")
                % {"channel": channel.label, "participations": expected, "ballots": found}
            )
    return problems


def check_ballot_counts(cycle: BudgetCycle) -> None:
    problems = ballot_count_problems(cycle)
    if problems:
        raise BallotCountError(
            [_("The ballots do not match the participations; results are withheld.")] + problems
        )


# -- results --------------------------------------------------------------------------------------

VOTE_TYPES = {
    BallotType.APPROVAL: "approval",
    BallotType.KNAPSACK: "approval",
    BallotType.CUMULATIVE: "cumulative",
    BallotType.RANKED: "ordinal",
}


def tally_id(proposal: Proposal) -> str:
    """The id a project has in the tally: an imported election keeps its own ids, so that ties
    (broken by id) fall exactly as in the original count."""
    return proposal.external_id or str(proposal.pk)


def election_for(cycle: BudgetCycle, sub_budget: SubBudget | None):
    """The cycle's ballots as plain tally data (pabulib shape): one query for all choices."""
    proposals = ballot_proposals(cycle, sub_budget)
    budget = sub_budget.amount if sub_budget else cycle.total_amount
    instance = Instance(
        budget=Fraction(budget),
        projects={
            tally_id(p): Project(tally_id(p), Fraction(p.cost), {"name": p.title})
            for p in proposals
        },
        vote_type=VOTE_TYPES[cycle.ballot_type],
        meta={"description": cycle.title, "unit": cycle.council.title},
    )
    ballots: dict = {}
    choices = BallotChoice.objects.filter(ballot__cycle=cycle).order_by(
        "ballot_id", "value", "proposal_id"
    )
    if sub_budget is not None:
        choices = choices.filter(ballot__sub_budget=sub_budget)
    ids = {p.pk: tally_id(p) for p in proposals}
    for ballot_id, proposal_id, value in choices.values_list("ballot_id", "proposal_id", "value"):
        ballots.setdefault(ballot_id, []).append((ids.get(proposal_id, ""), value))
    profile = []
    for index, (_ballot_id, picks) in enumerate(sorted(ballots.items(), key=lambda kv: str(kv[0]))):
        picks = [(pk, value) for pk, value in picks if pk in instance.projects]
        points = (
            tuple(Fraction(v) for _pk, v in picks)
            if cycle.ballot_type == BallotType.CUMULATIVE
            else None
        )
        profile.append(
            TallyBallot(
                projects=tuple(pk for pk, _v in picks), points=points, voter_id=str(index + 1)
            )
        )
    return instance, profile, proposals


def compute_results(cycle: BudgetCycle) -> list[Result]:
    """Tally the cycle (per sub-budget when it has them) with its stored rule and variant.

    The ballots are opened first if the vote has closed, and counted against the participations:
    a mismatch raises BallotCountError instead of a result."""
    ensure_opened(cycle)
    check_ballot_counts(cycle)
    results = []
    overrides = {o.proposal_id: o for o in ResultOverride.objects.filter(proposal__cycle=cycle)}
    for sub_budget in list(cycle.sub_budgets.select_related("council")) or [None]:
        instance, profile, proposals = election_for(cycle, sub_budget)
        outcome = tally(
            instance,
            profile,
            rule=cycle.rule,
            sat=cycle.satisfaction,
            complete_greedy=cycle.complete_greedy,
        )
        explained = outcome.to_json()
        why = {f["project_id"]: {"funded": True, **f} for f in explained["funded"]}
        why.update({u["project_id"]: {"funded": False, **u} for u in explained["unfunded"]})
        votes: dict[str, int] = {}
        for ballot in profile:
            for index, pk in enumerate(ballot.projects):
                votes[pk] = votes.get(pk, 0) + (int(ballot.points[index]) if ballot.points else 1)
        selected = set(outcome.selected)
        rows = []
        for proposal in proposals:
            key = tally_id(proposal)
            override = overrides.get(proposal.pk)
            funded = override.funded if override else key in selected
            rows.append(
                ProjectResult(
                    proposal=proposal,
                    votes=votes.get(key, 0),
                    funded=funded,
                    explanation=why.get(key, {}),
                    overridden=override,
                )
            )
        rows.sort(key=lambda r: (not r.funded, -r.votes, r.proposal.pk))
        results.append(
            Result(
                sub_budget=sub_budget,
                budget=sub_budget.amount if sub_budget else cycle.total_amount,
                ballots=len(profile),
                outcome=outcome,
                projects=rows,
            )
        )
    return results


def results_frame(cycle: BudgetCycle) -> dict:
    """The small payload pushed to everyone watching the results page (from the stored results
    once published)."""
    return {
        "type": "results",
        "cycle": cycle.pk,
        "published": cycle.results_published_at.isoformat() if cycle.results_published_at else None,
        "funded": [
            {
                "id": row.proposal.pk,
                "title": row.proposal.title,
                "votes": row.votes,
                "cost": str(row.proposal.cost),
            }
            for result in results_of(cycle)
            for row in result.projects
            if row.funded
        ],
    }


# -- stored results -------------------------------------------------------------------------------

RESULT_SNAPSHOT_SCHEMA = 1
"""budgets.ResultSnapshot.content, version 1:

    {"schema": 1, "cycle": id, "published_at": iso, "rule": str, "satisfaction": str,
     "complete_greedy": bool, "ballot_type": str, "ballot_count": int,
     "results": [{"sub_budget": id | null, "council": title | null, "budget": "yuan",
                  "ballots": int, "used": "yuan",
                  "projects": [{"id": int, "title": str, "cost": "yuan", "votes": int,
                                "funded": bool, "explanation": {...the tally's why...},
                                "overridden": bool}]}],
     "overrides": [{"proposal": id, "title": str, "funded": bool, "reason": str,
                    "by": user id, "at": iso}]}

Money is a string (Decimal), projects are in the published order (funded first, then votes)."""


def _override_entry(override: ResultOverride, title: str) -> dict:
    return {
        "proposal": override.proposal_id,
        "title": title,
        "funded": override.funded,
        "reason": override.reason,
        "by": override.by_id,
        "at": override.created.isoformat() if override.created else None,
    }


def snapshot_content(cycle: BudgetCycle, results: list[Result]) -> dict:
    """The stored form of `results` (RESULT_SNAPSHOT_SCHEMA)."""
    overrides = []
    stored = []
    for result in results:
        stored.append(
            {
                "sub_budget": result.sub_budget.pk if result.sub_budget else None,
                "council": result.sub_budget.council.title if result.sub_budget else None,
                "budget": str(result.budget),
                "ballots": result.ballots,
                "used": str(result.used),
                "projects": [
                    {
                        "id": row.proposal.pk,
                        "title": row.proposal.title,
                        "cost": str(row.proposal.cost),
                        "votes": row.votes,
                        "funded": row.funded,
                        "explanation": row.explanation,
                        "overridden": row.overridden is not None,
                    }
                    for row in result.projects
                ],
            }
        )
        overrides.extend(
            _override_entry(row.overridden, row.proposal.title)
            for row in result.projects
            if row.overridden is not None
        )
    return {
        "schema": RESULT_SNAPSHOT_SCHEMA,
        "cycle": cycle.pk,
        "published_at": cycle.results_published_at.isoformat()
        if cycle.results_published_at
        else None,
        "rule": cycle.rule,
        "satisfaction": cycle.satisfaction,
        "complete_greedy": cycle.complete_greedy,
        "ballot_type": cycle.ballot_type,
        "ballot_count": sum(result.ballots for result in results),
        "results": stored,
        "overrides": sorted(overrides, key=lambda o: o["proposal"]),
    }


def _with_override(content: dict, override: ResultOverride) -> dict:
    """A copy of stored results with one more (or a changed) override: the project's funded
    flag follows it and the order is redone. The ballots are not counted again."""
    content = copy.deepcopy(content)
    title = ""
    for result in content["results"]:
        for project in result["projects"]:
            if project["id"] == override.proposal_id:
                project["funded"] = override.funded
                project["overridden"] = True
                title = project["title"]
        result["projects"].sort(key=lambda p: (not p["funded"], -p["votes"], p["id"]))
        result["used"] = str(
            sum((Decimal(p["cost"]) for p in result["projects"] if p["funded"]), Decimal("0"))
        )
    content["overrides"] = sorted(
        [o for o in content["overrides"] if o["proposal"] != override.proposal_id]
        + [_override_entry(override, title)],
        key=lambda o: o["proposal"],
    )
    return content


def _store_snapshot(*, cycle: BudgetCycle, content: dict, by, reason: str) -> ResultSnapshot:
    """Append the next version (the caller holds the cycle's row lock)."""
    previous = ResultSnapshot.objects.filter(cycle_id=cycle.pk).order_by("-version").first()
    previous_digest = previous.digest if previous else ""
    return ResultSnapshot.objects.create(
        cycle_id=cycle.pk,
        version=previous.version + 1 if previous else 1,
        reason=reason,
        content=content,
        previous_digest=previous_digest,
        digest=ResultSnapshot.digest_of(content, previous_digest),
        by=by,
    )


@transaction.atomic
def store_missing_snapshot(*, cycle: BudgetCycle) -> ResultSnapshot:
    """Results published before snapshots existed are tallied one last time and stored."""
    cycle = BudgetCycle.objects.select_for_update().get(pk=cycle.pk)
    existing = ResultSnapshot.objects.filter(cycle_id=cycle.pk).order_by("-version").first()
    if existing is not None:
        return existing
    return _store_snapshot(
        cycle=cycle,
        content=snapshot_content(cycle, compute_results(cycle)),
        by=None,
        reason=SnapshotReason.BACKFILL,
    )


@transaction.atomic
def publish_results(*, by, cycle: BudgetCycle) -> BudgetCycle:
    """The committee publishes the tally once the vote has closed; watchers get it live.

    The ballots are opened and counted against the participations, the cycle's rule tallies them
    one last time, and the result is stored (budgets.ResultSnapshot, version 1): from then on
    every page, frame and check reads the stored result, never a new tally."""
    cycle = BudgetCycle.objects.select_for_update().get(pk=cycle.pk)
    _require(by, "budgets.publish_results", cycle, _("Only the committee publishes results."))
    if not cycle.vote_closed():
        raise ValidationError(_("Results are published only after the vote closes."))
    if cycle.results_published_at is not None:
        raise ValidationError(_("These results are already published."))
    ensure_opened(cycle)
    check_ballot_counts(cycle)  # refuse to publish when a ballot is missing or extra
    cycle.results_published_at = timezone.now()
    cycle.save(update_fields=["results_published_at"])
    _store_snapshot(
        cycle=cycle,
        content=snapshot_content(cycle, compute_results(cycle)),
        by=by,
        reason=SnapshotReason.PUBLISHED,
    )
    broadcast_on_commit(
        group_name("budget_cycle", cycle.pk),
        {"type": "cycle.results", "frame": results_frame(cycle)},
    )
    notices.announce_results(cycle, by=by)  # to the residents, with the publication
    return cycle


@transaction.atomic
def override_result(
    *, by, proposal: Proposal, funded: bool, reason: str, confirm_over_budget: bool = False
) -> ResultOverride:
    """Overrule the tally for one project; only with a reason, which is published.

    Funding a project that takes the funded total past the budget (the village's share, in a
    cycle with shares) needs `confirm_over_budget`; the results page then shows by how much.
    After publication an override appends a new version of the stored results (the ballots are
    not counted again); the latest version counts."""
    _require(
        by,
        "budgets.override_result",
        proposal.cycle,
        _("Only the committee can override a result."),
    )
    reason = reason.strip()
    if len(reason) < 10:
        raise ValidationError(_("Explain the override in at least 10 characters; it is published."))
    if not proposal.cycle.vote_closed():
        raise ValidationError(_("Results can be overridden only after the vote closes."))
    # One override at a time per cycle: two committee members cannot each stay within the budget
    # and together go past it.
    cycle = BudgetCycle.objects.select_for_update().get(pk=proposal.cycle_id)
    override, _created = ResultOverride.objects.update_or_create(
        proposal=proposal, defaults={"funded": funded, "reason": reason, "by": by}
    )
    content = None
    if cycle.results_published_at:
        content = _with_override(latest_snapshot(cycle).content, override)
        results = results_from_snapshot(ResultSnapshot(cycle_id=cycle.pk, content=content))
    else:
        results = compute_results(cycle) if funded and not confirm_over_budget else []
    if funded and not confirm_over_budget:
        for result in results:
            if result.over_by > 0 and any(
                row.proposal.pk == proposal.pk for row in result.projects
            ):
                # Raising rolls the override back with the transaction.
                raise ValidationError(
                    _(
                        "Funding this project brings the funded total to %(used)s yuan, "
                        "%(over)s yuan over the budget of %(budget)s yuan. Tick “I confirm "
                        "spending over the budget” to publish it anyway."
                    )
                    % {
                        "used": f"{result.used:,}",
                        "over": f"{result.over_by:,}",
                        "budget": f"{result.budget:,}",
                    },
                    code="over_budget",
                )
    if content is not None:
        _store_snapshot(cycle=cycle, content=content, by=by, reason=SnapshotReason.OVERRIDE)
        broadcast_on_commit(
            group_name("budget_cycle", cycle.pk),
            {"type": "cycle.results", "frame": results_frame(cycle)},
        )
    return override


# -- implementation and evaluation ----------------------------------------------------------------


@transaction.atomic
def post_progress(
    *,
    by,
    proposal: Proposal,
    status: str,
    note: str,
    spent_so_far: Decimal = Decimal("0"),
    photo=None,
) -> ProgressUpdate:
    cycle = BudgetCycle.objects.get(pk=proposal.cycle_id)  # fresh: publication state matters
    _require(by, "budgets.post_progress", cycle, _("Only the committee reports progress."))
    if proposal.pk not in funded_proposal_ids(cycle):
        raise ValidationError(_("Only funded projects have progress updates."))
    if cycle.objections.filter(answered_at__isnull=True).exists():
        raise ValidationError(
            _(
                "Implementation cannot start while an objection to the results is unanswered. "
                "Answer every objection on the results page first."
            ),
            code="objection_unanswered",
        )
    if not note.strip():
        raise ValidationError(_("Say what happened."))
    if spent_so_far < 0:
        raise ValidationError(_("Spending cannot be negative."))
    update = ProgressUpdate(
        proposal=proposal, status=status, note=note.strip(), spent_so_far=spent_so_far, by=by
    )
    if photo:
        update.photo = clean_photo(photo)
    update.full_clean()
    update.save()
    return update


@transaction.atomic
def rate_project(*, user, proposal: Proposal, score: int, comment: str = "") -> Rating:
    """A resident rates a finished project (满意度); one rating each, which they may change."""
    _require(
        user,
        "budgets.rate_project",
        proposal.cycle,
        _("Only residents of this council can rate its projects."),
    )
    if not proposal.updates.filter(status=ProgressStatus.DONE).exists():
        raise ValidationError(_("A project can be rated once it is done."))
    if not 1 <= int(score) <= 5:
        raise ValidationError(_("Give a score from 1 to 5."))
    rating, _created = Rating.objects.update_or_create(
        proposal=proposal, user=user, defaults={"score": int(score), "comment": comment.strip()}
    )
    return rating


# -- objections (异议) during 结果公示 ------------------------------------------------------------


@transaction.atomic
def file_objection(*, author, cycle: BudgetCycle, reason: str) -> Objection:
    """A verified resident objects to the results while they are on public notice (结果公示)."""
    cycle = BudgetCycle.objects.prefetch_related("phases", "sub_budgets").get(pk=cycle.pk)
    _require_phase(cycle, "budgets.file_objection")
    _require(
        author,
        "budgets.file_objection",
        cycle,
        _("Only verified residents of this council can object to its results."),
    )
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise ValidationError(
            _("Say what you object to and why, in at least 5 characters."), code="reason"
        )
    if len(reason) > 2000:
        raise ValidationError(_("Keep the reason under 2000 characters."), code="reason")
    return Objection.objects.create(cycle=cycle, author=author, reason=reason)


@transaction.atomic
def answer_objection(*, by, objection: Objection, answer: str) -> Objection:
    """The committee answers an objection publicly, once: the answer is never changed."""
    objection = Objection.objects.select_for_update().select_related("cycle").get(pk=objection.pk)
    _require(
        by,
        "budgets.answer_objection",
        objection.cycle,
        _("Only the committee answers objections."),
    )
    if objection.is_answered:
        raise ValidationError(
            _("This objection has already been answered; answers are never changed."),
            code="answered",
        )
    answer = (answer or "").strip()
    if len(answer) < 5:
        raise ValidationError(
            _("Write an answer of at least 5 characters; it is published."), code="answer"
        )
    if len(answer) > 2000:
        raise ValidationError(_("Keep the answer under 2000 characters."), code="answer")
    objection.answer = answer
    objection.answered_by = by
    objection.answered_at = timezone.now()
    objection.save(update_fields=["answer", "answered_by", "answered_at"])
    return objection


# -- ending a phase early or extending it (issue 14, point 5) -------------------------------------

PHASE_REASON_MIN = 4
PHASE_CHANGE_MAX = timedelta(days=366)


@transaction.atomic
def change_phase_end(*, by, cycle: BudgetCycle, phase: str, new_end, reason: str):
    """End a phase earlier or later than planned, with a public reason (budgets.PhaseChange).

    The phases after it move by the same amount, so the calendar stays contiguous and each
    phase keeps its length (the objection window of 结果公示 in particular). Refused: a new end
    in the past or before the phase starts; a phase already over, except a vote whose ballots
    are still sealed (a vote cut short by an outage can be reopened before the count); any
    change to the vote once its ballots have been opened (they are sealed until the vote
    closes: budgets.services.open_ballots), and once results are published. Ending the vote
    early is allowed with its reason, and the cycle page shows it prominently."""
    from budgets.models import PhaseChange, PhaseChangeKind
    from councils.services import log_action

    _require(
        by,
        "budgets.change_phase",
        cycle,
        _("Only the committee can change the calendar of the budget."),
    )
    locked = BudgetCycle.objects.select_for_update().select_related("council").get(pk=cycle.pk)
    phases = list(Phase.objects.select_for_update().filter(cycle=locked).order_by("starts_at"))
    target = next((p for p in phases if p.kind == phase), None)
    if target is None:
        raise ValidationError({"phase": _("This budget has no such phase.")})
    reason = " ".join((reason or "").split())
    if len(reason) < PHASE_REASON_MIN:
        raise ValidationError(
            {"reason": _("Give residents the reason (at least 4 characters): it is made public.")}
        )
    if new_end is None:
        raise ValidationError({"new_end": _("Give the new end date and time.")})
    now = timezone.now()
    # A minute of grace: "end now" typed on a phone is a few seconds old when it arrives.
    if new_end < now - timedelta(minutes=1):
        raise ValidationError(
            {"new_end": _("The new end is in the past. To end the phase now, give the time now.")}
        )
    new_end = max(new_end, now)
    if new_end <= target.starts_at:
        raise ValidationError({"new_end": _("The new end must come after the phase starts.")})
    if new_end == target.ends_at:
        raise ValidationError({"new_end": _("This is already the planned end.")})
    if phase == PhaseKind.VOTE and locked.ballots_opened_at is not None:
        raise ValidationError(
            _(
                "The ballots of this vote have been opened and counted: the vote can no longer "
                "be changed or reopened."
            )
        )
    if locked.results_published_at is not None and PHASE_ORDER.index(phase) <= PHASE_ORDER.index(
        PhaseKind.VOTE
    ):
        raise ValidationError(
            _("The results are published: the vote and what came before it stay as they were.")
        )
    if target.ends_at <= now and phase != PhaseKind.VOTE:
        raise ValidationError(_("This phase is over: its dates stay as they were."))
    delta = new_end - target.ends_at
    if delta > PHASE_CHANGE_MAX:
        raise ValidationError({"new_end": _("A phase is extended by at most a year at a time.")})
    old_end = target.ends_at
    later = [p for p in phases if p.starts_at >= target.ends_at and p.pk != target.pk]
    # Move the later phases first in the direction that never makes two phases overlap.
    for item in sorted(later, key=lambda p: p.starts_at, reverse=delta > timedelta(0)):
        item.starts_at += delta
        item.ends_at += delta
        item.save(update_fields=["starts_at", "ends_at"])
    target.ends_at = new_end
    target.save(update_fields=["ends_at"])
    kind = PhaseChangeKind.EXTEND if delta > timedelta(0) else PhaseChangeKind.END_EARLY
    change = PhaseChange.objects.create(
        cycle=locked,
        phase=phase,
        kind=kind,
        old_end=old_end,
        new_end=new_end,
        reason=reason[:500],
        by=by,
    )
    log_action(
        council=locked.council,
        actor=by,
        verb=ActionVerb.CHANGE_PHASE,
        target=f"{locked.title} · {PhaseKind(phase).label} · {PhaseChangeKind(kind).label}",
        reason=reason,
    )
    forget_ballot_cycle(locked.pk)
    return change
