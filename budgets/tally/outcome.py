"""The result of a tally: selected projects plus a structured explanation."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from budgets.tally.greedy import GreedyStep

Amount = Fraction | float

# How a funded project was bought (FundedProject.stage) and why another was not
# (UnfundedProject.reason). Plain strings: the tally imports no Django, and the published results
# store them (budgets.selectors.ProjectResult reads them for the results page).
STAGE_MES = "mes"
STAGE_FREE = "free"
STAGE_COMPLETION = "completion"
STAGE_GREEDY = "greedy"
REASON_NO_SUPPORTERS = "no supporters"
REASON_UNAFFORDABLE = "unaffordable"
REASON_DID_NOT_FIT = "did not fit"
REASON_NOT_REACHED = "not reached"


@dataclass
class FundedProject:
    """A funded project and how it was paid for.

    ``stage`` is ``"mes"`` (bought in MES round ``round``), ``"free"`` (supported project of cost 0,
    taken before round 1), ``"completion"`` (added by greedy completion) or ``"greedy"``.
    For MES, ``rho`` is the affordability (price per unit of satisfaction) and ``payments`` lists
    ``(group, per_voter_amount)``: every voter of that group (see :attr:`Outcome.groups`) paid the
    amount. With ``cost`` satisfaction rich supporters all pay the same price, poorer ones pay
    everything they have left.
    """

    project_id: str
    cost: Fraction
    stage: str
    round: int | None = None
    rho: Amount | None = None
    payments: list[tuple[int, Amount]] = field(default_factory=list)
    budget_left: Fraction | None = None


@dataclass
class UnfundedProject:
    """A project that was not funded, and why.

    ``reason`` is one of ``"no supporters"``, ``"unaffordable"`` (its supporters held only
    ``supporters_money`` when MES stopped, less than ``cost``), ``"did not fit"`` (greedy or greedy
    completion: cost above the money left, ``budget_left``) or ``"not reached"``
    (``greedy-no-skip`` stopped earlier).
    """

    project_id: str
    cost: Fraction
    reason: str
    supporters_money: Amount | None = None
    budget_left: Fraction | None = None


@dataclass
class Outcome:
    """Selected project ids (sorted as strings) and the explanation of the tally."""

    rule: str
    sat: str
    complete_greedy: bool
    selected: list[str]
    total_cost: Fraction
    budget: Fraction
    funded: list[FundedProject] = field(default_factory=list)
    unfunded: list[UnfundedProject] = field(default_factory=list)
    greedy_steps: list[GreedyStep] = field(default_factory=list)
    groups: list[list[int]] = field(default_factory=list)
    per_voter_budget: Fraction | None = None
    iterations: int | None = None
    #: MES runs actually done (add1 skips increments that provably change nothing).
    runs: int | None = None
    stop_reason: str = ""
    exact_arithmetic: bool = True

    def voter_payments(self, project_id: str) -> dict[int, Amount]:
        """Map voter index (position in the ballot list) to what that voter paid for a project."""
        for f in self.funded:
            if f.project_id == project_id:
                return {v: amount for g, amount in f.payments for v in self.groups[g]}
        raise KeyError(project_id)

    def to_json(self, with_voters: bool = False) -> dict[str, Any]:
        """A JSON-serialisable dict; amounts become numbers, exact budgets also strings."""

        def funded(f: FundedProject) -> dict[str, Any]:
            d: dict[str, Any] = {"project_id": f.project_id, "cost": _num(f.cost), "stage": f.stage}
            if f.round is not None:
                d["round"] = f.round
            if f.rho is not None:
                d["rho"] = _num(f.rho)
                d["payments"] = [
                    {"group": g, "voters": len(self.groups[g]), "per_voter": _num(a)}
                    | ({"voter_indices": self.groups[g]} if with_voters else {})
                    for g, a in f.payments
                ]
            if f.budget_left is not None:
                d["budget_left"] = _num(f.budget_left)
            return d

        def unfunded(u: UnfundedProject) -> dict[str, Any]:
            d: dict[str, Any] = {
                "project_id": u.project_id,
                "cost": _num(u.cost),
                "reason": u.reason,
            }
            if u.supporters_money is not None:
                d["supporters_money"] = _num(u.supporters_money)
            if u.budget_left is not None:
                d["budget_left"] = _num(u.budget_left)
            return d

        out: dict[str, Any] = {
            "rule": self.rule,
            "sat": self.sat,
            "complete_greedy": self.complete_greedy,
            "selected": self.selected,
            "total_cost": _num(self.total_cost),
            "budget": _num(self.budget),
            "funded": [funded(f) for f in self.funded],
            "unfunded": [unfunded(u) for u in self.unfunded],
        }
        if self.greedy_steps:
            out["greedy_steps"] = [
                {
                    "project_id": s.project_id,
                    "density": _num(s.density),
                    "selected": s.selected,
                    "budget_left": _num(s.budget_left),
                }
                for s in self.greedy_steps
            ]
        if self.per_voter_budget is not None:
            out["per_voter_budget"] = str(self.per_voter_budget)
            out["per_voter_budget_float"] = float(self.per_voter_budget)
            out["iterations"] = self.iterations
            out["runs"] = self.runs
        if self.stop_reason:
            out["stop_reason"] = self.stop_reason
        out["exact_arithmetic"] = self.exact_arithmetic
        return out


def _num(x: Amount | int) -> int | float | str:
    if isinstance(x, Fraction):
        return x.numerator if x.denominator == 1 else float(x)
    if isinstance(x, float) and x == float("inf"):
        return "inf"
    return x
