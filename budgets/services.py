"""Use cases of participatory budgets: cycles, proposals, review, ballots, results, follow-up."""

import copy
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from budgets import live
from budgets.ballots import Rules, clean_choices, new_receipt_code, receipt_hash
from budgets.models import (
    PHASE_ORDER,
    Ballot,
    BallotChoice,
    BallotType,
    BudgetCycle,
    Channel,
    Eligibility,
    Participation,
    Phase,
    PhaseKind,
    ProgressUpdate,
    Proposal,
    ProposalPhoto,
    ProposalStatus,
    Rating,
    ResultOverride,
    SubBudget,
)
from budgets.predicates import voter_council
from budgets.tally.profile import Ballot as TallyBallot
from budgets.tally.profile import Instance, Project
from budgets.tally.rules import tally
from core.permissions import require_perm as _require
from core.realtime import broadcast_on_commit, group_name
from core.uploads import PHOTO_MAX_COUNT, check_photo
from councils.models import Household


def _require_phase(cycle: BudgetCycle, kind: str, message: str) -> None:
    if cycle.phase_at() != kind:
        raise ValidationError(message, code="phase")


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
    if cycle.satisfaction == "utility" and cycle.ballot_type not in (
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
    category: str = "other",
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
    _require_phase(
        cycle, PhaseKind.COLLECT, _("Proposals are collected only in the proposal phase.")
    )
    title, description = title.strip(), description.strip()
    if not title or not description:
        raise ValidationError(_("A proposal needs a title and a description."))
    if estimated_cost is None or estimated_cost <= 0:
        raise ValidationError(_("The estimated cost must be more than 0 yuan."))
    photos = [photo for photo in photos if photo]
    if len(photos) > PHOTO_MAX_COUNT:
        raise ValidationError(_("You can add at most 3 photos."))
    for photo in photos:
        check_photo(photo)
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
    """The proposal's live debate is a topic in the council's budget hall: the halls' machinery
    (messages, stances, moderation, catch-up) serves proposals unchanged."""
    from deliberation.models import Hall, Topic, TopicEvent, TopicEventKind

    council = proposal.sub_budget.council if proposal.sub_budget else proposal.cycle.council
    hall, _created = Hall.objects.get_or_create(
        council=council,
        title=(_("Participatory budget: %(title)s") % {"title": proposal.cycle.title})[:100],
        defaults={"description": proposal.cycle.description[:1000]},
    )
    topic = Topic.objects.create(
        hall=hall,
        author=author,
        title=proposal.title[:120],
        description=proposal.description[:4000],
        location=proposal.location,
    )
    TopicEvent.objects.create(topic=topic, kind=TopicEventKind.RAISED, actor=author)
    return topic


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
    if proposal.cycle.phase_at() not in (PhaseKind.COLLECT, PhaseKind.REVIEW):
        raise ValidationError(_("Proposals can be reviewed only before deliberation starts."))
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


@dataclass
class CastResult:
    receipt_code: str
    ballot: Ballot
    replaced: bool = False
    choices: list = field(default_factory=list)


def cast_ballot(
    *,
    voter,
    cycle: BudgetCycle,
    choices: dict[int, int],
    replace_receipt: str = "",
    channel: str = Channel.ONLINE,
    entered_by=None,
) -> CastResult:
    """Record one secret ballot and the voter's participation in one transaction.

    The participation row (unique per cycle and voter, and per household in 一户一票 mode) says
    who voted; the ballot row says what, keyed by a random UUID and found only by the hash of
    the receipt code returned here. To replace a ballot before the vote closes, the voter gives
    the receipt of the ballot to replace (docs/ballots.md).
    """
    _require_phase(cycle, PhaseKind.VOTE, _("Voting is not open now."))
    place = voter_place(voter, cycle)
    costs = {p.pk: p.cost for p in ballot_proposals(cycle, place.sub_budget)}
    cleaned = clean_choices(ballot_rules(cycle, place.sub_budget), costs, choices)
    code = new_receipt_code()
    ballot = Ballot(
        id=uuid.uuid4(),
        cycle=cycle,
        sub_budget=place.sub_budget,
        receipt_hash=receipt_hash(code),
        channel=channel,
    )
    if replace_receipt:
        _replace_ballot(voter, cycle, replace_receipt, ballot, cleaned)
        return CastResult(receipt_code=code, ballot=ballot, replaced=True)
    participation = Participation(
        cycle=cycle,
        voter=voter,
        household=place.household,
        channel=channel,
        entered_by=entered_by,
        created=timezone.now(),
    )
    record = _record_first_ballot_pg if connection.vendor == "postgresql" else _record_first_ballot
    vote_open, recorded = record(participation, ballot, cleaned)
    if not vote_open:
        raise ValidationError(_("Voting is not open now."), code="phase")
    if not recorded:
        already = Participation.objects.filter(cycle=cycle, voter=voter).exists()
        raise ValidationError(
            _("You have already voted. To change your vote, give the receipt code of your ballot.")
            if already
            else _("Someone in your household has already voted."),
            code="already_voted",
        )
    live.ballot_cast(cycle.pk)  # the turnout frame, throttled, after commit (budgets/live.py)
    return CastResult(receipt_code=code, ballot=ballot)


def _vote_open_now(cycle_id: int, now) -> bool:
    """The phase check that counts: read in the ballot's own transaction, not from a cache."""
    return Phase.objects.filter(
        cycle_id=cycle_id, kind=PhaseKind.VOTE, starts_at__lte=now, ends_at__gt=now
    ).exists()


def _record_first_ballot(participation, ballot, cleaned) -> tuple[bool, bool]:
    """Portable path: participation, ballot and choices in one transaction. A second vote by the
    same voter (or household) breaks a unique constraint and rolls the whole ballot back."""
    try:
        with transaction.atomic():
            if not _vote_open_now(participation.cycle_id, participation.created):
                return False, False
            participation.save(force_insert=True)
            ballot.save(force_insert=True)
            BallotChoice.objects.bulk_create(
                BallotChoice(ballot=ballot, proposal_id=pk, value=value)
                for pk, value in cleaned.items()
            )
    except IntegrityError:
        return True, False
    return True, True


# PostgreSQL: the phase check and the three inserts in one statement, one round trip. The unique
# constraints on participation decide a race (ON CONFLICT DO NOTHING: the later request inserts
# nothing, and so no ballot); a statement is atomic, so no transaction block is needed.
_FIRST_BALLOT_SQL = """
WITH open_vote AS (
    SELECT 1 FROM {phase}
    WHERE cycle_id = %(cycle)s AND kind = %(vote)s AND starts_at <= %(now)s AND ends_at > %(now)s
), participation AS (
    INSERT INTO {participation}
        (cycle_id, voter_id, household_id, channel, entered_by_id, replacements, created)
    SELECT %(cycle)s, %(voter)s, %(household)s, %(channel)s, %(entered_by)s, 0, %(now)s
    WHERE EXISTS (SELECT 1 FROM open_vote)
    ON CONFLICT DO NOTHING
    RETURNING 1
), ballot AS (
    INSERT INTO {ballot} (id, cycle_id, sub_budget_id, receipt_hash, channel)
    SELECT %(ballot)s, %(cycle)s, %(sub_budget)s, %(receipt_hash)s, %(channel)s
    WHERE EXISTS (SELECT 1 FROM participation)
    RETURNING id
), choices AS (
    INSERT INTO {choice} (ballot_id, proposal_id, value)
    SELECT ballot.id, chosen.proposal, chosen.value
    FROM ballot, unnest(%(proposals)s::bigint[], %(values)s::integer[]) AS chosen(proposal, value)
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM open_vote), EXISTS (SELECT 1 FROM participation)
"""


def _record_first_ballot_pg(participation, ballot, cleaned) -> tuple[bool, bool]:
    sql = _FIRST_BALLOT_SQL.format(
        phase=Phase._meta.db_table,
        participation=Participation._meta.db_table,
        ballot=Ballot._meta.db_table,
        choice=BallotChoice._meta.db_table,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                "cycle": participation.cycle_id,
                "vote": PhaseKind.VOTE,
                "now": participation.created,
                "voter": participation.voter_id,
                "household": participation.household_id,
                "channel": participation.channel,
                "entered_by": participation.entered_by_id,
                "ballot": ballot.id,
                "sub_budget": ballot.sub_budget_id,
                "receipt_hash": ballot.receipt_hash,
                "proposals": list(cleaned),
                "values": list(cleaned.values()),
            },
        )
        vote_open, recorded = cursor.fetchone()
    if recorded:
        ballot._state.adding, ballot._state.db = False, connection.alias
    return vote_open, recorded


@transaction.atomic
def _replace_ballot(voter, cycle, replace_receipt, ballot, cleaned) -> None:
    """Swap the ballot that `replace_receipt` names for `ballot`. The voter's participation row
    is locked, so that two replacements with the same receipt cannot both find the old ballot."""
    participation = (
        Participation.objects.select_for_update().filter(cycle=cycle, voter=voter).first()
    )
    if participation is None:
        raise ValidationError(
            _("You have not voted yet: leave the receipt code empty."), code="not_voted"
        )
    if participation.channel == Channel.PAPER or ballot.channel == Channel.PAPER:
        raise ValidationError(_("A paper ballot cannot be replaced."), code="paper")
    if not _vote_open_now(cycle.pk, timezone.now()):
        raise ValidationError(_("Voting is not open now."), code="phase")
    old = Ballot.objects.filter(cycle=cycle, receipt_hash=receipt_hash(replace_receipt))
    if not old.delete()[0]:
        raise ValidationError(_("No ballot has that receipt code."), code="bad_receipt")
    participation.replacements += 1
    participation.save(update_fields=["replacements"])
    ballot.save(force_insert=True)
    BallotChoice.objects.bulk_create(
        BallotChoice(ballot=ballot, proposal_id=pk, value=value) for pk, value in cleaned.items()
    )


def enter_paper_ballot(*, officer, cycle: BudgetCycle, voter, choices: dict[int, int]):
    """An officer enters a paper ballot for `voter`, checked against the roll like any other."""
    _require(
        officer,
        "budgets.enter_paper_ballot",
        cycle,
        _("Only the committee can enter paper ballots."),
    )
    return cast_ballot(
        voter=voter, cycle=cycle, choices=choices, channel=Channel.PAPER, entered_by=officer
    )


def find_ballot(*, cycle: BudgetCycle, receipt_code: str) -> Ballot | None:
    """The ballot a receipt code belongs to, so its voter can check it was counted as cast."""
    return (
        Ballot.objects.filter(cycle=cycle, receipt_hash=receipt_hash(receipt_code))
        .prefetch_related("choices__proposal")
        .first()
    )


# -- results --------------------------------------------------------------------------------------

VOTE_TYPES = {
    BallotType.APPROVAL: "approval",
    BallotType.KNAPSACK: "approval",
    BallotType.CUMULATIVE: "cumulative",
    BallotType.RANKED: "ordinal",
}


@dataclass
class ProjectResult:
    proposal: Proposal
    votes: int
    funded: bool
    explanation: dict
    overridden: ResultOverride | None = None


@dataclass
class Result:
    sub_budget: SubBudget | None
    budget: Decimal
    ballots: int
    outcome: object
    projects: list[ProjectResult]

    @property
    def used(self) -> Decimal:
        return sum((p.proposal.cost for p in self.projects if p.funded), Decimal("0"))


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
    """Tally the cycle (per sub-budget when it has them) with its stored rule and variant."""
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
    """The small payload pushed to everyone watching the results page."""
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
            for result in compute_results(cycle)
            for row in result.projects
            if row.funded
        ],
    }


@transaction.atomic
def publish_results(*, by, cycle: BudgetCycle) -> BudgetCycle:
    """The committee publishes the tally once the vote has closed; watchers get it live."""
    cycle = BudgetCycle.objects.select_for_update().get(pk=cycle.pk)
    _require(by, "budgets.publish_results", cycle, _("Only the committee publishes results."))
    if not cycle.vote_closed():
        raise ValidationError(_("Results are published only after the vote closes."))
    cycle.results_published_at = timezone.now()
    cycle.save(update_fields=["results_published_at"])
    broadcast_on_commit(
        group_name("budget_cycle", cycle.pk),
        {"type": "cycle.results", "frame": results_frame(cycle)},
    )
    return cycle


@transaction.atomic
def override_result(*, by, proposal: Proposal, funded: bool, reason: str) -> ResultOverride:
    """Overrule the tally for one project; only with a reason, which is published."""
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
    override, _created = ResultOverride.objects.update_or_create(
        proposal=proposal, defaults={"funded": funded, "reason": reason, "by": by}
    )
    cycle = proposal.cycle
    if cycle.results_published_at:
        broadcast_on_commit(
            group_name("budget_cycle", cycle.pk),
            {"type": "cycle.results", "frame": results_frame(cycle)},
        )
    return override


# -- implementation and evaluation ----------------------------------------------------------------


def _funded_ids(cycle: BudgetCycle) -> set[int]:
    return {
        row.proposal.pk
        for result in compute_results(cycle)
        for row in result.projects
        if row.funded
    }


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
    if cycle.results_published_at is None or proposal.pk not in _funded_ids(cycle):
        raise ValidationError(_("Only funded projects have progress updates."))
    if not note.strip():
        raise ValidationError(_("Say what happened."))
    if spent_so_far < 0:
        raise ValidationError(_("Spending cannot be negative."))
    update = ProgressUpdate(
        proposal=proposal, status=status, note=note.strip(), spent_so_far=spent_so_far, by=by
    )
    if photo:
        update.photo = photo
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
    if not proposal.updates.filter(status="done").exists():
        raise ValidationError(_("A project can be rated once it is done."))
    if not 1 <= int(score) <= 5:
        raise ValidationError(_("Give a score from 1 to 5."))
    rating, _created = Rating.objects.update_or_create(
        proposal=proposal, user=user, defaults={"score": int(score), "comment": comment.strip()}
    )
    return rating
