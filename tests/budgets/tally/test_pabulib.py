"""Parsing and writing pabulib files."""

from __future__ import annotations

from fractions import Fraction

import pytest

from budgets.tally.pabulib import PabulibError, parse_pabulib, read_pabulib, write_pabulib

from .helpers import PABULIB_DIR, need_shared_pabulib, pabulib_files

SMALL = """META
key;value
description;"a test; with semicolon"
num_projects;3
num_votes;3
budget;10.5
vote_type;cumulative
max_sum_points;3
PROJECTS
project_id;cost;name;selected
1;5;"Park; with benches";1
2;5.5;Library;0
10;3;Road;0
VOTES
voter_id;vote;points;age
a;1,2;2,1;30
b;10;3;none
c;;;40
"""


def test_parse_small_cumulative_file() -> None:
    e = parse_pabulib(SMALL)
    inst = e.instance
    assert inst.budget == Fraction(21, 2)
    assert inst.vote_type == "cumulative"
    assert list(inst.projects) == ["1", "2", "10"]
    assert inst.projects["2"].cost == Fraction(11, 2)
    assert inst.projects["1"].extra["name"] == "Park; with benches"
    assert inst.meta["description"] == "a test; with semicolon"
    assert [b.projects for b in e.ballots] == [("1", "2"), ("10",), ()]
    assert e.ballots[0].points == (2, 1)
    assert e.ballots[2].points == ()
    assert e.ballots[0].voter_id == "a" and e.ballots[0].extra["age"] == "30"


def test_round_trip_small_file() -> None:
    e = parse_pabulib(SMALL)
    again = parse_pabulib(write_pabulib(e))
    assert again.instance.projects == e.instance.projects
    assert [p.extra for p in again.instance.projects.values()] == [
        p.extra for p in e.instance.projects.values()
    ]
    assert again.ballots == e.ballots
    assert again.instance.budget == e.instance.budget
    assert again.instance.meta["description"] == "a test; with semicolon"


def test_write_to_path(tmp_path) -> None:
    e = parse_pabulib(SMALL)
    target = tmp_path / "out.pb"
    write_pabulib(e, target)
    assert read_pabulib(target).ballots == e.ballots


# Edits of SMALL that make it malformed: (text, replacement, line of the error, message).
# test_read_sat_profile holds the grouped reader to the same errors.
MALFORMED = [
    ("b;10;3;none", "b;11;3;none", 17, "unknown project '11'"),
    ("num_votes;3", "num_votes;4", 0, "num_votes=4 but the file has 3"),
    ("num_projects;3", "num_projects;2", 0, "num_projects=2 but the file has 3"),
    ("2;5.5;Library;0", "2;5x;Library;0", 12, "invalid cost"),
    ("a;1,2;2,1;30", "a;1,2;2;30", 16, "2 projects but 1 points"),
    ("10;3;Road;0", "10;3;Road", 13, "PROJECTS row has 3 fields"),
    ("vote_type;cumulative", "vote_type;magic", 16, "unsupported vote_type"),
    ("a;1,2;2,1;30", "a;1,1;2,1;30", 16, "twice"),
]


@pytest.mark.parametrize(("old", "new", "line", "message"), MALFORMED)
def test_malformed_files_report_line(old: str, new: str, line: int, message: str) -> None:
    assert old in SMALL
    with pytest.raises(PabulibError) as err:
        parse_pabulib(SMALL.replace(old, new))
    assert err.value.line == line
    assert message in str(err.value)
    if line:
        assert str(err.value).startswith(f"line {line}:")


def test_missing_section() -> None:
    with pytest.raises(PabulibError, match="missing section VOTES"):
        parse_pabulib(SMALL.split("VOTES")[0])


@pytest.mark.skipif(not pabulib_files(), reason=f"no pabulib files in {PABULIB_DIR}")
@pytest.mark.parametrize("name", pabulib_files() or ["none"])
def test_real_file_parses_with_meta_counts(name: str) -> None:
    e = read_pabulib(PABULIB_DIR / name)
    assert len(e.instance.projects) == int(e.instance.meta["num_projects"])
    assert len(e.ballots) == int(e.instance.meta["num_votes"])
    assert e.instance.budget > 0
    if e.instance.vote_type == "cumulative":
        assert all(b.points is not None and len(b.points) == len(b.projects) for b in e.ballots)
    back = parse_pabulib(write_pabulib(e))
    assert back.ballots == e.ballots
    assert back.instance.projects == e.instance.projects


def test_the_full_pabulib_set_is_there_on_ci() -> None:
    """Without ../shared/pabulib the tests above run on the four committed files; on CI the
    full set must be there, so this fails rather than letting CI pass on the small four."""
    folder = need_shared_pabulib()
    assert len(list(folder.glob("*.pb"))) > 4
