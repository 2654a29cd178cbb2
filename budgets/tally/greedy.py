"""Utilitarian greedy rules, matching ``pabutools.rules.greedy_utilitarian_welfare``.

Projects are ordered by satisfaction density -- total satisfaction divided by cost (infinite for a
supported free project, 0 for an unsupported one) -- with ties broken by project id as a string,
and taken in that order. ``greedy`` skips projects that no longer fit; ``greedy-no-skip`` stops at
the first one that does not fit. With the default ``cost`` satisfaction the density of a project is
simply its number of supporters ("greedy by votes"). Densities are exact Fractions.

With ``utility`` on scoring or cumulative ballots the total adds every voter's points, negative
ones included (``SatProfile.welfare``), as pabutools' ``total_satisfaction_project`` does: a
project whose points sum to zero or less has density 0 -- it comes last, after every project
with a positive total, and is still taken if it fits, like an unsupported project.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from budgets.tally.satisfaction import SatProfile

INF = float("inf")


@dataclass
class GreedyStep:
    """One project considered by greedy: its density, whether it was taken, the budget left."""

    project_id: str
    density: Fraction | float
    selected: bool
    budget_left: Fraction


@dataclass
class GreedyTrace:
    """Everything greedy did, in the order projects were considered."""

    steps: list[GreedyStep] = field(default_factory=list)
    stopped_at: str | None = None

    @property
    def selected(self) -> list[str]:
        return [s.project_id for s in self.steps if s.selected]


def densities(sp: SatProfile) -> list[Fraction | float]:
    """Satisfaction density of every project, as pabutools' ``satisfaction_density``."""
    out: list[Fraction | float] = []
    for total, cost in zip(sp.welfare(), sp.costs, strict=False):
        if total > 0:
            out.append(total / cost if cost > 0 else INF)
        else:
            out.append(Fraction(0))
    return out


def greedy(
    sp: SatProfile,
    skip: bool = True,
    initial: list[str] | None = None,
    dens: list[Fraction | float] | None = None,
) -> GreedyTrace:
    """Run greedy on top of ``initial`` (already funded project ids, e.g. an MES outcome)."""
    initial = list(initial or [])
    taken = set(initial)
    dens = densities(sp) if dens is None else dens
    ids = sp.project_ids
    order = sorted(
        (j for j in range(len(ids)) if ids[j] not in taken), key=lambda j: (-dens[j], ids[j])
    )
    left = sp.instance.budget - sum((sp.costs[ids.index(p)] for p in initial), Fraction(0))
    trace = GreedyTrace()
    for j in order:
        fits = sp.costs[j] <= left
        if fits:
            left -= sp.costs[j]
        trace.steps.append(GreedyStep(ids[j], dens[j], fits, left))
        if not fits and not skip:
            trace.stopped_at = ids[j]
            break
    return trace
