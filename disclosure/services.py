"""Use cases of the three openings: draft, review, publish, correct, question, verify.

Every function checks the permission of `by` itself (views call them, and so may commands and
tests), works inside one transaction, locks the record row where two people can act at once, and
records each step in the append-only RecordEvent history. The people concerned are told in the
same transaction (notifications.services.notify), never the one who acted.
"""

import datetime
import hashlib
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from core import tasks as core_tasks
from core.models import TaskRun
from core.permissions import require_perm as _require
from core.uploads import check_zip_archive, clean_photo
from councils.models import CouncilPage, Level, Membership, Role
from councils.predicates import roles_in
from disclosure import excel, linecheck
from disclosure.hashchain import ChainReport, append_to_chain
from disclosure.hashchain import verify_chain as _verify_chain
from disclosure.journal import journal_answer, journal_event, journal_question
from disclosure.models import (
    LINE_ITEM_TYPES,
    PREPARING_ACTIONS,
    TYPES_BY_KIND,
    WELFARE_TYPES,
    Action,
    Attachment,
    ImmutableRecordError,
    ImportBatch,
    ImportStatus,
    Kind,
    LineItem,
    PeriodKind,
    Question,
    Record,
    RecordEvent,
    Status,
)
from disclosure.privacy import check_no_identity_numbers, mask_name
from disclosure.rules import PUBLISHED, STATE, refusal
from disclosure.schedule import period_containing
from disclosure.selectors import funded_project_ids
from notifications.kinds import Kind as Notice
from notifications.services import followers, notify

DISCLOSING_LEVELS = {Level.VILLAGE}

# What an attachment may be, recognised by its first bytes, not only by its name.
ALLOWED_UPLOADS = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
}


def max_upload_bytes() -> int:
    return int(getattr(settings, "YISHI_DISCLOSURE_MAX_UPLOAD_MB", 10)) * 1024 * 1024


def question_deadline_days() -> int:
    return int(getattr(settings, "YISHI_QUESTION_DEADLINE_DAYS", 10))


# --- checks shared by the services ----------------------------------------------------------


def _role_label(by, council) -> str:
    """The role someone acted in, for the public history (a role, not a person)."""
    roles = roles_in(by, council)
    for role in (Role.SUPERVISOR, Role.COMMITTEE, Role.OFFICIAL, Role.RESIDENT):
        if role in roles:
            return role
    return ""


def _event(record: Record, *, action: str, by, reason: str = "") -> RecordEvent:
    """Keep a step in the record's history and append it to the council's journal."""
    event = RecordEvent.objects.create(
        record=record,
        action=action,
        actor=by,
        actor_number=getattr(by, "pk", None),
        actor_role=_role_label(by, record.council),
        reason=reason,
    )
    journal_event(event, record.council_id)
    return event


def preparer_ids(record: Record) -> set[int]:
    """Everyone who prepared the record: drafted, edited, added or removed lines or files, or
    submitted it (from its history). None of them may sign it off."""
    ids = set(
        RecordEvent.objects.filter(record=record, action__in=PREPARING_ACTIONS)
        .exclude(actor__isnull=True)
        .values_list("actor_id", flat=True)
    )
    if record.created_by_id:
        ids.add(record.created_by_id)
    return ids


def signer_ids(record: Record) -> set[int]:
    """Everyone who signed the record off (in any round of review). None of them publishes it."""
    return set(
        RecordEvent.objects.filter(record=record, action=Action.SIGNED_OFF)
        .exclude(actor__isnull=True)
        .values_list("actor_id", flat=True)
    )


def _locked(record: Record) -> Record:
    # of=("self",): lock the record row only, never the council's page rows joined in.
    return (
        Record.objects.select_for_update(of=("self",)).select_related("council").get(pk=record.pk)
    )


def _refuse_unless_allowed(by, action: str, record: Record) -> None:
    """Raise what disclosure.rules.refusal says, in its words (the ones views show)."""
    found = refusal(by, action, record)
    if found:
        kind, words = found
        raise {PUBLISHED: ImmutableRecordError, STATE: ValidationError}.get(kind, PermissionDenied)(
            words
        )


def clean_period(period_kind: str, start: datetime.date, end: datetime.date | None):
    """Check the period against its kind; fill in the end of a month or quarter."""
    if period_kind not in PeriodKind.values:
        raise ValidationError({"period_kind": _("Choose month, quarter or ad hoc.")})
    if start is None:
        raise ValidationError({"period_start": _("Give the first day of the period.")})
    if period_kind in (PeriodKind.MONTH, PeriodKind.QUARTER):
        period = period_containing(period_kind, start)
        if start != period.start:
            message = (
                _("A monthly period starts on the first day of a month.")
                if period_kind == PeriodKind.MONTH
                else _("A quarter starts on 1 January, 1 April, 1 July or 1 October.")
            )
            raise ValidationError({"period_start": message})
        if end is not None and end != period.end:
            raise ValidationError(
                {"period_end": _("This period ends on %(end)s.") % {"end": period.end}}
            )
        return period.start, period.end
    end = end or start
    if end < start:
        raise ValidationError({"period_end": _("The period cannot end before it starts.")})
    return start, end


def _clean_record_fields(*, kind, record_type, title, body) -> tuple[str, str]:
    if kind not in Kind.values:
        raise ValidationError({"kind": _("Choose Party affairs, village affairs or finance.")})
    if record_type not in TYPES_BY_KIND[kind]:
        raise ValidationError(
            {
                "record_type": _("This type of record does not belong to %(kind)s.")
                % {"kind": Kind(kind).label}
            }
        )
    title, body = (title or "").strip(), (body or "").strip()
    if len(title) < 2:
        raise ValidationError({"title": _("Write a title of at least 2 characters.")})
    # Every record, not only welfare lists: what is published is hashed and kept for good.
    check_no_identity_numbers(title=title, body=body)
    return title, body


# --- telling people ----------------------------------------------------------------------------

VIEW_RECORD = "disclosure.view_record"


def _holders(record: Record, role: str) -> list[int]:
    """Ids of the people holding `role` in the record's council (committee and supervisory
    committee are the council's own: these roles do not carry down from above)."""
    return list(
        Membership.objects.verified()
        .filter(council_id=record.council_id, role=role)
        .values_list("user_id", flat=True)
    )


def _tell(
    kind: str,
    record: Record,
    *,
    recipients,
    event_key: str,
    by=None,
    permission: str = VIEW_RECORD,
    **params,
) -> None:
    """Tell `recipients` (ids) of an event on `record`, linking to its page; never `by`, and only
    those whom `permission` on the record lets know (by default: those who may see it)."""
    actor = getattr(by, "pk", None)
    notify(
        kind=kind,
        recipients=[pk for pk in recipients if pk is not None and pk != actor],
        event_key=event_key,
        url=record.get_absolute_url(),
        council=record.council,
        params={"title": record.title, **params},
        obj=record,
        permission=permission,
    )


def _question_audience(question: Question) -> list[int]:
    """Who hears what becomes of a question: the asker, the committee (who answer) and the
    supervisory committee (who watch that they do)."""
    record = question.record
    return [
        question.asked_by_id,
        *_holders(record, Role.COMMITTEE),
        *_holders(record, Role.SUPERVISOR),
    ]


# --- drafting ----------------------------------------------------------------------------------


@transaction.atomic
def draft_record(
    *,
    council: CouncilPage,
    by,
    kind: str,
    record_type: str,
    period_kind: str,
    period_start: datetime.date,
    period_end: datetime.date | None = None,
    title: str,
    body: str = "",
) -> Record:
    """A committee member starts a new record in one of the council's three ledgers."""
    _require(by, "disclosure.add_record", council, _("Only the committee drafts disclosures."))
    if council.level not in DISCLOSING_LEVELS:
        raise ValidationError(_("Only villages and communities keep the three ledgers."))
    title, body = _clean_record_fields(kind=kind, record_type=record_type, title=title, body=body)
    period_start, period_end = clean_period(period_kind, period_start, period_end)
    record = Record.objects.create(
        council=council,
        kind=kind,
        record_type=record_type,
        period_kind=period_kind,
        period_start=period_start,
        period_end=period_end,
        title=title,
        body=body,
        created_by=by,
    )
    _event(record, action=Action.DRAFTED, by=by)
    return record


def _change_action(record: Record) -> str:
    return "disclosure.change_managed_record" if record.managed_by else "disclosure.change_record"


@transaction.atomic
def draft_managed_record(
    *,
    council: CouncilPage,
    by,
    keeper: str,
    kind: str,
    record_type: str,
    title: str,
    body: str,
    corrects: Record | None = None,
    reason: str = "",
) -> Record:
    """A record whose text another app keeps (`keeper`, e.g. "assets": a register entry's
    version). An ad-hoc record of today; a later version corrects the earlier one's record.
    Review, sign-off, publication, the chain and questions are every record's."""
    _require(by, "disclosure.add_record", council, _("Only the committee drafts disclosures."))
    if council.level not in DISCLOSING_LEVELS:
        raise ValidationError(_("Only villages and communities keep the three ledgers."))
    title, body = _clean_record_fields(kind=kind, record_type=record_type, title=title, body=body)
    if corrects is not None:
        corrects = _locked(corrects)
        if not corrects.is_published or corrects.corrections.exists():
            raise ValidationError(
                _("Only the latest published version can be followed by a new one.")
            )
    today = timezone.localdate()
    record = Record.objects.create(
        council=council,
        kind=kind,
        record_type=record_type,
        period_kind=PeriodKind.AD_HOC,
        period_start=today,
        period_end=today,
        title=title,
        body=body,
        managed_by=keeper,
        corrects=corrects,
        correction_reason=reason if corrects is not None else "",
        created_by=by,
    )
    _event(record, action=Action.DRAFTED, by=by, reason=reason)
    return record


@transaction.atomic
def rewrite_managed_record(*, record: Record, by, title: str, body: str) -> Record:
    """The keeping app changed its draft: the record's title and text follow."""
    record = _locked(record)
    _refuse_unless_allowed(by, "disclosure.change_managed_record", record)
    title, body = _clean_record_fields(
        kind=record.kind, record_type=record.record_type, title=title, body=body
    )
    if (record.title, record.body) != (title, body):
        record.title, record.body = title, body
        record.save()
        _event(record, action=Action.EDITED, by=by)
    return record


@transaction.atomic
def update_draft(
    *,
    record: Record,
    by,
    record_type: str,
    period_kind: str,
    period_start: datetime.date,
    period_end: datetime.date | None = None,
    title: str,
    body: str = "",
) -> Record:
    """Change a draft's text, type or period. The kind (ledger) never changes."""
    record = _locked(record)
    _refuse_unless_allowed(by, "disclosure.change_record", record)
    title, body = _clean_record_fields(
        kind=record.kind, record_type=record_type, title=title, body=body
    )
    if record.lines.exists() and record_type not in LINE_ITEM_TYPES:
        raise ValidationError(
            {"record_type": _("Remove the lines first: this type of record has no lines.")}
        )
    if record.corrects_id and (
        record_type != record.record_type
        or (period_kind, period_start) != (record.period_kind, record.period_start)
    ):
        raise ValidationError(
            _("A correction keeps the type and period of the record it corrects.")
        )
    record.period_start, record.period_end = clean_period(period_kind, period_start, period_end)
    record.record_type, record.period_kind = record_type, period_kind
    record.title, record.body = title, body
    record.save()
    _event(record, action=Action.EDITED, by=by)
    return record


@transaction.atomic
def add_line_item(
    *,
    record: Record,
    by,
    date: datetime.date,
    description: str,
    income=None,
    expense=None,
    voucher_number: str = "",
    account: str = "",
    counterparty: str = "",
    project: int | None = None,
    person_name: str = "",
) -> LineItem:
    """Add one line to a draft's account or welfare list: exactly one of income or expense.

    `project` (a proposal id) books the line against a funded micro-project of the council.
    On a welfare list `person_name` (or, failing it, the counterparty, which there names the
    person) is required and kept only in its masked form (王*英).
    """
    record = _locked(record)
    _refuse_unless_allowed(by, "disclosure.change_record", record)
    if record.record_type not in LINE_ITEM_TYPES:
        raise ValidationError(_("Only financial records and welfare lists have lines."))
    project = getattr(project, "pk", project)
    # The same rules, in the same words, as the line form and the spreadsheet import.
    values, problems = linecheck.read_line(
        date=date,
        description=description or "",
        income=income,
        expense=expense,
        voucher=voucher_number or "",
        account=account or "",
        counterparty=counterparty or "",
        project=project,
        period_start=record.period_start,
        period_end=record.period_end,
        funded_projects=funded_project_ids(record.council) if project is not None else (),
    )
    if problems:
        raise ValidationError(linecheck.errors_by_field(problems))
    date, description, project = values["date"], values["description"], values["project"]
    income, expense = values["income"] or Decimal("0"), values["expense"] or Decimal("0")
    voucher_number, account = values["voucher"], values["account"]
    counterparty, person_name = values["counterparty"], (person_name or "").strip()
    check_no_identity_numbers(person_name=person_name)
    if record.record_type in WELFARE_TYPES:
        if not person_name:  # the counterparty of a welfare line is the person on the list
            person_name, counterparty = counterparty, ""
        if not person_name:
            raise ValidationError(
                {"person_name": _("Write the name of the person on the list (only 王*英 is kept).")}
            )
        if len(person_name) > 20:
            raise ValidationError({"person_name": _("A name has at most 20 characters.")})
        person_name, counterparty = mask_name(person_name), mask_name(counterparty)
    elif person_name:
        raise ValidationError(
            {"person_name": _("Only welfare lists have a name column; use the description.")}
        )
    position = (record.lines.aggregate(n=Max("position"))["n"] or 0) + 1
    line = LineItem.objects.create(
        record=record,
        position=position,
        date=date,
        voucher_number=voucher_number,
        account=account,
        description=description,
        income=income,
        expense=expense,
        counterparty=counterparty,
        person_name=person_name,
        project_id=project,
    )
    _event(record, action=Action.LINE_ADDED, by=by, reason=str(position))
    return line


@transaction.atomic
def remove_line_item(*, line: LineItem, by) -> None:
    """Take a line off a draft. Reversing lines of a correction stay: they are its point."""
    record = _locked(line.record)
    _refuse_unless_allowed(by, "disclosure.change_record", record)
    if line.reverses_id:
        raise ValidationError(_("A reversing line of a correction cannot be removed."))
    position = line.position
    line.delete()
    _event(record, action=Action.LINE_REMOVED, by=by, reason=str(position))


@transaction.atomic
def attach_file(*, record: Record, by, upload: UploadedFile) -> Attachment:
    """Attach a scanned voucher, PDF or photo; its SHA-256 is taken now and hashed in later."""
    record = _locked(record)
    _refuse_unless_allowed(by, _change_action(record), record)
    name = (upload.name or "").rsplit("/", 1)[-1][:200]
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in ALLOWED_UPLOADS:
        raise ValidationError({"file": _("Attach a PDF, JPG or PNG file.")})
    check_no_identity_numbers(file=name)  # the file name is published and hashed too
    if upload.size is None or upload.size > max_upload_bytes():
        raise ValidationError(
            {
                "file": _("The file is larger than %(mb)s MB. Scan at a lower resolution.")
                % {"mb": max_upload_bytes() // (1024 * 1024)}
            }
        )
    if upload.size == 0:
        raise ValidationError({"file": _("The file is empty.")})
    content_type, signatures = ALLOWED_UPLOADS[extension]
    upload.seek(0)
    head = upload.read(16)
    if not any(head.startswith(signature) for signature in signatures):
        raise ValidationError(
            {"file": _("This file is not really a %(ext)s file.") % {"ext": extension.upper()}}
        )
    if content_type.startswith("image/"):
        # Re-encoded under the pixel cap, without EXIF/GPS; what is stored is what is hashed.
        try:
            stored = clean_photo(upload, max_bytes=max_upload_bytes())
        except ValidationError as error:
            raise ValidationError({"file": error.messages}) from error
        content_type = "image/png" if stored.name.endswith(".png") else "image/jpeg"
    else:
        stored = upload
        stored.name = "attachment." + extension  # only the extension reaches the storage
    digest = hashlib.sha256()
    stored.seek(0)
    for chunk in stored.chunks():
        digest.update(chunk)
    stored.seek(0)
    attachment = Attachment.objects.create(
        record=record,
        file=stored,
        original_name=name,
        content_type=content_type,
        size=stored.size,
        sha256=digest.hexdigest(),
    )
    _event(record, action=Action.ATTACHED, by=by, reason=attachment.sha256)
    return attachment


# --- spreadsheet import (see docs/finance-tools.md) -------------------------------------------


def max_import_bytes() -> int:
    return int(getattr(settings, "YISHI_IMPORT_MAX_MB", 20)) * 1024 * 1024


def max_import_rows() -> int:
    return int(getattr(settings, "YISHI_IMPORT_MAX_ROWS", 50_000))


def max_import_unpacked_bytes() -> int:
    """An .xlsx is a zip: refuse one that would unpack to more than this (a zip bomb)."""
    return int(getattr(settings, "YISHI_IMPORT_MAX_UNPACKED_MB", 200)) * 1024 * 1024


def max_import_members() -> int:
    return int(getattr(settings, "YISHI_IMPORT_MAX_ZIP_MEMBERS", 1000))


def _check_import_archive(source) -> None:
    check_zip_archive(
        source, max_unpacked_bytes=max_import_unpacked_bytes(), max_members=max_import_members()
    )


def _kind_of_type(record_type: str) -> str:
    for kind, types in TYPES_BY_KIND.items():
        if record_type in types:
            return kind
    raise ValidationError({"record_type": _("Choose a type of record.")})


@transaction.atomic
def start_import(
    *,
    council: CouncilPage,
    by,
    record_type: str,
    period_kind: str,
    period_start: datetime.date,
    period_end: datetime.date | None = None,
    title: str,
    upload: UploadedFile,
) -> ImportBatch:
    """Keep an uploaded .xlsx of lines and have it read (in the background by default).

    Nothing becomes a record here: the committee sees the preview, then save_import() makes
    the draft. The file is checked by its first bytes and its size before it is kept.
    """
    _require(by, "disclosure.add_record", council, _("Only the committee imports lines."))
    if council.level not in DISCLOSING_LEVELS:
        raise ValidationError(_("Only villages and communities keep the three ledgers."))
    if record_type not in LINE_ITEM_TYPES:
        raise ValidationError(
            {"record_type": _("Only financial records and welfare lists have lines.")}
        )
    kind = _kind_of_type(record_type)
    title, _body = _clean_record_fields(kind=kind, record_type=record_type, title=title, body="")
    period_start, period_end = clean_period(period_kind, period_start, period_end)
    name = (upload.name or "").rsplit("/", 1)[-1][:200]
    if upload.size is not None and upload.size > max_import_bytes():
        raise ValidationError(
            {"file": linecheck.message("too_large", {"mb": max_import_bytes() // 2**20})}
        )
    upload.seek(0)
    problem = excel.sniff(upload.read(8))
    upload.seek(0)
    if problem is None and not name.lower().endswith((".xlsx", ".xlsm")):
        problem = "not_xlsx"
    if problem:
        raise ValidationError({"file": linecheck.message(problem)})
    try:
        _check_import_archive(upload)
    except ValidationError as error:
        # A damaged zip is kept and explained by the reader, like any unreadable sheet.
        if error.code == "zip_too_big":
            raise ValidationError({"file": error.messages}) from error
    upload.name = "import.xlsx"  # the stored name is random; the original stays in original_name
    batch = ImportBatch.objects.create(
        council=council,
        created_by=by,
        record_type=record_type,
        period_kind=period_kind,
        period_start=period_start,
        period_end=period_end,
        title=title,
        file=upload,
        original_name=name,
        size=upload.size,
    )
    if getattr(settings, "YISHI_IMPORT_IN_BACKGROUND", True):
        queue_import_reading(batch=batch)
    else:
        read_import(batch_id=batch.pk)
    batch.refresh_from_db()
    return batch


@transaction.atomic
def queue_import_reading(*, batch: ImportBatch) -> TaskRun | None:
    """Have the task runner read the batch's file, never the web worker (docs/files.md).

    The reading is a tracked job (core.tasks, docs/architecture.md "Background tasks"): it is
    queued when the transaction commits, its progress reports are its heartbeat, an attempt
    that fails is retried up to the cap, one whose worker died is taken up again by the reaper,
    and one that failed every attempt is shown as failed with "Try again". The batch follows
    this new run; an older run of the same batch stops when it next reports. Returns the run,
    or None for a batch already saved.
    """
    from disclosure.tasks import read_upload

    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status == ImportStatus.SAVED:
        return None
    run = core_tasks.start(read_upload, batch_id=batch.pk)
    batch.status, batch.run = ImportStatus.UPLOADED, run
    batch.save(update_fields=["status", "run", "updated_at"])
    return run


@transaction.atomic
def read_import_again(*, batch: ImportBatch, by) -> ImportBatch:
    """Read an upload again: "Try again" when every attempt at reading it failed (the same
    run, with a fresh allowance of attempts: core.tasks.retry), otherwise a new reading (when
    the reading stopped and nothing took it up, or the file is to be read once more)."""
    batch = (
        ImportBatch.objects.select_for_update(of=("self",)).select_related("run").get(pk=batch.pk)
    )
    council = CouncilPage.objects.get(pk=batch.council_id)
    _require(by, "disclosure.add_record", council, _("Only the committee imports lines."))
    if batch.status == ImportStatus.SAVED:
        raise ValidationError(_("These lines were saved already."))
    if batch.reading_failed:
        core_tasks.retry(batch.run)
        batch.status = ImportStatus.UPLOADED
        batch.save(update_fields=["status", "updated_at"])
    else:
        queue_import_reading(batch=batch)
    batch.refresh_from_db()
    return batch


def read_import(
    *, batch_id: int, progress: core_tasks.Progress | None = None
) -> ImportBatch | None:
    """Read a kept upload into its batch: every line and every problem, nothing saved.

    Progress (rows read of the rows the sheet declares) is written every 1,000 rows so the
    progress page can show it. Safe to run again on a batch whose reading was interrupted.

    On the task runner `progress` is the tracked run's (disclosure.tasks.read_upload): each
    report is also the run's heartbeat. The reading writes to the batch only while the batch
    is still its run's: when it was saved, dropped or handed to a newer reading, it stops
    (None, or core.tasks.Superseded from a report). Problems of the file itself are kept on
    the batch (FAILED, with the reason); any other error propagates, for the runner to retry.
    """
    batch = ImportBatch.objects.select_related("council").filter(pk=batch_id).first()
    mine = ImportBatch.objects.filter(pk=batch_id).exclude(status=ImportStatus.SAVED)
    if progress is not None:
        mine = mine.filter(run_id=progress.run_id)
    if batch is None or not mine.update(
        status=ImportStatus.PARSING, rows_read=0, updated_at=timezone.now()
    ):
        return None

    def report(rows_read, rows_total):
        if progress is not None:
            progress(rows_read, rows_total)
        written = mine.update(rows_read=rows_read, rows_total=rows_total, updated_at=timezone.now())
        if not written and progress is not None:
            raise core_tasks.Superseded

    try:
        with batch.file.open("rb") as source:
            _check_import_archive(source)
            result = excel.read_lines(
                source,
                period_start=batch.period_start,
                period_end=batch.period_end,
                welfare=batch.record_type in WELFARE_TYPES,
                funded_projects=funded_project_ids(batch.council),
                max_rows=max_import_rows(),
                progress=report,
            )
    except excel.FileProblem as problem:
        batch.status = ImportStatus.FAILED
        batch.result = {"file_problem": {"code": problem.code, "params": problem.params}}
    except ValidationError as error:
        batch.status = ImportStatus.FAILED
        code = "zip_too_big" if error.code == "zip_too_big" else "not_xlsx"
        params = {"mb": max_import_unpacked_bytes() // 2**20, "members": max_import_members()}
        batch.result = {"file_problem": {"code": code, "params": params}}
    except OSError:
        batch.status = ImportStatus.FAILED
        batch.result = {"file_problem": {"code": "unreadable", "params": {}}}
    else:
        batch.status = ImportStatus.READY if result.ok else ImportStatus.INVALID
        batch.result = result.as_json()
        batch.rows_total = result.rows_total
    batch.rows_read = len(batch.result.get("lines", []))
    written = mine.update(
        status=batch.status,
        result=batch.result,
        rows_total=batch.rows_total,
        rows_read=batch.rows_read,
        updated_at=timezone.now(),
    )
    return batch if written else None


@transaction.atomic
def save_import(*, batch: ImportBatch, by) -> Record:
    """Turn a read batch without problems into a DRAFT record with all its lines, at once.

    Every line is checked again with the same rules (the funded projects or the period could
    have changed since the preview); if any fails, nothing is saved. The draft then follows
    the normal review: submit, sign-off by the supervisory committee, publish.
    """
    batch = ImportBatch.objects.select_for_update(of=("self",)).get(pk=batch.pk)
    council = CouncilPage.objects.get(pk=batch.council_id)
    _require(by, "disclosure.add_record", council, _("Only the committee imports lines."))
    if batch.status == ImportStatus.SAVED:
        raise ValidationError(_("These lines were saved already."))
    if batch.status != ImportStatus.READY:
        raise ValidationError(_("Correct the problems in the file and upload it again."))
    record = draft_record(
        council=council,
        by=by,
        kind=_kind_of_type(batch.record_type),
        record_type=batch.record_type,
        period_kind=batch.period_kind,
        period_start=batch.period_start,
        period_end=batch.period_end,
        title=batch.title,
    )
    welfare = record.record_type in WELFARE_TYPES
    funded = funded_project_ids(council)
    lines = []
    for position, row in enumerate(batch.result.get("lines", []), start=1):
        number, date, voucher, account, description, income, expense, party, project, ok = row
        income = Decimal(income) if income else Decimal("0")
        expense = Decimal(expense) if expense else Decimal("0")
        problems = linecheck.check_line(
            date=datetime.date.fromisoformat(date),
            description=description,
            income=income,
            expense=expense,
            voucher=voucher,
            account=account,
            counterparty=party,
            project=project,
            period_start=record.period_start,
            period_end=record.period_end,
            welfare=welfare,
            funded_projects=funded,
        )
        if problems or not ok:
            raise ValidationError(
                _("Row %(row)s: %(problem)s")
                % {"row": number, "problem": problems[0].message if problems else "?"}
            )
        # On a welfare list the counterparty column names the person: keep it masked only.
        person = mask_name(party) if welfare else ""
        lines.append(
            LineItem(
                record=record,
                position=position,
                date=datetime.date.fromisoformat(date),
                voucher_number=voucher,
                account=account,
                description=description,
                income=income,
                expense=expense,
                counterparty="" if welfare else party,
                person_name=person,
                project_id=project,
            )
        )
    LineItem.objects.bulk_create(lines, batch_size=2000)
    batch.status, batch.record = ImportStatus.SAVED, record
    batch.save(update_fields=["status", "record", "updated_at"])
    if batch.file:
        stored = batch.file
        transaction.on_commit(lambda: stored.storage.delete(stored.name))
    return record


@transaction.atomic
def discard_import(*, batch: ImportBatch, by) -> None:
    """Drop an upload that was not saved, and its file."""
    batch = ImportBatch.objects.select_for_update(of=("self",)).get(pk=batch.pk)
    council = CouncilPage.objects.get(pk=batch.council_id)
    _require(by, "disclosure.add_record", council, _("Only the committee imports lines."))
    if batch.status == ImportStatus.SAVED:
        raise ValidationError(_("These lines were saved already."))
    if batch.file:
        stored = batch.file
        transaction.on_commit(lambda: stored.storage.delete(stored.name))
    batch.delete()


# --- review and publication -----------------------------------------------------------------


@transaction.atomic
def submit_for_review(*, record: Record, by, keeper: str = "") -> Record:
    """The committee hands a draft to the supervisory committee; it is frozen while they read.
    A record another app keeps is submitted only by that app (`keeper`), which checks its own
    rules first (assets: the disposal's resolution, again)."""
    record = _locked(record)
    managed = bool(record.managed_by) and keeper == record.managed_by
    action = "disclosure.submit_managed_record" if managed else "disclosure.submit_record"
    _refuse_unless_allowed(by, action, record)
    record.status = Status.IN_REVIEW
    record.save()
    event = _event(record, action=Action.SUBMITTED, by=by)
    # The supervisors who may sign it off: not its preparers, nor anyone on the committee.
    _tell(
        Notice.RECORD_AWAITING_SIGNOFF,
        record,
        recipients=_holders(record, Role.SUPERVISOR),
        event_key=f"record-awaiting-signoff:{record.pk}:{event.pk}",
        by=by,
        permission="disclosure.sign_off_record",
    )
    return record


@transaction.atomic
def sign_off_record(*, record: Record, by) -> Record:
    """A supervisor signs off a record under review. Nobody signs off their own draft."""
    record = _locked(record)
    _refuse_unless_allowed(by, "disclosure.sign_off_record", record)
    record.status = Status.SIGNED_OFF
    record.save()
    _event(record, action=Action.SIGNED_OFF, by=by)
    return record


@transaction.atomic
def object_to_record(*, record: Record, by, reason: str) -> Record:
    """A supervisor objects, with a written reason; the record goes back to the committee."""
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationError({"reason": _("Write why you object, so the committee can fix it.")})
    record = _locked(record)
    _refuse_unless_allowed(by, "disclosure.object_to_record", record)
    record.status = Status.DRAFT
    record.save()
    event = _event(record, action=Action.OBJECTED, by=by, reason=reason[:2000])
    _tell(
        Notice.RECORD_OBJECTION,
        record,
        recipients=[*_holders(record, Role.COMMITTEE), *sorted(preparer_ids(record))],
        event_key=f"record-objection:{record.pk}:{event.pk}",
        by=by,
        reason=event.reason,
    )
    return record


@transaction.atomic
def publish_record(*, record: Record, by) -> Record:
    """Publish a signed-off record and append it to the council's hash chain."""
    record = _locked(record)
    _refuse_unless_allowed(by, "disclosure.publish_record", record)
    record.status = Status.PUBLISHED
    # Whole seconds: the published time is part of the hashed content and of docs/ledgers.md.
    record.published_at = timezone.now().replace(microsecond=0)
    record.save()
    _event(record, action=Action.PUBLISHED, by=by)
    if record.corrects_id:
        _event(record.corrects, action=Action.CORRECTED, by=by, reason=record.correction_reason)
    append_to_chain(record)
    # Its followers; for a correction, also those who follow the record it corrects.
    _tell(
        Notice.RECORD_PUBLISHED,
        record,
        recipients=[
            *followers(record),
            *(followers(record.corrects) if record.corrects_id else ()),
        ],
        event_key=f"record-published:{record.pk}",
        by=by,
    )
    return record


@transaction.atomic
def correct_record(*, original: Record, by, reason: str, title: str = "") -> Record:
    """Start a correcting record: it reverses every line of the original (红字冲销).

    The committee then adds the right lines, and the correction goes through review and
    publication like any record. The original is never touched.
    """
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationError({"reason": _("Say what was wrong in the original record.")})
    original = _locked(original)
    _refuse_unless_allowed(by, "disclosure.correct_record", original)
    check_no_identity_numbers(reason=reason, title=title or "")
    correction = Record.objects.create(
        council=original.council,
        kind=original.kind,
        record_type=original.record_type,
        period_kind=original.period_kind,
        period_start=original.period_start,
        period_end=original.period_end,
        title=(title or "").strip() or _("Correction: %(title)s") % {"title": original.title},
        body=original.body,
        corrects=original,
        correction_reason=reason,
        created_by=by,
    )
    LineItem.objects.bulk_create(
        LineItem(
            record=correction,
            position=position,
            date=line.date,
            voucher_number=line.voucher_number,
            account=line.account,
            description=(_("Reversal: %(description)s") % {"description": line.description})[:200],
            income=-line.income,
            expense=-line.expense,
            counterparty=line.counterparty,
            person_name=line.person_name,
            reverses=line,
            project_id=line.project_id,
        )
        for position, line in enumerate(original.lines.order_by("position"), start=1)
    )
    _event(correction, action=Action.DRAFTED, by=by, reason=reason)
    return correction


# --- questions (质询) ---------------------------------------------------------------------------


@transaction.atomic
def ask_question(*, record: Record, by, text: str) -> Question:
    """A verified resident asks, in public, about a published record."""
    text = (text or "").strip()
    if len(text) < 5:
        raise ValidationError({"text": _("Write your question in at least 5 characters.")})
    if len(text) > 2000:
        raise ValidationError({"text": _("Keep your question under 2000 characters.")})
    _refuse_unless_allowed(by, "disclosure.ask_question", record)
    check_no_identity_numbers(text=text)
    now = timezone.now()
    question = Question.objects.create(
        record=record,
        council=record.council,
        asked_by=by,
        text=text,
        asked_at=now,
        due_at=now + datetime.timedelta(days=question_deadline_days()),
    )
    journal_question(question)
    return question


@transaction.atomic
def answer_question(*, question: Question, by, answer: str) -> Question:
    """The committee answers a question, in public. An answer is final."""
    answer = (answer or "").strip()
    if len(answer) < 2:
        raise ValidationError({"answer": _("Write an answer.")})
    if len(answer) > 4000:
        raise ValidationError({"answer": _("Keep the answer under 4000 characters.")})
    question = (
        Question.objects.select_for_update(of=("self",))
        .select_related("record")
        .get(pk=question.pk)
    )
    _refuse_unless_allowed(by, "disclosure.answer_question", question.record)
    if question.answered_at is not None:
        raise ValidationError(_("This question has already been answered."))
    check_no_identity_numbers(answer=answer)
    question.answer = answer
    question.answered_by = by
    question.answered_at = timezone.now()
    question.save()
    journal_answer(question)
    _tell(
        Notice.QUESTION_ANSWERED,
        question.record,
        recipients=_question_audience(question),
        event_key=f"question-answered:{question.pk}",
        by=by,
    )
    return question


OVERDUE_BATCH = 200


def notify_overdue_questions(now: datetime.datetime | None = None) -> int:
    """Tell the asker, the committee and the supervisors of each question left without an answer
    past its deadline: once per question (its `overdue_told_at` is set in the same transaction,
    and the event key is the question's). Returns how many questions were told of.

    A question being answered right now is locked by the answer and skipped; once answered it is
    never overdue. Runs every minute from the reaper (`overdue_questions_sweep`)."""
    now = now or timezone.now()
    told = 0
    after = 0
    while True:
        ids = list(
            Question.objects.overdue(now)
            .filter(overdue_told_at__isnull=True, pk__gt=after)
            .order_by("pk")
            .values_list("pk", flat=True)[:OVERDUE_BATCH]
        )
        for pk in ids:
            with transaction.atomic():
                question = (
                    Question.objects.select_for_update(of=("self",), skip_locked=True)
                    .select_related("record__council")
                    .filter(pk=pk, answered_at__isnull=True, overdue_told_at__isnull=True)
                    .first()
                )
                if question is None or not question.is_overdue(now):
                    continue
                _tell(
                    Notice.QUESTION_OVERDUE,
                    question.record,
                    recipients=_question_audience(question),
                    event_key=f"question-overdue:{question.pk}",
                    due=timezone.localtime(question.due_at).strftime("%Y-%m-%d %H:%M"),
                )
                Question.objects.filter(pk=pk).update(overdue_told_at=now)
                told += 1
        if len(ids) < OVERDUE_BATCH:
            return told
        after = ids[-1]


def overdue_questions_sweep() -> dict[str, int]:
    """The reaper's sweep (manage.py reap_tasks, every minute; registered in apps.py)."""
    return {"questions_told_overdue": notify_overdue_questions()}


# --- verification -------------------------------------------------------------------------------


def verify_chain(*, council_id: int) -> ChainReport:
    """Recompute one council's chain from the stored content (reads only; see hashchain)."""
    return _verify_chain(council_id)
