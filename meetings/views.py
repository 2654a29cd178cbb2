"""Pages of sessions. Everything works without JavaScript; session-live.js adds live updates.

Views parse input, check the permission (to choose what to show), call one service and render or
redirect. Refusals from the services are shown as messages; nothing is saved when they refuse.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.refusals import say_refusal
from councils.models import CouncilPage
from meetings import quorum, services
from meetings.forms import (
    AgendaItemForm,
    AttendanceForm,
    CancelSessionForm,
    CheckInForm,
    CorrectionForm,
    ImplementationForm,
    MinutesForm,
    MotionForm,
    ProxyForm,
    SessionChangeForm,
    SessionForm,
    VoteForm,
)
from meetings.models import (
    Attendance,
    Minutes,
    Motion,
    MotionStatus,
    Session,
    SessionStatus,
    Vote,
)


def _session(request, pk: int) -> Session:
    session = get_object_or_404(Session.objects.select_related("council", "convened_by"), pk=pk)
    if not request.user.has_perm("meetings.view_session", session):
        raise PermissionDenied
    return session


def _chair(request, pk: int) -> Session:
    session = _session(request, pk)
    if not request.user.has_perm("meetings.chair_session", session):
        raise PermissionDenied
    return session


def _motions(session: Session) -> list[Motion]:
    votes = Vote.objects.select_related("entry").order_by("entry__name", "pk")
    motions = list(
        session.motions.select_related("agenda_item", "resolution_record", "implementation_record")
        .prefetch_related(Prefetch("votes", queryset=votes))
        .order_by("pk")
    )
    for motion in motions:
        motion.tally = services.tally_from_votes(motion)
        motion.voted_entries = {vote.entry_id for vote in motion.votes.all()}
    return motions


def _context(request, session: Session, **forms) -> dict:
    user = request.user
    roster = list(session.roster.select_related("proxy_holder").order_by("name", "pk"))
    mine = next((e for e in roster if e.person_id == user.pk), None)
    motions = _motions(session)
    open_motion = next((m for m in motions if m.status == MotionStatus.OPEN), None)
    can_chair = user.has_perm("meetings.chair_session", session)
    # The ballots this person may cast on the open motion: their own and their proxies'.
    ballots = []
    if open_motion and mine:
        for entry_id, caster_id in open_motion.voters:
            if caster_id == mine.pk and entry_id not in open_motion.voted_entries:
                entry = next(e for e in roster if e.pk == entry_id)
                ballots.append((entry, VoteForm(initial={"on_behalf_of": entry.pk})))
    minutes = list(session.minutes.order_by("pk"))
    return {
        "session": session,
        "council": session.council,
        "agenda": list(session.agenda.select_related("topic", "budget_cycle", "record")),
        "roster": roster,
        "present_entries": [e for e in roster if e.attendance == Attendance.PRESENT],
        "absent_entries": [e for e in roster if e.attendance != Attendance.PRESENT],
        "numbers": services.attendance_numbers(session) if session.opened_at else None,
        "motions": motions,
        "open_motion": open_motion,
        "mine": mine,
        "ballots": ballots,
        "can_chair": can_chair,
        "minutes": [m for m in minutes if m.is_published or can_chair],
        "check_in_form": forms.get("check_in_form") or CheckInForm(),
        "agenda_form": forms.get("agenda_form") or AgendaItemForm(council=session.council),
        "motion_form": forms.get("motion_form") or MotionForm(session=session),
        "change_form": forms.get("change_form")
        or SessionChangeForm(
            initial={"starts_at": timezone.localtime(session.starts_at), "place": session.place}
        ),
        "cancel_form": forms.get("cancel_form") or CancelSessionForm(),
        "ws_path": f"/ws/meetings/{session.pk}/",
        "now": timezone.now(),
    }


def session_detail(request, pk: int):
    session = _session(request, pk)
    return render(request, "meetings/session.html", _context(request, session))


def session_screen(request, pk: int):
    """The projector view for the room: large type, quorum, the motion and its tally."""
    session = _session(request, pk)
    motions = _motions(session)
    shown = next((m for m in motions if m.status == MotionStatus.OPEN), None)
    if shown is None:
        shown = next((m for m in reversed(motions) if m.status == MotionStatus.CLOSED), None)
    can_chair = request.user.has_perm("meetings.chair_session", session)
    return render(
        request,
        "meetings/session_screen.html",
        {
            "session": session,
            "numbers": services.attendance_numbers(session) if session.opened_at else None,
            "motion": shown,
            "can_chair": can_chair,
            "show_code": can_chair and session.check_in_open,
            "ws_path": f"/ws/meetings/{session.pk}/",
        },
    )


@login_required
def schedule_session(request, council_pk: int):
    council = get_object_or_404(CouncilPage, pk=council_pk)
    if not request.user.has_perm("meetings.schedule_session", council):
        raise PermissionDenied
    form = SessionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            session = services.schedule_session(
                actor=request.user, council=council, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The meeting is scheduled. Add the agenda next."))
            return redirect(session)
    return render(
        request,
        "meetings/session_form.html",
        {"council": council, "form": form},
        status=400 if form.errors else 200,
    )


def _rerender(request, session, status=400, **forms):
    return render(
        request, "meetings/session.html", _context(request, session, **forms), status=status
    )


@login_required
@require_POST
def add_agenda_item(request, pk: int):
    session = _chair(request, pk)
    form = AgendaItemForm(request.POST, council=session.council)
    if form.is_valid():
        try:
            services.add_agenda_item(actor=request.user, session=session, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as error:
            form.add_error(None, error if isinstance(error, ValidationError) else str(error))
        else:
            return redirect(session)
    return _rerender(request, session, agenda_form=form)


@login_required
@require_POST
def add_motion(request, pk: int):
    session = _chair(request, pk)
    form = MotionForm(request.POST, session=session)
    if form.is_valid():
        try:
            services.add_motion(actor=request.user, session=session, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect(session)
    return _rerender(request, session, motion_form=form)


def _run(request, session, call, success: str = ""):
    """Call one service; show its refusal as a message. Always back to the session page."""
    try:
        call()
    except (ValidationError, PermissionDenied) as error:
        say_refusal(request, error)
    else:
        if success:
            messages.success(request, success)
    if request.POST.get("next") == "screen":
        return redirect("meetings:session_screen", session.pk)
    return redirect(session)


@login_required
@require_POST
def session_action(request, pk: int, action: str):
    session = _chair(request, pk)
    actions = {
        "open": (services.open_session, _("The session is open. Take the roll call.")),
        "close": (services.close_session, _("The session is closed. Write the minutes.")),
        "check-in-open": (services.open_check_in, _("Check-in is open.")),
        "check-in-rotate": (services.rotate_check_in_code, _("The code was changed.")),
        "check-in-close": (services.close_check_in, _("Check-in is closed.")),
        "change": (services.change_session, _("The meeting is changed. Its members are told.")),
        "cancel": (services.cancel_session, _("The meeting is cancelled. Its members are told.")),
    }
    if action not in actions:
        raise PermissionDenied
    service, success = actions[action]
    if action in ("change", "cancel"):
        form_class, name = (
            (SessionChangeForm, "change_form")
            if action == "change"
            else (CancelSessionForm, "cancel_form")
        )
        form = form_class(request.POST)
        if not form.is_valid():
            return _rerender(request, session, **{name: form})
        details = form.cleaned_data if action == "change" else {}
        return _run(
            request,
            session,
            lambda: service(actor=request.user, session=session, **details),
            success,
        )
    if action == "open":
        early = request.POST.get("early") in ("1", "on")
        return _run(
            request,
            session,
            lambda: services.open_session(actor=request.user, session=session, early=early),
            success,
        )
    return _run(request, session, lambda: service(actor=request.user, session=session), success)


@login_required
@require_POST
def check_in(request, pk: int):
    session = _session(request, pk)
    # The code form is on the page only during the meeting, to a member on the roster not yet
    # present, while check-in is open: the other cases are answered here, in words, rather than
    # with the page again, where the form and its error are not shown.
    if not session.is_open:  # (the roster is drawn up when the meeting opens)
        messages.error(request, _("The session is not in progress."))
        return redirect(session)
    if not request.user.has_perm("meetings.check_in_session", session):
        raise PermissionDenied(_("You are not on the roster of this meeting."))
    if session.roster.filter(person=request.user, attendance=Attendance.PRESENT).exists():
        messages.info(request, _("You are checked in."))
        return redirect(session)
    if not session.check_in_open:
        messages.error(request, _("Check-in is not open."))
        return redirect(session)
    form = CheckInForm(request.POST)
    if not form.is_valid():
        return _rerender(request, session, check_in_form=form)
    try:
        services.check_in(user=request.user, session=session, code=form.cleaned_data["code"])
    except ValidationError as error:
        if getattr(error, "code", None) not in ("wrong_code", "rate_limited"):  # state changed
            say_refusal(request, error)
            return redirect(session)
        form.add_error("code", error)
        return _rerender(request, session, check_in_form=form)
    except PermissionDenied as error:
        say_refusal(request, error)
    else:
        messages.success(request, _("You are checked in."))
    return redirect(session)


@login_required
@require_POST
def record_attendance(request, pk: int):
    session = _chair(request, pk)
    form = AttendanceForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a member and present or absent."))
        return redirect(session)
    data = form.cleaned_data
    return _run(
        request,
        session,
        lambda: services.record_attendance(
            actor=request.user, session=session, entry=data["entry"], present=data["present"]
        ),
    )


@login_required
@require_POST
def record_proxy(request, pk: int):
    session = _chair(request, pk)
    form = ProxyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose who gives the proxy and who holds it."))
        return redirect(session)
    data = form.cleaned_data
    return _run(
        request,
        session,
        lambda: services.record_proxy(
            actor=request.user, session=session, giver=data["giver"], holder=data["holder"]
        ),
        _("The proxy is recorded."),
    )


def _motion(request, pk: int) -> Motion:
    motion = get_object_or_404(Motion.objects.select_related("session__council"), pk=pk)
    if not request.user.has_perm("meetings.view_session", motion.session):
        raise PermissionDenied
    return motion


@login_required
@require_POST
def motion_action(request, pk: int, action: str):
    motion = _motion(request, pk)
    session = motion.session
    if not request.user.has_perm("meetings.chair_session", session):
        raise PermissionDenied
    if action == "open":
        return _run(request, session, lambda: services.open_vote(actor=request.user, motion=motion))
    if action == "close":
        return _run(
            request, session, lambda: services.close_vote(actor=request.user, motion=motion)
        )
    if action == "disclose":
        return _run(
            request,
            session,
            lambda: services.publish_resolution(actor=request.user, motion=motion),
            _("A disclosure draft of the resolution was started. It now goes to the supervisors."),
        )
    if action == "implementation":
        form = ImplementationForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Describe how the resolution was carried out."))
            return redirect(session)
        return _run(
            request,
            session,
            lambda: services.publish_implementation(
                actor=request.user, motion=motion, report=form.cleaned_data["report"]
            ),
            _("A disclosure draft of the implementation was started."),
        )
    raise PermissionDenied


@login_required
@require_POST
def cast_vote(request, pk: int):
    motion = _motion(request, pk)
    form = VoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose for, against or abstain."))
        return redirect(motion.session)
    data = form.cleaned_data
    return _run(
        request,
        motion.session,
        lambda: services.cast_vote(
            voter=request.user,
            motion=motion,
            choice=data["choice"],
            on_behalf_of=data["on_behalf_of"],
        ),
        _("Your vote is recorded. It is shown by name in the minutes."),
    )


# --- Minutes -------------------------------------------------------------------------------------


def _minutes(request, pk: int) -> Minutes:
    minutes = get_object_or_404(
        Minutes.objects.select_related("session__council", "corrects", "created_by"), pk=pk
    )
    if not request.user.has_perm("meetings.view_minutes", minutes):
        raise PermissionDenied
    return minutes


@login_required
def write_minutes(request, pk: int):
    """Draft (or go on drafting) the minutes of a closed session."""
    session = _chair(request, pk)
    if session.status != SessionStatus.CLOSED:
        messages.error(request, _("Minutes are written once the session is closed."))
        return redirect(session)
    original = session.minutes.filter(corrects__isnull=True).first()
    if original is not None and original.is_published:
        return redirect(original)
    form = MinutesForm(
        request.POST if request.method == "POST" else None,
        initial={"narrative": original and original.narrative},
    )
    if request.method == "POST" and form.is_valid():
        try:
            minutes = services.draft_minutes(
                actor=request.user, session=session, narrative=form.cleaned_data["narrative"]
            )
            if original is not None:
                services.edit_minutes(
                    actor=request.user, minutes=minutes, narrative=form.cleaned_data["narrative"]
                )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The draft minutes are saved."))
            return redirect(minutes)
    return render(
        request,
        "meetings/session_minutes_form.html",
        {"session": session, "form": form},
        status=400 if form.errors else 200,
    )


def minutes_detail(request, pk: int, *, form=None, correction_form=None, status=200):
    minutes = _minutes(request, pk)
    user = request.user
    return render(
        request,
        "meetings/session_minutes.html",
        {
            "minutes": minutes,
            "session": minutes.session,
            "record": minutes_for_display(minutes.record),
            "corrected_by": Minutes.objects.filter(corrects=minutes).first(),
            "can_edit": user.has_perm("meetings.change_minutes", minutes),
            "can_publish": user.has_perm("meetings.publish_minutes", minutes),
            "can_correct": user.has_perm("meetings.correct_minutes", minutes),
            "form": form or MinutesForm(initial={"narrative": minutes.narrative}),
            "correction_form": correction_form or CorrectionForm(),
        },
        status=status,
    )


@login_required
@require_POST
def edit_minutes(request, pk: int):
    minutes = _minutes(request, pk)
    form = MinutesForm(request.POST)
    if form.is_valid():
        try:
            services.edit_minutes(
                actor=request.user, minutes=minutes, narrative=form.cleaned_data["narrative"]
            )
        except PermissionDenied as error:
            say_refusal(request, error)
            return redirect(minutes)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The draft minutes are saved."))
            return redirect(minutes)
    return minutes_detail(request, pk, form=form, status=400)


@login_required
@require_POST
def publish_minutes(request, pk: int):
    minutes = _minutes(request, pk)
    try:
        services.publish_minutes(actor=request.user, minutes=minutes)
    except (ValidationError, PermissionDenied) as error:
        say_refusal(request, error)
    else:
        messages.success(request, _("The minutes are published. They can no longer change."))
    return redirect(minutes)


@login_required
@require_POST
def correct_minutes(request, pk: int):
    minutes = _minutes(request, pk)
    if not request.user.has_perm("meetings.correct_minutes", minutes):
        raise PermissionDenied(_("Only the committee corrects published minutes."))
    # Once corrected, the page no longer offers the form: say so instead of hiding the error.
    if Minutes.objects.filter(corrects=minutes).exists():
        messages.error(
            request, _("These minutes have already been corrected; correct the correction.")
        )
        return redirect(minutes)
    form = CorrectionForm(request.POST)
    if form.is_valid():
        try:
            correction = services.correct_minutes(
                actor=request.user,
                minutes=minutes,
                narrative=form.cleaned_data["narrative"],
                reason=form.cleaned_data["correction_reason"],
            )
        except PermissionDenied as error:
            say_refusal(request, error)
            return redirect(minutes)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The correction is drafted. Publish it when it is right."))
            return redirect(correction)
    return minutes_detail(request, pk, correction_form=form, status=400)


def minutes_for_display(record: dict) -> dict:
    """Labels for the stored codes of a minutes record, in the reader's language."""
    from meetings.models import MajorityKind, RosterMode, SessionKind, VoteChoice
    from meetings.quorum import Rule

    if not record:
        return {}
    labels = {
        "attendance": dict(Attendance.choices),
        "choice": dict(VoteChoice.choices),
        "result": result_labels(),
    }
    session = dict(record["session"])
    session["kind_label"] = dict(SessionKind.choices).get(session["kind"], session["kind"])
    session["roster_label"] = dict(RosterMode.choices).get(session["roster_mode"], "")
    session["rule_text"] = rule_text(Rule.from_dict(session["rule"])) if session["rule"] else ""
    roster = [
        {**e, "attendance_label": labels["attendance"].get(e["attendance"], e["attendance"])}
        for e in record["roster"]
    ]
    motions = []
    for motion in record["motions"]:
        motions.append(
            {
                **motion,
                "majority_label": dict(MajorityKind.choices).get(motion["majority"], ""),
                "result_label": labels["result"].get(motion["result"], motion["result"]),
                "rule_text": rule_text(Rule.from_dict(motion["rule"])) if motion["rule"] else "",
                "votes": [
                    {**v, "choice_label": labels["choice"].get(v["choice"], v["choice"])}
                    for v in motion["votes"]
                ],
            }
        )
    return {**record, "session": session, "roster": roster, "motions": motions}


def result_labels() -> dict[str, str]:
    return {
        "passed": _("Passed"),
        "failed": _("Not passed"),
        "no_quorum": _("No quorum: no decision"),
    }


def rule_text(rule) -> str:
    def threshold(t) -> str:
        fraction = f"{t.numerator}/{t.denominator}"
        if t.strict:
            return _("more than %(fraction)s") % {"fraction": fraction}
        return _("at least %(fraction)s") % {"fraction": fraction}

    base = (
        _("of those present") if rule.decision_base == quorum.Base.PRESENT else _("of all members")
    )
    text = _("Quorum: %(quorum)s of the members; decision: %(decision)s %(base)s.") % {
        "quorum": threshold(rule.quorum),
        "decision": threshold(rule.decision),
        "base": base,
    }
    if rule.proxies_count:
        text += " " + _("Proxies count as present; at most %(n)s per holder.") % {
            "n": rule.max_proxies_per_holder
        }
    if rule.source:
        text += f" ({rule.source})"
    return text
