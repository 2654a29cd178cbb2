"""Use cases of the index: define it, version it, enter and publish figures with evidence.

Every function is keyword-only, atomic, checks the permission itself (governance.rules) and
returns what it made. Refusals are ValidationError (bad input, a published version, a figure
already published) or PermissionDenied (a role), with the message for the person.

- An index is created from a template (`governance.ruian`, published at once as version 1) or
  empty (version 1 is a draft). A change is made on a draft (`start_version` copies the version
  in use); `publish_version` checks it, retires the version in use and puts the draft in use.
  Scores keep the version they were computed with.
- A figure is entered as a draft for a village, an indicator code of the version in use and a
  period, with a file or a link as evidence; officials of the owner publish it. A published
  figure is never edited: `correct_figure` makes a draft that supersedes it once published.
"""

import datetime
import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import File
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from core.uploads import clean_photo
from councils.models import ActionVerb, CouncilPage, Level
from councils.services import log_action
from disclosure.privacy import identity_kind
from governance.index import period_start_of
from governance.metrics import METRICS
from governance.models import (
    Dimension,
    EnteredFigure,
    FigureStatus,
    Index,
    IndexVersion,
    Indicator,
    IndicatorSource,
    PeriodKind,
    VersionStatus,
)
from governance.predicates import OWNER_LEVELS
from governance.ruian import TEMPLATES

MAX_WEIGHT = Decimal(1000)
MAX_VALUE = Decimal("999999999999")
MAX_EVIDENCE_MB = 10
# What evidence may be, recognised by its first bytes, not only by its name.
EVIDENCE_TYPES = {
    "pdf": (b"%PDF-",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
}
CODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


# -- checks --------------------------------------------------------------------------------------


def _require(by, permission: str, obj, message: str) -> None:
    if by is None or not by.has_perm(permission, obj):
        raise PermissionDenied(message)


def _may_manage(by, index: Index) -> None:
    _require(
        by,
        "governance.manage_index",
        index.owner,
        _("Only officials of the township or district that owns this index can change it."),
    )


def _locked_version(version: IndexVersion) -> IndexVersion:
    return (
        IndexVersion.objects.select_for_update().select_related("index__owner").get(pk=version.pk)
    )


def _editable(version: IndexVersion, by) -> IndexVersion:
    version = _locked_version(version)
    _may_manage(by, version.index)
    version.check_editable()
    return version


def _decimal(value, field: str, *, label: str) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(
            {field: _("%(label)s must be a number.") % {"label": label}}
        ) from None
    if not number.is_finite() or abs(number) > MAX_VALUE:
        raise ValidationError({field: _("%(label)s is not a usable number.") % {"label": label}})
    return number.quantize(Decimal("0.01"))


def _weight(value, field: str = "weight") -> Decimal:
    weight = _decimal(value, field, label=_("The weight"))
    if weight <= 0 or weight > MAX_WEIGHT:
        raise ValidationError(
            {field: _("A weight must be more than 0 and at most %(max)s.") % {"max": MAX_WEIGHT}}
        )
    return weight


def _name(value: str, field: str = "name") -> str:
    name = (value or "").strip()
    if not name:
        raise ValidationError({field: _("Give it a name.")})
    if len(name) > 100:
        raise ValidationError({field: _("A name has at most 100 characters.")})
    return name


def _code(value: str) -> str:
    code = (value or "").strip().lower()
    if not CODE.match(code):
        raise ValidationError(
            {
                "code": _(
                    "A code is 1 to 40 small letters, digits and hyphens, such as "
                    "“party-stars”; it stays the same in every version."
                )
            }
        )
    return code


def _check_metric(source: str, metric: str) -> str:
    if source == IndicatorSource.METRIC:
        if metric not in METRICS:
            raise ValidationError({"metric": _("Choose one of Yishi's figures.")})
        return metric
    if source == IndicatorSource.ENTERED:
        return ""
    raise ValidationError({"source": _("Choose where the indicator's value comes from.")})


def _check_range(floor, target) -> tuple[Decimal, Decimal]:
    floor = _decimal(floor, "floor", label=_("The value for 0 points"))
    target = _decimal(target, "target", label=_("The value for 100 points"))
    if floor == target:
        raise ValidationError(
            {
                "target": _(
                    "The value for 100 points must differ from the value for 0 points (put it "
                    "below when lower is better)."
                )
            }
        )
    return floor, target


def check_thresholds(thresholds) -> list[Decimal]:
    """One to five star thresholds, ascending, each from 0 to 100."""
    try:
        values = [Decimal(str(t).strip()) for t in thresholds if str(t).strip() != ""]
    except (InvalidOperation, ValueError):
        raise ValidationError(
            {"star_thresholds": _("Each star threshold must be a number from 0 to 100.")}
        ) from None
    if not 1 <= len(values) <= 5:
        raise ValidationError({"star_thresholds": _("Give one to five star thresholds.")})
    if any(not v.is_finite() or v < 0 or v > 100 for v in values):
        raise ValidationError(
            {"star_thresholds": _("Each star threshold must be a number from 0 to 100.")}
        )
    if any(b <= a for a, b in zip(values, values[1:], strict=False)):
        raise ValidationError(
            {
                "star_thresholds": _(
                    "Star thresholds must go up: the score for two stars above the score for "
                    "one, and so on."
                )
            }
        )
    return [v.quantize(Decimal("0.01")) for v in values]


def _check_owner(owner: CouncilPage) -> None:
    if owner.level not in OWNER_LEVELS:
        raise ValidationError(
            _("An index is defined by a township, a district or a city, not by a %(level)s.")
            % {"level": owner.get_level_display()}
        )


# -- indexes and versions ------------------------------------------------------------------------


@transaction.atomic
def create_index(
    *, owner: CouncilPage, name: str, template: str | None = "ruian", by, description: str = ""
) -> Index:
    """A new index of `owner`. From a template, version 1 is published at once (the template's
    dimensions, indicators, weights and star thresholds); without one, version 1 is an empty
    draft to fill in."""
    _check_owner(owner)
    _require(
        by,
        "governance.manage_index",
        owner,
        _("Only officials of this township or district can define its indexes."),
    )
    chosen = None
    if template:
        chosen = TEMPLATES.get(template)
        if chosen is None:
            raise ValidationError({"template": _("There is no such template.")})
    name = _name(name or (chosen.name if chosen else ""))
    if Index.objects.filter(owner=owner, name=name).exists():
        raise ValidationError({"name": _("This council already has an index of that name.")})
    index = Index.objects.create(
        owner=owner,
        name=name,
        description=(description or (chosen.description if chosen else "")).strip(),
        template=chosen.key if chosen else "",
        created_by=by,
    )
    version = IndexVersion.objects.create(
        index=index,
        number=1,
        star_thresholds=[
            str(t) for t in (chosen.star_thresholds if chosen else (60, 70, 80, 90, 95))
        ],
        note=_("Made from the template “%(name)s”.") % {"name": chosen.name} if chosen else "",
    )
    if chosen:
        for d_order, dim in enumerate(chosen.dimensions):
            dimension = Dimension.objects.create(
                version=version, code=dim.code, name=dim.name, weight=dim.weight, order=d_order
            )
            for i_order, ind in enumerate(dim.indicators):
                Indicator.objects.create(
                    dimension=dimension,
                    code=ind.code,
                    name=ind.name,
                    weight=ind.weight,
                    source=IndicatorSource.METRIC if ind.metric else IndicatorSource.ENTERED,
                    metric=ind.metric,
                    unit=ind.unit,
                    floor=ind.floor,
                    target=ind.target,
                    order=i_order,
                )
        _publish(version, by)
    log_action(council=owner, actor=by, verb=ActionVerb.CREATE_INDEX, target=index.name)
    return index


def version_in_use(index: Index) -> IndexVersion | None:
    return index.versions.filter(status=VersionStatus.PUBLISHED).first()


def draft_of(index: Index) -> IndexVersion | None:
    return index.versions.filter(status=VersionStatus.DRAFT).first()


@transaction.atomic
def start_version(*, index: Index, by) -> IndexVersion:
    """A draft to change the index: a copy of the version in use, numbered next. An index has
    one draft at a time; when there is one already, it is returned."""
    index = Index.objects.select_for_update().select_related("owner").get(pk=index.pk)
    _may_manage(by, index)
    existing = draft_of(index)
    if existing is not None:
        return existing
    source = version_in_use(index)
    number = (index.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    draft = IndexVersion.objects.create(
        index=index,
        number=number,
        star_thresholds=list(source.star_thresholds) if source else ["60", "70", "80", "90", "95"],
    )
    if source is not None:
        for dimension in source.dimensions.prefetch_related("indicators"):
            copy = Dimension.objects.create(
                version=draft,
                code=dimension.code,
                name=dimension.name,
                weight=dimension.weight,
                order=dimension.order,
            )
            Indicator.objects.bulk_create(
                [
                    Indicator(
                        dimension=copy,
                        code=i.code,
                        name=i.name,
                        weight=i.weight,
                        source=i.source,
                        metric=i.metric,
                        unit=i.unit,
                        floor=i.floor,
                        target=i.target,
                        order=i.order,
                    )
                    for i in dimension.indicators.all()
                ]
            )
    return draft


@transaction.atomic
def change_version(*, version: IndexVersion, star_thresholds, note: str, by) -> IndexVersion:
    """Set a draft's star thresholds and its note of what changed."""
    version = _editable(version, by)
    version.star_thresholds = [str(t) for t in check_thresholds(star_thresholds)]
    version.note = (note or "").strip()[:300]
    version.save(update_fields=["star_thresholds", "note"])
    return version


@transaction.atomic
def add_dimension(*, version: IndexVersion, code: str, name: str, weight, by) -> Dimension:
    """A new dimension at the end of a draft."""
    version = _editable(version, by)
    code = _code(code)
    if version.dimensions.filter(code=code).exists():
        raise ValidationError({"code": _("This version already has a dimension with that code.")})
    order = (version.dimensions.aggregate(n=Max("order"))["n"] or 0) + 1
    return Dimension.objects.create(
        version=version, code=code, name=_name(name), weight=_weight(weight), order=order
    )


@transaction.atomic
def change_dimension(*, dimension: Dimension, name: str, weight, order: int, by) -> Dimension:
    """Rename, reweigh or move a dimension of a draft."""
    _editable(dimension.version, by)
    dimension.name, dimension.weight = _name(name), _weight(weight)
    dimension.order = max(0, min(int(order or 0), 1000))
    dimension.save(update_fields=["name", "weight", "order"])
    return dimension


@transaction.atomic
def remove_dimension(*, dimension: Dimension, by) -> None:
    """Remove a dimension and its indicators from a draft."""
    _editable(dimension.version, by)
    for indicator in list(dimension.indicators.all()):
        indicator.delete()
    dimension.delete()


@transaction.atomic
def add_indicator(
    *,
    dimension: Dimension,
    code: str,
    name: str,
    weight,
    source: str,
    metric: str = "",
    unit: str = "",
    floor,
    target,
    by,
) -> Indicator:
    """A new indicator at the end of a draft's dimension. Its code is unique in the version
    and keeps its entered figures from version to version."""
    version = _editable(dimension.version, by)
    code = _code(code)
    if Indicator.objects.filter(dimension__version=version, code=code).exists():
        raise ValidationError({"code": _("This version already has an indicator with that code.")})
    metric = _check_metric(source, metric)
    floor, target = _check_range(floor, target)
    order = (dimension.indicators.aggregate(n=Max("order"))["n"] or 0) + 1
    return Indicator.objects.create(
        dimension=dimension,
        code=code,
        name=_name(name),
        weight=_weight(weight),
        source=source,
        metric=metric,
        unit=(unit or "").strip()[:20],
        floor=floor,
        target=target,
        order=order,
    )


@transaction.atomic
def change_indicator(
    *,
    indicator: Indicator,
    name: str,
    weight,
    metric: str = "",
    unit: str = "",
    floor,
    target,
    order: int = 0,
    by,
) -> Indicator:
    """Change a draft's indicator (its code and source stay: remove it and add another to
    change them)."""
    _editable(indicator.dimension.version, by)
    indicator.metric = _check_metric(indicator.source, metric or indicator.metric)
    indicator.floor, indicator.target = _check_range(floor, target)
    indicator.name, indicator.weight = _name(name), _weight(weight)
    indicator.unit = (unit or "").strip()[:20]
    indicator.order = max(0, min(int(order or 0), 1000))
    indicator.save()
    return indicator


@transaction.atomic
def remove_indicator(*, indicator: Indicator, by) -> None:
    _editable(indicator.dimension.version, by)
    indicator.delete()


def check_publishable(version: IndexVersion) -> None:
    """Raise ValidationError listing what stops a draft from being published."""
    problems = []
    dimensions = list(version.dimensions.prefetch_related("indicators"))
    if not any(d.indicators.all() for d in dimensions):
        problems.append(_("Add at least one indicator."))
    for dimension in dimensions:
        if dimension.weight <= 0:
            problems.append(_("“%(name)s” needs a weight above 0.") % {"name": dimension.name})
        if not dimension.indicators.all():
            problems.append(
                _("The dimension “%(name)s” has no indicator: add one or remove it.")
                % {"name": dimension.name}
            )
        for indicator in dimension.indicators.all():
            if indicator.weight <= 0:
                problems.append(_("“%(name)s” needs a weight above 0.") % {"name": indicator.name})
            if indicator.source == IndicatorSource.METRIC and indicator.metric not in METRICS:
                problems.append(
                    _("“%(name)s” reads a figure Yishi does not have: choose another.")
                    % {"name": indicator.name}
                )
    try:
        check_thresholds(version.star_thresholds)
    except ValidationError as error:
        problems.extend(error.messages)
    if problems:
        raise ValidationError(problems)


def _publish(version: IndexVersion, by) -> None:
    now = timezone.now()
    IndexVersion.objects.filter(index=version.index, status=VersionStatus.PUBLISHED).update(
        status=VersionStatus.RETIRED
    )
    version.status, version.published_at, version.published_by = (
        VersionStatus.PUBLISHED,
        now,
        by,
    )
    version.save(update_fields=["status", "published_at", "published_by"])


@transaction.atomic
def publish_version(*, version: IndexVersion, by) -> IndexVersion:
    """Put a draft in use: it is checked (weights above 0, known metrics, thresholds going up
    within 0-100, at least one indicator), the version in use becomes replaced, and its scores
    stay as they were computed. The sweep scores the new version."""
    version = _editable(version, by)
    check_publishable(version)
    _publish(version, by)
    log_action(
        council=version.index.owner,
        actor=by,
        verb=ActionVerb.PUBLISH_INDEX,
        target=f"{version.index.name} v{version.number}",
        reason=version.note,
    )
    return version


@transaction.atomic
def discard_version(*, version: IndexVersion, by) -> None:
    """Throw a draft away (nothing was ever scored with it)."""
    version = _editable(version, by)
    for indicator in Indicator.objects.filter(dimension__version=version):
        indicator.delete()
    for dimension in version.dimensions.all():
        dimension.delete()
    version.delete()


# -- entered figures -----------------------------------------------------------------------------


def _check_note(note: str) -> str:
    note = (note or "").strip()
    kind = identity_kind(note)
    if kind == "id":
        raise ValidationError(
            {"note": _("Remove the ID card number: figures are published and never keep one.")}
        )
    if kind == "mobile":
        raise ValidationError(
            {"note": _("Remove the phone number: the note is published with the figure.")}
        )
    if len(note) > 300:
        raise ValidationError({"note": _("A note has at most 300 characters.")})
    return note


def _check_url(url: str) -> str:
    url = (url or "").strip()
    if not url:
        return ""
    if len(url) > 500:
        raise ValidationError({"evidence_url": _("A link has at most 500 characters.")})
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise ValidationError(
            {"evidence_url": _("Give a web address starting with http:// or https://.")}
        ) from None
    return url


def clean_evidence_file(upload) -> File | None:
    """A PDF, JPEG or PNG of at most MAX_EVIDENCE_MB, checked by its first bytes; photos are
    re-encoded without their metadata. Returns what to store (None for no file)."""
    if not upload:
        return None
    name = getattr(upload, "name", "") or ""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in EVIDENCE_TYPES:
        raise ValidationError({"evidence_file": _("Evidence is a PDF, a JPG or a PNG file.")})
    if not upload.size:
        raise ValidationError({"evidence_file": _("The file is empty.")})
    if upload.size > MAX_EVIDENCE_MB * 1024 * 1024:
        raise ValidationError(
            {"evidence_file": _("The file is larger than %(mb)s MB.") % {"mb": MAX_EVIDENCE_MB}}
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if not any(head.startswith(sig) for sig in EVIDENCE_TYPES[extension]):
        raise ValidationError(
            {
                "evidence_file": _("This file is not really a %(ext)s file.")
                % {"ext": extension.upper()}
            }
        )
    if extension == "pdf":
        upload.name = "evidence.pdf"  # only the extension reaches the storage
        return upload
    try:
        return clean_photo(upload, max_bytes=MAX_EVIDENCE_MB * 1024 * 1024)
    except ValidationError as error:
        raise ValidationError({"evidence_file": error.messages}) from error


def _check_period(period_kind: str, period_start) -> datetime.date:
    if period_kind not in PeriodKind.values:
        raise ValidationError({"period_kind": _("Choose a month or a quarter.")})
    if not isinstance(period_start, datetime.date):
        raise ValidationError({"period_start": _("Choose the period.")})
    start = period_start_of(period_kind, period_start)
    if start > timezone.localdate():
        raise ValidationError(
            {"period_start": _("This period has not started: enter its figure once it has.")}
        )
    if start.year < 2000:
        raise ValidationError({"period_start": _("Choose a period from 2000 on.")})
    return start


def entered_indicator(index: Index, code: str) -> Indicator:
    """The entered indicator `code` of the version in use, or ValidationError."""
    indicator = (
        Indicator.objects.filter(
            dimension__version__index=index,
            dimension__version__status=VersionStatus.PUBLISHED,
            code=code,
        )
        .select_related("dimension")
        .first()
    )
    if indicator is None or indicator.source != IndicatorSource.ENTERED:
        raise ValidationError(
            {"code": _("The index in use has no indicator with this code that is entered by hand.")}
        )
    return indicator


def _check_council(index: Index, council: CouncilPage, by) -> None:
    if council.level != Level.VILLAGE:
        raise ValidationError({"council": _("Figures are entered for villages and communities.")})
    if not council.path.startswith(index.owner.path) or council.pk == index.owner.pk:
        raise ValidationError(
            {"council": _("This village is not under the township or district of this index.")}
        )
    _require(
        by,
        "governance.enter_figure",
        council,
        _("Only officials above this village can enter its figures."),
    )


@transaction.atomic
def enter_figure(
    *,
    index: Index,
    code: str,
    council: CouncilPage,
    period_kind: str,
    period_start: datetime.date,
    value,
    evidence_file=None,
    evidence_url: str = "",
    note: str = "",
    by,
) -> EnteredFigure:
    """A draft figure of `council` for the entered indicator `code` of the version in use and
    one period (the month or quarter holding `period_start`), with a file or a link as
    evidence. Officials above the village see it; the owner's officials publish it."""
    index = Index.objects.select_related("owner").get(pk=index.pk)
    _check_council(index, council, by)
    entered_indicator(index, code)
    start = _check_period(period_kind, period_start)
    value = _decimal(value, "value", label=_("The value"))
    note = _check_note(note)
    url = _check_url(evidence_url)
    stored = clean_evidence_file(evidence_file)
    if stored is None and not url:
        raise ValidationError(
            {"evidence_url": _("Add the evidence: a file (PDF, JPG, PNG) or a link to it.")}
        )
    figure = EnteredFigure(
        index=index,
        code=code,
        council=council,
        council_path=council.path,
        period_kind=period_kind,
        period_start=start,
        value=value,
        evidence_url=url,
        note=note,
        entered_by=by,
    )
    if stored is not None:
        figure.evidence_file = stored
    figure.save()
    return figure


def _locked_figure(figure: EnteredFigure) -> EnteredFigure:
    return (
        EnteredFigure.objects.select_for_update()
        .select_related("index__owner", "council")
        .get(pk=figure.pk)
    )


@transaction.atomic
def change_figure(
    *,
    figure: EnteredFigure,
    value,
    evidence_file=None,
    evidence_url: str | None = None,
    note: str = "",
    by,
) -> EnteredFigure:
    """Change a draft figure's value, evidence or note (a published one: `correct_figure`).
    Evidence not given again stays as it was."""
    figure = _locked_figure(figure)
    _require(
        by,
        "governance.enter_figure",
        figure,
        _("Only officials above this village can change its figures."),
    )
    if figure.is_published:
        raise ValidationError(
            _("This figure is published and never changes: enter a correction instead.")
        )
    figure.value = _decimal(value, "value", label=_("The value"))
    figure.note = _check_note(note)
    if evidence_url is not None:
        figure.evidence_url = _check_url(evidence_url)
    stored = clean_evidence_file(evidence_file)
    if stored is not None:
        figure.evidence_file = stored
    if not figure.evidence_file and not figure.evidence_url:
        raise ValidationError(
            {"evidence_url": _("Add the evidence: a file (PDF, JPG, PNG) or a link to it.")}
        )
    figure.save()
    return figure


@transaction.atomic
def publish_figure(*, figure: EnteredFigure, by) -> EnteredFigure:
    """Publish a draft figure: everyone sees it, and scores read it from the next recompute."""
    figure = _locked_figure(figure)
    _require(
        by,
        "governance.publish_figure",
        figure,
        _("Only officials of the township or district that owns the index publish its figures."),
    )
    if figure.is_published:
        raise ValidationError(_("This figure is published already."))
    figure.status, figure.published_at, figure.published_by = (
        FigureStatus.PUBLISHED,
        timezone.now(),
        by,
    )
    figure.save(update_fields=["status", "published_at", "published_by"])
    return figure


@transaction.atomic
def correct_figure(
    *,
    published: EnteredFigure,
    value,
    evidence_file=None,
    evidence_url: str | None = None,
    note: str = "",
    by,
) -> EnteredFigure:
    """A draft that corrects a published figure: once published, it is the figure scores read;
    the published one stays as it was, pointed to. Evidence not given is the old one's."""
    published = _locked_figure(published)
    _require(
        by,
        "governance.enter_figure",
        published,
        _("Only officials above this village can correct its figures."),
    )
    if not published.is_published:
        raise ValidationError(_("This figure is a draft: change it instead of correcting it."))
    if EnteredFigure.objects.filter(supersedes=published).exists():
        raise ValidationError(
            _("This figure has a correction already: change or publish that one.")
        )
    url = published.evidence_url if evidence_url is None else _check_url(evidence_url)
    stored = clean_evidence_file(evidence_file)
    figure = EnteredFigure(
        index=published.index,
        code=published.code,
        council=published.council,
        council_path=published.council_path,
        period_kind=published.period_kind,
        period_start=published.period_start,
        value=_decimal(value, "value", label=_("The value")),
        evidence_url=url,
        note=_check_note(note),
        supersedes=published,
        entered_by=by,
    )
    if stored is not None:
        figure.evidence_file = stored
    elif published.evidence_file:
        figure.evidence_file = published.evidence_file.name  # the same stored file
    if not figure.evidence_file and not figure.evidence_url:
        raise ValidationError(
            {"evidence_url": _("Add the evidence: a file (PDF, JPG, PNG) or a link to it.")}
        )
    try:
        with transaction.atomic():
            figure.save()
    except IntegrityError:  # a correction made at the same moment
        raise ValidationError(
            _("This figure has a correction already: change or publish that one.")
        ) from None
    return figure


@transaction.atomic
def discard_figure(*, figure: EnteredFigure, by) -> None:
    """Throw a draft figure away (a published one stays for good)."""
    figure = _locked_figure(figure)
    _require(
        by,
        "governance.enter_figure",
        figure,
        _("Only officials above this village can discard its figures."),
    )
    if figure.is_published:
        raise ValidationError(_("A published figure stays: enter a correction instead."))
    figure.delete()
