"""The add1 loop that skips increments against the one-increment-at-a-time reference.

``iterate_mes(..., skip=False)`` is the slow reference: MES at every per-voter budget
``budget/n + k``, exactly as pabutools. The default loop jumps over the increments that a run's
proven reach covers (``MESRun.reach``; docs/tally.md, "Skipping add1 increments"). These tests
hold the two to the same answer on every real election, check the reach's claim directly (MES
anywhere inside it buys the same projects in the same order), check its float error bounds
against exact arithmetic, and fuzz small random elections where purchases change often.
"""

from __future__ import annotations

import random
from fractions import Fraction

import pytest

from budgets.tally.mes import MESEngine
from budgets.tally.profile import Ballot, Instance, Project
from budgets.tally.rules import iterate_mes
from budgets.tally.satisfaction import build_sat_profile
from tests.budgets.tally.helpers import election, need_shared_pabulib, pabulib_files

ONE = Fraction(1)
CASES = [("mes-add1", "cost", False), ("mes-add1-full", "cost", True)]


def _engine(name: str, sat: str) -> MESEngine:
    e = election(name)
    return MESEngine(build_sat_profile(e.instance, e.ballots, sat))


def _same(reference, skipping) -> None:  # noqa: ANN001
    (r1, i1, s1), (r2, i2, s2) = reference, skipping
    assert r2.selected == r1.selected
    assert r2.initial_budget == r1.initial_budget
    assert (i2, s2) == (i1, s1)
    assert [float(x) for x in r2.rho] == [float(x) for x in r1.rho]


@pytest.mark.parametrize("name", pabulib_files())
@pytest.mark.parametrize(("rule", "sat", "full"), CASES, ids=[c[0] for c in CASES])
def test_skip_agrees_with_every_increment(name: str, rule: str, sat: str, full: bool) -> None:
    """Same run, budget, number of increments and stop reason as the reference, on every file."""
    engine = _engine(name, sat)
    reference = iterate_mes(engine, ONE, full, skip=False)
    stepped = engine.runs
    engine.runs = 0
    skipping = iterate_mes(engine, ONE, full)
    _same(reference, skipping)
    assert engine.runs <= stepped + 1  # at most the one rerun before an infeasible increment


def test_skip_agrees_with_cardinality_too() -> None:
    for name in ("Poland_Wroclaw_2020.pb", "Poland_Czestochowa_2024_Mirow.pb"):
        if name not in pabulib_files():
            continue
        engine = _engine(name, "cardinality")
        _same(iterate_mes(engine, ONE, False, skip=False), iterate_mes(engine, ONE, False))


def test_skipping_saves_runs_where_decisions_are_stable() -> None:
    """Wrocław 2020 (choose-1, 76 distinct ballots): hundreds of increments, a few dozen runs."""
    need_shared_pabulib("Poland_Wroclaw_2020.pb")
    engine = _engine("Poland_Wroclaw_2020.pb", "cost")
    run, increments, reason = iterate_mes(engine, ONE, False)
    assert reason == "next increment infeasible"
    assert increments > 400
    assert engine.runs < increments / 5


def _runs_with_reach(engine: MESEngine, increments: range):  # noqa: ANN202
    """Tracked runs at ``budget/n + k`` for k in ``increments``, those that claim a reach."""
    base = engine.sp.instance.budget / engine.sp.n_voters
    for k in increments:
        run = engine.run(base + k, track=1.0, width=64.0)
        if run.reach:
            yield k, run


def _budgets_inside(run) -> list[Fraction]:  # noqa: ANN001
    """Budgets inside a run's reach, its far end included (as Fractions of the float reach)."""
    b0, reach = run.initial_budget, Fraction(run.reach)
    return [b0 + reach * f for f in (Fraction(1, 1000), Fraction(1, 3), Fraction(999, 1000), 1)]


@pytest.mark.parametrize(
    "name",
    [
        "Poland_Czestochowa_2024_Mirow.pb",
        "Poland_Wroclaw_2020.pb",
        "Poland_Gdynia_2022_Chylonia__large.pb",
        "Poland_Warszawa_2017_Slodowiec.pb",
        "Poland_Krakow_2023_Zwierzyniec.pb",
    ],
)
def test_mes_inside_the_reach_buys_the_same_projects_in_the_same_order(name: str) -> None:
    """The claim itself: any budget in [b0, b0 + reach] gives the run's purchases, in order."""
    if name not in pabulib_files():
        need_shared_pabulib(name)
    engine = _engine(name, "cost")
    checked = 0
    for k, run in _runs_with_reach(engine, range(0, 400, 7)):
        checked += 1
        for b in _budgets_inside(run):
            assert engine.run(b).selected == run.selected, (k, b)
    assert checked >= 5


@pytest.mark.parametrize(
    "name", ["Poland_Czestochowa_2024_Mirow.pb", "Poland_Gdynia_2023_Karwiny__small.pb"]
)
def test_money_enclosures_hold_in_exact_arithmetic(name: str) -> None:
    """Every group's exact money at b0 + x lies in the tracker's enclosure, float errors and all.

    The exact money comes from the Fraction engine (pabutools' own arithmetic), at b0 and at
    points inside the reach.
    """
    engine = _engine(name, "cost")
    checked = 0
    for k, run in _runs_with_reach(engine, range(0, 200, 11)):
        tracker = run.tracker
        for b in [run.initial_budget, *_budgets_inside(run)]:
            exact = engine.run_exact(b)
            assert exact.selected == run.selected
            x = b - run.initial_budget
            for g, money in enumerate(exact.budgets):
                centre = Fraction(float(run.budgets[g])) + Fraction(tracker.slope[g]) * x
                half = Fraction(tracker.err[g]) + Fraction(tracker.rad[g]) * x
                assert abs(money - centre) <= half, (k, b, g)
            checked += 1
    assert checked >= 5


def _random_election(rng: random.Random) -> tuple[Instance, list[Ballot]]:
    n_proj = rng.randint(3, 9)
    projects = {str(i): Project(str(i), Fraction(rng.randint(1, 40) * 10)) for i in range(n_proj)}
    ids = list(projects)
    ballots = [
        Ballot(tuple(rng.sample(ids, rng.randint(1, min(4, n_proj)))))
        for _ in range(rng.randint(5, 60))
    ]
    budget = Fraction(rng.randint(50, 400))
    return Instance(budget, projects, "approval"), ballots


def test_fuzz_small_elections_skip_equals_step() -> None:
    """400 random small elections, whose purchases change every few increments."""
    rng = random.Random(20261202)
    skipped_somewhere = 0
    for _ in range(400):
        instance, ballots = _random_election(rng)
        for sat in ("cost", "cardinality"):
            engine = MESEngine(build_sat_profile(instance, ballots, sat))
            for full in (False, True):
                reference = iterate_mes(engine, ONE, full, skip=False)
                engine.runs = 0
                skipping = iterate_mes(engine, ONE, full)
                _same(reference, skipping)
                skipped_somewhere += engine.runs < reference[1]
    assert skipped_somewhere > 50
