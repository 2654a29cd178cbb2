"""Pages of the index (docs/governance-index.md):

- `councils/<id>/indexes/`: a township's or district's indexes; its officials create one there;
- `indexes/<id>/`: the index in use (dimensions, indicators, weights, sources, thresholds), its
  versions, and the villages' scores and stars for a period (read from IndexScore only);
- `index-versions/<id>/`: one version with its scores (old ones stay viewable); its officials
  edit a draft at `.../edit/` and publish it;
- `indexes/<id>/figures/`: entered figures of a period (drafts for the officials above their
  village), `.../enter/` the table to enter them, `.../drafts/` what awaits publication;
- `index-figures/<id>/`: one figure with its corrections; `.../edit/` changes a draft or
  corrects a published one; `.../evidence` serves its file to whoever may see the figure.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.files import serve_file
from core.refusals import say_refusal
from councils.models import CouncilPage, Level
from governance import services
from governance.evidence import evidence_url
from governance.figures import Period, parse_period
from governance.forms import (
    ChooseFiguresForm,
    CreateIndexForm,
    DimensionForm,
    FigureForm,
    FigureRowForm,
    IndicatorForm,
    NewDimensionForm,
    NewIndicatorForm,
    VersionForm,
    add_service_errors,
)
from governance.metrics import METRICS
from governance.models import (
    Dimension,
    EnteredFigure,
    FigureStatus,
    Index,
    IndexScore,
    IndexVersion,
    Indicator,
    IndicatorSource,
    PeriodKind,
    VersionStatus,
)

MAX_VILLAGES_PER_TABLE = 300


def _council(pk: int) -> CouncilPage:
    return get_object_or_404(CouncilPage.objects.live(), id=pk)


def _index(pk: int) -> Index:
    return get_object_or_404(Index.objects.select_related("owner"), id=pk)


def _crumbs(council: CouncilPage) -> list:
    return [*council.council_ancestors().only("id", "title", "url_path", "path"), council]


def _period(request, version: IndexVersion | None) -> Period:
    """The period asked for (?period=2025-03 or 2025-Q1), else the newest one scored, else
    this month."""
    asked = parse_period(request.GET.get("period", ""))
    if asked is not None:
        return asked
    if version is not None:
        newest = (
            IndexScore.objects.filter(version=version)
            .order_by("-period_start", "period_kind")
            .values_list("period_kind", "period_start")
            .first()
        )
        if newest:
            return Period(*newest)
    return Period.containing(PeriodKind.MONTH, timezone.localdate())


def _structure(version: IndexVersion | None) -> list[dict]:
    """Dimensions with their indicators (two queries), for the page."""
    if version is None:
        return []
    out = []
    for dimension in version.dimensions.prefetch_related("indicators").order_by("order", "pk"):
        indicators = sorted(dimension.indicators.all(), key=lambda i: (i.order, i.pk))
        out.append(
            {
                "dimension": dimension,
                "indicators": [
                    {
                        "indicator": i,
                        "metric": METRICS.get(i.metric) if i.metric else None,
                        "lower_is_better": i.target < i.floor,
                    }
                    for i in indicators
                ],
            }
        )
    return out


def _scores(version: IndexVersion | None, period: Period, structure: list[dict]) -> list[dict]:
    """The villages' scores of `version` for `period`, best first (one query)."""
    if version is None:
        return []
    rows = (
        IndexScore.objects.filter(
            version=version, period_kind=period.kind, period_start=period.start
        )
        .select_related("council")
        .only("council__id", "council__title", "score", "stars", "breakdown", "council_id")
        .order_by("-score", "council_path")[:MAX_VILLAGES_PER_TABLE]
    )
    out = []
    for row in rows:
        dimensions = []
        for entry in structure:
            code = entry["dimension"].code
            part = (row.breakdown or {}).get(code, {})
            indicators = []
            for item in entry["indicators"]:
                indicator = item["indicator"]
                raw = part.get("indicators", {}).get(indicator.code, {})
                link = ""
                if indicator.source == IndicatorSource.METRIC and raw.get("value") is not None:
                    link = evidence_url(row.council, indicator.metric, period.kind, period.start)
                indicators.append(
                    {
                        "name": indicator.name,
                        "value": raw.get("value"),
                        "score": raw.get("score"),
                        "link": link,
                    }
                )
            dimensions.append({"score": part.get("score"), "indicators": indicators})
        out.append(
            {
                "council": row.council,
                "score": row.score,
                "stars": row.stars,
                "star_range": range(row.stars),
                "dimensions": dimensions,
            }
        )
    # A village without data sorts last, not first (NULL sorts first in some databases).
    out.sort(key=lambda r: (r["score"] is None, -(r["score"] or 0)))
    return out


def _version_context(request, index: Index, version: IndexVersion | None) -> dict:
    period = _period(request, version)
    structure = _structure(version)
    user = request.user
    return {
        "index": index,
        "council": index.owner,
        "crumbs": _crumbs(index.owner),
        "version": version,
        "structure": structure,
        "thresholds": list(enumerate(version.star_thresholds, start=1)) if version else [],
        "versions": index.versions.order_by("-number"),
        "period": period,
        "previous_period": period.previous(),
        "scores": _scores(version, period, structure),
        "can_manage": user.has_perm("governance.manage_index", index.owner),
        "draft": services.draft_of(index),
    }


def index_list(request, council_pk: int):
    """A township's or district's indexes; its officials create one here (POST)."""
    council = _council(council_pk)
    can_manage = request.user.has_perm("governance.manage_index", council)
    form = CreateIndexForm()
    status = 200
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not can_manage:
            raise PermissionDenied(_("Only officials of this township or district define indexes."))
        form = CreateIndexForm(request.POST)
        if form.is_valid():
            try:
                index = services.create_index(
                    owner=council,
                    name=form.cleaned_data["name"],
                    template=form.cleaned_data["template"] or None,
                    by=request.user,
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("The index is made."))
                if index.versions.filter(status=VersionStatus.DRAFT).exists():
                    return redirect("governance:edit_version", services.draft_of(index).pk)
                return redirect("governance:index", index.pk)
        status = 400
    indexes = Index.objects.filter(owner=council).order_by("name")
    return render(
        request,
        "governance/index_list.html",
        {
            "council": council,
            "crumbs": _crumbs(council),
            "indexes": indexes,
            "form": form if can_manage else None,
            "owns_indexes": council.level in (Level.TOWNSHIP, Level.DISTRICT, Level.CITY),
        },
        status=status,
    )


def index_detail(request, pk: int):
    """The index in use: what it measures, how, and the villages' scores for a period."""
    index = _index(pk)
    version = services.version_in_use(index)
    return render(
        request, "governance/index_detail.html", _version_context(request, index, version)
    )


def version_detail(request, pk: int):
    """One version with its scores; a draft only for the owner's officials."""
    version = get_object_or_404(IndexVersion.objects.select_related("index__owner"), id=pk)
    if not request.user.has_perm("governance.view_version", version):
        raise Http404
    context = _version_context(request, version.index, version)
    context["one_version"] = True
    return render(request, "governance/index_detail.html", context)


@login_required
@require_POST
def start_version(request, pk: int):
    index = _index(pk)
    try:
        draft = services.start_version(index=index, by=request.user)
    except (PermissionDenied, ValidationError) as error:
        say_refusal(request, error)
        return redirect("governance:index", index.pk)
    messages.success(
        request,
        _("Version %(number)s is a draft: change it, then publish it.") % {"number": draft.number},
    )
    return redirect("governance:edit_version", draft.pk)


def _editor_forms(version: IndexVersion, failed: tuple | None = None) -> dict:
    """Every form of the draft's page; `failed` is (action, target id, bound form) to show."""
    action, target, bound = failed or (None, None, None)

    def pick(kind, pk, unbound):
        return bound if (action == kind and target == pk) else unbound

    dimensions = []
    for dimension in version.dimensions.prefetch_related("indicators").order_by("order", "pk"):
        indicators = [
            {
                "indicator": i,
                "form": pick(
                    "indicator",
                    i.pk,
                    IndicatorForm(
                        prefix=f"i{i.pk}",
                        initial={
                            "name": i.name,
                            "weight": i.weight,
                            "metric": i.metric,
                            "unit": i.unit,
                            "floor": i.floor,
                            "target": i.target,
                            "order": i.order,
                        },
                    ),
                ),
            }
            for i in sorted(dimension.indicators.all(), key=lambda i: (i.order, i.pk))
        ]
        dimensions.append(
            {
                "dimension": dimension,
                "form": pick(
                    "dimension",
                    dimension.pk,
                    DimensionForm(
                        prefix=f"d{dimension.pk}",
                        initial={
                            "name": dimension.name,
                            "weight": dimension.weight,
                            "order": dimension.order,
                        },
                    ),
                ),
                "new_indicator": pick(
                    "add_indicator", dimension.pk, NewIndicatorForm(prefix=f"n{dimension.pk}")
                ),
                "indicators": indicators,
            }
        )
    return {
        "version_form": pick(
            "version", version.pk, VersionForm(initial=VersionForm.initial_for(version))
        ),
        "new_dimension": pick("add_dimension", version.pk, NewDimensionForm(prefix="new")),
        "dimensions": dimensions,
    }


def _apply(action: str, target: int, version: IndexVersion, post, user):
    """Run one edit of the draft; returns (target id, form); the form has errors on failure."""
    if action == "version":
        form = VersionForm(post)
        if form.is_valid():
            services.change_version(
                version=version,
                star_thresholds=form.thresholds(),
                note=form.cleaned_data["note"],
                by=user,
            )
        return version.pk, form
    if action == "add_dimension":
        form = NewDimensionForm(post, prefix="new")
        if form.is_valid():
            services.add_dimension(version=version, by=user, **form.cleaned_data)
        return version.pk, form
    if action in ("dimension", "remove_dimension", "add_indicator"):
        dimension = get_object_or_404(Dimension, pk=target, version=version)
        if action == "remove_dimension":
            services.remove_dimension(dimension=dimension, by=user)
            return target, None
        if action == "add_indicator":
            form = NewIndicatorForm(post, prefix=f"n{dimension.pk}")
            if form.is_valid():
                services.add_indicator(dimension=dimension, by=user, **form.cleaned_data)
            return target, form
        form = DimensionForm(post, prefix=f"d{dimension.pk}")
        if form.is_valid():
            services.change_dimension(dimension=dimension, by=user, **form.cleaned_data)
        return target, form
    if action in ("indicator", "remove_indicator"):
        indicator = get_object_or_404(Indicator, pk=target, dimension__version=version)
        if action == "remove_indicator":
            services.remove_indicator(indicator=indicator, by=user)
            return target, None
        form = IndicatorForm(post, prefix=f"i{indicator.pk}")
        if form.is_valid():
            services.change_indicator(indicator=indicator, by=user, **form.cleaned_data)
        return target, form
    raise Http404


@login_required
def edit_version(request, pk: int):
    """The draft of an index: star thresholds, dimensions and indicators, each its own form."""
    version = get_object_or_404(IndexVersion.objects.select_related("index__owner"), id=pk)
    if not request.user.has_perm("governance.manage_index", version):
        raise Http404
    if not version.is_draft:
        messages.info(request, _("This version is published and can no longer change."))
        return redirect("governance:version", version.pk)
    failed, status = None, 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            target = int(request.POST.get("target") or version.pk)
        except ValueError:
            raise Http404 from None
        if not 0 < target < 2**31:
            raise Http404
        form = None
        try:
            target, form = _apply(action, target, version, request.POST, request.user)
        except ValidationError as error:
            if form is None:  # refused before or after the form was read: rebuild it bound
                target, form = _bound_form(action, target, version, request.POST)
            if form is not None:
                add_service_errors(form, error)
            else:
                say_refusal(request, error)
        except PermissionDenied as error:
            say_refusal(request, error)
            return redirect("governance:index", version.index_id)
        if form is None or not form.errors:
            messages.success(request, _("Saved in the draft."))
            return redirect("governance:edit_version", version.pk)
        failed, status = (action, target, form), 400
    context = {
        "version": version,
        "index": version.index,
        "council": version.index.owner,
        "crumbs": _crumbs(version.index.owner),
        "metrics": METRICS,
        **_editor_forms(version, failed),
    }
    return render(request, "governance/index_edit.html", context, status=status)


def _bound_form(action: str, target: int, version: IndexVersion, post):
    forms_by_action = {
        "version": lambda: VersionForm(post),
        "add_dimension": lambda: NewDimensionForm(post, prefix="new"),
        "dimension": lambda: DimensionForm(post, prefix=f"d{target}"),
        "add_indicator": lambda: NewIndicatorForm(post, prefix=f"n{target}"),
        "indicator": lambda: IndicatorForm(post, prefix=f"i{target}"),
    }
    make = forms_by_action.get(action)
    if make is None:
        return target, None
    form = make()
    form.is_valid()
    return target, form


@login_required
@require_POST
def publish_version(request, pk: int):
    version = get_object_or_404(IndexVersion.objects.select_related("index__owner"), id=pk)
    if not request.user.has_perm("governance.view_version", version):
        raise Http404
    try:
        services.publish_version(version=version, by=request.user)
    except (PermissionDenied, ValidationError) as error:
        say_refusal(request, error)
        if version.is_draft and request.user.has_perm("governance.manage_index", version):
            return redirect("governance:edit_version", version.pk)
        return redirect("governance:index", version.index_id)
    messages.success(
        request,
        _("Version %(number)s is in use. Scores are computed with it within a few minutes.")
        % {"number": version.number},
    )
    return redirect("governance:index", version.index_id)


# -- entered figures -----------------------------------------------------------------------------


def _visible_figures(user, figures):
    """Published figures, and the drafts the user may see (roles are cached per council)."""
    return [
        f
        for f in figures
        if f.status == FigureStatus.PUBLISHED or user.has_perm("governance.view_draft_figure", f)
    ]


def _indicator_names(index: Index) -> dict[str, str]:
    return dict(
        Indicator.objects.filter(dimension__version__index=index)
        .order_by("dimension__version__number")
        .values_list("code", "name")
    )


def figure_list(request, pk: int):
    """Entered figures of one period: published ones for everyone, drafts for the officials
    above their village."""
    index = _index(pk)
    version = services.version_in_use(index)
    period = _period(request, None)
    figures = (
        EnteredFigure.objects.filter(
            index=index, period_kind=period.kind, period_start=period.start
        )
        .select_related("council", "index__owner")
        .order_by("code", "council_path", "-entered_at")
    )
    shown = _visible_figures(request.user, figures)
    return render(
        request,
        "governance/index_figures.html",
        {
            "index": index,
            "council": index.owner,
            "crumbs": _crumbs(index.owner),
            "version": version,
            "period": period,
            "previous_period": period.previous(),
            "figures": shown,
            "names": _indicator_names(index),
            "can_enter": request.user.is_authenticated
            and _enterable_villages(request.user, index, limit=1),
        },
    )


def _enterable_villages(user, index: Index, *, limit: int | None = None) -> list[CouncilPage]:
    villages = (
        CouncilPage.objects.live()
        .filter(path__startswith=index.owner.path, level=Level.VILLAGE)
        .order_by("path")
    )
    out = []
    for village in villages[:MAX_VILLAGES_PER_TABLE]:
        if user.has_perm("governance.enter_figure", village):
            out.append(village)
            if limit and len(out) >= limit:
                break
    return out


@login_required
def enter_figures(request, pk: int):
    """The table to enter one indicator's figures for the villages of one period: a row per
    village the user may enter for; empty rows are left out; if any row is refused, nothing
    is saved and each row shows its own message, with what was typed kept."""
    index = _index(pk)
    version = services.version_in_use(index)
    indicators = (
        [
            i
            for entry in _structure(version)
            for i in (x["indicator"] for x in entry["indicators"])
            if i.source == IndicatorSource.ENTERED
        ]
        if version
        else []
    )
    villages = _enterable_villages(request.user, index)
    if not villages or not indicators:
        raise Http404
    data = request.POST if request.method == "POST" else request.GET
    chooser = ChooseFiguresForm(
        data if data.get("code") else None,
        indicators=indicators,
        initial={"period": Period.containing(PeriodKind.MONTH, timezone.localdate()).slug},
    )
    rows, status = [], 200
    chosen = chooser.is_valid()
    if chosen:
        bound = request.method == "POST"
        rows = [
            {
                "village": v,
                "form": FigureRowForm(
                    request.POST if bound else None,
                    request.FILES if bound else None,
                    prefix=f"v{v.pk}",
                ),
            }
            for v in villages
        ]
    if request.method == "POST":
        if not chosen:
            status = 400
        else:
            saved = _save_rows(request, index, chooser, rows)
            if saved:
                messages.success(
                    request,
                    _("%(n)s figure(s) saved as drafts, to be published by the township.")
                    % {"n": saved},
                )
                period = chooser.cleaned_data["period"].slug
                return redirect(f"{reverse('governance:drafts', args=[index.pk])}?period={period}")
            status = 400
    return render(
        request,
        "governance/index_enter.html",
        {
            "index": index,
            "council": index.owner,
            "crumbs": _crumbs(index.owner),
            "chooser": chooser,
            "rows": rows,
            "chosen": chosen,
        },
        status=status,
    )


def _save_rows(request, index: Index, chooser, rows) -> int:
    """Enter every filled row in one transaction; 0 (and errors on the rows) if any fails."""
    period = chooser.cleaned_data["period"]
    filled = [r for r in rows if r["form"].is_valid() and r["form"].has_value()]
    invalid = [r for r in rows if not r["form"].is_valid()]
    if invalid:
        return 0
    if not filled:
        chooser.add_error(None, _("Fill in at least one village's value."))
        return 0
    failed = False
    with transaction.atomic():
        for row in filled:
            data = row["form"].cleaned_data
            try:
                services.enter_figure(
                    index=index,
                    code=chooser.cleaned_data["code"],
                    council=row["village"],
                    period_kind=period.kind,
                    period_start=period.start,
                    value=data["value"],
                    evidence_file=data["evidence_file"],
                    evidence_url=data["evidence_url"],
                    note=data["note"],
                    by=request.user,
                )
            except ValidationError as error:
                failed = True
                _row_errors(chooser, row["form"], error)
            except PermissionDenied as error:
                failed = True
                row["form"].add_error(None, str(error))
        if failed:
            transaction.set_rollback(True)
            return 0
    return len(filled)


def _row_errors(chooser, form, error: ValidationError) -> None:
    """Errors about the indicator or the period go above the table, the rest on the row."""
    if hasattr(error, "error_dict"):
        for field, found in error.message_dict.items():
            if field in ("code", "period_kind", "period_start"):
                if not chooser.errors or found[0] not in chooser.non_field_errors():
                    chooser.add_error(None, found)
            else:
                form.add_error(field if field in form.fields else None, found)
    else:
        form.add_error(None, error.messages)


@login_required
def drafts(request, pk: int):
    """What awaits publication: the draft version and the draft figures the user may see."""
    index = _index(pk)
    figures = (
        EnteredFigure.objects.filter(index=index, status=FigureStatus.DRAFT)
        .select_related("council", "index__owner")
        .order_by("period_start", "code", "council_path")[:500]
    )
    shown = [f for f in figures if request.user.has_perm("governance.view_draft_figure", f)]
    can_manage = request.user.has_perm("governance.manage_index", index.owner)
    return render(
        request,
        "governance/index_drafts.html",
        {
            "index": index,
            "council": index.owner,
            "crumbs": _crumbs(index.owner),
            "figures": shown,
            "names": _indicator_names(index),
            "draft": services.draft_of(index) if can_manage else None,
            "can_publish": request.user.has_perm("governance.publish_figure", index),
        },
    )


def _figure(request, pk: int) -> EnteredFigure:
    figure = get_object_or_404(
        EnteredFigure.objects.select_related("index__owner", "council", "supersedes"), id=pk
    )
    if not request.user.has_perm("governance.view_figure", figure):
        raise Http404  # a draft: nobody else's business that it exists
    return figure


def figure_detail(request, pk: int):
    """One figure, what it corrects and what corrects it."""
    figure = _figure(request, pk)
    chain, older = [], figure.supersedes
    while older is not None and len(chain) < 50:
        chain.append(older)
        older = older.supersedes
    newer = EnteredFigure.objects.filter(supersedes=figure).first()
    if newer is not None and not request.user.has_perm("governance.view_figure", newer):
        newer = None
    user = request.user
    return render(
        request,
        "governance/index_figure.html",
        {
            "figure": figure,
            "index": figure.index,
            "council": figure.index.owner,
            "crumbs": _crumbs(figure.index.owner),
            "name": _indicator_names(figure.index).get(figure.code, figure.code),
            "corrects": chain,
            "corrected_by": newer,
            "period": Period(figure.period_kind, figure.period_start),
            "can_edit": user.has_perm("governance.enter_figure", figure) and newer is None,
            "can_publish": not figure.is_published
            and user.has_perm("governance.publish_figure", figure),
        },
    )


@login_required
def edit_figure(request, pk: int):
    """Change a draft figure, or correct a published one (a new draft that supersedes it)."""
    figure = _figure(request, pk)
    if not request.user.has_perm("governance.enter_figure", figure):
        raise Http404
    initial = {"value": figure.value, "evidence_url": figure.evidence_url, "note": figure.note}
    form, status = FigureForm(initial=initial), 200
    if request.method == "POST":
        form = FigureForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                if figure.is_published:
                    made = services.correct_figure(
                        published=figure,
                        value=data["value"],
                        evidence_file=data["evidence_file"],
                        evidence_url=data["evidence_url"] or None,
                        note=data["note"],
                        by=request.user,
                    )
                else:
                    made = services.change_figure(
                        figure=figure,
                        value=data["value"],
                        evidence_file=data["evidence_file"],
                        evidence_url=data["evidence_url"],
                        note=data["note"],
                        by=request.user,
                    )
            except ValidationError as error:
                add_service_errors(form, error)
            except PermissionDenied as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Saved as a draft, to be published by the township."))
                return redirect("governance:figure", made.pk)
        status = 400
    return render(
        request,
        "governance/index_figure_edit.html",
        {
            "figure": figure,
            "index": figure.index,
            "council": figure.index.owner,
            "crumbs": _crumbs(figure.index.owner),
            "name": _indicator_names(figure.index).get(figure.code, figure.code),
            "form": form,
            "period": Period(figure.period_kind, figure.period_start),
        },
        status=status,
    )


@login_required
@require_POST
def publish_figure(request, pk: int):
    figure = _figure(request, pk)
    try:
        services.publish_figure(figure=figure, by=request.user)
    except (PermissionDenied, ValidationError) as error:
        say_refusal(request, error)
    else:
        messages.success(request, _("The figure is published."))
    return redirect("governance:figure", figure.pk)


def figure_evidence(request, pk: int):
    """The evidence file of a figure, for whoever may see the figure (docs/files.md)."""
    figure = _figure(request, pk)
    return serve_file(figure.evidence_file, storage_alias="private", download_name="evidence")


urlpatterns = [
    path("councils/<int:council_pk>/indexes/", index_list, name="indexes"),
    path("indexes/<int:pk>/", index_detail, name="index"),
    path("indexes/<int:pk>/new-version/", start_version, name="start_version"),
    path("indexes/<int:pk>/figures/", figure_list, name="index_figures"),
    path("indexes/<int:pk>/enter/", enter_figures, name="enter_figures"),
    path("indexes/<int:pk>/drafts/", drafts, name="drafts"),
    path("index-versions/<int:pk>/", version_detail, name="version"),
    path("index-versions/<int:pk>/edit/", edit_version, name="edit_version"),
    path("index-versions/<int:pk>/publish/", publish_version, name="publish_version"),
    path("index-figures/<int:pk>/", figure_detail, name="figure"),
    path("index-figures/<int:pk>/edit/", edit_figure, name="edit_figure"),
    path("index-figures/<int:pk>/publish/", publish_figure, name="publish_figure"),
    path("index-figures/<int:pk>/evidence", figure_evidence, name="figure_evidence"),
]
