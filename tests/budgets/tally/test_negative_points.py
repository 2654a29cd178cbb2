"""Scoring ballots with negative and zero points: hand-computed outcomes, and pabutools live.

The pabulib format lets a scoring ballot give a project negative points. We follow pabutools
(docs/tally.md, "Negative and zero points"):

* greedy with ``sat=utility`` adds every voter's points, negative ones included; a project whose
  points sum to 0 or less has density 0 (last, but still taken if it fits);
* MES with ``sat=utility`` counts as supporters only the voters who gave positive points, so a
  negative score neither pays for a project nor holds it back;
* ``cost`` and ``cardinality`` count every listed project as approved, whatever its points.

No real pabulib file has negative points today (the nine scoring files are all 0..n), so these
small files are the only check of that path.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from budgets.tally.pabulib import parse_pabulib, write_pabulib
from budgets.tally.rules import tally
from budgets.tally.satisfaction import build_sat_profile

# Budget 10; d is free. Points per project (voter 1..4):
#   a: 5, -4, -2     -> sum -1 (positive part 5)
#   b: 2,  2,  1     -> sum 5
#   c: -3, 4,  2, -6 -> sum -3 (positive part 6)
#   d: 1, -1 (v3)    -> sum 0 (positive part 1)
#   e: 0 (v1), 1 (v4) -> sum 1
SCORING = """META
key;value
description;negative and zero points
num_projects;5
num_votes;4
budget;10
vote_type;scoring
PROJECTS
project_id;cost
a;4
b;4
c;4
d;0
e;3
VOTES
voter_id;vote;points
1;a,b,c,d,e;5,2,-3,1,0
2;a,b,c;-4,2,4
3;a,b,c,d;-2,1,2,-1
4;c,e;-6,1
"""

# (our rule, sat, greedy completion) -> selected set, worked out by hand below.
HAND: dict[tuple[str, str, bool], list[str]] = {
    # Densities = sum of points / cost: b 5/4, e 1/3; a (-1), c (-3), d (0 points, free) all 0,
    # ordered by id. b (6 left), e (3 left), a and c do not fit, d (cost 0) fits.
    # Dropping the negative points instead would give d inf, c 6/4, a 5/4 -> a, c, d.
    ("greedy", "utility", False): ["b", "d", "e"],
    # MES, 10/4 = 2.5 per voter, supporters are the voters with positive points only:
    # v1 {a 5, b 2, d 1}, v2 {b 2, c 4}, v3 {b 1, c 2}, v4 {e 1}.
    # d is free and has a positive supporter (v1) -> funded up front.
    # a: only v1, 2.5 < 4; e: only v4, 2.5 < 3 -> unaffordable.
    # b: rho 4/5 (pays 1.6, 1.6, 0.8, all within 2.5).
    # c: rho 4/6 would ask v2 for 8/3 > 2.5, so v2 pays all 2.5 and v3 pays rho*2 = 1.5:
    #    rho 3/4 < 4/5 -> c is bought although its points sum to -3.
    # Then b: v1 2.5 + v2 0 + v3 1 = 3.5 < 4 -> unaffordable; stop.
    ("mes", "utility", False): ["c", "d"],
    # Completion: 6 left; greedy densities b 5/4, e 1/3, a 0 -> b (2 left); e and a do not fit.
    ("mes", "utility", True): ["b", "c", "d"],
    # cost: every listed project is a vote of its cost, whatever the points (zero and negative
    # too): c 4 votes, a 3, b 3, e 2, d free (cost satisfaction 0 -> density 0).
    # c (6), a (2), b and e do not fit, d fits.
    ("greedy", "cost", False): ["a", "c", "d"],
    # cardinality: c 4, a 3, b 3, e 2 per cost; d is free with 2 supporters -> density inf.
    ("greedy", "cardinality", False): ["a", "c", "d"],
}


@pytest.fixture(scope="module")
def election():  # noqa: ANN201 - an Election
    return parse_pabulib(SCORING)


def test_points_are_read_with_their_sign(election) -> None:
    assert election.ballots[0].points == (5, 2, -3, 1, 0)
    assert election.ballots[3].points == (-6, 1)
    # And written back unchanged.
    again = parse_pabulib(write_pabulib(election))
    assert [b.points for b in again.ballots] == [b.points for b in election.ballots]


def test_welfare_adds_negative_points_but_supporters_are_positive_only(election) -> None:
    sp = build_sat_profile(election.instance, election.ballots, "utility")
    by_id = dict(zip(sp.project_ids, sp.welfare(), strict=True))
    assert by_id == {"a": -1, "b": 5, "c": -3, "d": 0, "e": 1}
    positive = dict(zip(sp.project_ids, sp.total_sat(), strict=True))
    assert positive == {"a": 5, "b": 5, "c": 6, "d": 1, "e": 1}
    # A zero is no satisfaction at all: voter 1's group does not list e.
    assert all(s > 0 for g in sp.groups for s in g.sats.values())
    assert 4 not in sp.groups[0].sats  # e is project index 4


def test_without_negative_points_welfare_is_total_sat() -> None:
    text = SCORING.replace("-", "")
    e = parse_pabulib(text)
    sp = build_sat_profile(e.instance, e.ballots, "utility")
    assert sp.losses is None
    assert sp.welfare() == sp.total_sat()


@pytest.mark.parametrize(("rule", "sat", "complete"), list(HAND))
def test_hand_computed(election, rule: str, sat: str, complete: bool) -> None:
    out = tally(election.instance, election.ballots, rule, sat=sat, complete_greedy=complete)
    assert out.selected == HAND[(rule, sat, complete)]
    assert out.total_cost <= election.instance.budget


def test_greedy_steps_show_net_points(election) -> None:
    out = tally(election.instance, election.ballots, "greedy", sat="utility")
    steps = [(s.project_id, s.density, s.selected) for s in out.greedy_steps]
    assert steps == [
        ("b", Fraction(5, 4), True),
        ("e", Fraction(1, 3), True),
        ("a", 0, False),
        ("c", 0, False),
        ("d", 0, True),
    ]


def test_mes_buys_a_project_with_a_negative_sum(election) -> None:
    out = tally(election.instance, election.ballots, "mes", sat="utility")
    funded = {f.project_id: f for f in out.funded}
    assert funded["c"].rho == Fraction(3, 4)
    # Only the two voters who gave c positive points paid, 2.5 and 1.5; voters 1 and 4 paid nothing.
    paid = sorted(float(x) for _, x in funded["c"].payments)
    assert paid == [1.5, 2.5]


LIVE_RULES = [
    ("greedy", "utility", False),
    ("greedy", "cost", False),
    ("greedy", "cardinality", False),
    ("mes", "utility", False),
    ("mes", "cost", False),
    ("mes-add1", "utility", False),
    ("mes-add1", "utility", True),
    ("mes-add1", "cost", True),
]

VARIANTS = {
    "scoring": SCORING,
    # Every point plus 2: voter 1's zero becomes 2, voter 3 now gives a 0, and the negative
    # points left are a's -2 (voter 2) and c's -1 and -4 (voters 1 and 4).
    "shifted": SCORING.replace("5,2,-3,1,0", "7,4,-1,3,2")
    .replace("-4,2,4", "-2,4,6")
    .replace("-2,1,2,-1", "0,3,4,1")
    .replace("-6,1", "-4,3"),
    "cumulative": SCORING.replace("vote_type;scoring", "vote_type;cumulative"),
}


@pytest.mark.reference
@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize(("rule", "sat", "complete"), LIVE_RULES)
def test_matches_live_pabutools(variant: str, rule: str, sat: str, complete: bool) -> None:
    pytest.importorskip("pabutools")
    from pabutools.election import (
        Additive_Cardinal_Sat,
        Cardinality_Sat,
        Cost_Sat,
    )
    from pabutools.election.pabulib import parse_pabulib_from_string
    from pabutools.rules import (
        completion_by_rule_combination,
        greedy_utilitarian_welfare,
        method_of_equal_shares,
    )

    text = VARIANTS[variant]
    instance, profile = parse_pabulib_from_string(text)
    sat_class = {
        "cost": Cost_Sat,
        "cardinality": Cardinality_Sat,
        "utility": Additive_Cardinal_Sat,
    }[sat]
    extra = {"voter_budget_increment": 1} if rule == "mes-add1" else {}
    if rule == "greedy":
        theirs = greedy_utilitarian_welfare(instance, profile, sat_class=sat_class)
    elif complete:
        theirs = completion_by_rule_combination(
            instance,
            profile,
            [method_of_equal_shares, greedy_utilitarian_welfare],
            [{"sat_class": sat_class, **extra}, {"sat_class": sat_class}],
        )
    else:
        theirs = method_of_equal_shares(instance, profile, sat_class=sat_class, **extra)
    e = parse_pabulib(text)
    ours = tally(e.instance, e.ballots, rule, sat=sat, complete_greedy=complete)
    assert ours.selected == sorted(p.name for p in theirs)
    if variant == "scoring" and (rule, sat, complete) in HAND:
        assert ours.selected == HAND[(rule, sat, complete)]
