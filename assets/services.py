"""The registers' use cases: draft an entry, a new version of it, its payment schedule; check a
disposal against the township's thresholds and the resolution that allows it; verify that
published versions are what their records say (docs/assets.md).

Review, sign-off and publication are the disclosure record's (disclosure.services): a version
is published when its record is.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from assets.canonical import canonical_text
from assets.models import (
    CATEGORIES,
    CODE_PREFIX,
    ContractKind,
    CounterpartyKind,
    Disposal,
    Entry,
    EntryVersion,
    Installment,
    Register,
    Threshold,
)
from core.permissions import require_perm
from councils.models import CouncilPage, Level
from disclosure import services as disclosure
from disclosure.models import Kind, Record, RecordType, Status
from disclosure.privacy import (
    check_no_identity_numbers,
    identity_kind,
    identity_message,
    mask_name,
)
from meetings.models import Motion, SessionKind

KEEPER = "assets"
# Which ledger and type of record publishes each register.
RECORD_OF = {
    Register.ASSET: (Kind.FINANCE, RecordType.ASSET_REGISTER),
    Register.RESOURCE: (Kind.FINANCE, RecordType.ASSET_REGISTER),
    Register.CONTRACT: (Kind.VILLAGE, RecordType.LAND_CONTRACT),
}
# The fields each register's versions carry; the others stay empty.
TEXT_FIELDS = {
    Register.ASSET: ("category", "location"),
    Register.RESOURCE: ("category", "location", "boundaries", "map_reference"),
    Register.CONTRACT: ("contract_kind", "counterparty_kind", "counterparty"),
}
COMMON_TEXT = ("name", "description", "change_reason", "disposal")
MONEY_FIELDS = {
    Register.ASSET: ("book_value", "disposal_value"),
    Register.RESOURCE: ("area", "disposal_value"),
    Register.CONTRACT: ("price",),
}
DATE_FIELDS = {
    Register.ASSET: ("disposed_on",),
    Register.RESOURCE: ("disposed_on",),
    Register.CONTRACT: ("starts_on", "ends_on", "disposed_on"),
}
# The kinds of meeting whose resolutions may allow a disposal (村民委员会组织法 第二十四条:
# the villagers' assembly decides, or the representatives' meeting it authorised).
RESOLVING_KINDS = (SessionKind.REPRESENTATIVES, SessionKind.ASSEMBLY)
DISPOSALS_OF = {
    Register.ASSET: (Disposal.SALE, Disposal.WRITE_OFF),
    Register.RESOURCE: (Disposal.SALE, Disposal.WRITE_OFF),
    Register.CONTRACT: (Disposal.LEASE, Disposal.CONTRACTING),
}


@dataclass(frozen=True)
class Problem:
    council_id: int
    version_id: int | None  # None: a published register record whose version is gone
    message: str


# --- thresholds ----------------------------------------------------------------------------------


def thresholds_for(council: CouncilPage) -> Threshold:
    """The thresholds of the council's township; without any set, the default: every disposal
    needs a resolution (an unsaved row of zeros)."""
    township = council.township()
    found = Threshold.objects.filter(township=township).first() if township else None
    return found or Threshold(township=township)


@transaction.atomic
def set_thresholds(*, township: CouncilPage, by, **values) -> Threshold:
    require_perm(
        by,
        "assets.set_thresholds",
        township,
        _("Only the township's officials set the thresholds."),
    )
    if township.level != Level.TOWNSHIP:
        raise ValidationError(_("Thresholds are set by a township or street."))
    row = Threshold.objects.select_for_update().filter(township=township).first()
    row = row or Threshold(township=township)
    for name in ("lease_amount", "sale_amount", "write_off_amount"):
        if name in values:
            setattr(row, name, _money(values[name], name, allow_none=False))
    for name in ("lease_years", "grace_days"):
        if name in values:
            value = values[name]
            if not isinstance(value, int) or not 0 <= value <= 100:
                raise ValidationError({name: _("Enter a whole number from 0 to 100.")})
            setattr(row, name, value)
    row.updated_by = by
    row.save()
    return row


def _years(start: datetime.date | None, end: datetime.date | None) -> Decimal:
    if not start or not end:
        return Decimal("0")
    return (Decimal((end - start).days) / Decimal("365.25")).quantize(Decimal("0.01"))


def resolution_needed(version: EntryVersion, thresholds: Threshold) -> str | None:
    """Why this version needs a resolution of the villagers' (representatives') meeting, in
    words, or None when it does not (no disposal, or one under every threshold)."""
    kind = version.disposal
    if not kind:
        return None
    if kind in (Disposal.LEASE, Disposal.CONTRACTING):
        price = version.price or Decimal("0")
        if price > thresholds.lease_amount:
            return _(
                "Leases and contracting above %(limit)s yuan need a resolution; this one is "
                "%(price)s yuan."
            ) % {"limit": thresholds.lease_amount, "price": price}
        years = _years(version.starts_on, version.ends_on)
        if thresholds.lease_years and years > thresholds.lease_years:
            return _(
                "Leases and contracting longer than %(limit)s years need a resolution; this one "
                "runs %(years)s years."
            ) % {"limit": thresholds.lease_years, "years": years}
        return None
    if kind == Disposal.SALE:
        value = version.disposal_value or Decimal("0")
        if value > thresholds.sale_amount:
            return _(
                "Sales above %(limit)s yuan need a resolution; this one is %(value)s yuan."
            ) % {
                "limit": thresholds.sale_amount,
                "value": value,
            }
        return None
    if kind == Disposal.WRITE_OFF:
        value = version.book_value or Decimal("0")
        if value > thresholds.write_off_amount:
            return _(
                "Write-offs above %(limit)s yuan of book value need a resolution; this one "
                "writes off %(value)s yuan."
            ) % {"limit": thresholds.write_off_amount, "value": value}
        return None
    return None


def resolution_problem(motion, council: CouncilPage, effective: datetime.date | None) -> str | None:
    """What is wrong with `motion` as the resolution allowing a disposal of `council` that takes
    effect on `effective`; None when it is a lawful, timely one."""
    session = motion.session
    if session.council_id != council.pk:
        return _("The resolution must be one of this village's own meetings.")
    if session.kind not in RESOLVING_KINDS:
        return _(
            "Only a villagers' representatives' meeting or a villagers' assembly decides on "
            "collective property."
        )
    if not (motion.is_closed and motion.passed):
        return _("This motion was not carried: it allows nothing.")
    if effective and motion.closed_at and timezone.localtime(motion.closed_at).date() > effective:
        return _("The resolution came after the disposal took effect.")
    return None


# --- drafting ------------------------------------------------------------------------------------


def next_code(council: CouncilPage, register: str) -> str:
    """The register's prefix and one more than the highest number in use (ZC-103 after ZC-102,
    whatever codes were skipped or imported)."""
    prefix = CODE_PREFIX[register]
    numbers = [
        int(code[len(prefix) + 1 :])
        for code in Entry.objects.filter(
            council=council, code__startswith=prefix + "-"
        ).values_list("code", flat=True)
        if code[len(prefix) + 1 :].isdigit()
    ]
    return f"{prefix}-{max(numbers, default=0) + 1:03d}"


def _money(value, field: str, *, allow_none: bool = True) -> Decimal | None:
    if value in (None, ""):
        if allow_none:
            return None
        raise ValidationError({field: _("Enter an amount.")})
    try:
        amount = Decimal(str(value).replace(",", "").replace("，", "").strip())
    except InvalidOperation as error:
        raise ValidationError({field: _("Enter a number, such as 12000 or 12000.50.")}) from error
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e12"):
        raise ValidationError({field: _("Enter an amount from 0 to 999,999,999,999.99.")})
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError({field: _("Use at most two decimal places (fen).")})
    return amount.quantize(Decimal("0.01"))


def _date(value, field: str) -> datetime.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value).strip())
    except ValueError as error:
        raise ValidationError({field: _("Enter a date such as 2026-03-01.")}) from error


def _apply_fields(version: EntryVersion, register: str, fields: dict) -> None:
    """Clean `fields` into `version` (a register's own fields only; the rest emptied)."""
    errors: dict[str, list[str]] = {}

    def text(name: str, limit: int) -> str:
        value = str(fields.get(name) or "").strip()
        if len(value) > limit:
            errors.setdefault(name, []).append(_("Write at most %(n)s characters.") % {"n": limit})
        return value

    version.name = text("name", 100)
    if len(version.name) < 2:
        errors.setdefault("name", []).append(_("Write a name of at least 2 characters."))
    version.description = text("description", 4000)
    version.change_reason = text("change_reason", 2000)
    own = TEXT_FIELDS[register]
    version.category = text("category", 20) if "category" in own else ""
    if register in CATEGORIES and version.category not in CATEGORIES[register].values:
        errors.setdefault("category", []).append(_("Choose a category from the list."))
    version.location = text("location", 200) if "location" in own else ""
    version.boundaries = text("boundaries", 2000) if "boundaries" in own else ""
    version.map_reference = text("map_reference", 200) if "map_reference" in own else ""
    version.contract_kind = text("contract_kind", 12) if "contract_kind" in own else ""
    version.counterparty_kind = text("counterparty_kind", 12) if "counterparty_kind" in own else ""
    counterparty = text("counterparty", 100) if "counterparty" in own else ""
    full_name = ""
    if register == Register.CONTRACT:
        if version.contract_kind not in ContractKind.values:
            errors.setdefault("contract_kind", []).append(_("Choose lease or contracting."))
        if version.counterparty_kind not in CounterpartyKind.values:
            errors.setdefault("counterparty_kind", []).append(
                _("Say whether the counterparty is a person or an organisation.")
            )
        if len(counterparty) < 2:
            errors.setdefault("counterparty", []).append(_("Name the counterparty."))
        # A person's name is kept only masked, as on welfare lists: it is published for good.
        if version.counterparty_kind == CounterpartyKind.PERSON:
            # A number typed with the name is refused, not masked away unseen.
            kind = identity_kind(counterparty)
            if kind:
                errors.setdefault("counterparty", []).append(identity_message(kind))
            full_name = counterparty
            counterparty = mask_name(counterparty)
    version.counterparty = counterparty
    # Nor may the full name stand in a field that is published as written.
    if full_name and full_name != counterparty:
        for name in ("name", "description", "change_reason"):
            if full_name in getattr(version, name):
                errors.setdefault(name, []).append(
                    _(
                        "Write the person's name only as the counterparty, where it is kept "
                        "masked (%(masked)s): here it would be published in full."
                    )
                    % {"masked": counterparty}
                )
    for name in ("book_value", "area", "price", "disposal_value"):
        try:
            value = _money(fields.get(name), name) if name in MONEY_FIELDS[register] else None
        except ValidationError as error:
            errors.setdefault(name, []).extend(error.message_dict[name])
            value = None
        setattr(version, name, value)
    for name in ("starts_on", "ends_on", "disposed_on"):
        try:
            value = _date(fields.get(name), name) if name in DATE_FIELDS[register] else None
        except ValidationError as error:
            errors.setdefault(name, []).extend(error.message_dict[name])
            value = None
        setattr(version, name, value)
    if register == Register.CONTRACT:
        version.disposal = version.contract_kind if not errors.get("contract_kind") else ""
        if version.price is None and "price" not in errors:
            errors.setdefault("price", []).append(_("Enter the total price."))
        if not version.starts_on and "starts_on" not in errors:
            errors.setdefault("starts_on", []).append(_("Enter the first day of the term."))
        if not version.ends_on and "ends_on" not in errors:
            errors.setdefault("ends_on", []).append(_("Enter the last day of the term."))
        if version.starts_on and version.ends_on and version.ends_on < version.starts_on:
            errors.setdefault("ends_on", []).append(_("The term ends before it starts."))
        version.disposed_on = version.disposed_on or version.starts_on
        subject = fields.get("subject")
        version.subject = subject if isinstance(subject, Entry) else None
        if subject is not None and not isinstance(subject, Entry):
            errors.setdefault("subject", []).append(_("Choose an asset or resource."))
    else:
        version.disposal = text("disposal", 12)
        if version.disposal and version.disposal not in DISPOSALS_OF[register]:
            errors.setdefault("disposal", []).append(_("Choose sale or write-off, or nothing."))
        if version.disposal and not version.disposed_on and "disposed_on" not in errors:
            errors.setdefault("disposed_on", []).append(
                _("Enter the day the disposal takes effect.")
            )
        if version.disposal == Disposal.SALE and version.disposal_value is None:
            errors.setdefault("disposal_value", []).append(_("Enter the price of the sale."))
        if register == Register.ASSET and version.book_value is None:
            errors.setdefault("book_value", []).append(_("Enter the book value."))
        if register == Register.RESOURCE and version.area is None:
            errors.setdefault("area", []).append(_("Enter the area in mu."))
    resolution = fields.get("resolution")
    if resolution is not None and not isinstance(resolution, Motion):
        errors.setdefault("resolution", []).append(_("Choose a motion of this village."))
    version.resolution = resolution if isinstance(resolution, Motion) else None
    if errors:
        raise ValidationError(errors)
    check_no_identity_numbers(
        name=version.name,
        description=version.description,
        change_reason=version.change_reason,
        location=version.location,
        boundaries=version.boundaries,
        map_reference=version.map_reference,
        counterparty=version.counterparty,
        # The canonical text cites the resolution's session and title: published too.
        resolution=(
            f"{version.resolution.session.title} {version.resolution.title}"
            if version.resolution is not None
            else ""
        ),
    )


def _clean_installments(version: EntryVersion, installments) -> list[tuple[datetime.date, Decimal]]:
    """(due date, amount) pairs: within the term, adding up to the total price."""
    rows = []
    errors = []
    for n, (due, amount) in enumerate(installments, start=1):
        try:
            due = _date(due, "due_on")
            amount = _money(amount, "amount", allow_none=False)
        except ValidationError as error:
            errors += [
                _("Payment %(n)s: %(problem)s") % {"n": n, "problem": m} for m in error.messages
            ]
            continue
        if due is None:
            errors.append(_("Payment %(n)s: enter the day it is due.") % {"n": n})
            continue
        if amount <= 0:
            errors.append(_("Payment %(n)s: the amount must be more than 0.") % {"n": n})
            continue
        if (
            version.starts_on
            and version.ends_on
            and not version.starts_on <= due <= version.ends_on
        ):
            errors.append(_("Payment %(n)s is due outside the contract's term.") % {"n": n})
            continue
        rows.append((due, amount))
    if errors:
        raise ValidationError({"installments": errors})
    total = sum((amount for _due, amount in rows), Decimal("0"))
    if rows and version.price is not None and total != version.price:
        raise ValidationError(
            {
                "installments": _(
                    "The payments due add up to %(total)s yuan, but the total price is "
                    "%(price)s yuan."
                )
                % {"total": total, "price": version.price}
            }
        )
    return sorted(rows)


def _check_disposal(version: EntryVersion, *, after_the_fact: bool, today: datetime.date) -> None:
    """Refuse a disposal that needs a resolution and has no lawful, timely one, unless it is
    recorded after the fact, which marks it irregular; clear the mark otherwise."""
    version.irregular, version.irregular_reason = False, ""
    council = version.entry.council
    thresholds = thresholds_for(council)
    needed = resolution_needed(version, thresholds)
    problem = None
    if version.resolution is not None:
        # Not a lawful resolution at all (another village's, lost, a Party meeting's): refused
        # outright. A lawful one that came too late leaves the disposal without a timely one.
        invalid = resolution_problem(version.resolution, council, None)
        if invalid:
            raise ValidationError({"resolution": invalid})
        problem = resolution_problem(version.resolution, council, version.disposed_on)
    if not needed or (version.resolution is not None and problem is None):
        return
    if not after_the_fact:
        raise ValidationError(
            {
                "resolution": (problem or needed)
                + " "
                + _(
                    "Put it to the villagers' representatives' meeting first; a disposal that "
                    "already happened without one can only be recorded after the fact, and is "
                    "then shown as irregular."
                )
            }
        )
    if version.disposed_on is None or version.disposed_on > today:
        raise ValidationError(
            {
                "disposed_on": _(
                    "Only a disposal that has already taken effect can be recorded after the "
                    "fact. This one has not: put it to the meeting first."
                )
            }
        )
    version.irregular = True
    # Published and hashed for good: in the village's language, whoever drafted it.
    with translation.override("zh-hans"):
        reason = (
            resolution_problem(version.resolution, council, version.disposed_on)
            if version.resolution is not None
            else None
        ) or resolution_needed(version, thresholds)
        version.irregular_reason = f"{reason} " + _(
            "Recorded after the fact without a timely resolution of the villagers' "
            "(representatives') meeting."
        )


def _write_record(version: EntryVersion, by, installments) -> None:
    title = f"{version.entry.code} {version.name}"
    if version.number > 1:
        title += " " + _("(version %(n)s)") % {"n": version.number}
    version.record = disclosure.rewrite_managed_record(
        record=version.record, by=by, title=title[:200], body=canonical_text(version, installments)
    )


@transaction.atomic
def draft_entry(
    *,
    council: CouncilPage,
    by,
    register: str,
    fields: dict,
    code: str = "",
    installments=(),
    after_the_fact: bool = False,
) -> EntryVersion:
    """The committee adds an entry to one of the village's registers: its first version, a
    draft until its record is reviewed and published."""
    require_perm(by, "assets.add_entry", council, _("Only the committee keeps the registers."))
    if council.level != Level.VILLAGE:
        raise ValidationError(_("Only villages and communities keep registers."))
    if register not in Register.values:
        raise ValidationError({"register": _("Choose assets, resources or contracts.")})
    code = (code or "").strip().upper() or next_code(council, register)
    if len(code) > 30 or not all(c.isalnum() or c in "-_/" for c in code):
        raise ValidationError({"code": _("Use letters, digits and hyphens, at most 30.")})
    check_no_identity_numbers(code=code)
    if Entry.objects.filter(council=council, code=code).exists():
        raise ValidationError(
            {"code": _("This village already has an entry %(code)s.") % {"code": code}}
        )
    entry = Entry.objects.create(council=council, register=register, code=code)
    return _new_version(entry, by, fields, installments, after_the_fact, corrects=None)


@transaction.atomic
def draft_version(
    *, entry: Entry, by, fields: dict, installments=(), after_the_fact: bool = False
) -> EntryVersion:
    """A new version of a published entry (the register never edits what was published). Its
    record corrects the previous version's; `fields["change_reason"]` says what changed."""
    require_perm(
        by, "assets.add_entry", entry.council, _("Only the committee keeps the registers.")
    )
    entry = Entry.objects.select_for_update().get(pk=entry.pk)
    latest = entry.versions.select_related("record").order_by("-number").first()
    if latest is None or latest.record.status != Status.PUBLISHED:
        raise ValidationError(
            _("The latest version is still a draft: change that draft instead of adding one.")
        )
    if len(str(fields.get("change_reason") or "").strip()) < 2:
        raise ValidationError({"change_reason": _("Say what changed and why.")})
    return _new_version(entry, by, fields, installments, after_the_fact, corrects=latest.record)


def _new_version(entry, by, fields, installments, after_the_fact, *, corrects) -> EntryVersion:
    number = (entry.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = EntryVersion(entry=entry, number=number, created_by=by)
    _apply_fields(version, entry.register, fields)
    rows = _clean_installments(version, installments) if entry.register == Register.CONTRACT else []
    _check_disposal(version, after_the_fact=after_the_fact, today=timezone.localdate())
    kind, record_type = RECORD_OF[entry.register]
    version.record = disclosure.draft_managed_record(
        council=entry.council,
        by=by,
        keeper=KEEPER,
        kind=kind,
        record_type=record_type,
        title=f"{entry.code} {version.name}"[:200],
        body=".",
        corrects=corrects,
        reason=version.change_reason,
    )
    version.save()
    Installment.objects.bulk_create(
        Installment(version=version, due_on=due, amount=amount) for due, amount in rows
    )
    _write_record(version, by, rows)
    return version


@transaction.atomic
def update_version(
    *,
    version: EntryVersion,
    by,
    fields: dict,
    installments=None,
    after_the_fact: bool = False,
) -> EntryVersion:
    """Change a draft version (and its schedule, when `installments` is given)."""
    version = (
        EntryVersion.objects.select_for_update()
        .select_related("entry", "record")
        .get(pk=version.pk)
    )
    require_perm(
        by,
        "assets.change_version",
        version,
        _("Only the committee changes a draft; a published entry changes by a new version."),
    )
    register = version.entry.register
    _apply_fields(version, register, fields)
    if version.number > 1 and len(version.change_reason) < 2:
        raise ValidationError({"change_reason": _("Say what changed and why.")})
    if register == Register.CONTRACT:
        if installments is None:
            installments = [(i.due_on, i.amount) for i in version.installments.all()]
        rows = _clean_installments(version, installments)
    else:
        rows = []
    _check_disposal(version, after_the_fact=after_the_fact, today=timezone.localdate())
    version.save()
    version.installments.all().delete()
    Installment.objects.bulk_create(
        Installment(version=version, due_on=due, amount=amount) for due, amount in rows
    )
    _write_record(version, by, rows)
    return version


@transaction.atomic
def submit_version(*, version: EntryVersion, by) -> EntryVersion:
    """Hand the draft to the supervisory committee (its record's review). The disposal is
    checked again: a resolution, or the thresholds, may have changed since it was drafted."""
    version = EntryVersion.objects.select_related("entry", "record").get(pk=version.pk)
    require_perm(by, "assets.change_version", version, _("Only the committee submits drafts."))
    after_the_fact = version.irregular
    _check_disposal(version, after_the_fact=after_the_fact, today=timezone.localdate())
    version.save()
    rows = [(i.due_on, i.amount) for i in version.installments.all()]
    _write_record(version, by, rows)
    disclosure.submit_for_review(record=version.record, by=by, keeper=KEEPER)
    return version


# --- reading -------------------------------------------------------------------------------------


def current_versions(council: CouncilPage, register: str | None = None):
    """The latest published version of each entry of the council (of one register)."""
    newest = (
        EntryVersion.objects.filter(entry=OuterRef("entry"), record__status=Status.PUBLISHED)
        .order_by("-number")
        .values("pk")[:1]
    )
    qs = EntryVersion.objects.filter(entry__council=council, pk=Subquery(newest))
    if register:
        qs = qs.filter(entry__register=register)
    return qs.select_related("entry", "record").order_by("entry__code")


# What a register's versions may carry besides COMMON_TEXT and the resolution; a stray value
# (put there behind the ORM's back) is not in the canonical text, so it is looked for here.
CARRIED = {
    register: {*TEXT_FIELDS[register], *MONEY_FIELDS[register], *DATE_FIELDS[register]}
    | ({"subject", "installments"} if register == Register.CONTRACT else set())
    for register in Register.values
}
ALL_CARRIED = set().union(*CARRIED.values())


def _stray_fields(version: EntryVersion) -> list[str]:
    register = version.entry.register
    values = {name: getattr(version, name) for name in ALL_CARRIED - {"subject", "installments"}}
    values["subject"] = version.subject_id
    values["installments"] = list(version.installments.all())
    stray = [n for n in sorted(ALL_CARRIED - CARRIED.get(register, set())) if values[n]]
    # A contract's disposal is its kind (a lease or contracting), nothing else.
    if register == Register.CONTRACT and version.disposal != version.contract_kind:
        stray.append("disposal")
    return stray


def verify_registers(*, council_id: int) -> list[Problem]:
    """Every published version of the council renders to its record's body, carries nothing
    its register does not, and is published by a record of its own council; every published
    register record of the council still has its version. A row changed, moved or deleted
    behind the ORM's back (raw SQL, a database reader turned writer) does not pass."""
    problems = []
    versions = (
        EntryVersion.objects.filter(entry__council_id=council_id, record__status=Status.PUBLISHED)
        .select_related("entry", "record", "subject", "resolution__session")
        .prefetch_related("installments")
        .order_by("pk")
    )
    for version in versions.iterator(chunk_size=500):
        where = {"code": version.entry.code, "n": version.number}
        if canonical_text(version).strip() != version.record.body:
            problems.append(
                Problem(
                    council_id,
                    version.pk,
                    _("%(code)s version %(n)s differs from the record that published it.") % where,
                )
            )
        elif stray := _stray_fields(version):
            problems.append(
                Problem(
                    council_id,
                    version.pk,
                    _("%(code)s version %(n)s carries what its register does not: %(fields)s.")
                    % {**where, "fields": ", ".join(stray)},
                )
            )
        if version.record.council_id != council_id:
            problems.append(
                Problem(
                    council_id,
                    version.pk,
                    _("%(code)s version %(n)s was published by another council's record.") % where,
                )
            )
    orphans = (
        Record.objects.filter(council_id=council_id, managed_by=KEEPER, status=Status.PUBLISHED)
        .exclude(register_version__entry__council_id=council_id)
        .order_by("pk")
        .values_list("pk", "title")
    )
    for record_id, title in orphans:
        problems.append(
            Problem(
                council_id,
                None,
                _("Record #%(id)s 「%(title)s」 published a register entry that is gone or moved.")
                % {"id": record_id, "title": title},
            )
        )
    return problems
