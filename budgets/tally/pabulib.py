"""Reading and writing pabulib ``.pb`` files.

The format has three sections introduced by a line ``META``, ``PROJECTS`` or ``VOTES``; each section
starts with a header row and fields are ``;``-separated, optionally quoted. We parse with the
:mod:`csv` module like pabutools does, so quoting rules are identical, but unlike pabutools we
validate the file and report problems as :class:`PabulibError` with the offending line number.
"""

from __future__ import annotations

import csv
import io
from fractions import Fraction
from pathlib import Path

from budgets.tally.profile import VOTE_TYPES, Ballot, Election, Instance, Project

SECTIONS = ("meta", "projects", "votes")


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
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return parse_pabulib(handle.read())


def parse_pabulib(text: str) -> Election:
    """Parse the contents of a ``.pb`` file.

    Raises :class:`PabulibError` when a section is missing, a row has the wrong shape, a vote
    names an unknown project, points do not match votes, or the META counts are wrong.
    """
    meta: dict[str, str] = {}
    projects: dict[str, Project] = {}
    ballots: list[Ballot] = []
    headers: dict[str, list[str]] = {}
    section = ""
    seen: set[str] = set()
    # Splitting on lines first mirrors pabutools and gives exact line numbers.
    lines = text.splitlines()
    reader = csv.reader(lines, delimiter=";")
    vote_col = points_col = voter_col = -1
    for row in reader:
        line = reader.line_num
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        head = row[0].strip().lower()
        if head in SECTIONS and len([c for c in row if c.strip()]) == 1:
            if head in seen:
                raise PabulibError(f"duplicate section {head.upper()}", line)
            seen.add(head)
            section = head
            try:
                header = [c.strip() for c in next(reader)]
            except StopIteration:
                raise PabulibError(f"section {head.upper()} has no header row", line) from None
            headers[section] = header
            if section == "projects":
                if not header or header[0] != "project_id" or "cost" not in header:
                    raise PabulibError(
                        "PROJECTS header must start with project_id and contain cost",
                        reader.line_num,
                    )
            elif section == "votes":
                if "meta" not in seen or "projects" not in seen:
                    raise PabulibError("VOTES section before META/PROJECTS", line)
                if "vote" not in header:
                    raise PabulibError("VOTES header has no 'vote' column", reader.line_num)
                vote_col = header.index("vote")
                points_col = header.index("points") if "points" in header else -1
                voter_col = 0
            continue
        if not section:
            raise PabulibError("data before the first section marker (META)", line)
        header = headers[section]
        if section == "meta":
            if len(row) < 2:
                raise PabulibError(f"META row needs key;value, got {row!r}", line)
            meta[row[0].strip()] = row[1].strip()
        elif section == "projects":
            if len(row) != len(header):
                raise PabulibError(
                    f"PROJECTS row has {len(row)} fields, header has {len(header)}", line
                )
            pid = row[0].strip()
            if not pid:
                raise PabulibError("empty project_id", line)
            if pid in projects:
                raise PabulibError(f"duplicate project_id {pid!r}", line)
            values = {h: v.strip() for h, v in zip(header, row, strict=False)}
            cost = parse_number(values["cost"], line, "cost")
            if cost < 0:
                raise PabulibError(f"negative cost for project {pid!r}", line)
            extra = {h: v for h, v in values.items() if h not in ("project_id", "cost")}
            projects[pid] = Project(pid, cost, extra)
        else:
            ballots.append(
                _parse_vote(row, header, vote_col, points_col, voter_col, meta, projects, line)
            )
    for name in SECTIONS:
        if name not in seen:
            raise PabulibError(f"missing section {name.upper()}")
    instance = _build_instance(meta, projects, len(ballots))
    return Election(instance, ballots, headers["projects"], headers["votes"])


def _parse_vote(
    row: list[str],
    header: list[str],
    vote_col: int,
    points_col: int,
    voter_col: int,
    meta: dict[str, str],
    projects: dict[str, Project],
    line: int,
) -> Ballot:
    if len(row) != len(header):
        raise PabulibError(f"VOTES row has {len(row)} fields, header has {len(header)}", line)
    vote_type = meta.get("vote_type", "")
    if vote_type not in VOTE_TYPES:
        raise PabulibError(f"unsupported vote_type {vote_type!r}", line)
    raw = row[vote_col].strip()
    ids = tuple(p.strip() for p in raw.split(",") if p.strip()) if raw and not _is_none(raw) else ()
    for pid in ids:
        if pid not in projects:
            raise PabulibError(f"vote for unknown project {pid!r}", line)
    if len(set(ids)) != len(ids):
        raise PabulibError("a project appears twice on one ballot", line)
    points: tuple[Fraction, ...] | None = None
    if vote_type in ("cumulative", "scoring"):
        if points_col < 0:
            raise PabulibError(f"{vote_type} ballots need a 'points' column", line)
        raw_points = row[points_col].strip()
        parts = [x for x in raw_points.split(",") if x.strip()] if not _is_none(raw_points) else []
        if len(parts) != len(ids):
            raise PabulibError(f"{len(ids)} projects but {len(parts)} points", line)
        points = tuple(parse_number(x, line, "points") for x in parts)
    skip = {vote_col, points_col}
    extra = {header[i]: row[i].strip() for i in range(len(row)) if i not in skip and i != voter_col}
    return Ballot(ids, points, row[voter_col].strip(), extra)


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
