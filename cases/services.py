"""The life of a case: report, accept, whistle, resolve, confirm, close, reopen, escalate.

Every step is one atomic function that locks the case row, checks the permission, appends a
CaseEvent with who and when, updates the case's present state, tells the people concerned
(notifications) and the township's board (realtime, after commit). Nothing else writes a case.
The clock is `now` (a keyword every step takes, default timezone.now()), so tests control it.
"""

import dataclasses
import datetime
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from cases.models import (
    PERSONAL_SOURCES,
    PUBLIC_CATEGORIES,
    Case,
    CaseEvent,
    CaseParty,
    CasePhoto,
    Category,
    Department,
    DepartmentKind,
    EventKind,
    LevelRule,
    Mediation,
    Source,
    Status,
    Tier,
    Visit,
    Whistle,
)
from core.permissions import require_perm
from core.uploads import clean_photos
from councils.models import CouncilPage, Level
from disclosure.privacy import identity_kind

# Unless a township decides otherwise (LevelRule): routine matters stay in the grid or village,
# priority ones too with the township told, difficult ones are whistled up to the township.
DEFAULT_RULES = {
    Whistle.ROUTINE: {
        "tier": Tier.GRID,
        "inform_township": False,
        "accept_hours": 24,
        "resolve_days": 7,
    },
    Whistle.PRIORITY: {
        "tier": Tier.VILLAGE,
        "inform_township": True,
        "accept_hours": 12,
        "resolve_days": 5,
    },
    Whistle.DIFFICULT: {
        "tier": Tier.TOWNSHIP,
        "inform_township": True,
        "accept_hours": 24,
        "resolve_days": 15,
    },
}
# A resolved case the reporter has not confirmed in this many days is closed without a rating.
CONFIRM_DAYS = 7
# Ratings at or below this reopen the case (1 very dissatisfied … 5 very satisfied).
DISSATISFIED_AT_MOST = 2
# Councils where a case can happen.
CASE_LEVELS = (Level.GRID, Level.VILLAGE)


@dataclasses.dataclass(frozen=True)
class Rule:
    level: str
    tier: str
    inform_township: bool
    accept_hours: int
    resolve_days: int


def rule_for(township: CouncilPage, level: str) -> Rule:
    """The township's rule for one whistle level, or the default."""
    row = LevelRule.objects.filter(township=township, level=level).first()
    if row is not None:
        return Rule(level, row.tier, row.inform_township, row.accept_hours, row.resolve_days)
    return Rule(level, **DEFAULT_RULES[level])


def rules_of(township: CouncilPage) -> list[Rule]:
    """All three levels' rules of a township, its own where set (one query)."""
    own = {row.level: row for row in LevelRule.objects.filter(township=township)}
    out = []
    for level in Whistle.values:
        row = own.get(level)
        if row is not None:
            out.append(
                Rule(level, row.tier, row.inform_township, row.accept_hours, row.resolve_days)
            )
        else:
            out.append(Rule(level, **DEFAULT_RULES[level]))
    return out


@transaction.atomic
def set_level_rule(
    *,
    user,
    township: CouncilPage,
    level: str,
    tier: str,
    inform_township: bool,
    accept_hours: int,
    resolve_days: int,
) -> LevelRule:
    """A township decides who handles a level of case and its deadlines. Applies to cases
    reported from now on; open cases keep the deadlines they were given."""
    from councils.models import ActionVerb
    from councils.services import log_action

    require_perm(
        user, "cases.set_rules", township, _("Only the township's officials set the case levels.")
    )
    if township.level != Level.TOWNSHIP:
        raise ValidationError(_("Case levels are set by a township."))
    if level not in Whistle.values or tier not in Tier.values:
        raise ValidationError(_("Choose a whistle level and where it is handled."))
    if not 1 <= int(accept_hours) <= 24 * 30:
        raise ValidationError({"accept_hours": _("Give between 1 and 720 hours to accept.")})
    if not 1 <= int(resolve_days) <= 365:
        raise ValidationError({"resolve_days": _("Give between 1 and 365 days to resolve.")})
    rule, _created = LevelRule.objects.update_or_create(
        township=township,
        level=level,
        defaults={
            "tier": tier,
            "inform_township": bool(inform_township),
            "accept_hours": int(accept_hours),
            "resolve_days": int(resolve_days),
        },
    )
    log_action(
        council=township,
        actor=user,
        verb=ActionVerb.SET_CASE_RULE,
        target=f"{Whistle(level).label}: {Tier(tier).label}, {accept_hours} h / {resolve_days} d",
    )
    return rule


# -- where a case belongs --------------------------------------------------------------------------


def township_of(council: CouncilPage) -> CouncilPage:
    """The township (or street) a grid or village is in."""
    township = council.township()
    if township is None:
        raise ValidationError(_("This council is not under a township."))
    return township


def village_of(council: CouncilPage) -> CouncilPage:
    if council.level == Level.VILLAGE:
        return council
    return CouncilPage.objects.get(path=council.path[: -council.steplen])


def handler_for(council: CouncilPage, tier: str, township: CouncilPage) -> CouncilPage:
    """The council that handles a case of `tier` reported in `council`."""
    if tier == Tier.TOWNSHIP:
        return township
    if tier == Tier.GRID and council.level == Level.GRID:
        return council
    return village_of(council)


def parent_council(council: CouncilPage) -> CouncilPage | None:
    """One council up the tree, or None above a city."""
    if council.level == Level.CITY or council.depth <= 2:
        return None
    parent = CouncilPage.objects.filter(path=council.path[: -council.steplen]).first()
    if parent is None or not hasattr(parent, "level"):
        return None
    return parent


# -- messages --------------------------------------------------------------------------------------

NOT_HANDLER = gettext_lazy("Only those who handle this case can do that.")
CHANGES = {
    EventKind.ACCEPTED: gettext_lazy("accepted"),
    EventKind.STARTED: gettext_lazy("being handled"),
    EventKind.WHISTLED: gettext_lazy("passed to a department"),
    EventKind.TRANSFERRED: gettext_lazy("passed to another department"),
    EventKind.ESCALATED: gettext_lazy("overdue, escalated"),
    EventKind.RESOLVED: gettext_lazy("resolved, please confirm"),
    EventKind.REOPENED: gettext_lazy("reopened"),
    EventKind.CLOSED: gettext_lazy("closed"),
    EventKind.AGREEMENT: gettext_lazy("mediation agreement reached"),
}


def _check_text(*, public: bool, **texts: str) -> None:
    """ID numbers are refused everywhere; phone numbers too in what may be shown publicly."""
    errors = {}
    for field, text in texts.items():
        kind = identity_kind(text or "")
        if kind == "id":
            errors[field] = _("Remove the ID card number: cases never keep ID numbers.")
        elif kind == "mobile" and public:
            errors[field] = _(
                "Remove the phone number: this case can be shown publicly. Handlers reach the "
                "reporter through Yishi."
            )
    if errors:
        raise ValidationError(errors)


def _locked(case: Case) -> Case:
    """The case's row, locked, then read with its councils. Locked alone first: a locked read
    joined to the councils would, after waiting for another step that moved the case to a new
    handler, re-check the join against the old handler and find no row (PostgreSQL's
    re-check of a row updated while waiting; tests/cases/test_race_pg.py)."""
    Case.objects.select_for_update().filter(pk=case.pk).values_list("pk").get()
    return Case.objects.select_related("council", "handler_council", "department", "township").get(
        pk=case.pk
    )


def _event(
    case: Case, kind: str, *, actor=None, now, text: str = "", photos=(), **fields
) -> CaseEvent:
    event = CaseEvent.objects.create(
        case=case, kind=kind, actor=actor, at=now, text=text.strip(), **fields
    )
    for photo in photos:
        CasePhoto.objects.create(event=event, image=photo)
    return event


def _saved(case: Case, now, *fields: str) -> None:
    case.changed_at = now
    case.save(update_fields=[*fields, "changed_at"])
    board_changed(case)


def board_changed(case: Case) -> None:
    """Tell the township's open board (and the district's, the city's) that a case moved."""
    from cases.live import board_frame_soon

    board_frame_soon(case.township_id)


# -- reporting -------------------------------------------------------------------------------------


@transaction.atomic
def report_case(
    *,
    reporter,
    council: CouncilPage,
    source: str,
    category: str,
    level: str,
    title: str,
    description: str,
    place: str = "",
    latitude=None,
    longitude=None,
    public: bool = False,
    photos: Iterable = (),
    parties: Iterable[tuple[str, str]] = (),
    topic=None,
    visit: Visit | None = None,
    now: datetime.datetime | None = None,
) -> Case:
    """A new case: a grid worker's report, a resident's demand, a dispute between `parties`
    ((side, name) pairs), a visit finding or an escalated hall topic. Its handler and
    deadlines come from the township's rule for `level`."""
    now = now or timezone.now()
    if council.level not in CASE_LEVELS:
        raise ValidationError(_("A case is reported in a grid or a village."))
    if source not in Source.values or category not in Category.values:
        raise ValidationError(_("Choose where the case comes from and its category."))
    if level not in Whistle.values:
        raise ValidationError({"level": _("Choose a whistle level.")})
    permission = {
        Source.GRID_REPORT: "cases.report_grid_event",
        Source.VISIT: "cases.report_grid_event",
        Source.TOPIC: "cases.escalate_topic",
    }.get(source, "cases.raise_demand")
    require_perm(reporter, permission, council, _("You cannot report a case in this council."))
    if source in (Source.DEMAND, Source.DISPUTE) and level != Whistle.ROUTINE:
        # A resident does not sort their own matter; the grid worker or committee does.
        if not reporter.has_perm("cases.report_grid_event", council):
            level = Whistle.ROUTINE
    title, description, place = title.strip(), description.strip(), place.strip()
    if not title:
        raise ValidationError({"title": _("Give the case a short title.")})
    if not description:
        raise ValidationError({"description": pgettext("case", "Say what happened.")})
    public = bool(public) and source not in PERSONAL_SOURCES and category in PUBLIC_CATEGORIES
    parties = [(side, name.strip()) for side, name in parties if name and name.strip()]
    if source == Source.DISPUTE and len(parties) < 2:
        raise ValidationError({"parties": _("A dispute names at least two parties.")})
    _check_text(
        public=public,
        title=title,
        description=description,
        place=place,
        parties=" ".join(name for _side, name in parties),
    )
    photos = clean_photos(list(photos))
    township = township_of(council)
    rule = rule_for(township, level)
    case = Case.objects.create(
        council=council,
        council_path=council.path,
        township=township,
        source=source,
        category=category,
        level=level,
        title=title,
        description=description,
        place=place,
        latitude=latitude,
        longitude=longitude,
        public=public,
        reporter=reporter,
        handler_council=handler_for(council, rule.tier, township),
        reported_at=now,
        accept_due=now + datetime.timedelta(hours=rule.accept_hours),
        resolve_due=now + datetime.timedelta(days=rule.resolve_days),
        promised_by=now + datetime.timedelta(days=rule.resolve_days),
        topic=topic,
        visit=visit,
        changed_at=now,
    )
    for side, name in parties:
        CaseParty.objects.create(case=case, side=side, name=name[:40])
    _event(
        case,
        EventKind.REPORTED,
        actor=reporter,
        now=now,
        text=description,
        photos=photos,
        handler_council=case.handler_council,
    )
    from cases import notices

    notices.case_reported(case, rule=rule)
    board_changed(case)
    return case


@transaction.atomic
def escalate_topic(*, user, topic, level: str, category: str, now=None) -> Case:
    """The committee turns a hall topic into a case (for example a need the village cannot meet
    alone, whistled up to the township). The topic keeps its link to the case."""
    council = topic.hall.council
    return report_case(
        reporter=user,
        council=council,
        source=Source.TOPIC,
        category=category,
        level=level,
        title=topic.title[:80],
        description=(topic.description or topic.title)[:2000],
        public=category in PUBLIC_CATEGORIES,
        topic=topic,
        now=now,
    )


# -- handling --------------------------------------------------------------------------------------


@transaction.atomic
def accept_case(*, user, case: Case, now=None) -> Case:
    """The handler (or the whistled department: 报到) takes the case on."""
    now = now or timezone.now()
    case = _locked(case)
    require_perm(user, "cases.handle_case", case, str(NOT_HANDLER))
    if case.status != Status.REPORTED:
        raise ValidationError(_("This case has already been accepted."))
    case.status = Status.ACCEPTED
    case.accepted_at = now
    _event(
        case,
        EventKind.ACCEPTED,
        actor=user,
        now=now,
        handler_council=case.handler_council,
        department=case.department,
    )
    _saved(case, now, "status", "accepted_at")
    _tell_reporter(case, EventKind.ACCEPTED, now)
    return case


@transaction.atomic
def start_case(*, user, case: Case, text: str = "", now=None) -> Case:
    now = now or timezone.now()
    case = _locked(case)
    require_perm(user, "cases.handle_case", case, str(NOT_HANDLER))
    if case.status != Status.ACCEPTED:
        raise ValidationError(_("Only an accepted case can be taken in hand."))
    _check_text(public=case.public, text=text)
    case.status = Status.IN_HAND
    _event(case, EventKind.STARTED, actor=user, now=now, text=text)
    _saved(case, now, "status")
    return case


@transaction.atomic
def add_note(*, user, case: Case, text: str, now=None) -> CaseEvent:
    now = now or timezone.now()
    case = _locked(case)
    require_perm(user, "cases.handle_case", case, str(NOT_HANDLER))
    if not text.strip():
        raise ValidationError({"text": _("Write the note.")})
    _check_text(public=case.public, text=text)
    event = _event(case, EventKind.NOTE, actor=user, now=now, text=text)
    _saved(case, now)
    return event


@transaction.atomic
def whistle_case(*, user, case: Case, department: Department, reason: str, now=None) -> Case:
    """吹哨: the township (or a council above) hands the case to one of its departments, which
    must accept it (报到) within the level's hours. Passing it from one department to another
    needs a reason."""
    now = now or timezone.now()
    case = _locked(case)
    require_perm(
        user,
        "cases.whistle_case",
        case,
        _("Only the township's officials whistle in a department."),
    )
    if not case.is_open:
        raise ValidationError(_("This case is closed."))
    if not department.active:
        raise ValidationError({"department": _("This department is no longer active.")})
    if not case.council_path.startswith(department.council.path):
        raise ValidationError(
            {"department": _("This department does not serve where the case is.")}
        )
    if department.pk == case.department_id:
        raise ValidationError({"department": _("The case is already with this department.")})
    reason = (reason or "").strip()
    transfer = case.department_id is not None
    if transfer and not reason:
        raise ValidationError({"reason": _("Say why the case passes to another department.")})
    _check_text(public=case.public, reason=reason)
    rule = rule_for(case.township, case.level)
    case.department = department
    case.handler_council = department.council
    case.status = Status.REPORTED
    case.accepted_at = None
    case.accept_due = now + datetime.timedelta(hours=rule.accept_hours)
    case.resolve_due = max(case.resolve_due, now + datetime.timedelta(hours=rule.accept_hours))
    kind = EventKind.TRANSFERRED if transfer else EventKind.WHISTLED
    _event(
        case,
        kind,
        actor=user,
        now=now,
        text=reason,
        department=department,
        handler_council=department.council,
    )
    _saved(
        case,
        now,
        "department",
        "handler_council",
        "status",
        "accepted_at",
        "accept_due",
        "resolve_due",
    )
    from cases import notices

    notices.department_whistled(case, now=now)
    _tell_reporter(case, kind, now)
    return case


@transaction.atomic
def resolve_case(*, user, case: Case, outcome: str, photos: Iterable = (), now=None) -> Case:
    """The handler says what was done, with evidence photos; the reporter is asked to confirm."""
    now = now or timezone.now()
    case = _locked(case)
    require_perm(user, "cases.handle_case", case, str(NOT_HANDLER))
    if case.status not in (Status.ACCEPTED, Status.IN_HAND):
        raise ValidationError(_("Accept the case before resolving it."))
    outcome = (outcome or "").strip()
    if not outcome:
        raise ValidationError({"outcome": _("Say what was done.")})
    _check_text(public=case.public, outcome=outcome)
    photos = clean_photos(list(photos))
    case.status = Status.RESOLVED
    case.resolved_at = now
    _event(
        case,
        EventKind.RESOLVED,
        actor=user,
        now=now,
        text=outcome,
        photos=photos,
        handler_council=case.handler_council,
        department=case.department,
    )
    _saved(case, now, "status", "resolved_at")
    _tell_reporter(case, EventKind.RESOLVED, now)
    return case


@transaction.atomic
def confirm_case(*, user, case: Case, satisfaction: int, comment: str = "", now=None) -> Case:
    """The reporter rates the outcome 1-5. Satisfied closes the case (销号); dissatisfied
    (DISSATISFIED_AT_MOST or less) reopens it with a fresh deadline."""
    now = now or timezone.now()
    case = _locked(case)
    require_perm(
        user, "cases.confirm_case", case, _("Only the person who reported the case confirms it.")
    )
    if case.status != Status.RESOLVED:
        raise ValidationError(_("There is nothing to confirm yet."))
    try:
        satisfaction = int(satisfaction)
    except (TypeError, ValueError):
        satisfaction = 0
    if not 1 <= satisfaction <= 5:
        raise ValidationError(
            {"satisfaction": _("Rate from 1 (very dissatisfied) to 5 (very satisfied).")}
        )
    _check_text(public=case.public, comment=comment)
    case.satisfaction = satisfaction
    if satisfaction <= DISSATISFIED_AT_MOST:
        rule = rule_for(case.township, case.level)
        _event(
            case, EventKind.REOPENED, actor=user, now=now, text=comment, satisfaction=satisfaction
        )
        case.status = Status.IN_HAND
        case.reopened += 1
        case.resolved_at = None
        case.resolve_due = now + datetime.timedelta(days=rule.resolve_days)
        _saved(case, now, "satisfaction", "status", "reopened", "resolved_at", "resolve_due")
        from cases import notices

        notices.case_reopened(case, now=now)
        return case
    _event(case, EventKind.CONFIRMED, actor=user, now=now, text=comment, satisfaction=satisfaction)
    _close(case, now=now, actor=None)
    _saved(case, now, "satisfaction", "status", "closed_at", "on_time")
    return case


def _close(case: Case, *, now, actor, text: str = "") -> None:
    case.status = Status.CLOSED
    case.closed_at = now
    case.on_time = bool(case.resolved_at and case.resolved_at <= case.promised_by)
    _event(case, EventKind.CLOSED, actor=actor, now=now, text=text)
    _tell_reporter(case, EventKind.CLOSED, now)


# -- the clock: overdue steps escalate, unconfirmed outcomes close -------------------------------


def escalate_overdue(*, now=None, limit: int = 500) -> int:
    """Move every case past its accept or resolve deadline one council up the tree, with a
    notification to the council it reaches. Returns how many moved. Run by the reaper's sweep
    every minute; each case is locked and re-checked, so two sweeps never escalate it twice."""
    from django.db.models import Q

    now = now or timezone.now()
    due = (
        Case.objects.filter(
            Q(status=Status.REPORTED, accept_due__lt=now)
            | Q(status__in=(Status.ACCEPTED, Status.IN_HAND), resolve_due__lt=now)
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    moved = 0
    for pk in list(due):
        with transaction.atomic():
            case = _locked(Case(pk=pk))
            if not case.is_overdue(now):
                continue
            if _escalate(case, now=now):
                moved += 1
    return moved


def _escalate(case: Case, *, now) -> bool:
    stage = "accept" if case.status == Status.REPORTED else "resolve"
    above = parent_council(case.handler_council)
    rule = rule_for(case.township, case.level)
    # The next council gets a fresh deadline for the same step, so it is told, not swamped.
    if stage == "accept":
        case.accept_due = now + datetime.timedelta(hours=rule.accept_hours)
    else:
        case.resolve_due = now + datetime.timedelta(days=rule.resolve_days)
    if above is None:
        # Nothing above a city: the deadline is renewed and the city told again.
        _event(case, EventKind.ESCALATED, now=now, handler_council=case.handler_council, text=stage)
        case.escalations += 1
        _saved(case, now, "accept_due", "resolve_due", "escalations")
        from cases import notices

        notices.case_escalated(case, now=now)
        return True
    case.handler_council = above
    case.department = None
    if stage == "accept":
        case.status = Status.REPORTED
    case.escalations += 1
    _event(case, EventKind.ESCALATED, now=now, handler_council=above, text=stage)
    _saved(
        case,
        now,
        "handler_council",
        "department",
        "status",
        "accept_due",
        "resolve_due",
        "escalations",
    )
    from cases import notices

    notices.case_escalated(case, now=now)
    return True


def close_unconfirmed(*, now=None, limit: int = 500) -> int:
    """Close cases resolved more than CONFIRM_DAYS ago that the reporter never rated."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=CONFIRM_DAYS)
    pks = list(
        Case.objects.filter(status=Status.RESOLVED, resolved_at__lt=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    closed = 0
    for pk in pks:
        with transaction.atomic():
            case = _locked(Case(pk=pk))
            if case.status != Status.RESOLVED or case.resolved_at >= cutoff:
                continue
            _close(case, now=now, actor=None, text="unconfirmed")
            _saved(case, now, "status", "closed_at", "on_time")
            closed += 1
    return closed


def sweep() -> dict[str, int]:
    """The reaper's minute (core.tasks.register_sweep)."""
    return {
        "cases_escalated": escalate_overdue(),
        "cases_closed_unconfirmed": close_unconfirmed(),
    }


# -- mediation -------------------------------------------------------------------------------------


def _mediation_case(user, case: Case, permission: str) -> Case:
    case = _locked(case)
    require_perm(user, permission, case, str(NOT_HANDLER))
    if case.source != Source.DISPUTE:
        raise ValidationError(_("Only a dispute is mediated."))
    if not case.is_open:
        raise ValidationError(_("This case is closed."))
    return case


@transaction.atomic
def name_mediator(*, user, case: Case, mediator, mediator_council=None, now=None) -> Mediation:
    """The handler names a mediator, for example a rural worthy (新乡贤)."""
    now = now or timezone.now()
    case = _mediation_case(user, case, "cases.handle_case")
    mediation, _created = Mediation.objects.update_or_create(
        case=case, defaults={"mediator": mediator, "mediator_council": mediator_council}
    )
    _event(case, EventKind.MEDIATOR, actor=user, now=now, text=mediator.public_name)
    _saved(case, now)
    return mediation


@transaction.atomic
def record_mediation_session(*, user, case: Case, text: str, held_at=None, now=None) -> CaseEvent:
    now = now or timezone.now()
    case = _mediation_case(user, case, "cases.mediate_case")
    if not (text or "").strip():
        raise ValidationError({"text": _("Say who came and what was said.")})
    if held_at is not None and held_at < case.reported_at:
        # The case's history is in the order of its steps: nothing comes before the report.
        raise ValidationError(
            {"held_at": _("A mediation session is recorded from the day the dispute was reported.")}
        )
    _check_text(public=False, text=text)
    event = _event(case, EventKind.MEDIATION, actor=user, now=held_at or now, text=text)
    _saved(case, now)
    return event


@transaction.atomic
def record_agreement(
    *, user, case: Case, agreement: str, follow_up_on: datetime.date | None, now=None
) -> Mediation:
    """The agreement the parties signed (调解协议) and the day to check it holds."""
    now = now or timezone.now()
    case = _mediation_case(user, case, "cases.mediate_case")
    agreement = (agreement or "").strip()
    if not agreement:
        raise ValidationError({"agreement": _("Write the agreement the parties reached.")})
    if follow_up_on is not None and follow_up_on < timezone.localdate(now):
        raise ValidationError({"follow_up_on": _("The follow-up date cannot be in the past.")})
    _check_text(public=False, agreement=agreement)
    mediation = Mediation.objects.filter(case=case).first()
    if mediation is None:
        raise ValidationError(_("Name a mediator before recording an agreement."))
    if mediation.agreed_at is not None:
        raise ValidationError(_("An agreement is already recorded; add a follow-up instead."))
    mediation.agreement = agreement
    mediation.agreed_at = now
    mediation.follow_up_on = follow_up_on
    mediation.save(update_fields=["agreement", "agreed_at", "follow_up_on"])
    _event(case, EventKind.AGREEMENT, actor=user, now=now, text=agreement)
    _saved(case, now)
    _tell_reporter(case, EventKind.AGREEMENT, now)
    return mediation


@transaction.atomic
def record_follow_up(*, user, case: Case, text: str, now=None) -> CaseEvent:
    now = now or timezone.now()
    case = _locked(case)
    require_perm(user, "cases.mediate_case", case, str(NOT_HANDLER))
    if not (text or "").strip():
        raise ValidationError({"text": _("Say whether the agreement holds.")})
    _check_text(public=False, text=text)
    mediation = Mediation.objects.select_for_update().filter(case=case).first()
    if mediation is None or mediation.agreed_at is None:
        raise ValidationError(_("Record the agreement before following it up."))
    mediation.followed_up_at = now
    mediation.save(update_fields=["followed_up_at"])
    event = _event(case, EventKind.FOLLOW_UP, actor=user, now=now, text=text)
    _saved(case, now)
    return event


# -- visits ----------------------------------------------------------------------------------------


@transaction.atomic
def log_visit(
    *,
    visitor,
    council: CouncilPage,
    households: int,
    visited_on=None,
    night: bool = False,
    notes: str = "",
    now=None,
) -> Visit:
    """A household or night visit; what it found becomes cases with source `visit`."""
    require_perm(
        visitor, "cases.report_grid_event", council, _("You cannot log visits in this council.")
    )
    if council.level not in CASE_LEVELS:
        raise ValidationError(_("Visits are logged in a grid or a village."))
    try:
        households = int(households)
    except (TypeError, ValueError):
        households = 0
    if households < 1:
        raise ValidationError({"households": _("Give how many households were visited.")})
    _check_text(public=False, notes=notes)
    return Visit.objects.create(
        council=council,
        visitor=visitor,
        visited_on=visited_on or timezone.localdate(now),
        night=bool(night),
        households=households,
        notes=(notes or "").strip(),
        created_at=now or timezone.now(),
    )


# -- departments -----------------------------------------------------------------------------------


@transaction.atomic
def register_department(*, user, council: CouncilPage, name: str, kind: str) -> Department:
    """A township, district or city registers a handling unit (部门) it can whistle in."""
    from councils.models import ActionVerb
    from councils.services import log_action

    require_perm(
        user, "cases.manage_departments", council, _("Only officials register departments.")
    )
    if council.level not in (Level.TOWNSHIP, Level.DISTRICT, Level.CITY):
        raise ValidationError(_("Departments are registered under a township, district or city."))
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the department's name.")})
    if kind not in DepartmentKind.values:
        raise ValidationError({"kind": _("Choose the kind of department.")})
    if Department.objects.filter(council=council, name=name).exists():
        raise ValidationError({"name": _("A department of this name is already registered here.")})
    department = Department.objects.create(council=council, name=name, kind=kind)
    log_action(
        council=council,
        actor=user,
        verb=ActionVerb.REGISTER_DEPARTMENT,
        target=f"{name} ({DepartmentKind(kind).label})",
    )
    return department


@transaction.atomic
def deactivate_department(*, user, department: Department) -> Department:
    """A department that no longer serves is kept (its cases' history names it) but is no
    longer whistled in. It must first pass on the open cases it holds."""
    department = Department.objects.select_for_update().get(pk=department.pk)
    require_perm(
        user,
        "cases.manage_departments",
        department.council,
        _("Only officials register departments."),
    )
    if not department.active:
        raise ValidationError(_("This department is no longer active."))
    if Case.objects.open().filter(department=department).exists():
        raise ValidationError(
            _("This department still holds open cases: whistle them to another one first.")
        )
    department.active = False
    department.save(update_fields=["active"])
    return department


@transaction.atomic
def add_department_member(*, user, department: Department, member) -> None:
    from cases.models import DepartmentMember

    require_perm(
        user,
        "cases.manage_departments",
        department.council,
        _("Only officials register departments."),
    )
    DepartmentMember.objects.get_or_create(department=department, user=member)


@transaction.atomic
def remove_department_member(*, user, department: Department, member) -> None:
    from cases.models import DepartmentMember

    require_perm(
        user,
        "cases.manage_departments",
        department.council,
        _("Only officials register departments."),
    )
    DepartmentMember.objects.filter(department=department, user=member).delete()


# -- telling ---------------------------------------------------------------------------------------


def _tell_reporter(case: Case, kind: str, now) -> None:
    from cases import notices

    if kind in CHANGES:
        notices.tell_reporter(case, change=CHANGES[kind], step=kind, now=now)


def refuse_unless(condition: bool, message: str) -> None:
    if not condition:
        raise PermissionDenied(message)
