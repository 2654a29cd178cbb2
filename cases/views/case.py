"""Reporting a case and a case's own page with its steps.

Everything works on a cheap phone without JavaScript. Views parse input, ask the permission (to
choose what to show), call one service and render or redirect; the services decide and refuse
with a message for the person (docs/architecture.md, "Refusals"): a ValidationError re-renders
the form with everything typed, a PermissionDenied is the 403 page with its message.
"""

import dataclasses
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from cases import services
from cases.forms import (
    AcceptForm,
    AgreementForm,
    CaseReportForm,
    ConfirmForm,
    DisputeForm,
    EscalateTopicForm,
    FollowUpForm,
    GridReportForm,
    MediationSessionForm,
    MediatorForm,
    NoteForm,
    ResolveForm,
    StartForm,
    VisitForm,
    WhistleForm,
)
from cases.models import (
    Case,
    CaseEvent,
    CaseParty,
    CasePhoto,
    EventKind,
    Mediation,
    Source,
    Status,
    Visit,
    Whistle,
)
from core.files import serve_file
from councils.models import CouncilPage, Level, Membership, Role
from deliberation.models import Topic

MY_CASES_PER_PAGE = 20
# What the reporting forms remember for the next report (in the session): the last category,
# and the last place per council, for at most this many councils.
REMEMBERED = "cases_last_report"
REMEMBERED_PLACES = 20


# -- helpers ---------------------------------------------------------------------------------------


def _crumbs(council: CouncilPage) -> list:
    return [*council.council_ancestors().only("id", "title", "url_path", "path"), council]


def case_url(case: Case) -> str:
    return reverse("cases:case", args=[case.pk])


def _add_refusal(form, error: ValidationError, aliases: dict | None = None) -> None:
    """Put a service's ValidationError on the form: a message keyed by a field of the form goes
    on that field; any other (or unkeyed) message above the form."""
    aliases = aliases or {}
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for key, errors in error.error_dict.items():
        field = aliases.get(key, key)
        form.add_error(field if field in form.fields else None, errors)


def _remembered(request, council: CouncilPage) -> dict:
    memory = request.session.get(REMEMBERED) or {}
    if memory.get("user") != request.user.pk:
        return {}
    initial = {}
    if memory.get("category"):
        initial["category"] = memory["category"]
    place = (memory.get("places") or {}).get(str(council.pk))
    if place:
        initial["place"] = place
    return initial


def _remember(request, council: CouncilPage, data: dict) -> None:
    memory = request.session.get(REMEMBERED) or {}
    if memory.get("user") != request.user.pk:
        memory = {"user": request.user.pk}
    places = dict(memory.get("places") or {})
    places.pop(str(council.pk), None)
    if data.get("place"):
        places[str(council.pk)] = data["place"]
    # Newest last (dicts keep their order): the oldest councils are forgotten first.
    memory["places"] = dict(list(places.items())[-REMEMBERED_PLACES:])
    memory["category"] = data.get("category", "")
    request.session[REMEMBERED] = memory


# -- reporting -------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ReportKind:
    source: str
    form: type
    permission: str
    heading: str
    intro: str
    refusal: str


REPORT_KINDS = {
    kind.source: kind
    for kind in (
        ReportKind(
            source=Source.GRID_REPORT,
            form=GridReportForm,
            permission="cases.report_grid_event",
            heading=gettext_lazy("Report an event in the grid"),
            intro=gettext_lazy(
                "Sort it by the whistle level: the level decides who handles it and the "
                "deadlines to accept and to resolve it."
            ),
            refusal=gettext_lazy("Only grid workers and the committee report events here."),
        ),
        ReportKind(
            source=Source.DEMAND,
            form=CaseReportForm,
            permission="cases.raise_demand",
            heading=gettext_lazy("Raise a demand"),
            intro=gettext_lazy(
                "Tell the village what you need or what is wrong. You are told of each step, and "
                "you confirm at the end whether it was done."
            ),
            refusal=gettext_lazy("Only verified residents of this council raise demands here."),
        ),
        ReportKind(
            source=Source.DISPUTE,
            form=DisputeForm,
            permission="cases.raise_demand",
            heading=gettext_lazy("Ask for help with a dispute"),
            intro=gettext_lazy(
                "A dispute is never shown publicly. The parties you name, the handlers and the "
                "mediator see it."
            ),
            refusal=gettext_lazy("Only verified residents of this council raise disputes here."),
        ),
    )
}
FINDING_KIND = ReportKind(
    source=Source.VISIT,
    form=GridReportForm,
    permission="cases.report_grid_event",
    heading=gettext_lazy("Report a finding of the visit"),
    intro=REPORT_KINDS[Source.GRID_REPORT].intro,
    refusal=gettext_lazy("You cannot log visits in this council."),
)


def _case_council(council_pk: int) -> CouncilPage:
    # `id`, not `pk`: see cases.views.desk._council (an id too large is a 404, not a 500).
    return get_object_or_404(CouncilPage, id=council_pk)


@login_required
def report(request, council_pk: int, source: str):
    kind = REPORT_KINDS.get(source)
    if kind is None:
        raise Http404
    council = _case_council(council_pk)
    if not request.user.has_perm(kind.permission, council):
        raise PermissionDenied(kind.refusal)
    return _report_page(request, council=council, kind=kind)


@login_required
def report_finding(request, visit_pk: int):
    """A need or problem found on a household visit, linked to the visit."""
    visit = _visit(request, visit_pk)
    return _report_page(request, council=visit.council, kind=FINDING_KIND, visit=visit)


def _report_page(request, *, council: CouncilPage, kind: ReportKind, visit: Visit | None = None):
    posted = request.method == "POST"
    form = (
        kind.form(request.POST, request.FILES)
        if posted
        else kind.form(initial=_remembered(request, council))
    )
    if posted and form.is_valid():
        data = form.cleaned_data
        try:
            case = services.report_case(
                reporter=request.user,
                council=council,
                source=kind.source,
                category=data["category"],
                # A resident does not sort their own matter (the service keeps it routine).
                level=data.get("level") or Whistle.ROUTINE,
                title=data["title"],
                description=data["description"],
                place=data["place"],
                latitude=data.get("latitude"),
                longitude=data.get("longitude"),
                public=bool(data.get("public")),
                photos=form.photos,
                parties=getattr(form, "parties", ()),
                visit=visit,
            )
        except ValidationError as error:
            _add_refusal(form, error, aliases={"parties": "party_name_1"})
        else:
            _remember(request, council, data)
            messages.success(
                request,
                _("Your report is in. You are told of each step; the deadlines are below."),
            )
            return redirect("cases:case", case.pk)
    return render(
        request,
        "cases/report_form.html",
        {
            "council": council,
            "crumbs": _crumbs(council),
            "kind": kind,
            "form": form,
            "visit": visit,
            "photos_lost": posted and bool(request.FILES) and bool(form.errors),
        },
        status=400 if form.errors else 200,
    )


# -- household visits ------------------------------------------------------------------------------


def _visit(request, pk: int) -> Visit:
    visit = get_object_or_404(Visit.objects.select_related("council", "visitor"), pk=pk)
    # Those who log visits in the council read its visits; nobody else (they are about
    # households by name).
    if not request.user.has_perm("cases.report_grid_event", visit.council):
        raise PermissionDenied(_("You cannot log visits in this council."))
    return visit


@login_required
def log_visit(request, council_pk: int):
    council = _case_council(council_pk)
    if not request.user.has_perm("cases.report_grid_event", council):
        raise PermissionDenied(_("You cannot log visits in this council."))
    if request.method == "POST":
        form = VisitForm(request.POST)
        if form.is_valid():
            try:
                visit = services.log_visit(
                    visitor=request.user, council=council, **form.cleaned_data
                )
            except ValidationError as error:
                _add_refusal(form, error)
            else:
                messages.success(
                    request, _("The visit is logged. Report what needs following up as cases.")
                )
                return redirect("cases:visit", visit.pk)
    else:
        form = VisitForm(initial={"visited_on": timezone.localdate()})
    return render(
        request,
        "cases/visit_form.html",
        {"council": council, "crumbs": _crumbs(council), "form": form},
        status=400 if form.errors else 200,
    )


@login_required
def visit_detail(request, visit_pk: int):
    visit = _visit(request, visit_pk)
    findings = list(visit.findings.only("id", "title", "status", "reported_at").order_by("pk"))
    return render(
        request,
        "cases/visit.html",
        {
            "visit": visit,
            "council": visit.council,
            "crumbs": _crumbs(visit.council),
            "findings": findings,
        },
    )


# -- a case's page ---------------------------------------------------------------------------------


def _case(request, pk: int) -> Case:
    case = get_object_or_404(
        Case.objects.select_related(
            "council", "handler_council", "department__council", "township", "reporter"
        ),
        pk=pk,
    )
    if not request.user.has_perm("cases.view_case", case):
        raise PermissionDenied(
            _("This case is seen only by its reporter, its parties and those who handle it.")
        )
    return case


def mediators_for(case: Case):
    """Who may be named mediator: verified members of the councils of rural worthies under the
    case's village or township, and the village committee."""
    village = services.village_of(case.council)
    township = case.township
    worthies = CouncilPage.objects.filter(level=Level.WORTHIES).filter(
        Q(path__startswith=village.path, depth=village.depth + 1)
        | Q(path__startswith=township.path, depth=township.depth + 1)
    )
    ids = (
        Membership.objects.verified()
        .filter(Q(council__in=worthies) | Q(council=village, role=Role.COMMITTEE))
        .values("user_id")
    )
    return get_user_model().objects.filter(pk__in=ids).order_by("display_name", "pk")


def _mediator_council(case: Case, mediator) -> CouncilPage:
    """The council the mediator comes from: their council of rural worthies, else the village."""
    village = services.village_of(case.council)
    found = (
        Membership.objects.verified()
        .filter(user=mediator, council__level=Level.WORTHIES)
        .filter(
            Q(council__path__startswith=village.path, council__depth=village.depth + 1)
            | Q(
                council__path__startswith=case.township.path,
                council__depth=case.township.depth + 1,
            )
        )
        .select_related("council")
        .order_by("-council__depth")
        .first()
    )
    return found.council if found is not None else village


@dataclasses.dataclass(frozen=True)
class Step:
    """One step of a case on its page: who may take it, the form, the one service it calls,
    what it says."""

    permission: str
    form: type
    call: Callable
    success: str
    # Extra arguments of the form, from the case.
    form_kwargs: Callable = lambda case: {}


# Asked before the form is read, so that whoever may not take a step is refused whatever they
# typed; the services ask again, with the same words.
REFUSALS = {
    "cases.handle_case": services.NOT_HANDLER,
    "cases.mediate_case": services.NOT_HANDLER,
    "cases.whistle_case": gettext_lazy("Only the township's officials whistle in a department."),
    "cases.confirm_case": gettext_lazy("Only the person who reported the case confirms it."),
}


def _confirm(user, case, form):
    return services.confirm_case(
        user=user,
        case=case,
        satisfaction=form.cleaned_data["satisfaction"],
        comment=form.cleaned_data["comment"],
    )


def _name_mediator(user, case, form):
    mediator = form.cleaned_data["mediator"]
    return services.name_mediator(
        user=user,
        case=case,
        mediator=mediator,
        mediator_council=_mediator_council(case, mediator),
    )


STEPS = {
    "accept": Step(
        "cases.handle_case",
        AcceptForm,
        lambda user, case, form: services.accept_case(user=user, case=case),
        gettext_lazy("You accepted the case. The reporter is told."),
    ),
    "start": Step(
        "cases.handle_case",
        StartForm,
        lambda user, case, form: services.start_case(
            user=user, case=case, text=form.cleaned_data["text"]
        ),
        gettext_lazy("The case is in hand."),
    ),
    "note": Step(
        "cases.handle_case",
        NoteForm,
        lambda user, case, form: services.add_note(
            user=user, case=case, text=form.cleaned_data["text"]
        ),
        gettext_lazy("The note is added."),
    ),
    "resolve": Step(
        "cases.handle_case",
        ResolveForm,
        lambda user, case, form: services.resolve_case(
            user=user, case=case, outcome=form.cleaned_data["outcome"], photos=form.photos
        ),
        gettext_lazy("The case is resolved. The reporter is asked to confirm it."),
    ),
    "whistle": Step(
        "cases.whistle_case",
        WhistleForm,
        lambda user, case, form: services.whistle_case(
            user=user,
            case=case,
            department=form.cleaned_data["department"],
            reason=form.cleaned_data["reason"],
        ),
        gettext_lazy("The department is whistled in. It must accept the case in time."),
        lambda case: {"case": case},
    ),
    "confirm": Step("cases.confirm_case", ConfirmForm, _confirm, ""),
    "mediator": Step(
        "cases.handle_case",
        MediatorForm,
        _name_mediator,
        gettext_lazy("The mediator is named."),
        lambda case: {"mediators": mediators_for(case)},
    ),
    "mediation": Step(
        "cases.mediate_case",
        MediationSessionForm,
        lambda user, case, form: services.record_mediation_session(
            user=user,
            case=case,
            text=form.cleaned_data["text"],
            held_at=form.cleaned_data["held_at"],
        ),
        gettext_lazy("The mediation session is recorded."),
    ),
    "agreement": Step(
        "cases.mediate_case",
        AgreementForm,
        lambda user, case, form: services.record_agreement(
            user=user,
            case=case,
            agreement=form.cleaned_data["agreement"],
            follow_up_on=form.cleaned_data["follow_up_on"],
        ),
        gettext_lazy("The agreement is recorded. The parties are told."),
    ),
    "follow_up": Step(
        "cases.mediate_case",
        FollowUpForm,
        lambda user, case, form: services.record_follow_up(
            user=user, case=case, text=form.cleaned_data["text"]
        ),
        gettext_lazy("The follow-up is recorded."),
    ),
}


def _context(request, case: Case, *, failed: str = "", failed_form=None) -> dict:
    user = request.user
    details = user.has_perm("cases.view_case_details", case)
    events = list(
        CaseEvent.objects.filter(case=case)
        .select_related("actor", "handler_council", "department")
        .prefetch_related("photos")
    )
    reported = next((e for e in events if e.kind == EventKind.REPORTED), None)
    # What was done, while it stands (a reopened case is being handled again).
    resolved = None
    if case.status in (Status.RESOLVED, Status.CLOSED):
        resolved = next((e for e in reversed(events) if e.kind == EventKind.RESOLVED), None)
    is_dispute = case.source == Source.DISPUTE
    mediation = (
        Mediation.objects.filter(case=case).select_related("mediator", "mediator_council").first()
        if is_dispute and details
        else None
    )
    is_open = case.is_open
    can_handle = is_open and user.has_perm("cases.handle_case", case)
    can_mediate = is_open and is_dispute and user.has_perm("cases.mediate_case", case)
    shown = {
        "accept": can_handle and case.status == Status.REPORTED,
        "start": can_handle and case.status == Status.ACCEPTED,
        "note": can_handle,
        "resolve": can_handle and case.status in (Status.ACCEPTED, Status.IN_HAND),
        "whistle": is_open and user.has_perm("cases.whistle_case", case),
        "confirm": case.status == Status.RESOLVED and user.has_perm("cases.confirm_case", case),
        "mediator": can_handle and is_dispute,
        "mediation": can_mediate,
        "agreement": can_mediate and mediation is not None and mediation.agreed_at is None,
        "follow_up": can_mediate and mediation is not None and mediation.agreed_at is not None,
    }
    forms = {}
    for name, step in STEPS.items():
        if not shown[name]:
            continue
        if name == failed and failed_form is not None:
            forms[name] = failed_form
        else:
            forms[name] = step.form(**step.form_kwargs(case))
    if "whistle" in forms and not forms["whistle"].fields["department"].queryset.exists():
        forms.pop("whistle")  # no department registered above this case yet
    return {
        "case": case,
        "council": case.council,
        "crumbs": _crumbs(case.council),
        "details": details,
        "events": events if details else [],
        "reported": reported,
        "resolved": resolved,
        "parties": list(case.parties.all()) if details and is_dispute else [],
        "mediation": mediation,
        "is_dispute": is_dispute,
        "overdue": case.is_overdue(),
        "forms": forms,
        "failed_form": failed_form,
    }


def case_detail(request, pk: int):
    if not request.user.is_authenticated:
        case = get_object_or_404(Case.objects.only("id", "public"), pk=pk)
        if not case.public:  # it may be theirs: sign in first
            return redirect_to_login(request.get_full_path())
    case = _case(request, pk)
    return render(request, "cases/case.html", _context(request, case))


@login_required
@require_POST
def case_step(request, pk: int, step: str):
    """One step of the case (accept, resolve, confirm ...): one form, one service."""
    case = _case(request, pk)
    action = STEPS[step]
    if not request.user.has_perm(action.permission, case):
        raise PermissionDenied(REFUSALS[action.permission])
    form = action.form(request.POST, request.FILES, **action.form_kwargs(case))
    if form.is_valid():
        try:
            # PermissionDenied goes on to the 403 page, with the service's message.
            result = action.call(request.user, case, form)
        except ValidationError as error:
            _add_refusal(form, error)
        else:
            if step == "confirm":
                if result.status == Status.CLOSED:
                    messages.success(request, _("Thank you. The case is closed."))
                else:
                    messages.success(
                        request, _("The case is reopened. Its handlers are told to look again.")
                    )
            else:
                messages.success(request, action.success)
            return redirect("cases:case", case.pk)
    return render(
        request,
        "cases/case.html",
        _context(request, case, failed=step, failed_form=form),
        status=400,
    )


def case_photo(request, pk: int):
    """A photo of a case, for whoever may see the case (from the private storage)."""
    photo = get_object_or_404(
        CasePhoto.objects.select_related(
            "event__case__council", "event__case__handler_council", "event__case__township"
        ),
        pk=pk,
    )
    case = photo.event.case
    if not request.user.has_perm("cases.view_case", case):
        raise Http404  # a private case's photos: nobody else's business that they exist
    return serve_file(photo.image, storage_alias="private")


# -- my cases --------------------------------------------------------------------------------------


@login_required
def my_cases(request):
    """The cases the person reported or is a party to, newest first."""
    user = request.user
    mine = (
        Case.objects.filter(
            Q(reporter=user) | Q(pk__in=CaseParty.objects.filter(user=user).values("case_id"))
        )
        .select_related("council", "handler_council", "department")
        .order_by("-reported_at", "-pk")
    )
    page_obj = Paginator(mine, MY_CASES_PER_PAGE).get_page(request.GET.get("page", 1))
    return render(request, "cases/mine.html", {"page_obj": page_obj, "now": timezone.now()})


# -- a hall topic becomes a case -------------------------------------------------------------------


@login_required
def escalate_topic(request, topic_pk: int):
    topic = get_object_or_404(Topic.objects.select_related("hall__council"), pk=topic_pk)
    council = topic.hall.council
    if not request.user.has_perm("cases.escalate_topic", council):
        raise PermissionDenied(_("Only the committee turns a hall topic into a case."))
    open_cases = list(Case.objects.filter(topic=topic).open().only("id", "title", "status"))
    if request.method == "POST" and open_cases:
        messages.error(request, _("This topic is already a case that is not closed."))
        return redirect("cases:case", open_cases[0].pk)
    form = EscalateTopicForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            case = services.escalate_topic(
                user=request.user,
                topic=topic,
                level=form.cleaned_data["level"],
                category=form.cleaned_data["category"],
            )
        except ValidationError as error:
            _add_refusal(form, error)
        else:
            messages.success(request, _("The topic is now a case. Its handlers are told."))
            return redirect("cases:case", case.pk)
    return render(
        request,
        "cases/escalate_topic.html",
        {
            "topic": topic,
            "council": council,
            "crumbs": _crumbs(council),
            "form": form,
            "open_cases": open_cases,
        },
        status=400 if form.errors else 200,
    )


# -- on the council page ---------------------------------------------------------------------------


def council_section(council: CouncilPage, user) -> dict | None:
    """Section provider for a grid's or village's page (councils.registry): the report
    buttons this person may use, and how many of its public cases are open."""
    if council.level not in services.CASE_LEVELS:
        return None
    return {
        "cases_can_report": user.has_perm("cases.report_grid_event", council),
        "cases_can_raise": user.has_perm("cases.raise_demand", council),
        "cases_open_public": Case.objects.in_subtree(council).open().public().count(),
    }


urlpatterns = [
    path("<int:pk>/", case_detail, name="case"),
    *[
        path(f"<int:pk>/{step.replace('_', '-')}/", case_step, {"step": step}, name=f"case_{step}")
        for step in STEPS
    ],
    path("photos/<int:pk>/", case_photo, name="photo"),
    path("mine/", my_cases, name="mine"),
    path("councils/<int:council_pk>/report/<slug:source>/", report, name="report"),
    path("councils/<int:council_pk>/visit/", log_visit, name="log_visit"),
    path("visits/<int:visit_pk>/", visit_detail, name="visit"),
    path("visits/<int:visit_pk>/finding/", report_finding, name="report_finding"),
    path("topics/<int:topic_pk>/escalate/", escalate_topic, name="escalate_topic"),
]
