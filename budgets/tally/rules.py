"""Rule registry and the :func:`tally` entry point.

=================  ========================================================================
``greedy``         utilitarian greedy, skipping projects that do not fit
``greedy-no-skip`` utilitarian greedy, stopping at the first project that does not fit
``mes``            Method of Equal Shares with initial per-voter budget ``budget / n``
``mes-add1``       pabutools' ``voter_budget_increment=1``: rerun MES with ``budget / n + k``
                   for k = 0, 1, ...; return the first exhaustive outcome, or the last feasible
                   one before the first infeasible one
``mes-add1-full``  rerun while the outcome stays feasible, even past exhaustive; return the last
                   feasible outcome (how Wieliczka 2023's official result was computed)
=================  ========================================================================

``complete_greedy=True`` adds pabutools' ``completion_by_rule_combination`` with the greedy rule
(same satisfaction measure) after an MES variant.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

from budgets.tally.greedy import GreedyTrace, greedy
from budgets.tally.mes import MESEngine, MESRun
from budgets.tally.outcome import (
    REASON_DID_NOT_FIT,
    REASON_NO_SUPPORTERS,
    REASON_NOT_REACHED,
    REASON_UNAFFORDABLE,
    STAGE_COMPLETION,
    STAGE_FREE,
    STAGE_GREEDY,
    STAGE_MES,
    FundedProject,
    Outcome,
    UnfundedProject,
)
from budgets.tally.profile import Ballot, Instance
from budgets.tally.satisfaction import SatProfile, build_sat_profile

MAX_ITERATIONS = 1_000_000


def _greedy_rule(skip: bool) -> Callable[[SatProfile, bool], Outcome]:
    def rule(sp: SatProfile, complete_greedy: bool) -> Outcome:
        trace = greedy(sp, skip=skip)
        out = _base(sp, "greedy" if skip else "greedy-no-skip", trace.selected)
        out.greedy_steps = trace.steps
        _explain_greedy(sp, out, trace, stage=STAGE_GREEDY)
        return out

    return rule


def _mes_rule(increment: Fraction | None, full: bool, name: str) -> Callable[..., Outcome]:
    def rule(sp: SatProfile, complete_greedy: bool, skip: bool = True) -> Outcome:
        # ``skip=False``: the one-increment-at-a-time reference loop (tests and bench).
        engine = MESEngine(sp)
        run, iterations, reason = iterate_mes(engine, increment, full, skip=skip)
        selected = [sp.project_ids[j] for j in run.free + run.selected]
        out = _base(sp, name, selected)
        out.exact_arithmetic = run.exact
        if increment is not None:
            out.per_voter_budget = run.initial_budget
            out.iterations = iterations
            out.runs = engine.runs
            out.stop_reason = reason
        _explain_mes(sp, engine, run, out)
        if complete_greedy:
            out.complete_greedy = True
            trace = greedy(sp, skip=True, initial=selected)
            out.greedy_steps = trace.steps
            out.selected = sorted(selected + trace.selected)
            out.total_cost = sp.instance.cost(out.selected)
            _explain_greedy(sp, out, trace, stage=STAGE_COMPLETION)
        return out

    return rule


RULES: dict[str, Callable[..., Outcome]] = {
    "greedy": _greedy_rule(skip=True),
    "greedy-no-skip": _greedy_rule(skip=False),
    "mes": _mes_rule(None, False, "mes"),
    "mes-add1": _mes_rule(Fraction(1), False, "mes-add1"),
    "mes-add1-full": _mes_rule(Fraction(1), True, "mes-add1-full"),
}


def tally(
    instance: Instance,
    profile: list[Ballot],
    rule: str = "mes-add1",
    sat: str = "cost",
    complete_greedy: bool = False,
) -> Outcome:
    """Compute the outcome of ``rule`` on ``profile`` with satisfaction measure ``sat``.

    ``complete_greedy`` only affects MES variants. Raises ``ValueError`` for an unknown rule or
    measure.
    """
    _check_rule(rule)
    return tally_profile(build_sat_profile(instance, profile, sat), rule, complete_greedy)


def tally_profile(sp: SatProfile, rule: str = "mes-add1", complete_greedy: bool = False) -> Outcome:
    """Like :func:`tally` on a grouped profile, e.g. from ``pabulib.read_sat_profile``."""
    _check_rule(rule)
    out = RULES[rule](sp, complete_greedy)
    out.sat = sp.measure
    return out


def _check_rule(rule: str) -> None:
    if rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}; use one of {sorted(RULES)}")


def iterate_mes(
    engine: MESEngine, increment: Fraction | None, full: bool, skip: bool = True
) -> tuple[MESRun, int, str]:
    """Run MES once, or the add1 iteration; returns the chosen run, #increments and why it stopped.

    This is ``method_of_equal_shares_scheme``'s loop: feasibility is checked first (an infeasible
    run makes the previous one the answer), then exhaustiveness against the MES candidates
    (supported projects of positive cost) -- unless ``full``, which ignores exhaustiveness and
    only stops once every candidate is bought (more money cannot change that outcome).

    With ``skip`` (the default), a run that does not stop the loop also says how far the budget
    can grow with all its decisions unchanged (``MESRun.reach``, a proven bound); every increment
    inside that reach gives the same selection, so the same verdict, and is skipped. The returned
    run and count are exactly those of the one-increment-at-a-time loop (``skip=False``, kept as
    the reference): when the first run past a skip is infeasible, the run just before it is
    redone to report its own budget and payments. ``#increments`` counts the budgets pabutools
    would try, whatever was skipped.
    """
    sp = engine.sp
    budget = sp.instance.budget
    if sp.n_voters == 0:
        return MESRun(Fraction(0), free=list(engine.free), exact=True), 0, "no voters"
    per_voter = budget / sp.n_voters
    candidates = engine.candidates
    previous: MESRun | None = None
    skipped = 0  # increments jumped over just before this run
    iteration = 0
    # Tracking a run costs extra work: about one affordability evaluation per evaluation and
    # twelve per purchase (a tracked run took 1.8-6.6 times an untracked one on six real
    # files). When the increments it lets us skip do not pay for that (elections whose
    # purchases change with nearly every increment), the next 1, 2, 4, ... 64 runs go
    # untracked; a tracked run that pays resets this. The width asked for is four times the
    # last reach (the tracker narrows it as it must). All of this only decides how fast we
    # get there, never the answer.
    wait = backoff = 0
    need = float(increment) if increment is not None and skip else 0.0
    width = 4 * need
    while iteration < MAX_ITERATIONS:
        iteration += 1
        track = need if wait == 0 else 0.0
        run = engine.run(per_voter, track=track, width=width)
        engine.runs += 1
        if track:
            gain = int(run.reach // need) * run.evaluations
            cost = run.evaluations + 12 * len(run.selected)
            if run.reach > 0:
                width = max(4 * need, 4 * run.reach)
            if gain > cost:
                backoff = 0
            else:
                backoff = min(2 * backoff or 1, 64)
                wait = backoff
        else:
            wait -= 1
        if increment is None:
            return run, iteration, ""
        chosen = set(run.selected)
        spent = sum((sp.costs[j] for j in run.free + run.selected), Fraction(0))
        if spent > budget:
            if previous is None:
                # Unreachable (MES at budget/n never overspends); pabutools returns the
                # initial allocation here.
                return (
                    MESRun(per_voter, free=list(engine.free), exact=True),
                    iteration,
                    "infeasible at once",
                )
            if skipped:
                # The increment just before this one lies inside the previous run's reach: same
                # decisions, but its own budget and payments.
                last = engine.run(per_voter - increment)
                engine.runs += 1
                if last.selected != previous.selected:
                    raise RuntimeError("an add1 skip changed the outcome")  # pragma: no cover
                previous = last
            return previous, iteration, "next increment infeasible"
        if full:
            if chosen.issuperset(candidates):
                return run, iteration, "all candidates funded"
        elif all(sp.costs[j] + spent > budget for j in candidates if j not in chosen):
            return run, iteration, "exhaustive"
        previous = run
        skipped = 0
        if run.reach > 0:
            # Increments with per_voter + k * increment <= per_voter + reach change nothing (the
            # reach is at most the finite width asked for).
            skipped = int(Fraction(run.reach) // increment)
        per_voter += increment * (skipped + 1)
        iteration += skipped
    raise RuntimeError("MES budget iteration did not terminate")


def _base(sp: SatProfile, rule: str, selected: list[str]) -> Outcome:
    return Outcome(
        rule=rule,
        sat=sp.measure,
        complete_greedy=False,
        selected=sorted(selected),
        total_cost=sp.instance.cost(selected),
        budget=sp.instance.budget,
        groups=[g.voters for g in sp.groups],
    )


def _explain_greedy(sp: SatProfile, out: Outcome, trace: GreedyTrace, stage: str) -> None:
    considered = {s.project_id for s in trace.steps}
    funded_ids = {f.project_id for f in out.funded}
    # Greedy's verdict replaces MES's for every project greedy looked at.
    out.unfunded = [u for u in out.unfunded if u.project_id not in considered]
    for s in trace.steps:
        cost = sp.instance.projects[s.project_id].cost
        if s.selected:
            if s.project_id not in funded_ids:
                out.funded.append(
                    FundedProject(s.project_id, cost, stage, budget_left=s.budget_left)
                )
        else:
            out.unfunded.append(
                UnfundedProject(s.project_id, cost, REASON_DID_NOT_FIT, budget_left=s.budget_left)
            )
    for pid in sp.project_ids:
        if pid not in considered and pid not in funded_ids and stage == STAGE_GREEDY:
            out.unfunded.append(
                UnfundedProject(pid, sp.instance.projects[pid].cost, REASON_NOT_REACHED)
            )


def _explain_mes(sp: SatProfile, engine: MESEngine, run: MESRun, out: Outcome) -> None:
    ids = sp.project_ids
    for j in run.free:
        out.funded.append(FundedProject(ids[j], sp.costs[j], STAGE_FREE, round=0))
    for k, j in enumerate(run.selected):
        out.funded.append(
            FundedProject(
                ids[j],
                sp.costs[j],
                STAGE_MES,
                round=k + 1,
                rho=run.rho[k],
                payments=list(zip(run.supporters[k], _amounts(run.payments[k]), strict=False)),
            )
        )
    chosen = set(run.free) | set(run.selected)
    for j, pid in enumerate(ids):
        if j in chosen:
            continue
        if engine.total_sat[j] == 0:
            out.unfunded.append(UnfundedProject(pid, sp.costs[j], REASON_NO_SUPPORTERS))
            continue
        money = (
            sum(run.budgets[g] * engine.weights[g] for g in engine.sup_lists[j])
            if len(run.budgets)
            else 0
        )
        out.unfunded.append(
            UnfundedProject(pid, sp.costs[j], REASON_UNAFFORDABLE, supporters_money=money)
        )


def _amounts(payments: object) -> list[Fraction] | list[float]:
    return payments.tolist() if hasattr(payments, "tolist") else list(payments)  # type: ignore
