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
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from budgets.tally.profile import Ballot, Instance

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

    def welfare(self) -> list[Fraction]:
        """Total satisfaction of every project counting negative points too (greedy's score).

        Equal to :meth:`total_sat` unless some ballot gives a project negative points.
        """
        totals = self.total_sat()
        if self.losses is None:
            return totals
        return [t + x for t, x in zip(totals, self.losses, strict=True)]

    def total_sat(self) -> list[Fraction]:
        """Total satisfaction of every project (sum over voters)."""
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


def ballot_sats(
    ballot: Ballot, measure: str, index: dict[str, int], costs: list[Fraction]
) -> dict[int, Fraction]:
    """Satisfaction vector of one ballot (only positive entries are kept)."""
    if measure == "cost":
        return {index[p]: costs[index[p]] for p in ballot.projects if costs[index[p]]}
    if measure == "cardinality":
        return {index[p]: ONE for p in ballot.projects}
    if measure == "utility":
        if ballot.points is not None:
            pairs = zip(ballot.projects, ballot.points, strict=True)
            return {index[p]: Fraction(x) for p, x in pairs if x > 0}
        raise ValueError("utility satisfaction needs cumulative or ordinal ballots")
    raise ValueError(f"unknown satisfaction measure {measure!r}; use one of {SAT_MEASURES}")


def build_sat_profile(instance: Instance, ballots: list[Ballot], measure: str) -> SatProfile:
    """Group ballots by their satisfaction vector under ``measure``."""
    if measure not in SAT_MEASURES:
        raise ValueError(f"unknown satisfaction measure {measure!r}; use one of {SAT_MEASURES}")
    ids = list(instance.projects)
    index = {p: i for i, p in enumerate(ids)}
    costs = [instance.projects[p].cost for p in ids]
    ordinal = instance.vote_type == "ordinal"
    if measure == "utility" and instance.vote_type in ("approval", "choose-1"):
        raise ValueError("utility satisfaction is only defined for cumulative and ordinal ballots")
    by_key: dict[object, Group] = {}
    # Sum of the negative points per project (utility on point ballots only), for greedy.
    losses: list[Fraction] | None = None
    for v, ballot in enumerate(ballots):
        # Order matters only for Borda scores; otherwise the set of listed projects decides.
        if measure == "utility" and ordinal:
            key: object = ballot.projects
        elif ballot.points is not None and measure == "utility":
            key = tuple(sorted(zip(ballot.projects, ballot.points, strict=False)))
        else:
            key = frozenset(ballot.projects)
        group = by_key.get(key)
        if group is None:
            if measure == "utility" and ordinal:
                k = len(ballot.projects)
                sats = {
                    index[p]: Fraction(k - pos - 1)
                    for pos, p in enumerate(ballot.projects)
                    if k - pos - 1 > 0
                }
            else:
                sats = ballot_sats(ballot, measure, index, costs)
            group = by_key[key] = Group(sats, [])
        group.voters.append(v)
        if measure == "utility" and ballot.points is not None:
            for p, x in zip(ballot.projects, ballot.points, strict=True):
                if x < 0:
                    if losses is None:
                        losses = [Fraction(0)] * len(ids)
                    losses[index[p]] += x
    groups = [g for g in by_key.values() if g.sats] + [g for g in by_key.values() if not g.sats]
    return SatProfile(
        instance,
        ids,
        costs,
        groups,
        len(ballots),
        measure,
        uniform=measure in ("cost", "cardinality"),
        losses=losses,
    )
