import rules

from councils.models import Role
from councils.predicates import roles_in


def voter_council(user, cycle):
    """The council in which `user` votes in `cycle`: the cycle's own, or their village's share
    of a township cycle. None if they are not a verified resident of either."""
    sub_budgets = list(cycle.sub_budgets.all())  # prefetched by the views
    if not sub_budgets:
        return cycle.council if Role.RESIDENT in roles_in(user, cycle.council) else None
    for sub_budget in sub_budgets:
        if Role.RESIDENT in roles_in(user, sub_budget.council):
            return sub_budget.council
    return None


@rules.predicate
def is_cycle_resident(user, cycle) -> bool:
    return cycle is not None and user.is_authenticated and voter_council(user, cycle) is not None


@rules.predicate
def in_results_phase(user, cycle) -> bool:
    """结果公示: the results phase (the objection window) is open now."""
    from budgets.models import PhaseKind

    return cycle is not None and cycle.phase_at() == PhaseKind.RESULTS
