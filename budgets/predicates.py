import rules

from budgets.models import PhaseKind
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


def phase_is(*kinds: str) -> rules.Predicate:
    """A predicate true while one of the phases `kinds` of the cycle is open (as adhocracy4's
    phase predicates): permissions compose it, so views ask `has_perm` only."""

    def test(user, cycle) -> bool:
        return cycle is not None and cycle.phase_at() in kinds

    return rules.predicate(test, name=f"phase_is({', '.join(kinds)})")


# 结果公示: the results phase (the objection window) is open now.
in_results_phase = phase_is(PhaseKind.RESULTS)
