"""Public ledgers and records (no sign-in needed), the committee's and supervisors' workflow,
questions, dashboards and the downloadable chain. Views parse, check, call one service, render."""

from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.files import serve_file
from core.refusals import refusal_text
from councils.models import CouncilPage, Level
from disclosure import selectors, services
from disclosure.anchors import heads_document
from disclosure.forms import (
    AnswerForm,
    AttachmentForm,
    CorrectionForm,
    LedgerFilterForm,
    LineItemForm,
    QuestionForm,
    ReasonForm,
    RecordForm,
)
from disclosure.models import (
    Attachment,
    ImmutableRecordError,
    Kind,
    LineItem,
    PeriodKind,
    Question,
    Record,
    Status,
    immutable_message,
)
from disclosure.registry import record_panels
from disclosure.rules import why_not


def _council(pk: int) -> CouncilPage:
    return get_object_or_404(CouncilPage.objects.live(), pk=pk)


def _kind(kind: str) -> str:
    if kind not in Kind.values:
        raise Http404
    return kind


def _visible_record(request, pk: int) -> Record:
    record = get_object_or_404(Record.objects.select_related("council", "corrects"), pk=pk)
    if not request.user.has_perm("disclosure.view_record", record):
        raise Http404  # a draft's existence is nobody else's business
    return record


def _crumbs(council: CouncilPage) -> list:
    return [*council.council_ancestors().only("id", "title", "url_path", "path"), council]


# --- public pages -----------------------------------------------------------------------------


def ledger(request, council_id: int, kind: str):
    council, kind = _council(council_id), _kind(kind)
    if council.level != Level.VILLAGE:
        raise Http404
    years = selectors.ledger_years(council, kind)
    form = LedgerFilterForm(request.GET or None, kind=kind, years=years)
    year, record_type = None, ""
    if form.is_valid():
        year, record_type = form.cleaned_data["year"], form.cleaned_data["record_type"]
    page_obj = selectors.ledger_page(
        council,
        kind,
        year=year,
        record_type=record_type,
        page=request.GET.get("page", 1),
        user=request.user,
    )
    return render(
        request,
        "disclosure/ledger.html",
        {
            "council": council,
            "crumbs": _crumbs(council),
            "kind": kind,
            "kind_label": Kind(kind).label,
            "ledger": selectors.Ledger(council.pk, kind),
            "ledgers": [selectors.Ledger(council.pk, k) for k in Kind.values],
            "form": form,
            "page_obj": page_obj,
            "query_string": _query_without_page(request),
            "can_draft": request.user.has_perm("disclosure.add_record", council),
        },
    )


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def record(request, pk: int):
    return _render_record(request, _visible_record(request, pk))


def _projects_for(record: Record, user) -> dict:
    """Funded micro-projects a line of this draft may be booked against (tallies: only when
    someone can add lines to a financial record)."""
    if record.kind != Kind.FINANCE or not user.has_perm("disclosure.change_record", record):
        return {}
    return selectors.funded_projects(record.council)


def _render_record(request, record: Record, *, status: int = 200, **forms):
    user = request.user
    lines_page, totals = (
        selectors.record_lines(record, page=request.GET.get("page", 1))
        if record.has_lines
        else (None, None)
    )
    context = {
        "record": record,
        "council": record.council,
        "crumbs": _crumbs(record.council),
        "ledger": selectors.Ledger(record.council_id, record.kind),
        "page_obj": lines_page,
        "totals": totals,
        "mask_names": record.is_welfare_list,
        "can": {
            name: user.has_perm(f"disclosure.{name}_record", record)
            for name in ("change", "submit", "sign_off", "object_to", "publish", "correct")
        },
        "is_drafter": user.is_authenticated and record.created_by_id == user.pk,
        "can_ask": user.has_perm("disclosure.ask_question", record),
        "can_answer": user.has_perm("disclosure.answer_question", record),
        "line_form": forms.get("line_form") or LineItemForm(projects=_projects_for(record, user)),
        "attachment_form": forms.get("attachment_form") or AttachmentForm(),
        "reason_form": forms.get("reason_form") or ReasonForm(),
        "correction_form": forms.get("correction_form") or CorrectionForm(),
        "question_form": forms.get("question_form") or QuestionForm(),
        "answer_form": AnswerForm(),
        **selectors.record_detail(record),
        "check": request.GET.get("check", "")[:200],
        "check_ok": selectors.check_against_chain(record, request.GET.get("check", "")[:200]),
    }
    # Panels other apps hang under the lines (disclosure.registry), e.g. the contracts paid.
    panels, context["panel_templates"] = record_panels(record, user)
    context.update(panels)
    return render(request, "disclosure/record.html", context, status=status)


def finance_period(request, council_id: int, period: str):
    council = _council(council_id)
    parsed = selectors.parse_period(period)
    if parsed is None or council.level != Level.VILLAGE:
        raise Http404
    period_obj, page_obj, totals, records = selectors.finance_period(
        council, parsed[0], parsed[1], page=request.GET.get("page", 1)
    )
    return render(
        request,
        "disclosure/finance_period.html",
        {
            "council": council,
            "crumbs": _crumbs(council),
            "ledger": selectors.Ledger(council.pk, Kind.FINANCE),
            "period": period_obj,
            "page_obj": page_obj,
            "totals": totals,
            "records": records,
            "is_quarter": parsed[0] == PeriodKind.QUARTER,
            "period_slug": period,
        },
    )


def chain_json(request, council_id: int):
    council = _council(council_id)
    response = JsonResponse(
        selectors.chain_export(council), json_dumps_params={"ensure_ascii": False, "indent": 1}
    )
    response["Content-Disposition"] = f'attachment; filename="yishi-chain-{council.pk}.json"'
    return response


def chain_head_json(request, council_id: int):
    """The heads of the ledger chain and the journal (position + hash) of a village, or of every
    village under a township or district: anchors anyone may keep (docs/ledgers.md)."""
    council = _council(council_id)
    response = JsonResponse(heads_document(council), json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "no-store"
    return response


# --- drafting -----------------------------------------------------------------------------------


@login_required
def draft(request, council_id: int, kind: str):
    council, kind = _council(council_id), _kind(kind)
    if not request.user.has_perm("disclosure.add_record", council):
        raise PermissionDenied
    form = RecordForm(request.POST if request.method == "POST" else None, kind=kind)
    if request.method == "POST" and form.is_valid():
        try:
            record = services.draft_record(
                council=council, by=request.user, kind=kind, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Draft saved. Add lines and files, then submit it."))
            return redirect(record.get_absolute_url())
    return render(
        request,
        "disclosure/record_form.html",
        {
            "council": council,
            "crumbs": _crumbs(council),
            "form": form,
            "kind_label": Kind(kind).label,
            "record": None,
        },
        status=400 if form.errors else 200,
    )


@login_required
def edit(request, pk: int):
    record = _visible_record(request, pk)
    if record.status == Status.PUBLISHED:
        messages.error(request, immutable_message())
        return redirect(record.get_absolute_url())
    if not request.user.has_perm("disclosure.change_record", record):
        messages.error(request, _("This record cannot be edited now."))
        return redirect(record.get_absolute_url())
    initial = {
        "record_type": record.record_type,
        "period_kind": record.period_kind,
        "period_start": record.period_start,
        "period_end": record.period_end,
        "title": record.title,
        "body": record.body,
    }
    form = RecordForm(
        request.POST if request.method == "POST" else None, initial=initial, kind=record.kind
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_draft(record=record, by=request.user, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as error:
            if isinstance(error, ImmutableRecordError) or isinstance(error, PermissionDenied):
                messages.error(request, refusal_text(error))
                return redirect(record.get_absolute_url())
            form.add_error(None, error)
        else:
            messages.success(request, _("Draft saved."))
            return redirect(record.get_absolute_url())
    return render(
        request,
        "disclosure/record_form.html",
        {
            "council": record.council,
            "crumbs": _crumbs(record.council),
            "form": form,
            "kind_label": Kind(record.kind).label,
            "record": record,
        },
        status=400 if form.errors else 200,
    )


def _post_form(request, record, form_class, form_name, action, *, perm: str):
    """Bind a form, run `action(cleaned_data)`; on error show the record page with the form.

    The record page shows the form only to someone `perm` allows: anyone else is told why with
    a message, since a form shown again where it is hidden would hide its errors too."""
    if not request.user.has_perm(perm, record):
        messages.error(request, why_not(request.user, perm, record))
        return redirect(record.get_absolute_url())
    form = form_class(request.POST, request.FILES)
    if form.is_valid():
        try:
            action(form.cleaned_data)
        except ImmutableRecordError as error:
            messages.error(request, refusal_text(error))
            return redirect(record.get_absolute_url())
        except PermissionDenied as error:
            messages.error(request, refusal_text(error))
            return redirect(record.get_absolute_url())
        except ValidationError as error:
            if hasattr(error, "error_dict") and not set(error.error_dict) <= set(form.fields):
                error = ValidationError(error.messages)
            form.add_error(None, error)
        else:
            return None
    return _render_record(request, record, status=400, **{form_name: form})


@login_required
@require_POST
def add_line(request, pk: int):
    record = _visible_record(request, pk)
    if not record.has_lines:  # the page has no lines section, so no form to show errors in
        messages.error(request, _("Only financial records and welfare lists have lines."))
        return redirect(record.get_absolute_url())
    failed = _post_form(
        request,
        record,
        partial(LineItemForm, projects=_projects_for(record, request.user), record=record),
        "line_form",
        lambda data: services.add_line_item(record=record, by=request.user, **data),
        perm="disclosure.change_record",
    )
    if failed:
        return failed
    messages.success(request, _("Line added."))
    return redirect(record.get_absolute_url() + "#lines")


@login_required
@require_POST
def remove_line(request, pk: int, line_pk: int):
    record = _visible_record(request, pk)
    line = get_object_or_404(LineItem, pk=line_pk, record=record)
    try:
        services.remove_line_item(line=line, by=request.user)
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, refusal_text(error))
    else:
        messages.success(request, _("Line removed."))
    return redirect(record.get_absolute_url() + "#lines")


@login_required
@require_POST
def attach(request, pk: int):
    record = _visible_record(request, pk)
    failed = _post_form(
        request,
        record,
        AttachmentForm,
        "attachment_form",
        lambda data: services.attach_file(record=record, by=request.user, upload=data["file"]),
        perm="disclosure.change_record",
    )
    if failed:
        return failed
    messages.success(request, _("File attached."))
    return redirect(record.get_absolute_url() + "#attachments")


def attachment_file(request, pk: int):
    """An attachment's file, for whoever may see its record (a draft's: 404 for anyone else)."""
    attachment = get_object_or_404(Attachment.objects.select_related("record"), pk=pk)
    if not request.user.has_perm("disclosure.view_record", attachment.record):
        raise Http404
    return serve_file(attachment.file, download_name=attachment.original_name)


def _simple_step(service, success_message):
    @login_required
    @require_POST
    def view(request, pk: int):
        record = _visible_record(request, pk)
        try:
            service(record=record, by=request.user)
        except (ValidationError, PermissionDenied) as error:
            messages.error(request, refusal_text(error))
        else:
            messages.success(request, success_message())
        return redirect(record.get_absolute_url())

    return view


submit = _simple_step(
    services.submit_for_review, lambda: _("Sent to the supervisory committee for review.")
)
sign_off = _simple_step(services.sign_off_record, lambda: _("You signed off this record."))
publish = _simple_step(
    services.publish_record, lambda: _("Published and added to the council's hash chain.")
)


@login_required
@require_POST
def object_to(request, pk: int):
    record = _visible_record(request, pk)
    failed = _post_form(
        request,
        record,
        ReasonForm,
        "reason_form",
        lambda data: services.object_to_record(
            record=record, by=request.user, reason=data["reason"]
        ),
        perm="disclosure.object_to_record",
    )
    if failed:
        return failed
    messages.success(request, _("Your objection was recorded; the draft went back."))
    return redirect(record.get_absolute_url())


@login_required
@require_POST
def correct(request, pk: int):
    record = _visible_record(request, pk)
    made = {}

    def action(data):
        made["record"] = services.correct_record(
            original=record, by=request.user, reason=data["reason"]
        )

    failed = _post_form(
        request, record, CorrectionForm, "correction_form", action, perm="disclosure.correct_record"
    )
    if failed:
        return failed
    messages.success(
        request, _("Correction drafted with reversing lines. Add the right lines, then submit.")
    )
    return redirect(made["record"].get_absolute_url())


# --- questions ----------------------------------------------------------------------------------


@login_required
@require_POST
def ask(request, pk: int):
    record = _visible_record(request, pk)
    failed = _post_form(
        request,
        record,
        QuestionForm,
        "question_form",
        lambda data: services.ask_question(record=record, by=request.user, text=data["text"]),
        perm="disclosure.ask_question",
    )
    if failed:
        return failed
    messages.success(request, _("Your question is public now. The committee must answer it."))
    return redirect(record.get_absolute_url() + "#questions")


@login_required
@require_POST
def answer(request, pk: int):
    question = get_object_or_404(Question.objects.select_related("record"), pk=pk)
    record = question.record
    form = AnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write an answer."))
    else:
        try:
            services.answer_question(question=question, by=request.user, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as error:
            messages.error(request, refusal_text(error))
        else:
            messages.success(request, _("Answer published."))
    return redirect(record.get_absolute_url() + "#questions")


# --- dashboards ---------------------------------------------------------------------------------


@login_required
def dashboard(request, council_id: int):
    council = _council(council_id)
    if not request.user.has_perm("disclosure.view_dashboard", council):
        raise PermissionDenied
    context = {"council": council, "crumbs": _crumbs(council)}
    if council.level == Level.VILLAGE:
        context.update(selectors.village_dashboard(council, page=request.GET.get("page", 1)))
        context["ledgers"] = [selectors.Ledger(council.pk, k) for k in Kind.values]
        context["can_draft"] = request.user.has_perm("disclosure.add_record", council)
        template = "disclosure/dashboard.html"
    else:
        context["rows"] = selectors.rollup(council)
        template = "disclosure/rollup.html"
    return render(request, template, context)
