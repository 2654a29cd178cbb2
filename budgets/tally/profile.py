"""Plain data describing a participatory-budgeting election.

Nothing here knows about files or rules: `pabulib` builds these objects from `.pb` files and the
rule modules consume them. :class:`Election` keeps one :class:`Ballot` per voter (what the Django
app and round trips need); :class:`GroupedElection` keeps each distinct ballot once with the
indices of its voters (what tallying needs, and much cheaper to build from a file).

Money is kept as :class:`fractions.Fraction` so that costs such as ``"1234.50"`` are represented
exactly.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction

VOTE_TYPES = ("approval", "choose-1", "cumulative", "ordinal", "scoring")


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small objects that form no cycles.

    Grouping a large file makes tens of thousands of tuples, lists, dicts and sets that all stay
    alive, and every 700 of them trigger a collection that walks them in vain: with the
    collector on, grouping Lodz 2022 takes twice as long. Reference counting still frees
    everything; the collector is switched back on only if it was on (nesting and other threads
    doing the same are fine).

    On the way out, what was built is moved straight to the oldest generation (``gc.freeze()``
    then ``gc.unfreeze()``, two list splices). Otherwise the first collection after the pause
    walks all of it (a quarter of the grouping's time on Lodz 2022 and Krakow 2021), and the
    next one again. The objects stay collectable: a full collection still looks at them. Skipped
    when something else has frozen objects (a server that freezes after start-up, say), which
    ``unfreeze`` would undo.
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if gc.get_freeze_count() == 0:
            gc.freeze()
            gc.unfreeze()
        if was_on:
            gc.enable()


@dataclass(frozen=True)
class Project:
    """A project that can be funded.

    ``project_id`` is the identifier used on ballots; ties are broken by comparing ids as strings.
    ``extra`` holds every other PROJECTS column verbatim (name, votes, selected, ...).
    """

    project_id: str
    cost: Fraction
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Ballot:
    """One voter's ballot.

    ``projects`` lists the project ids in file order (preference order for ordinal ballots).
    ``points`` is parallel to ``projects`` for cumulative/scoring ballots and ``None`` otherwise.
    """

    projects: tuple[str, ...]
    points: tuple[Fraction, ...] | None = None
    voter_id: str = ""
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


@dataclass
class Instance:
    """The election: budget limit, projects (in file order) and the META section."""

    budget: Fraction
    projects: dict[str, Project]
    vote_type: str = "approval"
    meta: dict[str, str] = field(default_factory=dict)

    def cost(self, project_ids: Iterable[str]) -> Fraction:
        """Total cost of the given projects."""
        return sum((self.projects[p].cost for p in project_ids), Fraction(0))


@dataclass
class Election:
    """An instance together with its ballots, as read from one pabulib file."""

    instance: Instance
    ballots: list[Ballot]
    projects_header: list[str] = field(default_factory=list)
    votes_header: list[str] = field(default_factory=list)


@dataclass
class GroupedElection:
    """An instance with its ballots grouped: each distinct ballot once, with who cast it.

    Tallying never needs a voter's id or extra columns, only which voters cast which ballot, so
    a file can be read into this without building an object per voter (see
    :func:`budgets.tally.pabulib.parse_grouped`). Entry ``k`` is one distinct ballot:

    * ``ballots[k]``: its projects as indices into ``list(instance.projects)``, in ballot order
      (rankings keep their order);
    * ``points[k]``: its points, parallel to ``ballots[k]``, or ``None`` (as :attr:`Ballot.points`);
    * ``voters[k]``: the 0-based positions, ascending, of the voters who cast it.

    Entries are in the order of their first voter. Two entries may hold the same ballot written
    two ways (``"1,2"`` and ``"1, 2"``); the satisfaction grouping merges them anyway.
    ``sets[k]`` is ``frozenset(ballots[k])``, the key ``cost`` and ``cardinality`` group by; the
    parser makes these sets anyway (to find a project listed twice) and passes them in, otherwise
    they are made here.
    """

    instance: Instance
    ballots: list[tuple[int, ...]]
    points: list[tuple[Fraction, ...] | None]
    voters: list[list[int]]
    n_voters: int
    sets: list[frozenset[int]] = field(default=None, repr=False)  # None: made by __post_init__

    def __post_init__(self) -> None:
        if self.sets is None:
            self.sets = list(map(frozenset, self.ballots))

    @classmethod
    def from_ballots(
        cls,
        instance: Instance,
        ballots: list[Ballot],
        key: Callable[[Ballot], Hashable] | None = None,
    ) -> GroupedElection:
        """Group a per-voter ballot list; ``key`` says which ballots are the same.

        By default ballots with the same projects (in the same order) and points are. A caller
        that only needs coarser groups passes its own key: hashing points (Fractions) is slow.
        """
        index = {p: j for j, p in enumerate(instance.projects)}
        by_key: dict[Hashable, tuple[Ballot, list[int]]] = {}
        for v, ballot in enumerate(ballots):
            k = (ballot.projects, ballot.points) if key is None else key(ballot)
            entry = by_key.get(k)
            if entry is None:
                by_key[k] = (ballot, [v])
            else:
                entry[1].append(v)
        entries = by_key.values()
        return cls(
            instance,
            [tuple([index[p] for p in ballot.projects]) for ballot, _ in entries],
            [ballot.points for ballot, _ in entries],
            [voters for _, voters in entries],
            len(ballots),
        )
