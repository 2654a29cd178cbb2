from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from budgets import services
from budgets.ballots import new_receipt_code, receipt_hash
from budgets.models import (
    PHASE_ORDER,
    Ballot,
    BallotChoice,
    BallotType,
    BudgetCycle,
    Channel,
    Phase,
    PhaseKind,
    Proposal,
    ProposalStatus,
    TallyRule,
)
from budgets.tally.pabulib import PabulibError, read_pabulib
from councils.models import CouncilPage

BALLOT_TYPES = {
    "approval": BallotType.APPROVAL,
    "cumulative": BallotType.CUMULATIVE,
    "choose-1": BallotType.APPROVAL,
    "ordinal": BallotType.RANKED,
    "scoring": BallotType.CUMULATIVE,
}
RULES = {
    "greedy": TallyRule.GREEDY,
    "utilitarian_greedy": TallyRule.GREEDY,
    "equalshares": TallyRule.MES_ADD1,
    "equalshares/add1": TallyRule.MES_ADD1,
    "equalshares/add1-comparison": TallyRule.MES_ADD1_FULL,
}

# Greedy rules and full add-one completion are not completed greedily afterwards.
NO_GREEDY_COMPLETION = (TallyRule.GREEDY, TallyRule.GREEDY_NO_SKIP, TallyRule.MES_ADD1_FULL)


class Command(BaseCommand):
    help = (
        "Load a real election from a pabulib .pb file as a closed budget cycle of a council "
        "(projects and anonymous ballots), to browse it and recompute it in the site."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--council", type=int, required=True, help="council page id")
        parser.add_argument("--rule", help="tally rule (default: from the file's META rule)")

    def handle(self, *args, file, council, rule=None, **options):
        try:
            election = read_pabulib(file)
        except (OSError, PabulibError) as error:
            raise CommandError(f"{file}: {error}") from error
        page = CouncilPage.objects.filter(pk=council).first()
        if page is None:
            raise CommandError(f"No council with id {council}.")
        meta = election.instance.meta
        vote_type = election.instance.vote_type
        chosen_rule = rule or RULES.get(meta.get("rule", ""), TallyRule.MES_ADD1)
        cycle = self.load(election, page, meta, vote_type, chosen_rule, file)
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {len(election.instance.projects)} projects and {len(election.ballots)} "
                f"ballots as cycle {cycle.pk} ({cycle.get_absolute_url()}), rule {chosen_rule}."
            )
        )

    @transaction.atomic
    def load(self, election, page, meta, vote_type, rule, file):
        instance = election.instance
        ballot_type = BALLOT_TYPES.get(vote_type, BallotType.APPROVAL)
        longest = max((len(b.projects) for b in election.ballots), default=1)
        cycle = services.create_cycle(
            by=None,
            council=page,
            title=(
                f"{meta.get('unit', '')} {meta.get('subunit', '')} {meta.get('instance', '')}"
            ).strip()[:120]
            or str(file)[:120],
            total_amount=Decimal(str(float(instance.budget))).quantize(Decimal("0.01")),
            ballot_type=ballot_type,
            rule=rule,
            max_choices=max(longest, 1),
            min_choices=0,
            points=max(int(meta.get("max_sum_points", "0") or 0), 1),
            complete_greedy=rule not in NO_GREEDY_COMPLETION,
            description=meta.get("description", "")[:2000],
            imported_from=str(file)[-200:],
        )
        # The election is over: put every phase in the past, ending with the vote.
        from datetime import timedelta

        from django.utils import timezone

        end = timezone.now() - timedelta(minutes=1)
        for kind in reversed(PHASE_ORDER[: PHASE_ORDER.index(PhaseKind.VOTE) + 1]):
            Phase.objects.filter(cycle=cycle, kind=kind).update(
                starts_at=end - timedelta(days=7), ends_at=end
            )
            end -= timedelta(days=7)
        proposals = {}
        for project in instance.projects.values():
            proposals[project.project_id] = Proposal(
                cycle=cycle,
                title=(project.extra.get("name") or project.project_id)[:120],
                description=project.extra.get("description", "")[:4000] or "—",
                estimated_cost=Decimal(str(float(project.cost))).quantize(Decimal("0.01"))
                or Decimal("0.01"),
                status=ProposalStatus.FEASIBLE,
                external_id=project.project_id[:64],
            )
        Proposal.objects.bulk_create(proposals.values())
        ballots, choices = [], []
        for ballot in election.ballots:
            row = Ballot(
                cycle=cycle, receipt_hash=receipt_hash(new_receipt_code()), channel=Channel.PAPER
            )
            ballots.append(row)
            for position, project_id in enumerate(ballot.projects):
                if ballot_type == BallotType.RANKED:
                    value = position + 1
                elif ballot.points is not None:
                    value = max(int(ballot.points[position]), 1)
                else:
                    value = 1
                choices.append(
                    BallotChoice(ballot=row, proposal=proposals[project_id], value=value)
                )
        Ballot.objects.bulk_create(ballots, batch_size=2000)
        BallotChoice.objects.bulk_create(choices, batch_size=5000)
        return BudgetCycle.objects.get(pk=cycle.pk)
