import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.core.signing import BadSignature
from django.db.models import Avg, Count, Prefetch, Q, Sum
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from budgets import selectors, services
from budgets.forms import (
    CycleForm,
    ObjectionAnswerForm,
    ObjectionForm,
    OverrideForm,
    PaperBallotVoterForm,
    ProgressForm,
    ProposalForm,
    RatingForm,
    ReceiptForm,
    RegisterLookupForm,
    ReviewForm,
    parse_ballot,
)
from budgets.models import (
    Ballot,
    BallotChoice,
    BudgetCycle,
    Channel,
    Objection,
    Participation,
    PhaseKind,
    ProgressStatus,
    ProgressUpdate,
    Proposal,
    ProposalPhoto,
)
from budgets.registry import proposal_panels
from budgets.rules import phase_refusal, why_not
from budgets.tally.pabulib import write_pabulib
from budgets.tally.profile import Election
from core.adapters import normalise_phone
from core.files import serve_file
from core.models import User
from core.refusals import refusal_text
from councils.models import HouseholdMember

# The receipt travels from the ballot POST to the page that shows it once in a signed, HttpOnly
# cookie scoped to that page: no session write on vote day (docs/ballots.md).
RECEIPT_COOKIE = "yishi_receipt"
RECEIPT_COOKIE_SALT = "budgets.receipt"
RECEIPT_COOKIE_SECONDS = 15 * 60
# The phases whose length the cycle form asks for (`<kind>_days`); later ones follow the vote.
PHASES_SET_ON_CREATION = (PhaseKind.COLLECT, PhaseKind.REVIEW, PhaseKind.DELIBERATE, PhaseKind.VOTE)


def _cycle(pk: int) -> BudgetCycle:
    return get_object_or_404(
        BudgetCycle.objects.select_related("council").prefetch_related("phases", "sub_budgets"),
        pk=pk,
    )


def _ballot_cycle(pk: int) -> BudgetCycle:
    cycle = services.cycle_for_ballot(pk)
    if cycle is None:
        raise Http404
    return cycle


def cycle_detail(request, pk: int):
    cycle = _cycle(pk)
    proposals = cycle.proposals.select_related("sub_budget__council", "debate").order_by(
        "status", "pk"
    )
    phase = cycle.phase_at()  # shown on the page; what may be done is asked of the rules
    can_vote_now = phase_refusal("budgets.cast_ballot", cycle) is None
    return render(
        request,
        "budgets/cycle.html",
        {
            "cycle": cycle,
            "phase": phase,
            "is_voting": can_vote_now,
            "phases": cycle.phases.all(),
            "proposals": proposals,
            "can_propose": request.user.has_perm("budgets.submit_proposal_now", cycle),
            "can_view_roll": request.user.has_perm("budgets.view_roll", cycle),
            "can_vote": request.user.has_perm("budgets.cast_ballot_now", cycle),
            "can_enter_paper": request.user.has_perm("budgets.enter_paper_ballot_now", cycle),
            "vote_closed": cycle.vote_closed(),
            "turnout": cycle.participations.count() if can_vote_now else None,
            "phase_changes": list(cycle.phase_changes.all()),
            "can_change_phase": request.user.has_perm("budgets.change_phase", cycle),
        },
    )


@login_required
def propose(request, pk: int):
    cycle = _cycle(pk)
    if not request.user.has_perm("budgets.submit_proposal", cycle):
        raise PermissionDenied
    form = ProposalForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    if request.method == "POST" and form.is_valid():
        try:
            proposal = services.submit_proposal(
                author=request.user, cycle=cycle, **form.service_arguments()
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Your proposal was sent. The committee will review it."))
            return redirect(proposal.get_absolute_url())
    return render(
        request,
        "budgets/propose.html",
        {"cycle": cycle, "form": form},
        status=400 if form.errors else 200,
    )


def proposal_photo(request, pk: int):
    """A proposal's photo, for whoever may see the proposal's cycle."""
    photo = get_object_or_404(ProposalPhoto.objects.select_related("proposal__cycle"), pk=pk)
    if not request.user.has_perm("budgets.view_cycle", photo.proposal.cycle):
        raise Http404
    return serve_file(photo.image)


def progress_photo(request, pk: int):
    """A progress update's photo, for whoever may see the project's cycle."""
    update = get_object_or_404(ProgressUpdate.objects.select_related("proposal__cycle"), pk=pk)
    if not request.user.has_perm("budgets.view_cycle", update.proposal.cycle):
        raise Http404
    return serve_file(update.photo)


def proposal_detail(request, pk: int):
    proposal = get_object_or_404(
        Proposal.objects.select_related(
            "cycle__council", "author", "debate", "source_topic", "reviewed_by"
        ).prefetch_related("photos"),
        pk=pk,
    )
    cycle = proposal.cycle
    ratings = proposal.ratings.aggregate(average=Avg("score"), count=Count("pk"))
    # Panels other apps hang on the page (disclosure: budgeted and spent), budgets.registry.
    panels, panel_templates = proposal_panels(proposal, request.user)
    return render(
        request,
        "budgets/proposal.html",
        {
            "proposal": proposal,
            "cycle": cycle,
            "updates": proposal.updates.select_related("by"),
            "ratings": ratings,
            "recent_ratings": proposal.ratings.order_by("-created")[:20],
            "can_review": request.user.has_perm("budgets.review_proposal_now", cycle),
            "review_form": ReviewForm(),
            "can_progress": request.user.has_perm("budgets.post_progress", cycle)
            and cycle.results_published_at is not None,
            "progress_form": ProgressForm(),
            "can_rate": request.user.has_perm("budgets.rate_project", cycle)
            and proposal.updates.filter(status=ProgressStatus.DONE).exists(),
            "rating_form": RatingForm(),
            "can_override": request.user.has_perm("budgets.override_result", cycle)
            and cycle.vote_closed(),
            "override_form": OverrideForm(),
            **panels,
            "panel_templates": panel_templates,
        },
    )


def _proposal_action(request, pk: int, form_class, action, success: str):
    proposal = get_object_or_404(Proposal.objects.select_related("cycle__council"), pk=pk)
    form = form_class(request.POST, request.FILES)
    if not form.is_valid():
        for field_errors in form.errors.values():
            for error in field_errors:
                messages.error(request, error)
        return redirect(proposal.get_absolute_url())
    try:
        action(proposal, form.cleaned_data)
    except ValidationError as error:
        messages.error(request, refusal_text(error))
    else:
        messages.success(request, success)
    return redirect(proposal.get_absolute_url())


@login_required
@require_POST
def review(request, pk: int):
    return _proposal_action(
        request,
        pk,
        ReviewForm,
        lambda p, data: services.review_proposal(by=request.user, proposal=p, **data),
        _("Review saved."),
    )


@login_required
@require_POST
def override(request, pk: int):
    return _proposal_action(
        request,
        pk,
        OverrideForm,
        lambda p, data: services.override_result(by=request.user, proposal=p, **data),
        _("Override published with its reason."),
    )


@login_required
@require_POST
def progress(request, pk: int):
    return _proposal_action(
        request,
        pk,
        ProgressForm,
        lambda p, data: services.post_progress(by=request.user, proposal=p, **data),
        _("Progress update published."),
    )


@login_required
@require_POST
def rate(request, pk: int):
    return _proposal_action(
        request,
        pk,
        RatingForm,
        lambda p, data: services.rate_project(user=request.user, proposal=p, **data),
        _("Thank you for your rating."),
    )


def _ballot_page(request, cycle, *, voter=None, member=None, template, officer=None):
    """The ballot form, for the voter themself or for an officer entering a paper ballot."""
    try:
        place = (
            services.member_place(member, cycle)
            if member is not None
            else services.voter_place(voter, cycle)
        )
    except PermissionDenied as denied:
        messages.error(request, str(denied))
        return redirect(cycle.get_absolute_url())
    errors, chosen = [], {}
    # An officer's page also POSTs the voter look-up; the ballot form says it is one.
    if request.method == "POST" and (officer is None or request.POST.get("ballot")):
        chosen, errors = parse_ballot(request.POST, cycle.ballot_type)
        if not errors:
            try:
                if officer is not None:
                    result = services.enter_paper_ballot(
                        officer=officer, cycle=cycle, choices=chosen, voter=voter, member=member
                    )
                else:
                    result = services.cast_ballot(
                        voter=voter,
                        cycle=cycle,
                        choices=chosen,
                        replace=request.POST.get("replace") == "1",
                    )
            except ValidationError as error:
                errors = error.messages
            else:
                response = redirect("budgets:receipt_shown", pk=cycle.pk)
                response.set_signed_cookie(
                    RECEIPT_COOKIE,
                    json.dumps(
                        {
                            "cycle": cycle.pk,
                            "code": result.receipt_code,
                            "participation": result.participation_id,
                            "replaced": result.replaced,
                            "left": result.replacements_left,
                            "paper": officer is not None,
                        }
                    ),
                    salt=RECEIPT_COOKIE_SALT,
                    max_age=RECEIPT_COOKIE_SECONDS,
                    path=response["Location"],
                    secure=settings.SESSION_COOKIE_SECURE,
                    httponly=True,
                    samesite="Lax",
                )
                return response
    proposals = services.ballot_proposals(cycle, place.sub_budget)
    for proposal in proposals:
        proposal.chosen_value = chosen.get(proposal.pk)
    rules = services.ballot_rules(cycle, place.sub_budget)
    # Read only to show the page: a ballot that is cast costs no query for it.
    participation = (
        Participation.objects.filter(cycle=cycle, voter=voter)
        .only("channel", "replacements")
        .first()
        if officer is None
        else None
    )
    return render(
        request,
        template,
        {
            "cycle": cycle,
            "proposals": proposals,
            "rules": rules,
            "errors": errors,
            "voter": voter if officer is not None else None,
            "member": member,
            "participation": participation,
            "changes_left": (
                cycle.max_replacements - participation.replacements if participation else None
            ),
        },
        status=400 if errors else 200,
    )


@login_required
def vote(request, pk: int):
    cycle = _ballot_cycle(pk)
    closed = phase_refusal("budgets.cast_ballot", cycle)
    if closed:
        messages.error(request, closed)
        return redirect(cycle.get_absolute_url())
    if not request.user.has_perm("budgets.cast_ballot_now", cycle):
        raise PermissionDenied
    return _ballot_page(request, cycle, voter=request.user, template="budgets/vote.html")


@login_required
def paper_ballot(request, pk: int):
    """An officer enters a paper ballot: first the voter (a mobile number, or an entry of the
    household register for a villager without one), then their choices. Everything is POSTed:
    no phone number or name ever sits in a URL or an access log."""
    cycle = _ballot_cycle(pk)
    if not request.user.has_perm("budgets.enter_paper_ballot", cycle):
        raise PermissionDenied
    closed = phase_refusal("budgets.enter_paper_ballot", cycle)
    if closed:
        messages.error(request, closed)
        return redirect(cycle.get_absolute_url())
    data = request.POST if request.method == "POST" else None
    voter_form = PaperBallotVoterForm(data if data and "phone" in data else None)
    register_form = RegisterLookupForm(data if data and "household" in data else None)
    voter = member = None
    members = None
    if voter_form.is_valid():
        voter = User.objects.filter(phone=normalise_phone(voter_form.cleaned_data["phone"])).first()
        if voter is None or not voter.has_perm("budgets.cast_ballot", cycle):
            voter_form.add_error("phone", _("This number is not on the roll of this council."))
            voter = None
    elif data and data.get("member"):
        member = (
            HouseholdMember.objects.select_related("household", "user")
            .filter(pk=data["member"] if str(data["member"]).isdigit() else 0)
            .first()
        )
        if member is None or not _on_cycle_register(member, cycle):
            messages.error(request, _("This person is not on the register of this council."))
            member = None
    elif register_form.is_valid():
        members = list(
            HouseholdMember.objects.select_related("household").filter(
                household__council_id__in=_register_councils(cycle),
                household__number=register_form.cleaned_data["household"].strip(),
            )
        )
        if not members:
            register_form.add_error(
                "household", _("No one is on the register under this house number.")
            )
    if voter is None and member is None:
        return render(
            request,
            "budgets/paper_voter.html",
            {
                "cycle": cycle,
                "form": voter_form,
                "register_form": register_form,
                "members": members,
            },
            status=400 if (voter_form.errors or register_form.errors) else 200,
        )
    return _ballot_page(
        request,
        cycle,
        voter=voter,
        member=member,
        template="budgets/vote.html",
        officer=request.user,
    )


def _register_councils(cycle) -> list[int]:
    return [s.council_id for s in cycle.sub_budgets.all()] or [cycle.council_id]


def _on_cycle_register(member, cycle) -> bool:
    return member.household.council_id in _register_councils(cycle)


def receipt_shown(request, pk: int):
    """Shown once right after casting: the ballot as recorded and its receipt code."""
    cycle = _cycle(pk)
    try:
        data = json.loads(
            request.get_signed_cookie(
                RECEIPT_COOKIE, salt=RECEIPT_COOKIE_SALT, max_age=RECEIPT_COOKIE_SECONDS
            )
        )
    except (KeyError, BadSignature, ValueError):
        data = None
    if (
        not isinstance(data, dict)
        or data.get("cycle") != cycle.pk
        or not isinstance(data.get("code"), str)
        or not isinstance(data.get("participation"), int)
    ):
        return redirect(cycle.get_absolute_url())
    # What is sealed for that participation, shown only if this receipt is that ballot's.
    choices = services.sealed_choices(
        participation_id=data["participation"], receipt_code=data["code"]
    )
    titles = {p.pk: p for p in cycle.proposals.all()}
    recorded = [
        (titles[pk], value)
        for pk, value in sorted((choices or {}).items(), key=lambda kv: (kv[1], kv[0]))
        if pk in titles
    ]
    response = render(
        request,
        "budgets/receipt.html",
        {
            "cycle": cycle,
            "code": data["code"],
            "recorded": recorded,
            "found": choices is not None,
            "replaced": data.get("replaced"),
            "left": data.get("left"),
            "paper": data.get("paper"),
        },
    )
    # Shown once; never kept by a browser or proxy cache.
    response.delete_cookie(RECEIPT_COOKIE, path=request.path, samesite="Lax")
    add_never_cache_headers(response)
    return response


def check_receipt(request, pk: int):
    """A receipt is checked by POST: it never appears in a URL, a referrer or an access log."""
    cycle = _cycle(pk)
    form = ReceiptForm(request.POST if request.method == "POST" else None)
    ballot = None
    searched = form.is_valid()
    closed = cycle.vote_closed()
    if searched and closed:
        try:
            ballot = services.find_ballot(cycle=cycle, receipt_code=form.cleaned_data["code"])
        except services.BallotCountError as error:
            form.add_error(None, refusal_text(error))
    response = render(
        request,
        "budgets/check_receipt.html",
        {"cycle": cycle, "form": form, "ballot": ballot, "searched": searched, "closed": closed},
    )
    add_never_cache_headers(response)
    return response


def _closed_or_403(cycle):
    if not cycle.vote_closed():
        raise PermissionDenied(_("Results are hidden until the vote closes."))


def _opened_or_409(request, cycle):
    """Open the sealed ballots of a closed vote and check them against the participations. On a
    mismatch, the page says so (409) instead of showing anything computed from the ballots."""
    try:
        services.ensure_opened(cycle)
        services.check_ballot_counts(cycle)
    except services.BallotCountError as error:
        return render(
            request,
            "budgets/ballot_count_error.html",
            {"cycle": cycle, "problems": error.messages},
            status=409,
        )
    return None


def _results_page(request, cycle, *, objection_form=None, answering=None, status=200):
    """The results with the objections filed during 结果公示 and the committee's answers.
    `answering` is (objection id, bound form) when an answer was refused."""
    objections = list(cycle.objections.select_related("author", "answered_by"))
    can_answer = request.user.has_perm("budgets.answer_objection", cycle)
    for objection in objections:
        if can_answer and not objection.is_answered:
            objection.answer_form = (
                answering[1]
                if answering and answering[0] == objection.pk
                else ObjectionAnswerForm(auto_id=f"id_o{objection.pk}_%s")
            )
    return render(
        request,
        "budgets/results.html",
        {
            "cycle": cycle,
            "results": selectors.results_of(cycle),  # stored once published
            "can_publish": request.user.has_perm("budgets.publish_results", cycle)
            and not cycle.results_published_at,
            "objections": objections,
            "objections_open": phase_refusal("budgets.file_objection", cycle) is None,
            "can_object": request.user.has_perm("budgets.file_objection", cycle),
            "objection_form": objection_form or ObjectionForm(),
        },
        status=status,
    )


def results(request, pk: int):
    cycle = _cycle(pk)
    _closed_or_403(cycle)
    refused = _opened_or_409(request, cycle)
    if refused:
        return refused
    return _results_page(request, cycle)


@login_required
@require_POST
def file_objection(request, pk: int):
    """A resident objects to the results during 结果公示; the objection is public at once."""
    cycle = _cycle(pk)
    if not request.user.has_perm("budgets.file_objection_now", cycle):
        closed = phase_refusal("budgets.file_objection", cycle)
        if closed:
            messages.error(request, closed)
            return redirect(cycle.get_absolute_url())
        raise PermissionDenied(why_not(request.user, "budgets.file_objection", cycle))
    form = ObjectionForm(request.POST)
    if form.is_valid():
        try:
            services.file_objection(
                author=request.user, cycle=cycle, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            form.add_error("reason", error)
        else:
            messages.success(
                request, _("Your objection is published. The committee will answer it here.")
            )
            return redirect(reverse("budgets:results", args=[cycle.pk]) + "#objections")
    refused = _opened_or_409(request, cycle)
    if refused:
        return refused
    return _results_page(request, cycle, objection_form=form, status=400)


@login_required
@require_POST
def answer_objection(request, pk: int):
    """The committee answers an objection publicly, once."""
    objection = get_object_or_404(Objection, pk=pk)
    cycle = _cycle(objection.cycle_id)
    if not request.user.has_perm("budgets.answer_objection", cycle):
        raise PermissionDenied(_("Only the committee answers objections."))
    if objection.is_answered:  # whatever was sent: the answer given stands
        messages.error(
            request, _("This objection has already been answered; answers are never changed.")
        )
        return redirect(reverse("budgets:results", args=[cycle.pk]) + "#objections")
    form = ObjectionAnswerForm(request.POST, auto_id=f"id_o{objection.pk}_%s")
    if form.is_valid():
        try:
            services.answer_objection(
                by=request.user, objection=objection, answer=form.cleaned_data["answer"]
            )
        except ValidationError as error:
            if getattr(error, "code", None) == "answered":
                messages.error(request, refusal_text(error))
                return redirect(reverse("budgets:results", args=[cycle.pk]) + "#objections")
            form.add_error("answer", error)
        else:
            messages.success(request, _("Your answer is published."))
            return redirect(reverse("budgets:results", args=[cycle.pk]) + "#objections")
    refused = _opened_or_409(request, cycle)
    if refused:
        return refused
    return _results_page(request, cycle, answering=(objection.pk, form), status=400)


@login_required
def roll(request, pk: int):
    """Who voted, how and how often they changed their ballot: for the committee, the
    supervisory committee and the township (never what anyone voted)."""
    cycle = _cycle(pk)
    if not request.user.has_perm("budgets.view_roll", cycle):
        raise PermissionDenied
    participations = (
        Participation.objects.filter(cycle=cycle)
        .select_related("voter", "member__household", "entered_by")
        .order_by("-replacements", "pk")
    )
    summary = participations.aggregate(
        total=Count("pk"),
        paper=Count("pk", filter=Q(channel=Channel.PAPER)),
        replaced=Count("pk", filter=Q(replacements__gt=0)),
        replacements=Sum("replacements"),
    )
    page_obj = Paginator(participations, 100).get_page(request.GET.get("page", 1))
    return render(
        request,
        "budgets/roll.html",
        {"cycle": cycle, "page_obj": page_obj, "summary": summary},
    )


@login_required
@require_POST
def publish(request, pk: int):
    cycle = _cycle(pk)
    try:
        services.publish_results(by=request.user, cycle=cycle)
    except ValidationError as error:
        messages.error(request, refusal_text(error))
    else:
        messages.success(request, _("Results published."))
    return redirect("budgets:results", pk=cycle.pk)


def ballot_list(request, pk: int):
    """Every ballot by receipt hash, so anyone can count them and each voter find theirs."""
    cycle = _cycle(pk)
    _closed_or_403(cycle)
    refused = _opened_or_409(request, cycle)
    if refused:
        return refused
    ballots = Ballot.objects.filter(cycle=cycle).prefetch_related(
        Prefetch("choices", queryset=BallotChoice.objects.select_related("proposal"))
    )
    page_obj = Paginator(ballots, 100).get_page(request.GET.get("page", 1))
    return render(request, "budgets/ballots.html", {"cycle": cycle, "page_obj": page_obj})


def ballots_pabulib(request, pk: int):
    cycle = _cycle(pk)
    _closed_or_403(cycle)
    refused = _opened_or_409(request, cycle)
    if refused:
        return refused
    parts = []
    for sub_budget in list(cycle.sub_budgets.select_related("council")) or [None]:
        instance, profile, _proposals = services.election_for(cycle, sub_budget)
        instance.meta.update(
            {
                "description": cycle.title,
                "country": "China",
                "unit": cycle.council.title,
                "subunit": sub_budget.council.title if sub_budget else "",
                "instance": str(cycle.pk),
                "rule": cycle.rule,
                "currency": "CNY",
                "language": "zh",
                "satisfaction": cycle.satisfaction,
                "complete_greedy": "1" if cycle.complete_greedy else "0",
            }
        )
        parts.append(
            write_pabulib(
                Election(
                    instance=instance,
                    ballots=profile,
                    projects_header=["project_id", "cost", "name"],
                )
            )
        )
    response = HttpResponse("".join(parts), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="yishi-cycle-{cycle.pk}.pb"'
    return response


@login_required
def new_cycle(request, council_pk: int):
    """The committee starts a participatory budget with its phases."""
    from datetime import datetime, time

    from django.utils import timezone

    from councils.models import CouncilPage

    council = get_object_or_404(CouncilPage.objects.live(), pk=council_pk)
    if not request.user.has_perm("budgets.manage_cycle", council):
        raise PermissionDenied
    form = CycleForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        starts = timezone.make_aware(datetime.combine(data.pop("starts_on"), time(0, 0)))
        phase_days = {kind: data.pop(f"{kind}_days") for kind in PHASES_SET_ON_CREATION}
        try:
            cycle = services.create_cycle(
                by=request.user, council=council, starts_at=starts, phase_days=phase_days, **data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The participatory budget was created."))
            return redirect(cycle.get_absolute_url())
    return render(
        request,
        "budgets/new_cycle.html",
        {"council": council, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
def promote(request, topic_pk: int):
    """The committee turns a hall topic into a proposal of a cycle that is collecting."""
    from decimal import Decimal, InvalidOperation

    from deliberation.models import Topic

    topic = get_object_or_404(Topic.objects.select_related("hall__council", "author"), pk=topic_pk)
    council = topic.hall.council
    cycles = [
        c
        for c in BudgetCycle.objects.filter(council=council).prefetch_related(
            "phases", "sub_budgets"
        )
        if phase_refusal("budgets.submit_proposal", c) is None
    ]
    if not any(
        request.user.has_perm("budgets.review_proposal", c) for c in cycles
    ) and not request.user.has_perm("budgets.manage_cycle", council):
        raise PermissionDenied
    errors = []
    if request.method == "POST":
        cycle = next((c for c in cycles if str(c.pk) == request.POST.get("cycle")), None)
        try:
            cost = Decimal(request.POST.get("estimated_cost", "").strip())
        except InvalidOperation:
            cost = None
        if cycle is None:
            errors.append(_("Choose a budget that is collecting proposals."))
        if cost is None or not cost.is_finite() or cost <= 0:  # "NaN" and "Infinity" parse
            errors.append(_("The estimated cost must be more than 0 yuan."))
        if not errors:
            try:
                proposal = services.promote_topic(
                    by=request.user, topic=topic, cycle=cycle, estimated_cost=cost
                )
            except ValidationError as error:
                errors = error.messages
            else:
                messages.success(request, _("The topic is now a proposal of the budget."))
                return redirect(proposal.get_absolute_url())
    return render(
        request,
        "budgets/promote.html",
        {"topic": topic, "cycles": cycles, "errors": errors},
        status=400 if errors else 200,
    )


@login_required
def change_phase(request, pk: int):
    """The committee ends a phase early or extends it, with a public reason."""
    from budgets.forms import PhaseChangeForm

    cycle = _cycle(pk)
    if not request.user.has_perm("budgets.change_phase", cycle):
        raise PermissionDenied
    phases = list(cycle.phases.all())
    form = PhaseChangeForm(request.POST if request.method == "POST" else None, phases=phases)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_phase_end(
                by=request.user,
                cycle=cycle,
                phase=form.cleaned_data["phase"],
                new_end=form.cleaned_data["new_end"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            form.add_error(None, error)  # the service's field names are the form's
        else:
            messages.success(request, _("The calendar was changed; the reason is public."))
            return redirect(cycle)
    return render(
        request,
        "budgets/change_phase.html",
        {"cycle": cycle, "form": form, "phases": phases, "phase": cycle.phase_at()},
        status=400 if form.errors else 200,
    )
