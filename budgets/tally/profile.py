"""Plain data describing a participatory-budgeting election.

Nothing here knows about files or rules: `pabulib` builds these objects from `.pb` files and the
rule modules consume them. Money is kept as :class:`fractions.Fraction` so that costs such as
``"1234.50"`` are represented exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction

VOTE_TYPES = ("approval", "choose-1", "cumulative", "ordinal", "scoring")


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
