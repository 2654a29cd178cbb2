"""Satisfaction measures and the grouped ("multi") profile the rules run on.

Voters with identical satisfaction vectors behave identically under every rule here, so we group
them once and let each rule work on groups with multiplicities. Measures mirror pabutools:

* ``cost`` -- ``Cost_Sat``: a voter gets ``cost(p)`` from every project on her ballot;
* ``cardinality`` -- ``Cardinality_Sat``: 1 per project on her ballot;
* ``utility`` -- ``Additive_Cardinal_Sat`` (the points) for cumulative/scoring ballots and
  ``Additive_Borda_Sat`` for ordinal ballots (a ranking of length k gives k-1, k-2, ..., 0).

Like pabutools' ``project in ballot`` test, ``cost`` and ``cardinality`` treat every ballot kind
as the approval of the projects it lists (rankings and point allocations included, whatever the
points, zero and negative ones too).

Zero and negative points (``utility`` on scoring or cumulative ballots), as in pabutools: a group's
``sats`` keeps only positive satisfactions, because MES counts as supporters only the voters with a
positive satisfaction (a voter never pays for a project she scored 0 or below); greedy, which
maximises utilitarian welfare, adds every voter's points, negative ones included, so
:meth:`SatProfile.welfare` is ``total_sat`` plus the non-positive points kept in
``SatProfile.losses``. See docs/tally.md, "Negative and zero points".

Two ways in, giving the same profile: :func:`build_sat_profile` groups a per-voter ballot list
(an :class:`~budgets.tally.profile.Election`'s), :func:`grouped_sat_profile` the distinct ballots
of a :class:`~budgets.tally.profile.GroupedElection`, which the parser builds while reading
without an object per voter. :func:`budgets.tally.pabulib.read_sat_profile` does both steps
from a file: the cheap way to tally one.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import compress, repeat
from operator import attrgetter, ne

from budgets.tally.profile import Ballot, GroupedElection, Instance, gc_paused

SAT_MEASURES = ("cost", "cardinality", "utility")
ONE = Fraction(1)


@dataclass
class Group:
    """Voters with the same satisfaction vector.

    ``sats`` maps a project index to the (positive) satisfaction of one such voter;
    ``voters`` are the indices of those voters in the original ballot list.
    """

    sats: dict[int, Fraction]
    voters: list[int]

    @property
    def size(self) -> int:
        return len(self.voters)


@dataclass
class SatProfile:
    """Grouped satisfactions for one instance and one measure.

    ``uniform`` is true when every supporter of a project derives the same satisfaction from it
    (``cost`` and ``cardinality``), which lets the MES engine work with per-voter prices.
    """

    instance: Instance
    project_ids: list[str]
    costs: list[Fraction]
    groups: list[Group]
    n_voters: int
    measure: str
    uniform: bool
    losses: list[Fraction] | None = None
    _totals: list[Fraction] | None = field(default=None, init=False, repr=False, compare=False)

    def welfare(self) -> list[Fraction]:
        """Total satisfaction of every project counting negative points too (greedy's score).

        Equal to :meth:`total_sat` unless some ballot gives a project negative points.
        """
        totals = self.total_sat()
        if self.losses is None:
            return totals
        return [t + x for t, x in zip(totals, self.losses, strict=True)]

    def total_sat(self) -> list[Fraction]:
        """Total satisfaction of every project (sum over voters).

        Computed on the first call and cached, since MES and greedy both ask for it: a profile is
        not to be changed once built, and callers must not change the returned list.
        """
        if self._totals is None:
            self._totals = self._sum_sats()
        return self._totals

    def _sum_sats(self) -> list[Fraction]:
        if self.uniform:
            # Integer supporter counts times the common satisfaction: no Fraction per group.
            counts = [0] * len(self.project_ids)
            value: dict[int, Fraction] = {}
            for g in self.groups:
                size = len(g.voters)
                for j, s in g.sats.items():
                    counts[j] += size
                    value[j] = s
            return [value[j] * k if k else Fraction(0) for j, k in enumerate(counts)]
        totals = [Fraction(0)] * len(self.project_ids)
        for g in self.groups:
            for j, s in g.sats.items():
                totals[j] += s * g.size
        return totals


def build_sat_profile(instance: Instance, ballots: list[Ballot], measure: str) -> SatProfile:
    """Group a per-voter ballot list by its satisfaction vector under ``measure``."""
    check_measure(instance, measure)
    # Group the ballots straight away by the key grouped_sat_profile merges on (see there).
    if measure == "utility" and instance.vote_type == "ordinal":
        key: Callable[[Ballot], Hashable] = attrgetter("projects")
    elif measure == "utility":
        key = _points_key
    else:
        key = _set_key
    with gc_paused():
        grouped = GroupedElection.from_ballots(instance, ballots, key)
        return grouped_sat_profile(grouped, measure)


def _set_key(ballot: Ballot) -> Hashable:
    return frozenset(ballot.projects)


def _points_key(ballot: Ballot) -> Hashable:
    if ballot.points is None:
        raise ValueError("utility satisfaction needs cumulative or ordinal ballots")
    return tuple(sorted(zip(ballot.projects, ballot.points, strict=False)))


def check_measure(instance: Instance, measure: str) -> None:
    """Raise ``ValueError`` for an unknown measure or one the instance's ballots cannot give."""
    if measure not in SAT_MEASURES:
        raise ValueError(f"unknown satisfaction measure {measure!r}; use one of {SAT_MEASURES}")
    if measure == "utility" and instance.vote_type in ("approval", "choose-1"):
        raise ValueError("utility satisfaction is only defined for cumulative and ordinal ballots")


def grouped_sat_profile(grouped: GroupedElection, measure: str) -> SatProfile:
    """Merge the distinct ballots of ``grouped`` whose satisfaction vectors agree.

    Ballots are merged as :func:`build_sat_profile` always has: by the set of projects for
    ``cost`` and ``cardinality``, by the ranking for Borda, by the (project, points) pairs for
    points -- so two ballots with equal vectors but different keys (a zero-cost project, a
    project given 0 points) stay two groups. Groups are in the order of their first voter, those
    with an empty vector last; a group's ``sats`` follow the ballot of its first voter. A group
    made of one entry of ``grouped`` shares that entry's ``voters`` list.
    """
    with gc_paused():
        return _grouped_sat_profile(grouped, measure)


def _grouped_sat_profile(grouped: GroupedElection, measure: str) -> SatProfile:
    instance = grouped.instance
    check_measure(instance, measure)
    ids = list(instance.projects)
    costs = [instance.projects[p].cost for p in ids]
    ballots, points, voters = grouped.ballots, grouped.points, grouped.voters
    borda = measure == "utility" and instance.vote_type == "ordinal"
    # Sum of the negative points per project (utility on point ballots only), for greedy.
    losses: list[Fraction] | None = None
    if borda:
        keys: list[object] = list(ballots)
    elif measure == "utility":
        if None in points:
            raise ValueError("utility satisfaction needs cumulative or ordinal ballots")
        keys = [
            tuple(sorted(zip(b, p, strict=False))) for b, p in zip(ballots, points, strict=True)
        ]
        losses = _losses(grouped, len(ids))
    else:
        keys = list(grouped.sets)
    first, voters = _merge(keys, voters)
    if len(first) < len(keys):
        ballots = [ballots[k] for k in first]
        points = [points[k] for k in first]
    # One group per distinct ballot, so these run as often as the parser's per-ballot work: the
    # cheapest form measured for each (a comprehension, or dict.fromkeys).
    if measure == "cost" and all(costs):
        sats = [{j: costs[j] for j in b} for b in ballots]
    elif measure == "cost":
        sats = [{j: costs[j] for j in b if costs[j]} for b in ballots]
    elif measure == "cardinality":
        sats = list(map(dict.fromkeys, ballots, repeat(ONE)))
    elif borda:
        scores = [Fraction(s) for s in range(max(map(len, ballots), default=0))]
        sats = [{j: scores[len(b) - pos - 1] for pos, j in enumerate(b[:-1])} for b in ballots]
    else:
        sats = [
            {j: Fraction(x) for j, x in zip(b, p, strict=True) if x > 0}
            for b, p in zip(ballots, points, strict=True)
        ]
    groups = list(map(Group, sats, voters))
    groups = [g for g in groups if g.sats] + [g for g in groups if not g.sats]
    return SatProfile(
        instance,
        ids,
        costs,
        groups,
        grouped.n_voters,
        measure,
        uniform=measure in ("cost", "cardinality"),
        losses=losses,
    )


def _merge(keys: list[object], voters: list[list[int]]) -> tuple[list[int], list[list[int]]]:
    """The first entry of each distinct key (ascending) and the voters of each such key.

    Entries are in first-voter order, so their first entries are too. A key's voters are its
    entries' lists merged in ascending order; a key with one entry keeps that entry's list.
    """
    n = len(keys)
    # Later values win in a dict: fed backwards, it keeps each key's first entry.
    owner_of = dict(zip(reversed(keys), range(n - 1, -1, -1), strict=True))
    first = sorted(owner_of.values())
    if len(first) == n:
        return first, voters
    owner = list(map(owner_of.__getitem__, keys))
    merged: dict[int, list[int]] = {}
    for k in compress(range(n), map(ne, range(n), owner)):
        have = merged.get(owner[k])
        if have is None:
            # A new list: the entries' lists belong to the GroupedElection.
            merged[owner[k]] = voters[owner[k]] + voters[k]
        else:
            have += voters[k]
    for have in merged.values():
        have.sort()
    return first, [merged.get(k) or voters[k] for k in first]


def _losses(grouped: GroupedElection, n_projects: int) -> list[Fraction] | None:
    """Sum over voters of the negative points per project; ``None`` when there are none."""
    losses: list[Fraction] | None = None
    for projects, points, voters in zip(
        grouped.ballots, grouped.points, grouped.voters, strict=True
    ):
        for j, x in zip(projects, points or (), strict=True):
            if x < 0:
                if losses is None:
                    losses = [Fraction(0)] * n_projects
                losses[j] += x * len(voters)
    return losses
