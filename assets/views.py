"""The registers' pages: public registers and entries (no sign-in needed), drafts for those who
may see them, the committee's forms and the township's thresholds. Views parse, check, call one
service, render; the services' refusals are shown as they are written (core.refusals)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from assets import payments, selectors, services
from assets.forms import (
    EntryForm,
    NewEntryChoiceForm,
    ThresholdForm,
    initial_from,
    schedule_formset,
    schedule_rows,
)
from assets.models import Entry, EntryVersion, Register
from core.refusals import say_refusal
from councils.models import CouncilPage, Level
from disclosure import services as disclosure
from disclosure.forms import AttachmentForm


def _council(pk: int, level: str) -> CouncilPage:
    return get_object_or_404(CouncilPage.objects.live(), pk=pk, level=level)


def _crumbs(council: CouncilPage) -> list:
    return [*council.council_ancestors().only("id", "title", "url_path", "path"), council]


def _visible_version(request, pk: int) -> EntryVersion:
    version = get_object_or_404(
        EntryVersion.objects.select_related(
            "entry__council", "record", "subject", "resolution__session", "created_by"
        ),
        pk=pk,
    )
    if not request.user.has_perm("assets.view_version", version):
        raise Http404  # a draft's existence is nobody else's business
    return selectors.label_category(version)


def _register(value) -> str:
    return value if value in Register.values else Register.ASSET


def _resolution_url(version: EntryVersion) -> str:
    motion = version.resolution
    if motion is None:
        return ""
    return reverse("meetings:session", args=[motion.session_id]) + f"#motion-{motion.pk}"


def _thresholds_url(council: CouncilPage) -> str:
    township = council.township()
    return reverse("assets:thresholds", args=[township.pk]) if township else ""


def _payments_context(entry: Entry, version: EntryVersion) -> dict:
    """The contract's payment schedule and status for `{% block payments %}` of entry.html
    (assets.payments and assets/payment_status.html fill it in)."""
    return {"payments": payments.contract_payments(entry)}


# --- public pages -----------------------------------------------------------------------------


def registers(request, council_id: int):
    council = _council(council_id, Level.VILLAGE)
    register = _register(request.GET.get("register"))
    user = request.user
    can_see_drafts = user.has_perm("assets.view_drafts", council)
    found = selectors.register_counts(council)
    return render(
        request,
        "assets/register.html",
        {
            "council": council,
            "crumbs": _crumbs(council),
            "register": register,
            "register_label": Register(register).label,
            "tabs": [(value, label, found["counts"][value]) for value, label in Register.choices],
            "irregular_count": found["irregular"],
            "page_obj": selectors.register_page(council, register, page=request.GET.get("page", 1)),
            "drafts": list(selectors.unpublished_versions(council)) if can_see_drafts else [],
            "can_see_drafts": can_see_drafts,
            "can_add": user.has_perm("assets.add_entry", council),
            "thresholds_url": _thresholds_url(council),
        },
    )


def entry_detail(request, entry_id: int):
    entry = get_object_or_404(Entry.objects.select_related("council"), pk=entry_id)
    user = request.user
    versions = selectors.entry_versions(
        entry, with_drafts=user.has_perm("assets.view_drafts", entry.council)
    )
    if not versions:
        raise Http404
    latest = versions[0]
    # What the entry says now: its latest published version; before any, its draft.
    version = next((v for v in versions if v.is_published), latest)
    version = _visible_version(request, version.pk)  # with everything the page shows
    context = {
        "entry": entry,
        "council": entry.council,
        "crumbs": _crumbs(entry.council),
        "version": version,
        "versions": versions,
        "latest": latest,
        "resolution_url": _resolution_url(version),
        "can_add_version": latest.is_published and user.has_perm("assets.add_entry", entry.council),
        "can_change_latest": user.has_perm("assets.change_version", latest),
        **selectors.version_detail(version),
    }
    # The payment schedule and status of a contract: the one place payments hook in.
    context.update(_payments_context(entry, version))
    return render(request, "assets/entry.html", context)


def version_detail(request, version_id: int):
    return _render_version(request, _visible_version(request, version_id))


def _render_version(request, version: EntryVersion, *, status=200, attachment_form=None):
    user = request.user
    can_change = user.has_perm("assets.change_version", version)
    context = {
        "version": version,
        "entry": version.entry,
        "council": version.entry.council,
        "crumbs": _crumbs(version.entry.council),
        "resolution_url": _resolution_url(version),
        "can_change": can_change,
        "attachment_form": attachment_form or (AttachmentForm() if can_change else None),
        **selectors.version_detail(version),
    }
    return render(request, "assets/version.html", context, status=status)


# --- the committee's forms ----------------------------------------------------------------------


def _entry_form_page(request, *, council, register, form, formset, schedule_errors, **extra):
    failed = form.errors or schedule_errors or (formset and formset.total_error_count())
    return render(
        request,
        "assets/version_form.html",
        {
            "council": council,
            "crumbs": _crumbs(council),
            "register": register,
            "register_label": Register(register).label,
            "form": form,
            "formset": formset,
            "schedule_errors": schedule_errors,
            **extra,
        },
        status=400 if failed else 200,
    )


def _posted_and_valid(request, form, formset) -> bool:
    if request.method != "POST":
        return False
    form_ok = form.is_valid()
    return (formset.is_valid() if formset is not None else True) and form_ok


def _schedule(formset) -> list:
    return schedule_rows(formset) if formset is not None else ()


@login_required
def entry_new(request, council_id: int):
    council = _council(council_id, Level.VILLAGE)
    if not request.user.has_perm("assets.add_entry", council):
        raise PermissionDenied(_("Only the committee keeps the registers."))
    data = request.POST if request.method == "POST" else None
    register = (data or request.GET).get("register")
    if register not in Register.values:
        return render(
            request,
            "assets/version_form.html",
            {
                "council": council,
                "crumbs": _crumbs(council),
                # Posted without a register: the choice shown again, with its error.
                "choice_form": NewEntryChoiceForm(data),
            },
        )
    form = EntryForm(data, council=council, register=register, new_entry=True, needs_reason=False)
    formset = schedule_formset(data) if register == Register.CONTRACT else None
    schedule_errors = []
    if _posted_and_valid(request, form, formset):
        try:
            version = services.draft_entry(
                council=council,
                by=request.user,
                register=register,
                fields=form.service_fields(),
                code=form.cleaned_data["code"],
                installments=_schedule(formset),
                after_the_fact=form.cleaned_data["after_the_fact"],
            )
        except ValidationError as error:
            schedule_errors = form.add_service_error(error)
        else:
            messages.success(
                request, _("Draft saved. Attach photos or files, then send it for review.")
            )
            return redirect(version.get_absolute_url())
    return _entry_form_page(
        request,
        council=council,
        register=register,
        form=form,
        formset=formset,
        schedule_errors=schedule_errors,
        action=reverse("assets:entry_new", args=[council.pk]),
        heading=_("New entry on the register: %(register)s")
        % {"register": Register(register).label},
    )


@login_required
def version_edit(request, version_id: int):
    version = _visible_version(request, version_id)
    if not request.user.has_perm("assets.change_version", version):
        if version.is_published:
            raise PermissionDenied(
                _("A published version never changes: the committee adds a new version.")
            )
        raise PermissionDenied(
            _("Only the committee changes a draft, and only before it is sent for review.")
        )
    entry, council = version.entry, version.entry.council
    data = request.POST if request.method == "POST" else None
    form = EntryForm(
        data,
        council=council,
        register=entry.register,
        new_entry=False,
        needs_reason=version.number > 1,
        initial=initial_from(version),
    )
    formset = None
    if entry.register == Register.CONTRACT:
        rows = [(i.due_on, i.amount) for i in version.installments.all()]
        formset = schedule_formset(data, rows=rows)
    schedule_errors = []
    if _posted_and_valid(request, form, formset):
        try:
            services.update_version(
                version=version,
                by=request.user,
                fields=form.service_fields(),
                installments=_schedule(formset) if formset is not None else None,
                after_the_fact=form.cleaned_data["after_the_fact"],
            )
        except ValidationError as error:
            schedule_errors = form.add_service_error(error)
        else:
            messages.success(request, _("Draft saved."))
            return redirect(version.get_absolute_url())
    return _entry_form_page(
        request,
        council=council,
        register=entry.register,
        form=form,
        formset=formset,
        schedule_errors=schedule_errors,
        action=reverse("assets:version_edit", args=[version.pk]),
        heading=_("Change the draft of %(code)s") % {"code": entry.code},
        version=version,
    )


@login_required
def version_new(request, entry_id: int):
    entry = get_object_or_404(Entry.objects.select_related("council"), pk=entry_id)
    council = entry.council
    if not request.user.has_perm("assets.add_entry", council):
        raise PermissionDenied(_("Only the committee keeps the registers."))
    latest = entry.versions.select_related("record").order_by("-number").first()
    if latest is None or not latest.is_published:
        messages.error(
            request,
            _("The latest version is still a draft: change that draft instead of adding one."),
        )
        return redirect(
            latest.get_absolute_url() if latest else reverse("assets:entry", args=[entry.pk])
        )
    data = request.POST if request.method == "POST" else None
    initial = initial_from(latest)
    initial.update(change_reason="", after_the_fact=False)
    form = EntryForm(
        data,
        council=council,
        register=entry.register,
        new_entry=False,
        needs_reason=True,
        initial=initial,
    )
    formset = None
    if entry.register == Register.CONTRACT:
        rows = [(i.due_on, i.amount) for i in latest.installments.all()]
        formset = schedule_formset(data, rows=rows)
    schedule_errors = []
    if _posted_and_valid(request, form, formset):
        try:
            version = services.draft_version(
                entry=entry,
                by=request.user,
                fields=form.service_fields(),
                installments=_schedule(formset),
                after_the_fact=form.cleaned_data["after_the_fact"],
            )
        except ValidationError as error:
            schedule_errors = form.add_service_error(error)
        else:
            messages.success(request, _("New version drafted. Send it for review to publish it."))
            return redirect(version.get_absolute_url())
    return _entry_form_page(
        request,
        council=council,
        register=entry.register,
        form=form,
        formset=formset,
        schedule_errors=schedule_errors,
        action=reverse("assets:version_new", args=[entry.pk]),
        heading=_("New version of %(code)s") % {"code": entry.code},
        entry=entry,
    )


@login_required
@require_POST
def version_submit(request, version_id: int):
    version = _visible_version(request, version_id)
    try:
        services.submit_version(version=version, by=request.user)
    except (ValidationError, PermissionDenied) as error:
        say_refusal(request, error)
    else:
        messages.success(request, _("Sent to the supervisory committee for review."))
    return redirect(version.get_absolute_url())


@login_required
@require_POST
def version_attach(request, version_id: int):
    version = _visible_version(request, version_id)
    if not request.user.has_perm("assets.change_version", version):
        messages.error(request, _("Files are attached to a draft, by the committee."))
        return redirect(version.get_absolute_url())
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            disclosure.attach_file(
                record=version.record, by=request.user, upload=form.cleaned_data["file"]
            )
        except PermissionDenied as error:
            say_refusal(request, error)
            return redirect(version.get_absolute_url())
        except ValidationError as error:
            form.add_error(None, ValidationError(error.messages))
        else:
            messages.success(request, _("File attached."))
            return redirect(version.get_absolute_url() + "#attachments")
    return _render_version(request, version, status=400, attachment_form=form)


# --- the township's thresholds ------------------------------------------------------------------


def thresholds(request, council_id: int):
    township = _council(council_id, Level.TOWNSHIP)
    user = request.user
    if request.method == "POST" and not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    can_set = user.has_perm("assets.set_thresholds", township)
    if request.method == "POST" and not can_set:
        raise PermissionDenied(_("Only the township's officials set the thresholds."))
    current = services.thresholds_for(township)
    form = None
    if can_set:
        form = ThresholdForm(
            request.POST if request.method == "POST" else None,
            initial={name: getattr(current, name) for name in ThresholdForm.FIELDS},
        )
    if request.method == "POST" and form.is_valid():
        try:
            services.set_thresholds(township=township, by=user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Thresholds saved."))
            return redirect(reverse("assets:thresholds", args=[township.pk]))
    return render(
        request,
        "assets/thresholds.html",
        {
            "council": township,
            "crumbs": _crumbs(township),
            "thresholds": current,
            "is_set": current.pk is not None,
            "form": form,
        },
        status=400 if form is not None and form.errors else 200,
    )
