"""Read-side queries for budgets: above all, what a cycle's results are and which projects were
funded. Once a cycle is published, both come from its stored snapshot (budgets.ResultSnapshot),
never from a new tally (docs/budgets.md, "Stored results")."""

from dataclasses import dataclass
from decimal import Decimal

from budgets.models import BudgetCycle, Proposal, ResultOverride, ResultSnapshot, SubBudget
from budgets.tally.outcome import (
    REASON_DID_NOT_FIT,
    REASON_NO_SUPPORTERS,
    REASON_NOT_REACHED,
    REASON_UNAFFORDABLE,
    STAGE_COMPLETION,
    STAGE_FREE,
    STAGE_MES,
)


@dataclass
class ProjectResult:
    proposal: Proposal
    votes: int
    funded: bool
    explanation: dict
    overridden: ResultOverride | None = None

    # What the tally said (`explanation`, stored in the snapshot), for budgets/why.html.
    @property
    def bought_with_equal_shares(self) -> bool:
        return self.explanation.get("stage") == STAGE_MES

    @property
    def added_by_completion(self) -> bool:
        return self.explanation.get("stage") == STAGE_COMPLETION

    @property
    def costs_nothing(self) -> bool:
        return self.explanation.get("stage") == STAGE_FREE

    @property
    def supporters_could_not_afford(self) -> bool:
        return self.explanation.get("reason") == REASON_UNAFFORDABLE

    @property
    def did_not_fit(self) -> bool:
        return self.explanation.get("reason") == REASON_DID_NOT_FIT

    @property
    def had_no_supporters(self) -> bool:
        return self.explanation.get("reason") == REASON_NO_SUPPORTERS

    @property
    def was_not_reached(self) -> bool:
        return self.explanation.get("reason") == REASON_NOT_REACHED


@dataclass
class Result:
    sub_budget: SubBudget | None
    budget: Decimal
    ballots: int
    outcome: object  # the tally's Outcome; None when read from a snapshot
    projects: list[ProjectResult]

    @property
    def used(self) -> Decimal:
        return sum((p.proposal.cost for p in self.projects if p.funded), Decimal("0"))

    @property
    def over_by(self) -> Decimal:
        """How far the funded total goes past the budget (only an override can make it so)."""
        return max(self.used - self.budget, Decimal("0"))

    @property
    def overrides(self) -> list[ResultOverride]:
        return [p.overridden for p in self.projects if p.overridden is not None]


def latest_snapshot(cycle: BudgetCycle) -> ResultSnapshot | None:
    """The version of the stored results that counts: the latest. For a cycle published before
    snapshots existed, the results are stored once now (reason "backfill")."""
    snapshot = ResultSnapshot.objects.filter(cycle_id=cycle.pk).order_by("-version").first()
    if snapshot is None and cycle.results_published_at is not None:
        from budgets.services import store_missing_snapshot

        snapshot = store_missing_snapshot(cycle=cycle)
    return snapshot


def results_from_snapshot(snapshot: ResultSnapshot) -> list[Result]:
    """The stored results as the results page shows them: no tally, one query for the village
    shares' names when the cycle has shares, none otherwise."""
    content = snapshot.content
    shares = {}
    if any(r["sub_budget"] for r in content["results"]):
        shares = {
            s.pk: s
            for s in SubBudget.objects.filter(cycle_id=snapshot.cycle_id).select_related("council")
        }
    overrides = {o["proposal"]: o for o in content["overrides"]}
    results = []
    for stored in content["results"]:
        rows = []
        for project in stored["projects"]:
            # The project as it was published: title and cost from the snapshot.
            proposal = Proposal(
                pk=project["id"],
                cycle_id=snapshot.cycle_id,
                sub_budget_id=stored["sub_budget"],
                title=project["title"],
                estimated_cost=Decimal(project["cost"]),
                checked_cost=Decimal(project["cost"]),
            )
            override = overrides.get(project["id"])
            rows.append(
                ProjectResult(
                    proposal=proposal,
                    votes=project["votes"],
                    funded=project["funded"],
                    explanation=project["explanation"],
                    overridden=ResultOverride(
                        proposal=proposal,
                        funded=override["funded"],
                        reason=override["reason"],
                        by_id=override["by"],
                    )
                    if override
                    else None,
                )
            )
        results.append(
            Result(
                sub_budget=shares.get(stored["sub_budget"]),
                budget=Decimal(stored["budget"]),
                ballots=stored["ballots"],
                outcome=None,
                projects=rows,
            )
        )
    return results


def results_of(cycle: BudgetCycle) -> list[Result]:
    """What the results are: the stored snapshot once published, the provisional tally before
    (the vote must have closed; budgets.services.compute_results opens and checks the ballots)."""
    if cycle.results_published_at is not None:
        return results_from_snapshot(latest_snapshot(cycle))
    from budgets.services import compute_results

    return compute_results(cycle)


def funded_proposal_ids(cycle: BudgetCycle) -> list[int]:
    """Ids of the funded projects, in the published order; empty until results are published."""
    if cycle.results_published_at is None:
        return []
    snapshot = latest_snapshot(cycle)
    return [
        project["id"]
        for result in snapshot.content["results"]
        for project in result["projects"]
        if project["funded"]
    ]


def funded_proposals(cycle: BudgetCycle) -> list[Proposal]:
    """The one answer to "which projects were funded": those of the latest stored results
    (overrides included), in the published order. Nothing is funded before publication."""
    ids = funded_proposal_ids(cycle)
    found = Proposal.objects.in_bulk(ids)
    return [found[pk] for pk in ids if pk in found]
