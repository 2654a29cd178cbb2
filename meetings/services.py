"""Use cases of sessions (村民代表会议 and the others): roster, roll call, proxies, roll-call votes,
minutes, and the path of a resolution into the village-affairs disclosure (四议两公开).

Every function checks its permission, works inside one transaction and locks the session row
first (`select_for_update`), so that two requests that race (two votes by the same member, a vote
and the close of the vote, two proxies for one holder) are serialised on PostgreSQL; the unique
constraint on votes is the last line of defence. Each change is broadcast after commit as a
numbered frame on the session's group (docs/sessions.md, "Live protocol"). Errors are
`ValidationError`s with a `code`; refusals of permission are `PermissionDenied`.
"""

from __future__ import annotations

import datetime
import secrets

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core import ratelimit
from core.permissions import require_perm as _require
from core.realtime import broadcast_on_commit, group_name
from councils.models import CouncilPage, Household, Membership, Role
from deliberation.selectors import event_for
from meetings import notices, quorum
from meetings.models import (
    MAJORITIES,
    ROSTER_MODES_BY_KIND,
    AgendaItem,
    Attendance,
    CheckInMethod,
    MajorityKind,
    Minutes,
    MinutesStatus,
    Motion,
    MotionStatus,
    RosterEntry,
    RosterMode,
    Session,
    SessionKind,
    SessionStatus,
    Vote,
    VoteChoice,
    default_rule,
)

CHECK_IN_CODE_DIGITS = 6
WRONG_CODE_LIMIT = 5  # wrong codes per person per session ...
WRONG_CODE_WINDOW = 10 * 60  # ... in this many seconds


def session_group(session_id: int) -> str:
    return group_name("session", session_id)


def _lock(session_id: int) -> Session:
    return Session.objects.select_for_update().select_related("council").get(pk=session_id)


def _refuse_unless_open(session: Session) -> None:
    if session.status != SessionStatus.OPEN:
        raise ValidationError(_("The session is not in progress."), code="session_not_open")


def _broadcast(session: Session, frame: dict) -> None:
    """Number `frame` with the session's next seq (the row is locked) and send it after commit."""
    session.last_seq += 1
    Session.objects.filter(pk=session.pk).update(last_seq=session.last_seq)
    broadcast_on_commit(session_group(session.pk), event_for({**frame, "seq": session.last_seq}))


# --- Scheduling and agenda -----------------------------------------------------------------------


@transaction.atomic
def schedule_session(
    *,
    actor,
    council: CouncilPage,
    kind: str,
    title: str,
    starts_at: datetime.datetime,
    place: str,
    roster_mode: str = "",
    is_public: bool = True,
) -> Session:
    """A committee member convenes a session; it starts with the law's default counting rule."""
    _require(
        actor,
        "meetings.schedule_session",
        council,
        _("Only the village committee convenes sessions."),
    )
    if kind not in SessionKind.values:
        raise ValidationError({"kind": _("Choose a kind of meeting from the list.")})
    allowed = ROSTER_MODES_BY_KIND[kind]
    roster_mode = roster_mode or allowed[0]
    if roster_mode not in allowed:
        raise ValidationError({"roster_mode": _("This kind of meeting cannot use that roster.")})
    title, place = (title or "").strip(), (place or "").strip()
    if len(title) < 2:
        raise ValidationError({"title": _("Write a title of at least 2 characters.")})
    if not place:
        raise ValidationError({"place": _("Say where the meeting takes place.")})
    if starts_at is None:
        raise ValidationError({"starts_at": _("Give the date and time of the meeting.")})
    _refuse_short_notice(kind, starts_at)
    session = Session.objects.create(
        council=council,
        kind=kind,
        roster_mode=roster_mode,
        title=title,
        starts_at=starts_at,
        place=place,
        convened_by=actor,
        is_public=is_public,
        rule=default_rule(kind, roster_mode).to_dict(),
    )
    notices.meeting_called(session, actor=actor)  # to the roster, with the session
    return session


def _refuse_unless_scheduled(session: Session) -> None:
    if session.status == SessionStatus.CANCELLED:
        raise ValidationError(_("The meeting was cancelled."), code="cancelled")
    if session.status != SessionStatus.SCHEDULED:
        raise ValidationError(
            _("The meeting has already opened: its time and place stay as they were."),
            code="already_open",
        )


# The notice those who may attend must have, by kind of meeting. A villagers' assembly: ten days,
# by law (Organic Law of Villagers' Committees, art. 21: 召开村民会议，应当提前十天通知村民). The
# other kinds: what the village's own rules ask, YISHI_MEETING_NOTICE_DAYS {kind: days} (none by
# default); a deployment may lengthen the assembly's, never shorten it below the law.
LAW_NOTICE_DAYS = {SessionKind.ASSEMBLY: 10}


def notice_days(kind: str) -> int:
    configured = getattr(settings, "YISHI_MEETING_NOTICE_DAYS", {}).get(kind, 0)
    return max(int(configured), LAW_NOTICE_DAYS.get(kind, 0))


def _refuse_short_notice(kind: str, starts_at: datetime.datetime) -> None:
    """The roster is told when the meeting is called or moved: refuse a time too soon for the
    notice the law or the village's rules ask."""
    days = notice_days(kind)
    if not days:
        return
    earliest = timezone.now() + datetime.timedelta(days=days)
    if starts_at < earliest:
        raise ValidationError(
            {
                "starts_at": _(
                    "Those who may attend must be told %(days)d days ahead: the earliest this "
                    "meeting can be held is %(earliest)s."
                )
                % {
                    "days": days,
                    "earliest": timezone.localtime(earliest).strftime("%Y-%m-%d %H:%M"),
                }
            }
        )


@transaction.atomic
def change_session(*, actor, session: Session, starts_at: datetime.datetime, place: str) -> Session:
    """The committee moves a meeting that has not opened yet to another time or place; those
    who may attend are told."""
    session = _lock(session.pk)
    _require(actor, "meetings.chair_session", session, _("Only the chair changes the meeting."))
    _refuse_unless_scheduled(session)
    place = (place or "").strip()
    if not place:
        raise ValidationError({"place": _("Say where the meeting takes place.")})
    if starts_at is None:
        raise ValidationError({"starts_at": _("Give the date and time of the meeting.")})
    if starts_at == session.starts_at and place == session.place:
        raise ValidationError(
            _("This is already the time and place of the meeting."), code="unchanged"
        )
    if starts_at != session.starts_at:
        _refuse_short_notice(session.kind, starts_at)  # the new time is told now, too
    was_when, was_place = notices.local_time(session.starts_at), session.place
    session.starts_at, session.place = starts_at, place
    session.save(update_fields=["starts_at", "place"])
    notices.meeting_changed(session, actor=actor, was_when=was_when, was_place=was_place)
    return session


@transaction.atomic
def cancel_session(*, actor, session: Session) -> Session:
    """The committee calls off a meeting that has not opened; those who may attend are told."""
    session = _lock(session.pk)
    _require(actor, "meetings.chair_session", session, _("Only the chair cancels the meeting."))
    _refuse_unless_scheduled(session)
    session.status = SessionStatus.CANCELLED
    session.save(update_fields=["status"])
    notices.meeting_cancelled(session, actor=actor)
    return session


@transaction.atomic
def add_agenda_item(
    *,
    actor,
    session: Session,
    title: str,
    description: str = "",
    topic=None,
    budget_cycle=None,
    record=None,
) -> AgendaItem:
    """Add an item to the agenda; it may point at a hall topic, a budget cycle or a record."""
    session = _lock(session.pk)
    _require(actor, "meetings.chair_session", session, _("Only the chair sets the agenda."))
    if session.status == SessionStatus.CLOSED:
        raise ValidationError(_("The session is closed."), code="session_closed")
    if session.status == SessionStatus.CANCELLED:
        raise ValidationError(_("The meeting was cancelled."), code="cancelled")
    title = (title or "").strip()
    if len(title) < 2:
        raise ValidationError({"title": _("Write a title of at least 2 characters.")})
    council_id = session.council_id
    if topic is not None and topic.hall.council_id != council_id:
        raise ValidationError({"topic": _("The topic belongs to another council.")})
    if budget_cycle is not None and budget_cycle.council_id != council_id:
        raise ValidationError({"budget_cycle": _("The budget cycle belongs to another council.")})
    if record is not None and (record.council_id != council_id or not record.is_published):
        raise ValidationError({"record": _("Choose a published record of this council.")})
    position = (
        session.agenda.order_by("-position").values_list("position", flat=True).first() or 0
    ) + 1
    return AgendaItem.objects.create(
        session=session,
        position=position,
        title=title,
        description=(description or "").strip(),
        topic=topic,
        budget_cycle=budget_cycle,
        record=record,
    )


# --- Opening: the roster snapshot ----------------------------------------------------------------


def _roster_people(session: Session) -> list[tuple[object, str, Household | None]]:
    """(person, capacity, household) for everyone entitled to attend, in a stable order."""
    council = session.council
    mode = session.roster_mode
    if mode == RosterMode.HOUSEHOLDS:
        households = (
            Household.objects.filter(council=council, head__isnull=False)
            .select_related("head")
            .order_by("number")
        )
        seen, people = set(), []
        for household in households:
            if household.head_id in seen:
                continue  # one person heading two households still has one seat
            seen.add(household.head_id)
            people.append(
                (
                    household.head,
                    _("Household %(number)s") % {"number": household.number},
                    household,
                )
            )
        return people
    if mode == RosterMode.RESIDENTS:
        memberships = Membership.objects.effective_in(council).filter(role=Role.RESIDENT)
        capacity = {Role.RESIDENT: str(Role.RESIDENT.label)}
    else:
        roles = notices.roster_roles(mode)
        memberships = Membership.objects.verified().filter(council=council, role__in=roles)
        capacity = {role: str(Role(role).label) for role in roles}
    people: dict[int, tuple] = {}
    for membership in memberships.select_related("user").order_by("user_id", "role"):
        # A committee member who is also a representative sits once, as a committee member.
        if membership.user_id not in people:
            people[membership.user_id] = (membership.user, capacity[membership.role], None)
    return list(people.values())


@transaction.atomic
def open_session(*, actor, session: Session, early: bool = False) -> Session:
    """Open the session and snapshot who is entitled to attend (later changes don't alter it).

    Before the scheduled time only with `early` (the chair confirms): members who come on time
    would otherwise find the roll call and the first votes already done."""
    session = _lock(session.pk)
    _require(actor, "meetings.chair_session", session, _("Only the chair opens the session."))
    if session.status == SessionStatus.CANCELLED:
        raise ValidationError(_("The meeting was cancelled."), code="cancelled")
    if session.status != SessionStatus.SCHEDULED:
        raise ValidationError(_("The session has already been opened."), code="already_open")
    if timezone.now() < session.starts_at and not early:
        raise ValidationError(
            _(
                "The meeting is scheduled for %(when)s. To open it before then, tick “Open "
                "before the scheduled time” to confirm."
            )
            % {"when": timezone.localtime(session.starts_at).strftime("%Y-%m-%d %H:%M")},
            code="too_early",
        )
    people = _roster_people(session)
    RosterEntry.objects.bulk_create(
        RosterEntry(
            session=session,
            person=person,
            household=household,
            name=person.public_name[:80],
            capacity=capacity[:40],
        )
        for person, capacity, household in people
    )
    if session.roster_mode == RosterMode.HOUSEHOLDS:
        # 三分之二以上的户: every household of the village counts, with a head on record or not.
        session.entitled_count = Household.objects.filter(council=session.council).count()
    else:
        session.entitled_count = len(people)
    session.status = SessionStatus.OPEN
    session.opened_at = timezone.now()
    session.save(update_fields=["entitled_count", "status", "opened_at"])
    _broadcast(session, {"type": "session", **session_summary(session)})
    _broadcast(session, attendance_frame(session))
    return session


@transaction.atomic
def close_session(*, actor, session: Session) -> Session:
    session = _lock(session.pk)
    _require(actor, "meetings.chair_session", session, _("Only the chair closes the session."))
    _refuse_unless_open(session)
    if session.motions.filter(status=MotionStatus.OPEN).exists():
        raise ValidationError(_("Close the vote in progress first."), code="vote_open")
    session.status = SessionStatus.CLOSED
    session.closed_at = timezone.now()
    session.check_in_open, session.check_in_code = False, ""
    session.save(update_fields=["status", "closed_at", "check_in_open", "check_in_code"])
    _broadcast(session, {"type": "session", **session_summary(session)})
    return session


# --- Roll call (签到) and proxies (委托) ----------------------------------------------------------


def _new_code(old: str = "") -> str:
    while True:
        code = f"{secrets.randbelow(10**CHECK_IN_CODE_DIGITS):0{CHECK_IN_CODE_DIGITS}d}"
        if code != old:
            return code


@transaction.atomic
def open_check_in(*, actor, session: Session) -> str:
    """Open self check-in and show a fresh one-time code in the room. Returns the code."""
    session = _lock(session.pk)
    _require(actor, "meetings.chair_session", session, _("Only the chair runs the roll call."))
    _refuse_unless_open(session)
    session.check_in_open = True
    session.check_in_code = _new_code(session.check_in_code)
    session.save(update_fields=["check_in_open", "check_in_code"])
    _broadcast(session, {"type": "check_in", "open": True})
    return session.check_in_code


@transaction.atomic
def rotate_check_in_code(*, actor, session: Session) -> str:
    """Replace the room code (for example after it was photographed and sent out)."""
    session = _lock(session.pk)
    _require(actor, "meetings.chair_session", session, _("Only the chair runs the roll call."))
    _refuse_unless_open(session)
    if not session.check_in_open:
        raise ValidationError(_("Check-in is not open."), code="check_in_closed")
    session.check_in_code = _new_code(session.check_in_code)
    session.save(update_fields=["check_in_code"])
    _broadcast(session, {"type": "check_in", "open": True})
    return session.check_in_code


@transaction.atomic
def close_check_in(*, actor, session: Session) -> None:
    session = _lock(session.pk)
    _require(actor, "meetings.chair_session", session, _("Only the chair runs the roll call."))
    session.check_in_open, session.check_in_code = False, ""
    session.save(update_fields=["check_in_open", "check_in_code"])
    _broadcast(session, {"type": "check_in", "open": False})


def _wrong_code_key(session_id: int, user_id: int) -> str:
    return f"yishi:session-code:{session_id}:{user_id}"


def _mark_present(entry: RosterEntry, method: str) -> None:
    entry.attendance = Attendance.PRESENT
    entry.proxy_holder = None  # a proxy giver who arrives takes their own seat back
    entry.checked_in_at = timezone.now()
    entry.check_in_method = method
    entry.save(update_fields=["attendance", "proxy_holder", "checked_in_at", "check_in_method"])


def check_in(*, user, session: Session, code: str) -> RosterEntry:
    """A member on the roster checks themselves in with the code shown in the room."""
    key = _wrong_code_key(session.pk, user.pk)
    if cache.get(key, 0) >= WRONG_CODE_LIMIT:
        raise ValidationError(
            _("Too many wrong codes. Wait ten minutes or ask the chair to check you in."),
            code="rate_limited",
        )
    try:
        return _check_in(user=user, session=session, code=code)
    except ValidationError as error:
        if error.code == "wrong_code":
            ratelimit.count(key, timeout=WRONG_CODE_WINDOW)
        raise


@transaction.atomic
def _check_in(*, user, session: Session, code: str) -> RosterEntry:
    session = _lock(session.pk)
    _require(
        user,
        "meetings.check_in_session",
        session,
        _("You are not on the roster of this meeting."),
    )
    _refuse_unless_open(session)
    if not session.check_in_open or not session.check_in_code:
        raise ValidationError(_("Check-in is not open."), code="check_in_closed")
    code = "".join((code or "").split())
    if not secrets.compare_digest(code.encode(), session.check_in_code.encode()):
        raise ValidationError(
            _("That is not the code shown in the room. Check it and try again."),
            code="wrong_code",
        )
    entry = session.roster.select_for_update().get(person=user)
    if entry.attendance != Attendance.PRESENT:
        _mark_present(entry, CheckInMethod.CODE)
        _broadcast(session, attendance_frame(session))
    return entry


def _entry(session: Session, entry: RosterEntry | int) -> RosterEntry:
    entry_id = entry if isinstance(entry, int) else entry.pk
    found = session.roster.filter(pk=entry_id).first()
    if found is None:
        raise ValidationError(_("This person is not on the roster."), code="not_on_roster")
    return found


@transaction.atomic
def record_attendance(
    *, actor, session: Session, entry: RosterEntry | int, present: bool
) -> RosterEntry:
    """The chair marks a member present or absent. Marking a proxy holder absent returns the
    proxies they held to absent too: nobody present carries them any more."""
    session = _lock(session.pk)
    _require(actor, "meetings.chair_session", session, _("Only the chair runs the roll call."))
    _refuse_unless_open(session)
    entry = _entry(session, entry)
    if present:
        _mark_present(entry, CheckInMethod.CHAIR)
    else:
        session.roster.filter(proxy_holder=entry).update(
            attendance=Attendance.ABSENT, proxy_holder=None
        )
        entry.attendance, entry.proxy_holder = Attendance.ABSENT, None
        entry.checked_in_at, entry.check_in_method = None, ""
        entry.save(update_fields=["attendance", "proxy_holder", "checked_in_at", "check_in_method"])
    _broadcast(session, attendance_frame(session))
    return entry


@transaction.atomic
def record_proxy(
    *, actor, session: Session, giver: RosterEntry | int, holder: RosterEntry | int | None
) -> RosterEntry:
    """The chair records that `giver` (absent) is represented by `holder` (present, on the roster),
    or withdraws the proxy when `holder` is None."""
    session = _lock(session.pk)
    _require(actor, "meetings.chair_session", session, _("Only the chair records proxies."))
    _refuse_unless_open(session)
    giver = _entry(session, giver)
    if holder is None:
        if giver.attendance == Attendance.PROXY:
            giver.attendance, giver.proxy_holder = Attendance.ABSENT, None
            giver.save(update_fields=["attendance", "proxy_holder"])
            _broadcast(session, attendance_frame(session))
        return giver
    holder = _entry(session, holder)
    rule = session.counting_rule
    if giver.pk == holder.pk:
        raise ValidationError(_("A member cannot hold their own proxy."), code="bad_proxy")
    if giver.attendance == Attendance.PRESENT:
        raise ValidationError(
            _("%(name)s is present and votes in person.") % {"name": giver.name},
            code="bad_proxy",
        )
    if holder.attendance != Attendance.PRESENT:
        raise ValidationError(
            _("The proxy holder must be present at the meeting."), code="bad_proxy"
        )
    held = session.roster.filter(proxy_holder=holder).exclude(pk=giver.pk).count()
    if held >= rule.max_proxies_per_holder:
        raise ValidationError(
            _("%(name)s already holds %(count)s proxy; the rule allows at most %(max)s.")
            % {"name": holder.name, "count": held, "max": rule.max_proxies_per_holder},
            code="too_many_proxies",
        )
    giver.attendance, giver.proxy_holder = Attendance.PROXY, holder
    giver.save(update_fields=["attendance", "proxy_holder"])
    _broadcast(session, attendance_frame(session))
    return giver


# --- Motions and roll-call votes -----------------------------------------------------------------


@transaction.atomic
def add_motion(
    *,
    actor,
    session: Session,
    title: str,
    text: str = "",
    majority: str = MajorityKind.SESSION,
    agenda_item: AgendaItem | None = None,
) -> Motion:
    session = _lock(session.pk)
    _require(actor, "meetings.chair_session", session, _("Only the chair puts motions."))
    if session.status == SessionStatus.CLOSED:
        raise ValidationError(_("The session is closed."), code="session_closed")
    if session.status == SessionStatus.CANCELLED:
        raise ValidationError(_("The meeting was cancelled."), code="cancelled")
    title = (title or "").strip()
    if len(title) < 2:
        raise ValidationError({"title": _("Write the motion in at least 2 characters.")})
    if majority not in MajorityKind.values:
        raise ValidationError({"majority": _("Choose the majority from the list.")})
    if agenda_item is not None and agenda_item.session_id != session.pk:
        raise ValidationError({"agenda_item": _("The agenda item belongs to another session.")})
    return Motion.objects.create(
        session=session,
        title=title,
        text=(text or "").strip(),
        majority=majority,
        agenda_item=agenda_item,
    )


def rule_for(session: Session, majority: str) -> quorum.Rule:
    rule = session.counting_rule
    if majority in MAJORITIES:
        threshold, base = MAJORITIES[majority]
        rule = rule.with_decision(threshold, base)
    return rule


@transaction.atomic
def open_vote(*, actor, motion: Motion) -> Motion:
    """Put the motion to the vote. Its rule and the members who may vote are frozen now: those
    present, and (if proxies count) those represented by a proxy."""
    session = _lock(motion.session_id)
    motion = Motion.objects.select_for_update().get(pk=motion.pk)
    _require(actor, "meetings.chair_session", session, _("Only the chair opens a vote."))
    _refuse_unless_open(session)
    if motion.status != MotionStatus.DRAFT:
        raise ValidationError(_("This motion has already been put to the vote."), code="bad_state")
    if session.motions.filter(status=MotionStatus.OPEN).exists():
        raise ValidationError(_("Close the vote in progress first."), code="vote_open")
    rule = rule_for(session, motion.majority)
    attending = Q(attendance=Attendance.PRESENT)
    if rule.proxies_count:
        attending |= Q(attendance=Attendance.PROXY)
    # [entry, who casts its vote]: a member present votes themself; a proxy giver's vote is cast
    # by the holder recorded when the vote opened.
    motion.voters = [
        [entry_id, holder_id or entry_id]
        for entry_id, holder_id in session.roster.filter(attending)
        .order_by("pk")
        .values_list("pk", "proxy_holder_id")
    ]
    motion.rule = rule.to_dict()
    motion.entitled_count = session.entitled_count
    motion.present_count = len(motion.voters)
    motion.status = MotionStatus.OPEN
    motion.opened_at = timezone.now()
    motion.save()
    _broadcast(session, {"type": "motion", **motion_state(motion, votes=[])})
    return motion


@transaction.atomic
def cast_vote(
    *, voter, motion: Motion, choice: str, on_behalf_of: RosterEntry | int | None = None
) -> Vote:
    """A member on the roster votes for, against or abstains, by name; a proxy holder votes for
    the member who gave the proxy by passing `on_behalf_of`. One vote per member per motion."""
    session = _lock(motion.session_id)
    motion = Motion.objects.select_for_update().get(pk=motion.pk)
    _require(
        voter,
        "meetings.cast_vote",
        session,
        _("Only members on this meeting's roster can vote."),
    )
    if motion.status != MotionStatus.OPEN:
        raise ValidationError(_("Voting on this motion is not open."), code="vote_closed")
    if choice not in VoteChoice.values:
        raise ValidationError({"choice": _("Choose for, against or abstain.")})
    own = session.roster.get(person=voter)
    entry = own if on_behalf_of is None else _entry(session, on_behalf_of)
    if [entry.pk, own.pk] not in motion.voters:
        if entry.pk != own.pk:
            raise PermissionDenied(_("You do not hold this member's proxy for this vote."))
        raise ValidationError(
            _("Only members present when the vote opened can vote on this motion."),
            code="not_present",
        )
    if Vote.objects.filter(motion=motion, entry=entry).exists():
        raise ValidationError(_("This vote has already been cast."), code="already_voted")
    try:
        with transaction.atomic():
            vote = Vote.objects.create(
                motion=motion,
                entry=entry,
                cast_by=voter,
                choice=choice,
                by_proxy=entry.pk != own.pk,
            )
    except IntegrityError as error:  # the constraint, should the lock ever be bypassed
        raise ValidationError(
            _("This vote has already been cast."), code="already_voted"
        ) from error
    tally = tally_of(motion)
    _broadcast(
        session,
        {
            "type": "tally",
            "motion": motion.pk,
            **tally,
            "vote": {"name": entry.name, "choice": choice, "by_proxy": vote.by_proxy},
        },
    )
    return vote


@transaction.atomic
def close_vote(*, actor, motion: Motion) -> Motion:
    """Close the vote and compute the result by the motion's frozen rule."""
    session = _lock(motion.session_id)
    motion = Motion.objects.select_for_update().get(pk=motion.pk)
    _require(actor, "meetings.chair_session", session, _("Only the chair closes a vote."))
    if motion.status != MotionStatus.OPEN:
        raise ValidationError(_("Voting on this motion is not open."), code="vote_closed")
    motion.status = MotionStatus.CLOSED
    motion.closed_at = timezone.now()
    motion.result = str(result_of(motion))
    motion.save(update_fields=["status", "closed_at", "result"])
    _broadcast(session, {"type": "result", **motion_state(motion)})
    return motion


def tally_of(motion: Motion) -> dict[str, int]:
    counts = dict.fromkeys(VoteChoice.values, 0)
    for row in Vote.objects.filter(motion=motion).values("choice").annotate(n=Count("pk")):
        counts[row["choice"]] = row["n"]
    return {**counts, "cast": sum(counts.values())}


def count_of(motion: Motion, tally: dict | None = None) -> quorum.Count:
    tally = tally or tally_of(motion)
    return quorum.Count(
        entitled=motion.entitled_count,
        present=motion.present_count,
        yes=tally["yes"],
        no=tally["no"],
        abstain=tally["abstain"],
    )


def result_of(motion: Motion) -> quorum.Outcome:
    """Recompute a motion's result from its stored votes and its frozen rule."""
    return quorum.outcome(quorum.Rule.from_dict(motion.rule), count_of(motion))


def sessions_section(council, user) -> dict:
    """Section provider for the council page: the latest sessions this user may see."""
    from councils.predicates import roles_in

    found = Session.objects.filter(council=council).order_by("-starts_at")
    if not roles_in(user, council):
        found = found.filter(is_public=True)
    return {
        "sessions": list(found.only("id", "title", "starts_at", "status")[:10]),
        "can_schedule_session": user.has_perm("meetings.schedule_session", council),
    }


# --- Frames and state (one computation per change, never per socket) -----------------------------


def session_summary(session: Session) -> dict:
    return {
        "id": session.pk,
        "status": session.status,
        "check_in_open": session.check_in_open,
    }


def attendance_numbers(session: Session) -> dict:
    rule = session.counting_rule
    rows = dict(
        session.roster.values("attendance").annotate(n=Count("pk")).values_list("attendance", "n")
    )
    attending = rows.get(Attendance.PRESENT, 0)
    proxies = rows.get(Attendance.PROXY, 0)
    present = quorum.present_for_quorum(rule, attending=attending, proxies=proxies)
    entitled = session.entitled_count
    return {
        "entitled": entitled,
        "attending": attending,
        "proxies": proxies,
        "present": present,
        "quorum_needed": rule.quorum.needed(entitled),
        "quorum_met": quorum.quorum_met(rule, entitled=entitled, present=present),
    }


def attendance_frame(session: Session) -> dict:
    return {"type": "attendance", **attendance_numbers(session)}


def motion_state(motion: Motion, *, votes: list[dict] | None = None) -> dict:
    tally = tally_of(motion)
    state = {
        "motion": motion.pk,
        "title": motion.title,
        "status": motion.status,
        "result": motion.result or None,
        **tally,
        "present": motion.present_count,
        "entitled": motion.entitled_count,
    }
    if motion.rule:
        rule = quorum.Rule.from_dict(motion.rule)
        count = count_of(motion, tally)
        state["yes_needed"] = quorum.yes_needed(rule, count)
        state["quorum_met"] = quorum.quorum_met(
            rule, entitled=count.entitled, present=count.present
        )
        state["rule"] = motion.rule
    if votes is None:
        votes = [
            {"name": v.entry.name, "choice": v.choice, "by_proxy": v.by_proxy}
            for v in motion.votes.select_related("entry").order_by("pk")
        ]
    state["votes"] = votes
    return state


def state_frame(session: Session) -> dict:
    """Everything a screen shows, for a (re)connecting client; `seq` is the last frame included."""
    motions = [
        motion_state(m) for m in session.motions.exclude(status=MotionStatus.DRAFT).order_by("pk")
    ]
    return {
        "type": "state",
        "seq": session.last_seq,
        "session": session_summary(session),
        "attendance": attendance_numbers(session),
        "motions": motions,
    }


# --- Minutes (会议纪要) -------------------------------------------------------------------------


def minutes_record(session: Session) -> dict:
    """The factual part of the minutes, built from the stored record of the session."""
    roster = list(session.roster.select_related("proxy_holder").order_by("name", "pk"))
    motions = list(
        session.motions.exclude(status=MotionStatus.DRAFT)
        .select_related("agenda_item")
        .prefetch_related("votes__entry")
        .order_by("pk")
    )
    agenda = list(session.agenda.order_by("position"))
    numbers = attendance_numbers(session)
    return {
        "session": {
            "title": session.title,
            "kind": session.kind,
            "roster_mode": session.roster_mode,
            "starts_at": session.starts_at.isoformat(),
            "place": session.place,
            "opened_at": session.opened_at.isoformat() if session.opened_at else None,
            "closed_at": session.closed_at.isoformat() if session.closed_at else None,
            "rule": session.rule,
        },
        "attendance": numbers,
        "roster": [
            {
                "name": e.name,
                "capacity": e.capacity,
                "attendance": e.attendance,
                "proxy_holder": e.proxy_holder.name if e.proxy_holder_id else None,
            }
            for e in roster
        ],
        "agenda": [{"position": a.position, "title": a.title} for a in agenda],
        "motions": [
            {
                "title": m.title,
                "text": m.text,
                "majority": m.majority,
                "rule": m.rule,
                "entitled": m.entitled_count,
                "present": m.present_count,
                **{k: v for k, v in tally_from_votes(m).items()},
                "result": m.result,
                "votes": [
                    {"name": v.entry.name, "choice": v.choice, "by_proxy": v.by_proxy}
                    for v in sorted(m.votes.all(), key=lambda v: (v.entry.name, v.pk))
                ],
            }
            for m in motions
        ],
    }


def tally_from_votes(motion: Motion) -> dict[str, int]:
    """The tally from prefetched votes (no query)."""
    counts = dict.fromkeys(VoteChoice.values, 0)
    for vote in motion.votes.all():
        counts[vote.choice] += 1
    return counts


def _lock_minutes(minutes: Minutes) -> Minutes:
    return Minutes.objects.select_for_update().select_related("session__council").get(pk=minutes.pk)


@transaction.atomic
def draft_minutes(*, actor, session: Session, narrative: str = "") -> Minutes:
    """Start (or refresh) the draft minutes of a closed session from its record."""
    session = _lock(session.pk)
    _require(actor, "meetings.chair_session", session, _("Only the chair writes the minutes."))
    if session.status != SessionStatus.CLOSED:
        raise ValidationError(
            _("Minutes are written once the session is closed."), code="session_not_closed"
        )
    minutes = session.minutes.filter(corrects__isnull=True).first()
    if minutes is None:
        return Minutes.objects.create(
            session=session,
            narrative=(narrative or "").strip(),
            record=minutes_record(session),
            created_by=actor,
        )
    if minutes.is_published:
        raise ValidationError(
            _("These minutes are published and cannot change. Publish a correction."),
            code="published",
        )
    minutes.narrative = (narrative or "").strip() or minutes.narrative
    minutes.record = minutes_record(session)
    minutes.save(update_fields=["narrative", "record"])
    return minutes


@transaction.atomic
def edit_minutes(*, actor, minutes: Minutes, narrative: str) -> Minutes:
    """The chair edits the narrative of draft minutes."""
    minutes = _lock_minutes(minutes)
    if minutes.is_published:
        raise ValidationError(
            _("These minutes are published and cannot change. Publish a correction."),
            code="published",
        )
    _require(actor, "meetings.change_minutes", minutes, _("Only the chair edits minutes."))
    minutes.narrative = (narrative or "").strip()
    minutes.save(update_fields=["narrative"])
    return minutes


@transaction.atomic
def publish_minutes(*, actor, minutes: Minutes) -> Minutes:
    minutes = _lock_minutes(minutes)
    if minutes.is_published:
        raise ValidationError(_("These minutes are already published."), code="published")
    _require(actor, "meetings.publish_minutes", minutes, _("Only the chair publishes."))
    if not minutes.narrative.strip():
        raise ValidationError({"narrative": _("Write the narrative before publishing.")})
    minutes.status = MinutesStatus.PUBLISHED
    minutes.published_at = timezone.now()
    minutes.save(update_fields=["status", "published_at"])
    notices.minutes_published(minutes, actor=actor)  # to the session's roster
    return minutes


@transaction.atomic
def correct_minutes(*, actor, minutes: Minutes, narrative: str, reason: str) -> Minutes:
    """Start a correction of published minutes: a new draft that points at them."""
    minutes = _lock_minutes(minutes)
    _require(
        actor,
        "meetings.correct_minutes",
        minutes,
        _("Only the committee corrects published minutes."),
    )
    if Minutes.objects.filter(corrects=minutes).exists():
        raise ValidationError(
            _("These minutes have already been corrected; correct the correction."),
            code="already_corrected",
        )
    reason, narrative = (reason or "").strip(), (narrative or "").strip()
    if not reason:
        raise ValidationError({"correction_reason": _("Say what is being corrected and why.")})
    if not narrative:
        raise ValidationError({"narrative": _("Write the corrected narrative.")})
    return Minutes.objects.create(
        session=minutes.session,
        narrative=narrative,
        record=minutes.record,
        corrects=minutes,
        correction_reason=reason,
        created_by=actor,
    )


# --- 四议两公开: resolution and implementation into the village-affairs disclosure ----------------


def _resolution_text(motion: Motion) -> str:
    tally = tally_of(motion)
    session = motion.session
    return _(
        "%(kind)s “%(session)s” held on %(date)s at %(place)s adopted this resolution.\n\n"
        "%(text)s\n\n"
        "Entitled: %(entitled)s; present (including proxies): %(present)s; for: %(yes)s; "
        "against: %(no)s; abstained: %(abstain)s."
    ) % {
        "kind": session.get_kind_display(),
        "session": session.title,
        "date": timezone.localtime(session.starts_at).date().isoformat(),
        "place": session.place,
        "text": motion.text or motion.title,
        "entitled": motion.entitled_count,
        "present": motion.present_count,
        "yes": tally["yes"],
        "no": tally["no"],
        "abstain": tally["abstain"],
    }


@transaction.atomic
def publish_resolution(*, actor, motion: Motion):
    """Start the village-affairs disclosure (type: resolution) of a passed motion. The record then
    goes through the disclosure workflow: supervisory review, sign-off, publication."""
    from disclosure.models import Kind, PeriodKind, RecordType
    from disclosure.services import draft_record

    motion = Motion.objects.select_for_update().select_related("session__council").get(pk=motion.pk)
    _require(
        actor,
        "meetings.disclose_motion",
        motion,
        _("Only the committee discloses a resolution that passed."),
    )
    if motion.resolution_record_id:
        raise ValidationError(_("This resolution has already been disclosed."), code="exists")
    record = draft_record(
        council=motion.session.council,
        by=actor,
        kind=Kind.VILLAGE,
        record_type=RecordType.RESOLUTION,
        period_kind=PeriodKind.AD_HOC,
        period_start=timezone.localtime(motion.closed_at).date(),
        title=(_("Resolution: %(title)s") % {"title": motion.title})[:200],
        body=_resolution_text(motion),
    )
    motion.resolution_record = record
    motion.save(update_fields=["resolution_record"])
    return record


@transaction.atomic
def publish_implementation(*, actor, motion: Motion, report: str):
    """Start the disclosure of how a disclosed resolution was carried out (the second 公开)."""
    from disclosure.models import Kind, PeriodKind, RecordType
    from disclosure.services import draft_record

    motion = (
        Motion.objects.select_for_update(of=("self",))
        .select_related("session__council", "resolution_record")
        .get(pk=motion.pk)
    )
    _require(
        actor,
        "meetings.disclose_motion",
        motion,
        _("Only the committee discloses a resolution that passed."),
    )
    if not motion.resolution_record_id:
        raise ValidationError(_("Disclose the resolution first."), code="no_resolution")
    if motion.implementation_record_id:
        raise ValidationError(_("The implementation has already been disclosed."), code="exists")
    report = (report or "").strip()
    if not report:
        raise ValidationError({"report": _("Describe how the resolution was carried out.")})
    first = motion.resolution_record
    body = _("Implementation of the resolution “%(title)s” (record no. %(pk)s):\n\n%(report)s") % {
        "title": first.title,
        "pk": first.pk,
        "report": report,
    }
    record = draft_record(
        council=motion.session.council,
        by=actor,
        kind=Kind.VILLAGE,
        record_type=RecordType.RESOLUTION,
        period_kind=PeriodKind.AD_HOC,
        period_start=timezone.localdate(),
        title=(_("Implementation: %(title)s") % {"title": motion.title})[:200],
        body=body,
    )
    motion.implementation_record = record
    motion.save(update_fields=["implementation_record"])
    return record
