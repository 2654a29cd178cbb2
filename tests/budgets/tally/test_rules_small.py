"""Rules on tiny hand-made elections whose outcomes are worked out by hand in the comments."""

from __future__ import annotations

import io
import json
from fractions import Fraction

import pytest

from budgets.tally.cli import main
from budgets.tally.pabulib import parse_pabulib
from budgets.tally.profile import Ballot, Instance, Project
from budgets.tally.rules import RULES, tally
from budgets.tally.satisfaction import build_sat_profile


def make(
    budget: int, costs: dict[str, int], ballots: list[tuple[str, ...]], vote_type: str = "approval"
) -> tuple[Instance, list[Ballot]]:
    projects = {p: Project(p, Fraction(c)) for p, c in costs.items()}
    return Instance(Fraction(budget), projects, vote_type), [Ballot(b) for b in ballots]


def test_ties_break_by_id_as_string() -> None:
    # "10" and "9" are identical in every respect; as strings "10" < "9".
    inst, ballots = make(10, {"9": 10, "10": 10}, [("9", "10"), ("9", "10")])
    for rule in ("greedy", "mes", "mes-add1"):
        assert tally(inst, ballots, rule).selected == ["10"], rule


def test_greedy_skips_but_no_skip_stops() -> None:
    # Votes: a=3, b=2, c=1. Greedy takes a (4 left), skips b (6 > 4), takes c (1 left).
    inst, ballots = make(10, {"a": 6, "b": 6, "c": 3}, [("a", "b"), ("a", "b"), ("a", "c")])
    out = tally(inst, ballots, "greedy")
    assert out.selected == ["a", "c"]
    assert [(s.project_id, s.selected, s.budget_left) for s in out.greedy_steps] == [
        ("a", True, 4),
        ("b", False, 4),
        ("c", True, 1),
    ]
    stop = tally(inst, ballots, "greedy-no-skip")
    assert stop.selected == ["a"]
    reasons = {u.project_id: u.reason for u in stop.unfunded}
    assert reasons == {"b": "did not fit", "c": "not reached"}


def small_mes() -> tuple[Instance, list[Ballot]]:
    # 4 voters, budget 40: everybody starts with 10. Cardinality satisfaction, so rho is the
    # per-voter price. Round 1 prices: a 6/1 = 6, b 28/4 = 7, d 20/2 = 10 -> buy a; voter 0 has 4.
    # Round 2: b needs t with min(4, t) + 3t = 28 -> t = 8 (voter 0 pays all her 4); d still 10.
    # Round 3: d's supporters (2, 3) have 2 + 2 = 4 < 20 -> unaffordable; MES stops.
    return make(40, {"a": 6, "b": 28, "d": 20}, [("a", "b"), ("b",), ("b", "d"), ("b", "d")])


def test_mes_prices_per_supporter_and_unaffordable_explanation() -> None:
    inst, ballots = small_mes()
    out = tally(inst, ballots, "mes", sat="cardinality")
    assert out.selected == ["a", "b"]
    rounds = {f.project_id: f.round for f in out.funded}
    assert rounds == {"a": 1, "b": 2}
    assert out.voter_payments("a") == {0: 6}
    assert out.voter_payments("b") == {0: 4, 1: 8, 2: 8, 3: 8}
    d = next(u for u in out.unfunded if u.project_id == "d")
    assert d.reason == "unaffordable"
    assert d.supporters_money == pytest.approx(4)
    assert d.cost == 20


def test_mes_exact_path_gives_the_same_explanation() -> None:
    from budgets.tally.mes import MESEngine

    inst, ballots = small_mes()
    engine = MESEngine(build_sat_profile(inst, ballots, "cardinality"))
    fast = engine.run(Fraction(10))
    exact = engine.run(Fraction(10), exact=True)
    assert exact.exact and not fast.exact
    assert fast.selected == exact.selected == [0, 1]
    assert exact.rho == [6, 8]
    assert [list(p) for p in exact.payments] == [[6], [4, 8, 8]]


def test_mes_add1_raises_budget_until_exhaustive() -> None:
    # 2 voters, budget 10, a costs 6 and only voter 0 wants it. Plain MES: voter 0 has 5 < 6.
    # add1: per-voter 5, 6 -> at 6 voter 0 buys a; b (cost 4, wanted by voter 1) is bought at 5
    # already. {a, b} costs 10: exhaustive, feasible -> stop at per-voter budget 6.
    inst, ballots = make(10, {"a": 6, "b": 4}, [("a",), ("b",)])
    assert tally(inst, ballots, "mes").selected == ["b"]
    out = tally(inst, ballots, "mes-add1")
    assert out.selected == ["a", "b"]
    assert out.per_voter_budget == 6 and out.iterations == 2
    assert out.stop_reason == "exhaustive"


def test_mes_add1_returns_last_feasible_and_full_goes_past_exhaustive() -> None:
    # Budget 12, 3 voters (4 each). a (cost 8) by voters 0, 1; b (cost 5) by 2; c (cost 4) by 2.
    # k=0 (4 each): a at 4 each; voter 2 buys c (4) -> {a, c} = 12, exhaustive: add1 stops.
    # add1-full keeps going: k=1 (5 each): a, then b (rho 1 < c's 4/5? cost-sat rho_b = 5/5 = 1,
    # rho_c = 4/4 = 1 -> tie, "b" < "c") -> {a, b} = 13 > 12 infeasible -> return {a, c}.
    inst, ballots = make(12, {"a": 8, "b": 5, "c": 4}, [("a",), ("a",), ("b", "c")])
    assert tally(inst, ballots, "mes-add1").selected == ["a", "c"]
    full = tally(inst, ballots, "mes-add1-full")
    assert full.selected == ["a", "c"]
    assert full.per_voter_budget == 4 and full.stop_reason == "next increment infeasible"


def test_greedy_completion_fills_leftover() -> None:
    # MES buys b (voter 1 alone, 5 each); a (cost 6, voter 0 alone) is unaffordable at 5, and
    # add1 at 6 each would cost 11 > 10 -> plain MES outcome {b}; greedy completion adds nothing
    # that fits (a costs 6 > 5 left) but c (cost 1, unsupported, density 0) fits.
    inst, ballots = make(10, {"a": 6, "b": 5, "c": 1}, [("a",), ("b",)])
    out = tally(inst, ballots, "mes", complete_greedy=True)
    assert out.selected == ["b", "c"]
    stages = {f.project_id: f.stage for f in out.funded}
    assert stages == {"b": "mes", "c": "completion"}
    assert {u.project_id: u.reason for u in out.unfunded} == {"a": "did not fit"}


def test_cumulative_points_as_utilities() -> None:
    # Voter 1 gives x 3 points; voter 2 gives y 1 and z 2. With ``utility`` the greedy density is
    # points / cost: x 0.3, y 0.2, z 0.4 -> z, then x does not fit, then y. With ``cost`` every
    # listed project counts as one vote: a three-way tie, broken by id -> x fills the budget.
    text = """META
key;value
num_projects;3
num_votes;2
budget;10
vote_type;cumulative
PROJECTS
project_id;cost
x;10
y;5
z;5
VOTES
voter_id;vote;points
1;x;3
2;y,z;1,2
"""
    e = parse_pabulib(text)
    assert tally(e.instance, e.ballots, "greedy", sat="utility").selected == ["y", "z"]
    assert tally(e.instance, e.ballots, "greedy", sat="cost").selected == ["x"]


def test_ordinal_borda_conversion() -> None:
    # A ranking a > b > c gives Borda satisfactions 2, 1, 0 (pabutools' Additive_Borda_Sat), so
    # the last-ranked project is not supported at all; cost/cardinality treat the ranking as an
    # approval of all three.
    inst, ballots = make(
        9, {"a": 3, "b": 3, "c": 3}, [("a", "b", "c"), ("c", "b", "a")], vote_type="ordinal"
    )
    util = build_sat_profile(inst, ballots, "utility")
    assert [g.sats for g in util.groups] == [{0: 2, 1: 1}, {2: 2, 1: 1}]
    card = build_sat_profile(inst, ballots, "cardinality")
    assert [g.size for g in card.groups] == [2]
    assert sorted(card.groups[0].sats) == [0, 1, 2]
    with pytest.raises(ValueError):
        build_sat_profile(*make(9, {"a": 3}, [("a",)]), "utility")


def test_unknown_rule_and_registry() -> None:
    assert set(RULES) == {"greedy", "greedy-no-skip", "mes", "mes-add1", "mes-add1-full"}
    inst, ballots = make(10, {"a": 6}, [("a",)])
    with pytest.raises(ValueError):
        tally(inst, ballots, "phragmen")


def test_cli_prints_sorted_ids_and_json(tmp_path) -> None:
    path = tmp_path / "e.pb"
    path.write_text("""META
key;value
num_projects;3
num_votes;3
budget;10
vote_type;approval
PROJECTS
project_id;cost
10;4
9;4
2;4
VOTES
voter_id;vote
1;10,9,2
2;10,9
3;2,9
""")
    out = io.StringIO()
    assert main([str(path), "--rule", "greedy"], stdout=out) == 0
    # votes: 9 -> 3, 10 -> 2, 2 -> 2; tie 10 vs 2 broken as strings ("10" < "2")
    assert out.getvalue().splitlines() == ["10", "9"]
    out = io.StringIO()
    assert main([str(path), "--rule", "mes", "--complete-greedy", "--json"], stdout=out) == 0
    data = json.loads(out.getvalue())
    assert data["selected"] == sorted(data["selected"])
    assert data["rule"] == "mes" and data["complete_greedy"] is True
    err = io.StringIO()
    path.write_text(path.read_text().replace("3;2,9", "3;2,8"))
    assert main([str(path)], stdout=io.StringIO(), stderr=err) == 2
    assert "line 16" in err.getvalue()
