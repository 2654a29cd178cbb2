from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from budgets import services
from budgets.models import PHASE_ORDER, Phase, Proposal, ProposalStatus


def make_cycle(council, *, phase="vote", **options):
    """A cycle whose `phase` is open now (the phases before it are over)."""
    index = PHASE_ORDER.index(phase)
    start = timezone.now() - timedelta(days=7 * index + 1)
    cycle = services.create_cycle(
        by=None,
        council=council,
        title=options.pop("title", "2026年微实事"),
        total_amount=options.pop("total_amount", Decimal("100000")),
        starts_at=start,
        phase_days={kind: 7 for kind in PHASE_ORDER},
        **options,
    )
    return cycle


def set_phase(cycle, phase):
    """Move the cycle's calendar so that `phase` is open now."""
    now = timezone.now()
    index = PHASE_ORDER.index(phase)
    for position, item in enumerate(Phase.objects.filter(cycle=cycle).order_by("starts_at")):
        offset = position - index
        item.starts_at = now + timedelta(days=7 * offset) - timedelta(hours=1)
        item.ends_at = item.starts_at + timedelta(days=7)
        item.save()


def add_proposal(cycle, title, cost, *, feasible=True, sub_budget=None):
    return Proposal.objects.create(
        cycle=cycle,
        title=title,
        description=f"{title}的说明",
        estimated_cost=Decimal(cost),
        status=ProposalStatus.FEASIBLE if feasible else ProposalStatus.SUBMITTED,
        sub_budget=sub_budget,
    )


def close_vote(cycle):
    """End the vote now (the results phase opens) and open the sealed ballots, as the first
    results page, receipt check or `open_ballots` command after the close would."""
    set_phase(cycle, "results")
    cycle.refresh_from_db()
    services.forget_ballot_cycle(cycle.pk)
    services.open_ballots(cycle=cycle)
    return cycle
