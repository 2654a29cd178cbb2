"""The law's counting rules at their boundaries: pure arithmetic, exact fractions."""

from fractions import Fraction

import pytest

from meetings import quorum
from meetings.models import RosterMode, SessionKind, default_rule
from meetings.quorum import (
    AT_LEAST_TWO_THIRDS,
    MORE_THAN_HALF,
    Base,
    Count,
    Outcome,
    Rule,
    Threshold,
)

REPRESENTATIVES = default_rule(SessionKind.REPRESENTATIVES, RosterMode.REPRESENTATIVES)
ASSEMBLY_ADULTS = default_rule(SessionKind.ASSEMBLY, RosterMode.RESIDENTS)
ASSEMBLY_HOUSEHOLDS = default_rule(SessionKind.ASSEMBLY, RosterMode.HOUSEHOLDS)


@pytest.mark.parametrize(
    ("present", "entitled", "met"),
    [
        (6, 9, True),  # exactly two thirds: 以上 includes the number itself
        (5, 9, False),
        (7, 10, True),  # 2/3 of 10 is 6.67: 7 is the least that reaches it
        (6, 10, False),
        (20, 30, True),
        (19, 30, False),
        (0, 0, False),
    ],
)
def test_representatives_meeting_quorum_is_at_least_two_thirds(present, entitled, met):
    assert quorum.quorum_met(REPRESENTATIVES, entitled=entitled, present=present) is met


@pytest.mark.parametrize(
    ("present", "adults", "met"),
    [(51, 100, True), (50, 100, False), (6, 11, True), (5, 11, False), (1, 1, True)],
)
def test_assembly_of_adults_needs_more_than_half(present, adults, met):
    assert quorum.quorum_met(ASSEMBLY_ADULTS, entitled=adults, present=present) is met


@pytest.mark.parametrize(
    ("present", "households", "met"), [(40, 60, True), (39, 60, False), (14, 20, True)]
)
def test_assembly_of_households_needs_at_least_two_thirds(present, households, met):
    assert quorum.quorum_met(ASSEMBLY_HOUSEHOLDS, entitled=households, present=present) is met


@pytest.mark.parametrize(
    ("yes", "present", "outcome"),
    [
        (5, 10, Outcome.FAILED),  # exactly half is not a majority
        (6, 10, Outcome.PASSED),  # half + 1 is
        (5, 9, Outcome.PASSED),
        (4, 9, Outcome.FAILED),
    ],
)
def test_decision_needs_more_than_half_of_those_present(yes, present, outcome):
    count = Count(entitled=present, present=present, yes=yes, no=present - yes)
    assert quorum.outcome(REPRESENTATIVES, count) is outcome


def test_abstentions_count_against_because_the_base_is_those_present():
    count = Count(entitled=10, present=10, yes=5, no=1, abstain=4)
    assert quorum.outcome(REPRESENTATIVES, count) is Outcome.FAILED


def test_no_quorum_beats_a_unanimous_vote():
    count = Count(entitled=9, present=5, yes=5)
    assert quorum.outcome(REPRESENTATIVES, count) is Outcome.NO_QUORUM


@pytest.mark.parametrize(
    ("yes", "present", "passed"), [(6, 9, True), (5, 9, False), (7, 10, True), (6, 10, False)]
)
def test_two_thirds_of_those_present(yes, present, passed):
    rule = REPRESENTATIVES.with_decision(AT_LEAST_TWO_THIRDS, Base.PRESENT)
    count = Count(entitled=present, present=present, yes=yes)
    assert (quorum.outcome(rule, count) is Outcome.PASSED) is passed


def test_two_thirds_of_all_members_counts_the_absent():
    rule = REPRESENTATIVES.with_decision(AT_LEAST_TWO_THIRDS, Base.MEMBERS)
    # 7 of 9 present, all 7 for: 7/9 >= 2/3 passes; 6 of the 7 for: 6/9 = 2/3 passes too
    assert quorum.outcome(rule, Count(entitled=9, present=7, yes=6)) is Outcome.PASSED
    assert quorum.outcome(rule, Count(entitled=12, present=9, yes=7)) is Outcome.FAILED
    assert quorum.outcome(rule, Count(entitled=12, present=9, yes=8)) is Outcome.PASSED


@pytest.mark.parametrize(
    ("threshold", "total", "needed"),
    [
        (AT_LEAST_TWO_THIRDS, 9, 6),
        (AT_LEAST_TWO_THIRDS, 10, 7),
        (AT_LEAST_TWO_THIRDS, 3, 2),
        (MORE_THAN_HALF, 10, 6),
        (MORE_THAN_HALF, 9, 5),
        (MORE_THAN_HALF, 1, 1),
        (MORE_THAN_HALF, 0, 1),
    ],
)
def test_needed_is_the_least_count_that_reaches_the_threshold(threshold, total, needed):
    assert threshold.needed(total) == needed
    if total:
        assert threshold.reached(needed, total)
        assert not threshold.reached(needed - 1, total)


def test_no_float_rounding_at_large_rosters():
    # 2/3 of 3,000,000,001 is not an integer; a float comparison would wobble here.
    total = 3 * 10**9 + 1
    needed = AT_LEAST_TWO_THIRDS.needed(total)
    assert Fraction(needed, total) >= Fraction(2, 3) > Fraction(needed - 1, total)


def test_proxies_count_toward_quorum_only_when_the_rule_says_so():
    assert quorum.present_for_quorum(REPRESENTATIVES, attending=5, proxies=1) == 6
    strict = Rule.from_dict({**REPRESENTATIVES.to_dict(), "proxies_count": False})
    assert quorum.present_for_quorum(strict, attending=5, proxies=1) == 5


def test_rule_round_trips_through_its_stored_copy():
    rule = REPRESENTATIVES.with_decision(AT_LEAST_TWO_THIRDS, Base.MEMBERS)
    assert Rule.from_dict(rule.to_dict()) == rule
    assert rule.to_dict()["quorum"] == {"numerator": 2, "denominator": 3, "strict": False}


@pytest.mark.parametrize(("numerator", "denominator"), [(3, 2), (1, 0), (-1, 2)])
def test_threshold_refuses_nonsense(numerator, denominator):
    with pytest.raises(ValueError):
        Threshold(numerator, denominator, strict=False)
