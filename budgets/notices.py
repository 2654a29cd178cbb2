"""Telling residents about their budget (issue 17): a phase opened, the vote closes tomorrow, the
results are published. Everything goes through notifications (notify_audience), which tells each
person once per event key; this module decides when and to whom.

Phases open by the clock, so the reaper's `sweep` (every minute, core.tasks) looks for them:
- the proposal and vote phases that have started and not ended are announced to the residents
  who may take part (`resident_ids`), once per phase ("budget-phase:<phase>");
- a day before the vote closes, the residents who may vote and have no participation yet are
  reminded (`non_voter_ids`), once per vote ("vote-closing:<phase>"). The reminder reads the same
  for everyone ("if you have not voted yet ..."): it never says whether its reader voted, and
  nothing but the (already secret-free) participation roll decides who gets it;
- results are announced by `publish_results` itself, in its transaction; the sweep only catches
  up a publication whose announcement was lost.

Who takes part is what budgets.predicates.voter_council says: a verified resident of the cycle's
council or, in a township cycle with village shares, of a village with a share; a resident's role
carries down the tree, so a resident of a council above counts too. In 一户一票 mode only
household heads vote.
"""

import datetime

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone, translation

from budgets.models import BudgetCycle, Eligibility, Participation, Phase, PhaseKind
from councils.models import Household, Membership, MembershipStatus, Role
from notifications.kinds import Kind
from notifications.models import Fanout
from notifications.services import notify_audience

# The phases residents are told about when they open (results: when they are published).
ANNOUNCED_PHASES = (PhaseKind.COLLECT, PhaseKind.VOTE)
REMIND_BEFORE_CLOSE = datetime.timedelta(hours=24)
# How long after a publication the sweep still makes sure it was announced.
RESULTS_CATCH_UP = datetime.timedelta(days=2)

RESIDENTS = "budget_residents"
NON_VOTERS = "budget_non_voters"


def local_time(when: datetime.datetime) -> str:
    """A time as residents read it: China time (settings.TIME_ZONE), to the minute."""
    return timezone.localtime(when, timezone.get_default_timezone()).strftime("%Y-%m-%d %H:%M")


def phase_name(kind: str) -> str:
    """The phase's name in the site's language: params are stored, not translated per reader."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(PhaseKind(kind).label)


# --- Who ------------------------------------------------------------------------------------


def voting_councils(cycle: BudgetCycle) -> tuple[list[int], list[int]]:
    """(the councils whose residents take part in `cycle`: its own, or its villages' shares;
    those and every council above them, whose residents are residents there too)."""
    targets = [s.council for s in cycle.sub_budgets.select_related("council")] or [cycle.council]
    with_ancestors = set()
    for council in targets:
        with_ancestors.add(council.pk)
        with_ancestors |= council.ancestor_ids()
    return sorted(c.pk for c in targets), sorted(with_ancestors)


def audience_args(cycle: BudgetCycle, *, voters: bool = False) -> dict:
    """What a resolver needs, worked out once per event so that each batch is one query:
    the councils whose residents take part and, for the voters of 一户一票, where the
    households are."""
    targets, councils = voting_councils(cycle)
    args = {"cycle_id": cycle.pk, "councils": councils}
    if voters:
        args["households_in"] = targets if cycle.eligibility == Eligibility.HOUSEHOLD else None
    return args


def _residents(after_id: int, councils: list[int]):
    return Membership.objects.filter(
        status=MembershipStatus.VERIFIED,
        role=Role.RESIDENT,
        council_id__in=councils,
        user_id__gt=after_id,
    )


def _ids(found, limit: int) -> list[int]:
    return list(found.order_by("user_id").values_list("user_id", flat=True).distinct()[:limit])


def resident_ids(
    after_id: int,
    limit: int,
    *,
    cycle_id: int,
    councils: list[int] | None = None,
    exclude_id: int | None = None,
) -> list[int]:
    """Audience "budget_residents": the residents who may take part in the cycle, by user id."""
    if councils is None:
        councils = audience_args(BudgetCycle.objects.get(pk=cycle_id))["councils"]
    found = _residents(after_id, councils)
    if exclude_id is not None:
        found = found.exclude(user_id=exclude_id)
    return _ids(found, limit)


def non_voter_ids(
    after_id: int,
    limit: int,
    *,
    cycle_id: int,
    councils: list[int] | None = None,
    households_in: list[int] | None = None,
) -> list[int]:
    """Audience "budget_non_voters": the residents who may vote in the cycle and have not, by
    user id. One query per batch, on the membership index (council, status, role) and the
    participation's unique (cycle, voter) index; it reads who took part, never what anyone
    voted (ballots have no voter)."""
    if councils is None:
        args = audience_args(BudgetCycle.objects.get(pk=cycle_id), voters=True)
        councils, households_in = args["councils"], args["households_in"]
    voted = Participation.objects.filter(cycle_id=cycle_id, voter_id=OuterRef("user_id"))
    found = _residents(after_id, councils).filter(~Exists(voted))
    if households_in is not None:
        # 一户一票: the head of a household whose vote is still missing (a paper ballot from
        # the register counts for the household, whoever entered it).
        household_voted = Participation.objects.filter(
            cycle_id=cycle_id, household_id=OuterRef("pk")
        )
        heads = Household.objects.filter(
            council_id__in=households_in, head_id=OuterRef("user_id")
        ).filter(~Exists(household_voted))
        found = found.filter(Exists(heads))
    return _ids(found, limit)


# --- Events ---------------------------------------------------------------------------------


def _known(keys: list[str]) -> set[str]:
    """Event keys already raised: the sweep skips them without a query each."""
    if not keys:
        return set()
    return set(Fanout.objects.filter(event_key__in=keys).values_list("event_key", flat=True))


def announce_phase(phase: Phase) -> Fanout:
    """Tell the cycle's residents that `phase` (proposals or the vote) is open."""
    cycle = phase.cycle
    return notify_audience(
        kind=Kind.BUDGET_PHASE_OPENED,
        audience=RESIDENTS,
        event_key=f"budget-phase:{phase.pk}",
        url=cycle.get_absolute_url(),
        council=cycle.council,
        params={
            "cycle": cycle.title,
            "phase": phase_name(phase.kind),
            "phase_kind": phase.kind,
            "until": local_time(phase.ends_at),
        },
        **audience_args(cycle),
    )


def results_key(cycle: BudgetCycle) -> str:
    return f"budget-results:{cycle.pk}:{cycle.results_published_at.timestamp():.0f}"


def announce_results(cycle: BudgetCycle, *, by=None) -> Fanout:
    """Tell the cycle's residents (not the committee member who published) that the results
    are published and open to objections until the results phase ends."""
    window = next((p for p in cycle.phases.all() if p.kind == PhaseKind.RESULTS), None)
    args = audience_args(cycle)
    if by is not None:
        args["exclude_id"] = by.pk
    return notify_audience(
        kind=Kind.BUDGET_PHASE_OPENED,
        audience=RESIDENTS,
        event_key=results_key(cycle),
        url=cycle.get_absolute_url(),
        council=cycle.council,
        params={
            "cycle": cycle.title,
            "phase": phase_name(PhaseKind.RESULTS),
            "phase_kind": PhaseKind.RESULTS,
            "until": local_time(window.ends_at) if window is not None else "",
        },
        **args,
    )


def announce_open_phases(now: datetime.datetime | None = None) -> int:
    """Announce every proposal or vote phase open at `now` and every recent publication of
    results not announced yet; returns how many events were raised."""
    now = now or timezone.now()
    phases = list(
        Phase.objects.filter(kind__in=ANNOUNCED_PHASES, starts_at__lte=now, ends_at__gt=now)
        .select_related("cycle__council")
        .order_by("pk")
    )
    known = _known([f"budget-phase:{p.pk}" for p in phases])
    raised = 0
    for phase in phases:
        if f"budget-phase:{phase.pk}" not in known:
            announce_phase(phase)
            raised += 1
    published = list(
        BudgetCycle.objects.filter(
            results_published_at__gt=now - RESULTS_CATCH_UP, results_published_at__lte=now
        )
        .select_related("council")
        .prefetch_related("phases")
    )
    known = _known([results_key(cycle) for cycle in published])
    for cycle in published:
        if results_key(cycle) not in known:
            announce_results(cycle)
            raised += 1
    return raised


def remind_closing_votes(now: datetime.datetime | None = None) -> int:
    """A day before a vote closes, remind those who may vote and have not; returns how many
    votes got their reminder now. Once per vote, whatever happens to its calendar later."""
    now = now or timezone.now()
    closing = list(
        Phase.objects.filter(
            kind=PhaseKind.VOTE,
            starts_at__lte=now,
            ends_at__gt=now,
            ends_at__lte=now + REMIND_BEFORE_CLOSE,
            cycle__ballots_opened_at__isnull=True,
        )
        .select_related("cycle__council")
        .order_by("pk")
    )
    known = _known([f"vote-closing:{p.pk}" for p in closing])
    raised = 0
    for phase in closing:
        if f"vote-closing:{phase.pk}" in known:
            continue
        cycle = phase.cycle
        notify_audience(
            kind=Kind.VOTE_CLOSING,
            audience=NON_VOTERS,
            event_key=f"vote-closing:{phase.pk}",
            url=cycle.get_absolute_url(),
            council=cycle.council,
            # The same words for every reader: nothing here depends on who they are.
            params={"cycle": cycle.title, "until": local_time(phase.ends_at)},
            **audience_args(cycle, voters=True),
        )
        raised += 1
    return raised


def sweep() -> dict[str, int]:
    """The reaper's minute (core.tasks.register_sweep, from budgets.apps)."""
    now = timezone.now()
    return {
        "budget_announcements": announce_open_phases(now),
        "budget_vote_reminders": remind_closing_votes(now),
    }
