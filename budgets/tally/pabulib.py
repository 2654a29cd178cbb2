"""Reading and writing pabulib ``.pb`` files.

The format has three sections introduced by a line ``META``, ``PROJECTS`` or ``VOTES``; each section
starts with a header row and fields are ``;``-separated, optionally quoted. We parse with the
:mod:`csv` module like pabutools does, so quoting rules are identical, but unlike pabutools we
validate the file and report problems as :class:`PabulibError` with the offending line number.

Two readers, with the same checks, errors and line numbers:

* :func:`read_pabulib` / :func:`parse_pabulib` give an :class:`Election`, one :class:`Ballot` per
  voter with its id and extra columns: what the Django app and :func:`write_pabulib` need.
* :func:`read_grouped` / :func:`parse_grouped` give a :class:`GroupedElection`: each distinct
  ballot once, as project indices, with the positions of the voters who cast it. That is all a
  tally needs, and :func:`read_sat_profile` goes on to the :class:`SatProfile` the rules take.

The grouped reader is cheap because its per-voter work is one ``str.split`` and one dict look-up
(about what :mod:`csv` spends splitting the row), with the garbage collector paused: on the
largest files it takes about three times as long as :mod:`csv` takes just to split the file,
where the per-voter reader plus :func:`~budgets.tally.satisfaction.build_sat_profile` take
fifteen times as long (``python bench/bench_parse.py``). VOTES rows are split on ``;`` (the same
fields as :mod:`csv` gives for a line without quotes) and counted by their raw vote (and points)
strings; each *distinct* string is then checked and converted once. Anything off that simple
path -- a quote in VOTES, a blank line among the votes, a row with the wrong number of fields, a
row shaped like a section marker, a distinct ballot that fails a check -- makes it parse the text
again with :func:`parse_pabulib` and group those ballots: a valid file gets the same result, and
a broken one the very error (message and line) :func:`parse_pabulib` reports.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import repeat
from pathlib import Path
from typing import Any

from budgets.tally.profile import (
    VOTE_TYPES,
    Ballot,
    Election,
    GroupedElection,
    Instance,
    Project,
    gc_paused,
)
from budgets.tally.satisfaction import SAT_MEASURES, SatProfile, grouped_sat_profile

SECTIONS = ("meta", "projects", "votes")
POINT_TYPES = ("cumulative", "scoring")


class PabulibError(ValueError):
    """A malformed pabulib file; ``line`` is the 1-based line number (0 when not line-specific)."""

    def __init__(self, message: str, line: int = 0) -> None:
        self.line = line
        super().__init__(f"line {line}: {message}" if line else message)


def parse_number(text: str, line: int = 0, what: str = "number") -> Fraction:
    """Parse a decimal (``"12.5"``, ``"12,5"``) or fraction (``"5/2"``) string exactly."""
    try:
        return Fraction(text.strip().replace(",", "."))
    except (ValueError, ZeroDivisionError):
        raise PabulibError(f"invalid {what} {text!r}", line) from None


def _is_none(value: str) -> bool:
    # pabutools treats a literal "none" (any case) as a missing value.
    return value.strip().lower() == "none"


def read_pabulib(path: str | Path) -> Election:
    """Read a ``.pb`` file (UTF-8, optional BOM) into an :class:`Election`."""
    return parse_pabulib(_read_text(path))


def read_grouped(path: str | Path) -> GroupedElection:
    """Read a ``.pb`` file into a :class:`GroupedElection` (see the module docstring)."""
    return parse_grouped(_read_text(path))


def read_sat_profile(path: str | Path, sat: str = "cost") -> SatProfile:
    """Read a ``.pb`` file straight into the :class:`SatProfile` the rules run on.

    The same profile as ``build_sat_profile(e.instance, e.ballots, sat)`` with
    ``e = read_pabulib(path)``, at a fraction of the cost. Raises :class:`PabulibError` for a
    malformed file and ``ValueError`` for a measure the file's ballots cannot give.
    """
    if sat not in SAT_MEASURES:
        raise ValueError(f"unknown satisfaction measure {sat!r}; use one of {SAT_MEASURES}")
    return grouped_sat_profile(read_grouped(path), sat)


def _read_text(path: str | Path) -> str:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return handle.read()


def parse_pabulib(text: str) -> Election:
    """Parse the contents of a ``.pb`` file.

    Raises :class:`PabulibError` when a section is missing, a row has the wrong shape, a vote
    names an unknown project, points do not match votes, or the META counts are wrong.
    """
    # Splitting on lines first mirrors pabutools and gives exact line numbers.
    reader = csv.reader(text.splitlines(), delimiter=";")
    head = _parse_head(reader)
    head.check_sections()
    ballots: list[Ballot] = []
    header, vote_col, points_col = head.headers["votes"], head.vote_col, head.points_col
    meta, projects = head.meta, head.projects
    for row in reader:
        line = reader.line_num
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        name = row[0].strip().lower()
        if name in SECTIONS and len([c for c in row if c.strip()]) == 1:
            raise PabulibError(f"duplicate section {name.upper()}", line)
        ballots.append(_parse_vote(row, header, vote_col, points_col, meta, projects, line))
    instance = _build_instance(head.meta, head.projects, len(ballots))
    return Election(instance, ballots, head.headers["projects"], head.headers["votes"])


def parse_grouped(text: str) -> GroupedElection:
    """Parse the contents of a ``.pb`` file into a :class:`GroupedElection`.

    Same checks and errors as :func:`parse_pabulib`; see the module docstring for how.
    """
    with gc_paused():
        return _parse_grouped(text)


def _parse_grouped(text: str) -> GroupedElection:
    lines = text.splitlines()
    reader = csv.reader(lines, delimiter=";")
    head = _parse_head(reader)
    head.check_sections()
    # csv read exactly the lines up to the VOTES header: the rest are the vote rows.
    rows = lines[reader.line_num :]
    quotes_before = sum(line.count('"') for line in lines[: reader.line_num])
    grouped = _group_votes(rows, head) if text.count('"') == quotes_before else None
    if grouped is None:
        election = parse_pabulib(text)
        return GroupedElection.from_ballots(election.instance, election.ballots)
    return grouped


@dataclass
class _Head:
    """What precedes the vote rows: META, PROJECTS, the section headers and the VOTES columns."""

    meta: dict[str, str] = field(default_factory=dict)
    projects: dict[str, Project] = field(default_factory=dict)
    headers: dict[str, list[str]] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)
    vote_col: int = -1
    points_col: int = -1

    def check_sections(self) -> None:
        """Raise for a missing section. VOTES must follow the other two (``_parse_head`` checks
        that), so once the head is read this is the file's only missing-section error."""
        for name in SECTIONS:
            if name not in self.seen:
                raise PabulibError(f"missing section {name.upper()}")


def _is_blank(row: list[str]) -> bool:
    return not row or (len(row) == 1 and not row[0].strip())


def _is_marker(row: list[str]) -> bool:
    return row[0].strip().lower() in SECTIONS and len([c for c in row if c.strip()]) == 1


def _parse_head(reader: Any) -> _Head:
    """Parse META and PROJECTS from a ``csv.reader``, stopping right after the VOTES header row.

    VOTES must come after the other two sections, so every row after its header is a vote (or a
    section marker repeated, an error); the callers read those rows their own way.
    """
    head = _Head()
    section = ""
    for row in reader:
        line = reader.line_num
        if _is_blank(row):
            continue
        if _is_marker(row):
            name = row[0].strip().lower()
            if name in head.seen:
                raise PabulibError(f"duplicate section {name.upper()}", line)
            head.seen.add(name)
            section = name
            try:
                header = [c.strip() for c in next(reader)]
            except StopIteration:
                raise PabulibError(f"section {name.upper()} has no header row", line) from None
            head.headers[section] = header
            if section == "projects":
                if not header or header[0] != "project_id" or "cost" not in header:
                    raise PabulibError(
                        "PROJECTS header must start with project_id and contain cost",
                        reader.line_num,
                    )
            elif section == "votes":
                if "meta" not in head.seen or "projects" not in head.seen:
                    raise PabulibError("VOTES section before META/PROJECTS", line)
                if "vote" not in header:
                    raise PabulibError(
                        "VOTES header has no 'vote' column",
                        reader.line_num,
                    )
                head.vote_col = header.index("vote")
                head.points_col = header.index("points") if "points" in header else -1
                return head
            continue
        if not section:
            raise PabulibError("data before the first section marker (META)", line)
        header = head.headers[section]
        if section == "meta":
            if len(row) < 2:
                raise PabulibError(f"META row needs key;value, got {row!r}", line)
            head.meta[row[0].strip()] = row[1].strip()
        else:
            if len(row) != len(header):
                raise PabulibError(
                    f"PROJECTS row has {len(row)} fields, header has {len(header)}", line
                )
            pid = row[0].strip()
            if not pid:
                raise PabulibError("empty project_id", line)
            if pid in head.projects:
                raise PabulibError(f"duplicate project_id {pid!r}", line)
            values = {h: v.strip() for h, v in zip(header, row, strict=False)}
            cost = parse_number(values["cost"], line, "cost")
            if cost < 0:
                raise PabulibError(f"negative cost for project {pid!r}", line)
            extra = {h: v for h, v in values.items() if h not in ("project_id", "cost")}
            head.projects[pid] = Project(pid, cost, extra)
    return head


def _vote_ids(raw: str) -> tuple[str, ...]:
    """The project ids of a stripped ``vote`` field (empty for ``""`` and ``none``)."""
    if not raw or _is_none(raw):
        return ()
    return tuple(p.strip() for p in raw.split(",") if p.strip())


def _point_fields(raw: str) -> list[str]:
    """The point strings of a stripped ``points`` field (empty for ``""`` and ``none``)."""
    return [x for x in raw.split(",") if x.strip()] if not _is_none(raw) else []


def _parse_vote(
    row: list[str],
    header: list[str],
    vote_col: int,
    points_col: int,
    meta: dict[str, str],
    projects: dict[str, Project],
    line: int,
) -> Ballot:
    if len(row) != len(header):
        raise PabulibError(f"VOTES row has {len(row)} fields, header has {len(header)}", line)
    vote_type = meta.get("vote_type", "")
    if vote_type not in VOTE_TYPES:
        raise PabulibError(f"unsupported vote_type {vote_type!r}", line)
    # _vote_ids and _point_fields inlined: this runs once per voter.
    raw = row[vote_col].strip()
    ids = tuple(p.strip() for p in raw.split(",") if p.strip()) if raw and not _is_none(raw) else ()
    for pid in ids:
        if pid not in projects:
            raise PabulibError(f"vote for unknown project {pid!r}", line)
    if len(set(ids)) != len(ids):
        raise PabulibError("a project appears twice on one ballot", line)
    points: tuple[Fraction, ...] | None = None
    if vote_type in POINT_TYPES:
        if points_col < 0:
            raise PabulibError(f"{vote_type} ballots need a 'points' column", line)
        raw_points = row[points_col].strip()
        parts = [x for x in raw_points.split(",") if x.strip()] if not _is_none(raw_points) else []
        if len(parts) != len(ids):
            raise PabulibError(f"{len(ids)} projects but {len(parts)} points", line)
        points = tuple(parse_number(x, line, "points") for x in parts)
    skip = {vote_col, points_col}
    extra = {header[i]: row[i].strip() for i in range(len(row)) if i not in skip and i != 0}
    return Ballot(ids, points, row[0].strip(), extra)


def _group_votes(rows: list[str], head: _Head) -> GroupedElection | None:
    """Group quote-free vote rows by raw vote (and points) string; ``None`` if off the fast path.

    ``None`` whenever :func:`parse_pabulib` could skip a row or raise (a blank line, a wrong
    field count, a row shaped like a section marker, a ballot failing a check), so that it can
    have the last word.
    """
    while rows and not rows[-1].strip():
        rows = rows[:-1]  # trailing blank lines: skipped by csv too, and no line comes after
    n_fields = len(head.headers["votes"])
    vote_col, points_col = head.vote_col, head.points_col
    vote_type = head.meta.get("vote_type", "")
    with_points = vote_type in POINT_TYPES
    if not rows:
        return GroupedElection(_build_instance(head.meta, head.projects, 0), [], [], [], 0)
    if n_fields < 2 or vote_col == 0 or points_col == 0:
        return None  # the voter id doubles as a ballot field: leave that to parse_pabulib
    if vote_type not in VOTE_TYPES or (with_points and points_col < 0):
        return None
    # The one loop over voters, kept to a split and a dict look-up: the rest works per distinct
    # ballot. (Two copies of the loop so that the common case does not build a tuple per row.)
    by_raw: dict[Any, list[int]] = {}
    if with_points:
        for v, line in enumerate(rows):
            fields = line.split(";")
            if len(fields) != n_fields:
                return None
            key = (fields[vote_col], fields[points_col])
            voters = by_raw.get(key)
            if voters is None:
                by_raw[key] = [v]
            else:
                voters.append(v)
        raw_votes = [vote for vote, _ in by_raw]
    else:
        for v, line in enumerate(rows):
            fields = line.split(";")
            if len(fields) != n_fields:
                return None
            key = fields[vote_col]
            voters = by_raw.get(key)
            if voters is None:
                by_raw[key] = [v]
            else:
                voters.append(v)
        raw_votes = list(by_raw)
    ballots = _ballot_indices(raw_votes, head.projects)
    if ballots is None or (() in ballots and _has_marker(rows, by_raw, ballots)):
        return None
    # A project listed twice: the set of the ballot is shorter than the ballot.
    sets = list(map(frozenset, ballots))
    if list(map(len, sets)) != list(map(len, ballots)):
        return None
    points: list[tuple[Fraction, ...] | None] = [None] * len(ballots)
    if with_points:
        points = _ballot_points([raw for _, raw in by_raw], ballots)
        if points is None:
            return None
    instance = _build_instance(head.meta, head.projects, len(rows))
    return GroupedElection(instance, ballots, points, list(by_raw.values()), len(rows), sets)


def _ballot_points(
    raw_points: list[str], ballots: list[tuple[int, ...]]
) -> list[tuple[Fraction, ...] | None] | None:
    """Each raw ``points`` field as numbers; ``None`` if one does not match its ballot.

    Distinct ballots share few distinct points fields (all 25,936 of Krakow 2021 have ``3,2,1``;
    Katowice 2023's 1,806 have 6), so each field is converted once.
    """
    numbers: dict[str, Fraction] = {}
    fields: dict[str, tuple[Fraction, ...] | None] = {}
    points: list[tuple[Fraction, ...] | None] = []
    for raw, projects in zip(raw_points, ballots, strict=True):
        parsed = fields.get(raw, False)
        if parsed is False:
            parsed = fields[raw] = _points_of(raw, numbers)
        if parsed is None or len(parsed) != len(projects):
            return None
        points.append(parsed)
    return points


def _points_of(raw: str, numbers: dict[str, Fraction]) -> tuple[Fraction, ...] | None:
    """The numbers of one raw ``points`` field, or ``None`` if one is not a number."""
    try:
        return tuple([_cached_number(x, numbers) for x in _point_fields(raw.strip())])
    except PabulibError:
        return None


def _ballot_indices(
    raw_votes: list[str], projects: dict[str, Project]
) -> list[tuple[int, ...]] | None:
    """Each raw ``vote`` field as project indices; ``None`` if one names an unknown project."""
    index = {p: j for j, p in enumerate(projects)}
    # A project named "none" would make a "none" vote mean two things: the careful way only.
    if not any(_is_none(p) for p in index):
        try:
            # When every piece is a project id as is (no spaces, no empty piece, no "none"),
            # a ballot is its pieces: map them all at C speed.
            pieces = map(str.split, raw_votes, repeat(","))
            return list(map(tuple, map(map, repeat(index.__getitem__), pieces)))
        except KeyError:
            pass
    ballots: list[tuple[int, ...]] = []
    for raw in raw_votes:
        names = _vote_ids(raw.strip())
        if not all(p in index for p in names):
            return None
        ballots.append(tuple([index[p] for p in names]))
    return ballots


def _has_marker(rows: list[str], by_raw: dict[Any, list[int]], ballots: list[tuple]) -> bool:
    """Whether a row of an empty ballot is in fact a section marker (``VOTES;;;``)."""
    for voters, ballot in zip(by_raw.values(), ballots, strict=True):
        if not ballot and any(_is_marker(rows[v].split(";")) for v in voters):
            return True
    return False


def _cached_number(text: str, cache: dict[str, Fraction]) -> Fraction:
    # Few distinct point strings ("1", "2", "3") recur across thousands of ballots.
    value = cache.get(text)
    if value is None:
        value = cache[text] = parse_number(text, 0, "points")
    return value


def _build_instance(meta: dict[str, str], projects: dict[str, Project], n_votes: int) -> Instance:
    for key in ("budget", "vote_type"):
        if key not in meta:
            raise PabulibError(f"META lacks '{key}'")
    budget = parse_number(meta["budget"], 0, "budget")
    for key, actual in (("num_projects", len(projects)), ("num_votes", n_votes)):
        if key in meta:
            try:
                declared = int(meta[key])
            except ValueError:
                raise PabulibError(f"META {key} is not an integer: {meta[key]!r}") from None
            if declared != actual:
                raise PabulibError(f"META {key}={declared} but the file has {actual}")
    return Instance(budget, projects, meta["vote_type"], dict(meta))


def format_number(value: Fraction) -> str:
    """Format an exact number the way pabulib files write it (integer, decimal or ``n/d``)."""
    if value.denominator == 1:
        return str(value.numerator)
    den, twos, fives = value.denominator, 0, 0
    while den % 2 == 0:
        den //= 2
        twos += 1
    while den % 5 == 0:
        den //= 5
        fives += 1
    if den != 1:
        return f"{value.numerator}/{value.denominator}"
    digits = max(twos, fives)
    scaled = value * 10**digits
    sign = "-" if scaled < 0 else ""
    text = str(abs(scaled.numerator)).rjust(digits + 1, "0")
    return f"{sign}{text[:-digits]}.{text[-digits:]}"


def write_pabulib(election: Election, path: str | Path | None = None) -> str:
    """Serialise an election to pabulib text; also write it to ``path`` when given.

    META counts are refreshed from the data so the output always passes :func:`parse_pabulib`.
    """
    inst = election.instance
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    meta = dict(inst.meta)
    meta["num_projects"] = str(len(inst.projects))
    meta["num_votes"] = str(len(election.ballots))
    meta["budget"] = format_number(inst.budget)
    meta["vote_type"] = inst.vote_type
    writer.writerow(["META"])
    writer.writerow(["key", "value"])
    for key, value in meta.items():
        writer.writerow([key, value])
    proj_header = list(election.projects_header) or ["project_id", "cost"]
    for p in inst.projects.values():
        for key in p.extra:
            if key not in proj_header:
                proj_header.append(key)
    writer.writerow(["PROJECTS"])
    writer.writerow(proj_header)
    for p in inst.projects.values():
        fields = {"project_id": p.project_id, "cost": format_number(p.cost), **p.extra}
        writer.writerow([fields.get(h, "") for h in proj_header])
    has_points = inst.vote_type in ("cumulative", "scoring")
    vote_header = list(election.votes_header) or ["voter_id", "vote"]
    if "vote" not in vote_header:
        vote_header.append("vote")
    if has_points and "points" not in vote_header:
        vote_header.append("points")
    for b in election.ballots:
        for key in b.extra:
            if key not in vote_header:
                vote_header.append(key)
    writer.writerow(["VOTES"])
    writer.writerow(vote_header)
    for i, b in enumerate(election.ballots):
        fields = dict(b.extra)
        fields[vote_header[0]] = b.voter_id or str(i + 1)
        fields["vote"] = ",".join(b.projects)
        if b.points is not None:
            fields["points"] = ",".join(format_number(x) for x in b.points)
        writer.writerow([fields.get(h, "") for h in vote_header])
    text = out.getvalue()
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text
