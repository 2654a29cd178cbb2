"""Telling the people who may attend a session (issue 17): it was called, its time or place
changed, it was cancelled, its minutes were published.

Each event is raised inside the service's own transaction (meetings.services) as one fan-out to
the audience "session_roster" (registered in meetings.apps): a villagers' assembly's roster is
every adult resident, thousands in a community, too many to tell inside the request. The
committee member who acted is not told of their own act.
"""

import datetime

from django.utils import timezone

from councils.models import Household, Membership, Role
from meetings.models import Minutes, RosterEntry, RosterMode, Session
from notifications.kinds import Kind
from notifications.models import Fanout
from notifications.services import notify_audience

ROSTER = "session_roster"


def local_time(when: datetime.datetime) -> str:
    """A time as members read it: China time (settings.TIME_ZONE), to the minute."""
    return timezone.localtime(when, timezone.get_default_timezone()).strftime("%Y-%m-%d %H:%M")


def roster_roles(mode: str) -> list[str]:
    """The roles that seat someone on a roster of `mode` (representatives or committee)."""
    roles = [Role.COMMITTEE]
    if mode == RosterMode.REPRESENTATIVES:
        # Article 25: 村民代表会议由村民委员会成员和村民代表组成.
        roles.append(Role.REPRESENTATIVE)
    return roles


def roster_ids(
    after_id: int, limit: int, *, session_id: int, exclude_id: int | None = None
) -> list[int]:
    """Audience "session_roster": who may attend the session, by user id. Its roster once it
    has opened (taken then: meetings.services.open_session); before, those who would be on it
    if it opened now, by the same rules (meetings.services._roster_people)."""
    session = Session.objects.select_related("council").get(pk=session_id)
    council = session.council
    if session.opened_at is not None:
        found, field = RosterEntry.objects.filter(session_id=session_id), "person_id"
    elif session.roster_mode == RosterMode.HOUSEHOLDS:
        found, field = Household.objects.filter(council=council, head__isnull=False), "head_id"
    elif session.roster_mode == RosterMode.RESIDENTS:
        found = Membership.objects.effective_in(council).filter(role=Role.RESIDENT)
        field = "user_id"
    else:
        found = Membership.objects.verified().filter(
            council=council, role__in=roster_roles(session.roster_mode)
        )
        field = "user_id"
    found = found.filter(**{f"{field}__gt": after_id})
    if exclude_id is not None:
        found = found.exclude(**{field: exclude_id})
    return list(found.order_by(field).values_list(field, flat=True).distinct()[:limit])


def _params(session: Session) -> dict:
    return {
        "council": session.council.title,
        "title": session.title,
        "when": local_time(session.starts_at),
        "place": session.place,
    }


def _tell(session: Session, *, kind: str, event_key: str, actor, url: str = "", **extra):
    return notify_audience(
        kind=kind,
        audience=ROSTER,
        event_key=event_key,
        url=url or session.get_absolute_url(),
        council=session.council,
        params={**_params(session), **extra},
        session_id=session.pk,
        exclude_id=getattr(actor, "pk", None),
    )


def _moment() -> str:
    """Part of an event key that is new each time (a meeting may change more than once)."""
    return timezone.now().strftime("%Y%m%d%H%M%S%f")


def meeting_called(session: Session, *, actor) -> Fanout:
    return _tell(
        session, kind=Kind.MEETING_CALLED, event_key=f"meeting-called:{session.pk}", actor=actor
    )


def meeting_changed(session: Session, *, actor, was_when: str, was_place: str) -> Fanout:
    return _tell(
        session,
        kind=Kind.MEETING_CHANGED,
        event_key=f"meeting-changed:{session.pk}:{_moment()}",
        actor=actor,
        was_when=was_when,
        was_place=was_place,
    )


def meeting_cancelled(session: Session, *, actor) -> Fanout:
    return _tell(
        session,
        kind=Kind.MEETING_CANCELLED,
        event_key=f"meeting-cancelled:{session.pk}",
        actor=actor,
    )


def minutes_published(minutes: Minutes, *, actor) -> Fanout:
    """Published minutes (or a published correction) to the session's roster; the link is to
    the minutes themselves."""
    return _tell(
        minutes.session,
        kind=Kind.MINUTES_PUBLISHED,
        event_key=f"minutes-published:{minutes.pk}",
        actor=actor,
        url=minutes.get_absolute_url(),
    )
