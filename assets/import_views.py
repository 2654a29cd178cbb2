"""The registers in Excel: import (upload, preview, save or drop) and export.

Views parse, check the permission, call one function of assets.excel, render
(docs/assets-import.md).
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from assets import excel
from assets.models import (
    CATEGORIES,
    ContractKind,
    CounterpartyKind,
    Disposal,
    Register,
    RegisterImport,
)
from core.refusals import refusal_text
from councils.models import CouncilPage, Level

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_MESSAGES = 50


class RegisterImportForm(forms.Form):
    register = forms.ChoiceField(
        label=gettext_lazy("Register"),
        choices=Register.choices,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Choose assets, resources or contracts.")},
    )
    file = forms.FileField(
        label=gettext_lazy("Spreadsheet (.xlsx)"),
        error_messages={
            "required": gettext_lazy("Choose a file."),
            "empty": gettext_lazy("The file is empty."),
        },
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
    )


def _village(council_id: int) -> CouncilPage:
    council = get_object_or_404(CouncilPage.objects.live(), pk=council_id)
    if council.level != Level.VILLAGE:
        raise Http404
    return council


def _crumbs(council: CouncilPage) -> list:
    return [*council.council_ancestors().only("id", "title", "url_path", "path"), council]


def _label(choices, value: str) -> str:
    try:
        return str(choices(value).label) if value else ""
    except ValueError:
        return value


def _details(register: str, row: dict, columns: dict) -> list[tuple[str, str]]:
    """What the preview says of one row: the values as they will be saved, or, for a row with
    problems, the cells as they were written."""
    if not row.get("ok"):
        return [
            (columns.get(key, key).rsplit(" (", 1)[0], value)
            for key, value in row.get("cells", {}).items()
            if value and key not in ("code", "name")
        ]
    out = []
    if register in CATEGORIES:
        out.append((_("Category"), _label(CATEGORIES[register], row["category"])))
        out.append((_("Location"), row["location"]))
    if register == Register.ASSET:
        out.append((_("Book value (yuan)"), row["book_value"]))
    if register == Register.RESOURCE:
        out.append((_("Area (mu)"), row["area"]))
    if register == Register.CONTRACT:
        out += [
            (_("Kind of contract"), _label(ContractKind, row["contract_kind"])),
            (_("Asset or resource"), row["subject"]),
            (
                _("Counterparty"),
                f"{row['counterparty']} ({_label(CounterpartyKind, row['counterparty_kind'])})",
            ),
            (_("Term"), f"{row['starts_on']} – {row['ends_on']}"),
            (_("Total price (yuan)"), row["price"]),
            (_("Payments due"), str(row["installments"] or "")),
        ]
    if row.get("disposal"):
        out.append((_("Disposal"), _label(Disposal, row["disposal"])))
    if row.get("resolution"):
        out.append((_("Resolution"), _("motion %(n)s") % {"n": row["resolution"]}))
    return [(label, value) for label, value in out if value]


def _preview_context(council, register, rows, columns, **extra) -> dict:
    shown = []
    for row in rows:
        shown.append(
            {
                "number": row["number"],
                "ok": row.get("ok"),
                "code": row.get("code") or row.get("cells", {}).get("code", ""),
                "name": row.get("name") or row.get("cells", {}).get("name", ""),
                "details": _details(register, row, columns),
                "irregular": row.get("irregular", ""),
            }
        )
    return {
        "council": council,
        "crumbs": _crumbs(council),
        "register": register,
        "register_label": _label(Register, register),
        "rows": shown,
        "row_count": len(shown),
        "bad_rows": sum(1 for row in shown if not row["ok"]),
        "irregular_count": sum(1 for row in shown if row["irregular"]),
        "columns": list(columns.values()),
        **extra,
    }


@login_required
def import_start(request, council_id: int):
    """The upload form; its POST shows the preview (a file with problems is not kept)."""
    council = _village(council_id)
    if not request.user.has_perm("assets.import_entries", council):
        raise PermissionDenied
    form = RegisterImportForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        initial={"register": request.GET.get("register")},  # from a register's own page
    )
    if request.method == "POST" and form.is_valid():
        try:
            outcome = excel.preview_import(
                council=council,
                by=request.user,
                register=form.cleaned_data["register"],
                upload=form.cleaned_data["file"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if outcome.batch is not None:
                messages.success(
                    request,
                    _("Every row was read without a problem. Check them, then save them."),
                )
                return redirect(outcome.batch.get_absolute_url())
            if outcome.file_problem:
                form.add_error("file", outcome.file_problem)
            else:
                context = _preview_context(
                    council,
                    outcome.register,
                    outcome.rows,
                    outcome.columns,
                    problems=outcome.problems,
                    ignored=outcome.ignored,
                    sheet=outcome.sheet,
                    original_name=form.cleaned_data["file"].name,
                )
                return render(request, "assets/import_preview.html", context)
    pending = RegisterImport.objects.filter(council=council, saved__isnull=True)
    return render(
        request,
        "assets/import_form.html",
        {
            "council": council,
            "crumbs": _crumbs(council),
            "form": form,
            "pending": pending[:10],
            "max_mb": excel.max_bytes() // 2**20,
            "max_rows": excel.max_rows(),
        },
        status=400 if form.errors else 200,
    )


def _batch(request, pk: int) -> RegisterImport:
    batch = get_object_or_404(RegisterImport.objects.select_related("council"), pk=pk)
    if not request.user.has_perm("assets.import_entries", batch.council):
        raise Http404  # an upload is the committee's working paper
    return batch


@login_required
def import_preview(request, pk: int):
    batch = _batch(request, pk)
    if batch.saved:
        return redirect(reverse("assets:registers", args=[batch.council_id]))
    context = _preview_context(
        batch.council,
        batch.register,
        excel.preview_of(batch),
        batch.rows.get("columns", {}),
        batch=batch,
        problems=[],
        ignored=batch.rows.get("ignored", []),
        sheet=batch.rows.get("sheet", ""),
        original_name=batch.original_name,
    )
    return render(request, "assets/import_preview.html", context)


@login_required
@require_POST
def import_save(request, pk: int):
    batch = _batch(request, pk)
    try:
        versions = excel.save_import(batch=batch, by=request.user)
    except (ValidationError, PermissionDenied) as error:
        texts = error.messages if isinstance(error, ValidationError) else [refusal_text(error)]
        for text in texts[:MAX_MESSAGES]:
            messages.error(request, text)
        if len(texts) > MAX_MESSAGES:
            messages.error(
                request, _("And %(n)s more problems.") % {"n": len(texts) - MAX_MESSAGES}
            )
        return redirect(batch.get_absolute_url())
    messages.success(
        request,
        ngettext(
            "%(n)s entry saved as a draft. Check it, then send it to the supervisory committee.",
            "%(n)s entries saved as drafts. Check each, then send it to the supervisory committee.",
            len(versions),
        )
        % {"n": len(versions)},
    )
    return redirect(reverse("assets:registers", args=[batch.council_id]))


@login_required
@require_POST
def import_discard(request, pk: int):
    batch = _batch(request, pk)
    council_id = batch.council_id
    try:
        excel.discard_import(batch=batch, by=request.user)
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, refusal_text(error))
        return redirect(batch.get_absolute_url())
    messages.success(request, _("The upload was dropped."))
    return redirect(reverse("assets:import", args=[council_id]))


def import_template(request):
    response = HttpResponse(excel.template_workbook(), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="yishi-registers-template.xlsx"'
    return response


def export(request, council_id: int):
    """Anyone may download what is published: the village's registers as .xlsx."""
    council = _village(council_id)
    response = HttpResponse(excel.export_registers(council), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="registers-{council.pk}.xlsx"'
    return response


urlpatterns = [
    path("councils/<int:council_id>/import/", import_start, name="import"),
    path("councils/<int:council_id>/export.xlsx", export, name="export"),
    path("import-template.xlsx", import_template, name="import_template"),
    path("imports/<int:pk>/", import_preview, name="import_preview"),
    path("imports/<int:pk>/save/", import_save, name="import_save"),
    path("imports/<int:pk>/discard/", import_discard, name="import_discard"),
]
