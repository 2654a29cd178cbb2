"""The grouped reader (`read_sat_profile`, `parse_grouped`) against the per-voter one.

The grouped reader exists only to be cheaper: everything the rules see -- groups, their order,
each group's satisfactions (in order) and voters, the losses, the errors -- must be what
`parse_pabulib` + `build_sat_profile` give.
"""

from __future__ import annotations

import gc
import subprocess
import sys
import weakref
from fractions import Fraction
from pathlib import Path

import pytest

import budgets.tally.pabulib as pabulib
from budgets.tally.pabulib import PabulibError, parse_grouped, parse_pabulib, read_sat_profile
from budgets.tally.profile import gc_paused
from budgets.tally.satisfaction import SAT_MEASURES, build_sat_profile, grouped_sat_profile

from .helpers import PABULIB_DIR, election, pabulib_files
from .test_pabulib import MALFORMED, SMALL

ROOT = Path(__file__).resolve().parents[3]


def snapshot(sp) -> dict:
    """Everything of a SatProfile the rules and Outcome.groups depend on, orders included."""
    inst = sp.instance
    return {
        "groups": [(list(g.sats.items()), g.voters) for g in sp.groups],
        "n_voters": sp.n_voters,
        "project_ids": sp.project_ids,
        "costs": sp.costs,
        "losses": sp.losses,
        "measure": sp.measure,
        "uniform": sp.uniform,
        "total_sat": sp.total_sat(),
        "instance": (inst.budget, inst.projects, inst.vote_type, inst.meta),
    }


def oracle(instance, ballots, measure: str) -> tuple[list, list | None]:
    """Groups and losses as build_sat_profile computed them per voter before grouping moved
    into the parser (kept here verbatim in substance, as the reference for both paths)."""
    index = {p: i for i, p in enumerate(instance.projects)}
    costs = [p.cost for p in instance.projects.values()]
    borda = measure == "utility" and instance.vote_type == "ordinal"
    by_key: dict = {}
    losses = None
    for v, b in enumerate(ballots):
        if borda:
            key = b.projects
        elif measure == "utility":
            key = tuple(sorted(zip(b.projects, b.points, strict=False)))
        else:
            key = frozenset(b.projects)
        if key not in by_key:
            if measure == "cost":
                sats = {index[p]: costs[index[p]] for p in b.projects if costs[index[p]]}
            elif measure == "cardinality":
                sats = {index[p]: Fraction(1) for p in b.projects}
            elif borda:
                k = len(b.projects)
                sats = {
                    index[p]: Fraction(k - i - 1) for i, p in enumerate(b.projects) if k - i > 1
                }
            else:
                pairs = zip(b.projects, b.points, strict=True)
                sats = {index[p]: Fraction(x) for p, x in pairs if x > 0}
            by_key[key] = (sats, [])
        by_key[key][1].append(v)
        if measure == "utility" and b.points is not None:
            for p, x in zip(b.projects, b.points, strict=True):
                if x < 0:
                    losses = losses or [Fraction(0)] * len(costs)
                    losses[index[p]] += x
    groups = [(list(s.items()), v) for s, v in by_key.values() if s]
    return groups + [(list(s.items()), v) for s, v in by_key.values() if not s], losses


def slow(text: str, sat: str):
    """The per-voter path's profile, or its error as (type, line, message)."""
    try:
        e = parse_pabulib(text)
        return snapshot(build_sat_profile(e.instance, e.ballots, sat))
    except ValueError as exc:
        return type(exc).__name__, getattr(exc, "line", None), str(exc)


def fast(text: str, sat: str):
    try:
        return snapshot(grouped_sat_profile(parse_grouped(text), sat))
    except ValueError as exc:
        return type(exc).__name__, getattr(exc, "line", None), str(exc)


def forbid_fallback(monkeypatch) -> None:
    """Make the grouped reader fail if it falls back to parse_pabulib: on a valid file it must
    not, or it would be no cheaper than the per-voter reader."""

    def refuse(text: str):
        raise AssertionError("the grouped reader left its fast path")

    monkeypatch.setattr(pabulib, "parse_pabulib", refuse)


@pytest.mark.skipif(not pabulib_files(), reason=f"no pabulib files in {PABULIB_DIR}")
@pytest.mark.parametrize("name", pabulib_files() or ["none"])
def test_real_file_gives_the_same_profile(name: str, monkeypatch) -> None:
    e = election(name)
    expected = {}
    for sat in SAT_MEASURES:
        try:
            expected[sat] = snapshot(build_sat_profile(e.instance, e.ballots, sat))
        except ValueError as exc:  # utility on approval ballots
            expected[sat] = str(exc)
            continue
        groups, losses = oracle(e.instance, e.ballots, sat)
        assert expected[sat]["groups"] == groups, sat
        assert expected[sat]["losses"] == losses, sat
    forbid_fallback(monkeypatch)
    for sat in SAT_MEASURES:
        try:
            got = snapshot(read_sat_profile(PABULIB_DIR / name, sat))
        except ValueError as exc:
            got = str(exc)
        assert got == expected[sat], sat


VALID_VARIANTS = {
    "as is": SMALL,
    "quoted vote field": SMALL.replace("a;1,2;2,1;30", 'a;"1,2";"2,1";30'),
    "blank line among the votes": SMALL.replace("b;10;3;none\n", "b;10;3;none\n\n   \n"),
    "trailing blank lines": SMALL + "\n\n  \n",
    "spaces around ids merge with the plain ballot": SMALL.replace("c;;;40", "c; 2 , 1 ;1,2;40")
    + "d;1,2;2,1;50\n",
    "same projects, other points": SMALL + "d;2,1;2,1;50\ne;1,2;2,1;\n",
    "none as an empty vote": SMALL.replace("c;;;40", "c;none;NONE;40"),
    "zero and negative points": SMALL.replace("a;1,2;2,1;30", "a;1,2;0,-1;30") + "d;1,2;0,-1;1\n",
    "points as decimals and fractions": SMALL.replace("b;10;3;none", "b;10;1.5;none")
    + "d;10;3/2;1\n",
    "no votes": SMALL.split("a;1,2")[0].replace("num_votes;3", "num_votes;0"),
    # The fast path splits a row only as far as its last ballot field: here, to the end.
    "vote and points as the last columns": SMALL.split("VOTES\n")[0]
    + "VOTES\nvoter_id;age;points;vote\na;30;2,1;1,2\nb;none;3;10\nc;40;;\nd;1;2,1;1,2\n",
}


@pytest.mark.parametrize("sat", ["cost", "cardinality", "utility"])
@pytest.mark.parametrize("variant", sorted(VALID_VARIANTS))
def test_valid_variants_give_the_same_profile(variant: str, sat: str) -> None:
    text = _fix_num_votes(VALID_VARIANTS[variant])
    expected = slow(text, sat)
    assert isinstance(expected, dict), expected
    assert fast(text, sat) == expected


def _fix_num_votes(text: str) -> str:
    """META num_votes set to the number of non-blank VOTES rows (the variants add some)."""
    rows = [r for r in text.split("VOTES\n", 1)[1].splitlines()[1:] if r.strip()]
    start = text.index("num_votes;")
    end = text.index("\n", start)
    return text[:start] + f"num_votes;{len(rows)}" + text[end:]


def test_whitespace_variants_share_a_group_in_first_voter_order() -> None:
    text = _fix_num_votes(SMALL.replace("c;;;40", "c; 2 , 1 ;1,2;40") + "d;10;3;1\n")
    sp = grouped_sat_profile(parse_grouped(text), "cardinality")
    assert [g.voters for g in sp.groups] == [[0, 2], [1, 3]]
    assert list(sp.groups[0].sats) == [0, 1]  # voter 0 listed project "1" first


ERROR_VARIANTS = [
    # The cases of test_pabulib.test_malformed_files_report_line ...
    *MALFORMED,
    # ... and the ones only the grouped reader's shortcuts could get wrong.
    ("c;;;40", "c;;;40\nd;1,2;2,1", 19, "VOTES row has 3 fields"),
    # One row a field short and the next a field over: the file's count of ';' is right.
    ("c;;;40", "c;;40\nd;1,2;2,1;1;1", 18, "VOTES row has 3 fields"),
    ("c;;;40", "c;;;40;1\nd;1,2;2,1", 18, "VOTES row has 5 fields"),
    ("c;;;40", "VOTES;;;", 18, "duplicate section VOTES"),
    ("c;;;40", "c;;;40\nmeta;;;", 19, "duplicate section META"),
    ("c;;;40", "c;1,2;2,x;40", 18, "invalid points"),
    ("c;;;40", 'c;"1,7";1,1;40', 18, "unknown project '7'"),
    # The first voter in file order decides, not the first distinct ballot seen.
    ("c;;;40", "c;1,2;2,1;40\nd;1,1;1,1;1\ne;1,2;2,1;1\nf;9;1;1", 19, "twice"),
    # A broken ballot cast again later is reported at its first voter.
    ("c;;;40", "c;10,10;3,3;40\nd;1;1;1\ne;10,10;3,3;1", 18, "twice"),
    # A points field is converted once for every ballot it comes with; each is still checked.
    ("c;;;40", "c;2,10;2,1;40\nd;1;2,1;1", 19, "1 projects but 2 points"),
    ("c;;;40", "c;2,10;2,1;40\nd;1,2,10;2,1;1", 19, "3 projects but 2 points"),
]


@pytest.mark.parametrize(("old", "new", "line", "message"), ERROR_VARIANTS)
def test_malformed_files_give_the_same_error(old: str, new: str, line: int, message: str) -> None:
    assert old in SMALL
    text = SMALL.replace(old, new)
    expected = slow(text, "cost")
    assert expected[0] == "PabulibError" and expected[1] == line and message in expected[2]
    assert fast(text, "cost") == expected


def test_a_project_named_none() -> None:
    text = _fix_num_votes(
        SMALL.replace("10;3;Road;0", "10;3;Road;0\nnone;1;Nothing;0")
        .replace("num_projects;3", "num_projects;4")
        .replace("c;;;40", "c;none;none;40")
        + "d;1,none;1,1;1\n"
    )
    for sat in SAT_MEASURES:
        expected = slow(text, sat)
        assert isinstance(expected, dict)
        assert fast(text, sat) == expected
    # A "none" vote is an empty ballot (as pabutools reads it); listed with others, a project.
    groups = slow(text, "cardinality")["groups"]
    assert ([], [2]) in groups and ([(0, 1), (3, 1)], [3]) in groups


def test_utility_on_approval_ballots_is_refused_like_before() -> None:
    text = SMALL.replace("vote_type;cumulative", "vote_type;approval")
    assert fast(text, "utility") == slow(text, "utility")
    assert fast(text, "utility")[0] == "ValueError"


def test_unknown_measure_is_refused_before_reading() -> None:
    with pytest.raises(ValueError, match="unknown satisfaction measure"):
        read_sat_profile("/nonexistent.pb", "happiness")


def test_total_sat_is_computed_once() -> None:
    sp = grouped_sat_profile(parse_grouped(SMALL), "utility")
    first = sp.total_sat()
    assert sp.total_sat() is first
    assert first == [Fraction(2), Fraction(1), Fraction(3)]


def test_the_garbage_collector_is_back_on_after_an_error() -> None:
    assert gc.isenabled()
    with pytest.raises(PabulibError):
        parse_grouped(SMALL.replace("b;10;3;none", "b;11;3;none"))
    assert gc.isenabled()


def _young(objects: list) -> bool:
    """Whether any of `objects` is in the collector's youngest generation."""
    ids = set(map(id, objects))
    return any(id(o) in ids for o in gc.get_objects(generation=0))


def test_what_a_paused_build_made_goes_to_the_oldest_generation() -> None:
    # Otherwise the first collection after the pause walks all of it (and the next one again).
    # In a process of its own: the suite's has objects frozen (yishi.asgi freezes at import),
    # and then the move is rightly skipped.
    script = """
import gc
from budgets.tally.profile import gc_paused
assert gc.get_freeze_count() == 0
with gc_paused():
    built = [[k] for k in range(50)]
oldest = set(map(id, gc.get_objects(generation=2)))
young = set(map(id, gc.get_objects(generation=0)))
assert all(id(x) in oldest for x in built), "not in the oldest generation"
assert not any(id(x) in young for x in built), "still young"
assert gc.isenabled() and gc.get_freeze_count() == 0
print("ok")
"""
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.stdout.strip() == "ok", done.stderr


def test_a_cycle_made_while_paused_is_still_collected() -> None:
    class Node:
        pass

    with gc_paused():
        node = Node()
        node.me = node
        gone = weakref.ref(node)
    del node
    assert gone() is not None  # only the collector can free a cycle
    gc.collect()
    assert gone() is None


def test_objects_frozen_by_someone_else_stay_frozen() -> None:
    kept = [[]]  # what a server froze after start-up, say
    frozen_before = gc.get_freeze_count()
    gc.freeze()
    try:
        assert all(o is not kept for o in gc.get_objects())  # frozen: in no generation
        grouped = parse_grouped(SMALL)
        assert all(o is not kept for o in gc.get_objects())
        assert gc.get_freeze_count() > 0
        assert grouped.n_voters == 3
    finally:
        if frozen_before == 0:
            gc.unfreeze()  # only what this test froze (the suite may have frozen at import)
