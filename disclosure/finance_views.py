"""Finance tools: spreadsheet import with preview, exports and the open-data bundle, charts,
and the printed notice. docs/finance-tools.md describes each. Views parse, check, call, render.
"""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core import tasks as core_tasks
from core.files import serve_file
from core.models import TaskRunStatus
from core.refusals import refusal_text
from councils.models import Level
from disclosure import charts, excel, exports, linecheck, notice, selectors, services
from disclosure.forms import ChartFilterForm, ImportForm, NoticeForm
from disclosure.models import (
    ChainEntry,
    ExportJob,
    ExportWhat,
    ImportBatch,
    ImportStatus,
    Kind,
    Status,
)
from disclosure.views import _council, _crumbs, _kind, _visible_record

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PREVIEW_LINES_PER_PAGE = 100
PROBLEMS_PER_PAGE = 200
STUCK_AFTER = datetime.timedelta(minutes=2)


def _village(council_id: int):
    council = _council(council_id)
    if council.level != Level.VILLAGE:
        raise Http404
    return council


# --- import ------------------------------------------------------------------------------------


def import_template(request):
    response = HttpResponse(excel.template_workbook(), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="yishi-lines-template.xlsx"'
    return response


@login_required
def import_start(request, council_id: int):
    council = _village(council_id)
    if not request.user.has_perm("disclosure.add_record", council):
        raise PermissionDenied
    form = ImportForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            batch = services.start_import(
                council=council, by=request.user, upload=data.pop("file"), **data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect(batch.get_absolute_url())
    pending = ImportBatch.objects.filter(council=council).exclude(status=ImportStatus.SAVED)
    return render(
        request,
        "disclosure/import_form.html",
        {
            "council": council,
            "crumbs": _crumbs(council),
            "form": form,
            "pending": pending.select_related("created_by")[:10],
            "max_mb": services.max_import_bytes() // 2**20,
            "max_rows": services.max_import_rows(),
        },
        status=400 if form.errors else 200,
    )


def _batch(request, pk: int) -> ImportBatch:
    batch = get_object_or_404(ImportBatch.objects.select_related("council", "record", "run"), pk=pk)
    if not request.user.has_perm("disclosure.add_record", batch.council):
        raise Http404  # an upload is the committee's working paper
    return batch


def _is_stuck(batch: ImportBatch) -> bool:
    """The reading stopped and nothing took it up: offer to read the file again by hand.

    A tracked reading (batch.run) is taken up again by the reaper once its heartbeat is older
    than its timeout; only when that did not happen either (no reaper running) is it stuck."""
    if batch.status not in (ImportStatus.UPLOADED, ImportStatus.PARSING):
        return False
    run, now = batch.run, timezone.now()
    if run is None:  # read inline, or queued before readings were tracked
        return now - batch.updated_at > STUCK_AFTER
    if run.is_finished or run.heartbeat_at is None:
        return False
    return now - run.heartbeat_at > datetime.timedelta(seconds=run.timeout_seconds) + STUCK_AFTER


def _problem_rows(batch: ImportBatch) -> list[dict]:
    result = batch.result
    letters, headers = result.get("column_letters", {}), result.get("columns", {})
    rows = []
    for problem in result.get("problems", []):
        column = problem.get("column")
        rows.append(
            {
                "row": problem.get("row"),
                "column": (
                    f"{headers.get(column) or excel.TEMPLATE_HEADERS.get(column, column)}"
                    f" ({letters[column]})"
                    if column in letters
                    else str(excel.COLUMN_LABELS.get(column, ""))
                    if column
                    else ""
                ),
                "message": linecheck.message(problem["code"], problem.get("params")),
            }
        )
    return rows


@login_required
def import_batch(request, pk: int):
    batch = _batch(request, pk)
    context = {
        "batch": batch,
        "council": batch.council,
        "crumbs": _crumbs(batch.council),
        "stuck": _is_stuck(batch),
        "run": batch.run,
        "state": core_tasks.describe(batch.run) if batch.run else None,
    }
    if batch.status == ImportStatus.SAVED:
        return (
            redirect(batch.record.get_absolute_url())
            if batch.record
            else redirect(reverse("disclosure:import", args=[batch.council_id]))
        )
    if not batch.is_finished_reading:  # being read, or every attempt at reading it failed
        return render(request, "disclosure/import_progress.html", context)
    result = batch.result
    if batch.status == ImportStatus.FAILED:
        problem = result.get("file_problem", {})
        context["file_problem"] = linecheck.message(
            problem.get("code", "unreadable"), problem.get("params")
        )
        return render(request, "disclosure/import_preview.html", context)
    only_problems = request.GET.get("only") == "problems"
    lines = result.get("lines", [])
    if only_problems:
        lines = [line for line in lines if not line[-1]]
    keys = [
        "row",
        "date",
        "voucher",
        "account",
        "description",
        "income",
        "expense",
        "counterparty",
        "project",
        "ok",
    ]
    page = Paginator(lines, PREVIEW_LINES_PER_PAGE).get_page(request.GET.get("page", 1))
    page.object_list = [dict(zip(keys, line, strict=True)) for line in page.object_list]
    problems = Paginator(_problem_rows(batch), PROBLEMS_PER_PAGE).get_page(
        request.GET.get("problems_page", 1)
    )
    context.update(
        {
            "page_obj": page,
            "problems": problems,
            "problem_count": result.get("problem_count", 0),
            "bad_rows": result.get("bad_rows", 0),
            "line_count": len(result.get("lines", [])),
            "income": result.get("income"),
            "expense": result.get("expense"),
            "columns": [
                {"key": key, "header": header, "letter": result.get("column_letters", {}).get(key)}
                for key, header in result.get("columns", {}).items()
            ],
            "ignored": result.get("ignored", []),
            "only_problems": only_problems,
            "query_string": "only=problems" if only_problems else "",
            "projects": selectors.funded_projects(batch.council)
            if any(line[8] for line in result.get("lines", [])[:50_000])
            else {},
        }
    )
    return render(request, "disclosure/import_preview.html", context)


@login_required
def import_status(request, pk: int):
    """The reading progress as JSON, for a script or a tool that wants to poll."""
    batch = _batch(request, pk)
    return JsonResponse(
        {
            "status": batch.status,
            "rows_read": batch.rows_read,
            "rows_total": batch.rows_total,
            "percent": batch.percent_read,
            "done": batch.is_finished_reading
            or batch.reading_failed
            or batch.status == ImportStatus.SAVED,
            "reading_failed": batch.reading_failed,
            "problems": batch.result.get("problem_count", 0) if batch.result else 0,
            "task": core_tasks.describe(batch.run) if batch.run else None,
            "url": batch.get_absolute_url(),
        }
    )


@login_required
@require_POST
def import_save(request, pk: int):
    batch = _batch(request, pk)
    try:
        record = services.save_import(batch=batch, by=request.user)
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, refusal_text(error))
        return redirect(batch.get_absolute_url())
    messages.success(
        request,
        _("%(n)s lines saved as a draft. Check it, then send it to the supervisory committee.")
        % {"n": record.lines.count()},
    )
    return redirect(record.get_absolute_url())


@login_required
@require_POST
def import_discard(request, pk: int):
    batch = _batch(request, pk)
    council_id = batch.council_id
    try:
        services.discard_import(batch=batch, by=request.user)
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, refusal_text(error))
        return redirect(batch.get_absolute_url())
    messages.success(request, _("The upload was dropped."))
    return redirect(reverse("disclosure:import", args=[council_id]))


@login_required
@require_POST
def import_read_again(request, pk: int):
    """The upload's "Try again" (every attempt at reading it failed) and "Read it again now"
    (the reading stopped and nothing took it up). A reading under way is left alone."""
    batch = _batch(request, pk)
    if batch.reading_failed or _is_stuck(batch) or batch.is_finished_reading:
        try:
            services.read_import_again(batch=batch, by=request.user)
        except (ValidationError, PermissionDenied) as error:
            messages.error(request, refusal_text(error))
    return redirect(batch.get_absolute_url())


@login_required
def import_file(request, pk: int):
    """The uploaded spreadsheet itself, from the private storage: the committee's only."""
    batch = _batch(request, pk)
    return serve_file(batch.file, storage_alias="private", download_name=batch.original_name)


# --- exports -----------------------------------------------------------------------------------


def _download(rows, *, fmt: str, filename: str, title: str, extra: bool):
    if fmt == "csv":
        response = StreamingHttpResponse(
            excel.write_csv(rows, extra=extra), content_type="text/csv; charset=utf-8"
        )
    elif fmt == "xlsx":
        response = HttpResponse(excel.write_xlsx(rows, extra=extra, title=title), content_type=XLSX)
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response


def record_export(request, pk: int, fmt: str):
    record = _visible_record(request, pk)
    if not record.has_lines:
        raise Http404
    return _download(
        exports.record_rows(record),
        fmt=fmt,
        filename=f"yishi-record-{record.pk}",
        title=record.title,
        extra=False,
    )


def _big_export(council, *, what: str, fmt: str, kind: str = "", period: str = ""):
    """Above the threshold an export is prepared on the task runner: send the asker to the
    finished file, or to the job's progress page. None when it is small enough to stream."""
    count = exports.published_line_count(council, what=what, kind=kind, period=period)
    if count <= exports.task_threshold():
        return None
    job = exports.ask_export(council=council, what=what, fmt=fmt, kind=kind, period=period)
    job.run.refresh_from_db()
    if job.run.status == TaskRunStatus.DONE and job.file:
        return redirect(job.file_url)
    return redirect(job.get_absolute_url())


def ledger_export(request, council_id: int, kind: str, fmt: str):
    council, kind = _village(council_id), _kind(kind)
    if fmt not in ("csv", "xlsx"):
        raise Http404
    big = _big_export(council, what=ExportWhat.LEDGER, fmt=fmt, kind=kind)
    if big is not None:
        return big
    return _download(
        exports.ledger_rows(council, kind),
        fmt=fmt,
        filename=f"yishi-{council.pk}-{kind}",
        title=f"{council.title} {kind}",
        extra=True,
    )


def period_export(request, council_id: int, period: str, fmt: str):
    council = _village(council_id)
    parsed = selectors.parse_period(period)
    if parsed is None or fmt not in ("csv", "xlsx"):
        raise Http404
    big = _big_export(council, what=ExportWhat.PERIOD, fmt=fmt, period=period)
    if big is not None:
        return big
    return _download(
        exports.period_rows(council, *parsed),
        fmt=fmt,
        filename=f"yishi-{council.pk}-finance-{period}",
        title=f"{council.title} {period}",
        extra=True,
    )


def bundle(request, council_id: int):
    council = _village(council_id)
    big = _big_export(council, what=ExportWhat.BUNDLE, fmt="zip")
    if big is not None:
        return big
    response = HttpResponse(exports.build_bundle(council), content_type="application/zip")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = (
        f'attachment; filename="yishi-{council.pk}-open-data-{stamp}.zip"'
    )
    return response


EXPORT_TYPES = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX, "zip": "application/zip"}


def _export_job(pk: int) -> ExportJob:
    """Exports hold published lines only, so whoever may download the export itself (everyone,
    for a village) may follow its job and get its file."""
    job = get_object_or_404(ExportJob.objects.select_related("run", "council"), pk=pk)
    _village(job.council_id)
    return job


def export_job(request, pk: int):
    """The progress page of a big export; the file's link once it is ready."""
    job = _export_job(pk)
    return render(
        request,
        "disclosure/export_progress.html",
        {
            "job": job,
            "run": job.run,
            "council": job.council,
            "crumbs": _crumbs(job.council),
            "state": core_tasks.describe(job.run),
        },
    )


def export_status(request, pk: int):
    """The export's progress as JSON, for a script that polls."""
    job = _export_job(pk)
    state = core_tasks.describe(job.run)
    state["ready"] = job.run.status == TaskRunStatus.DONE and bool(job.file)
    state["file_url"] = job.file_url if state["ready"] else None
    state["url"] = job.get_absolute_url()
    return JsonResponse(state)


def export_file(request, pk: int):
    job = _export_job(pk)
    if job.run.status != TaskRunStatus.DONE:
        raise Http404
    return serve_file(
        job.file,
        storage_alias="private",
        download_name=job.filename,
        content_type=EXPORT_TYPES.get(job.fmt, ""),
    )


@login_required
@require_POST
def export_retry(request, pk: int):
    """The "Try again" button of an export whose attempts all failed: attempts start afresh."""
    job = _export_job(pk)
    if job.run.status == TaskRunStatus.FAILED:
        core_tasks.retry(job.run)
        messages.success(request, _("The export was queued again."))
    else:
        messages.info(request, _("This export has not failed: there is nothing to try again."))
    return redirect(job.get_absolute_url())


# --- charts ------------------------------------------------------------------------------------


def finance_charts(request, council_id: int):
    council = _village(council_id)
    years = selectors.finance_years(council)
    form = ChartFilterForm(request.GET or None, years=years)
    year = form.cleaned_data["year"] if form.is_valid() else None
    data = selectors.finance_chart_data(council, year=year)
    return render(
        request,
        "disclosure/finance_charts.html",
        {
            "council": council,
            "crumbs": _crumbs(council),
            "ledger": selectors.Ledger(council.pk, Kind.FINANCE),
            "form": form,
            "year": year,
            "charts": charts.finance_charts(data),
        },
    )


# --- the printed notice (公开栏) -----------------------------------------------------------------


def record_notice(request, pk: int):
    record = _visible_record(request, pk)
    if record.status != Status.PUBLISHED:
        raise Http404  # only what is published goes on the board
    form = NoticeForm(request.GET or None)
    size = (form.cleaned_data.get("size") if form.is_valid() else "") or "A4"
    entry = get_object_or_404(ChainEntry, record=record)
    url = request.build_absolute_uri(record.get_absolute_url())
    payload = notice.qr_payload(url, entry.entry_hash)
    line_count = record.lines.count() if record.has_lines else 0
    lines_page, totals = (
        selectors.record_lines(record, page=1) if record.has_lines else (None, None)
    )
    by_account = None
    if line_count > notice.NOTICE_MAX_LINES:
        lines_page = None
        by_account = selectors.record_totals_by_account(record)
    elif record.has_lines:
        lines_page = record.lines.select_related("reverses").order_by("position")
    council = record.council
    return render(
        request,
        "disclosure/notice.html",
        {
            "record": record,
            "council": council,
            "parents": list(council.council_ancestors().only("id", "title")),
            "size": size,
            "other_size": "A3" if size == "A4" else "A4",
            "entry": entry,
            "entry_hash_grouped": notice.group_hash(entry.entry_hash),
            "content_hash_grouped": notice.group_hash(entry.content_hash),
            "record_url": url,
            "qr": notice.qr_svg(payload, label=_("QR code: %(url)s") % {"url": url}),
            "qr_payload": payload,
            "lines": lines_page,
            "line_count": line_count,
            "by_account": by_account,
            "totals": totals,
            "sign_offs": notice.sign_offs(record),
            # The heads when printed: an anchor outside the database (docs/ledgers.md).
            "anchors": notice.anchor_lines(council.pk),
            "mask_names": record.is_welfare_list,
            "printed_at": timezone.localtime(),
        },
    )
