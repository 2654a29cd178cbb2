"""Downloads of the public ledgers: lines as CSV or .xlsx, and the open-data bundle.

Line exports use the import template's columns (excel.KEYS) so that an export can be imported
again; ledger and period exports add the record number, the line number and, for a reversing
line, the line it reverses. Only published records are exported for a ledger or a period; a
single record follows its page's visibility. Names on welfare lists are masked, as on the page.

The bundle is a zip anyone can check offline with `python -m disclosure.offline_verify`:

    manifest.json          format, council, head of the chain, sha256 of every other file
    chain.json             the chain as on /disclosure/<id>/chain.json (entries + content)
    records/<pos>-<id>.json  the exact canonical bytes that were hashed for that entry
    lines/<pos>-<id>.csv   the record's lines in the template's columns, for people
    README.txt             how to check, in Chinese and English

Big exports (more published lines than YISHI_EXPORT_TASK_ABOVE_LINES) are prepared on the task
runner instead of in the web worker: `ask_export` finds or makes the ExportJob for the export
and the chain's current length, `build_export` (a core.tasks @tracked job) writes the file into
the private storage, with progress, retries and failures recorded on the job's TaskRun.
"""

import datetime
import hashlib
import io
import json
import tempfile
import zipfile

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone

from core import tasks as core_tasks
from disclosure import excel
from disclosure.hashchain import canonical_bytes
from disclosure.models import (
    ChainHead,
    ExportJob,
    ExportWhat,
    Kind,
    LineItem,
    Record,
    Status,
)
from disclosure.privacy import mask_name
from disclosure.schedule import period_containing
from disclosure.selectors import chain_export

BUNDLE_FORMAT = "yishi-open-data-bundle"
BUNDLE_VERSION = 1


def record_rows(record: Record):
    """(template values, extra values) for each line of one record."""
    mask = mask_name if record.is_welfare_list else None
    lines = LineItem.objects.filter(record=record).select_related("reverses").order_by("position")
    for line in lines.iterator(chunk_size=2000):
        yield excel.line_values(line, mask=mask), _extra(line)


def _extra(line) -> list:
    reverses = f"{line.reverses.record_id}/{line.reverses.position}" if line.reverses_id else None
    return [line.record_id, line.position, reverses]


def _published_lines(council, **record_filters):
    return (
        LineItem.objects.filter(
            record__council=council, record__status=Status.PUBLISHED, **record_filters
        )
        .select_related("reverses", "record")
        .order_by("record__period_start", "record_id", "position")
    )


def ledger_rows(council, kind: str):
    for line in _published_lines(council, record__kind=kind).iterator(chunk_size=2000):
        mask = mask_name if line.record.is_welfare_list else None
        yield excel.line_values(line, mask=mask), _extra(line)


def period_rows(council, period_kind: str, start: datetime.date):
    period = period_containing(period_kind, start)
    lines = _published_lines(
        council,
        record__kind=Kind.FINANCE,
        record__period_start__gte=period.start,
        record__period_end__lte=period.end,
    ).order_by("date", "record_id", "position")
    for line in lines.iterator(chunk_size=2000):
        mask = mask_name if line.record.is_welfare_list else None
        yield excel.line_values(line, mask=mask), _extra(line)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


BUNDLE_README = """\
议事 Yishi 公开数据包 / open-data bundle

核对方法 (how to check):
  python -m disclosure.offline_verify 本文件.zip
  （或）python offline_verify.py 本文件.zip        —— 只需 Python 3，不需要联网

检查内容：manifest.json 中每个文件的 SHA-256；records/ 中每条记录的规范内容的 SHA-256 等于
chain.json 中的 content_hash；每一项的 entry_hash = sha256(previous_hash + content_hash)；
链条首尾相接；最后的 entry_hash 等于 manifest 中的 head。请把 head 与网站上或公开栏纸质公告上
印的哈希值比较：一致，说明数据没有被改动。

It checks every file's SHA-256 listed in manifest.json, that each record file hashes to its
chain entry's content_hash, that every entry_hash = sha256(previous_hash + content_hash), that
the entries link from the 64-zero genesis, and that the last entry_hash is the manifest's head.
Compare that head with the one shown online or printed on the noticeboard.
See docs/finance-tools.md and docs/ledgers.md.
"""


def build_bundle(council, *, progress=None) -> bytes:
    """The council's published records as a zip (see the module docstring). `progress(done,
    total)` is called every 100 chain entries when given."""
    chain = chain_export(council)
    files: dict[str, bytes] = {}
    for number, entry in enumerate(chain["entries"], start=1):
        if progress and number % 100 == 0:
            progress(number, len(chain["entries"]))
        stem = f"{entry['position']:05d}-{entry['record']}"
        if entry["content"] is None:
            continue
        files[f"records/{stem}.json"] = canonical_bytes(entry["content"])
        rows = (
            (
                [
                    datetime.date.fromisoformat(line["date"]),
                    line["voucher"],
                    line["account"],
                    line["description"],
                    _decimal_or_none(line["income"]),
                    _decimal_or_none(line["expense"]),
                    line["counterparty"],
                    line.get("project"),
                ],
                [entry["record"], line["line"], _pair(line["reverses"])],
            )
            for line in entry["content"]["lines"]
        )
        if entry["content"]["lines"]:
            files[f"lines/{stem}.csv"] = "".join(excel.write_csv(rows, extra=True)).encode("utf-8")
    files["chain.json"] = json.dumps(chain, ensure_ascii=False, indent=1).encode("utf-8")
    files["README.txt"] = BUNDLE_README.encode("utf-8")
    manifest = {
        "format": BUNDLE_FORMAT,
        "version": BUNDLE_VERSION,
        "council": council.pk,
        "council_title": council.title,
        "generated_at": timezone.now().astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "algorithm": "sha256",
        "head": chain["head"],
        "entries": len(chain["entries"]),
        "files": {name: _sha256(data) for name, data in sorted(files.items())},
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")
        )
        for name, data in sorted(files.items()):
            archive.writestr(name, data)
    return buffer.getvalue()


def _decimal_or_none(text: str):
    from decimal import Decimal

    value = Decimal(text)
    return value if value else None


def _pair(value) -> str | None:
    return f"{value[0]}/{value[1]}" if value else None


# --- big exports on the task runner -------------------------------------------------------------

PROGRESS_EVERY = 1000


def task_threshold() -> int:
    """Above this many published lines an export is prepared on the task runner."""
    return int(getattr(settings, "YISHI_EXPORT_TASK_ABOVE_LINES", 5000))


def published_line_count(council, *, what: str, kind: str = "", period: str = "") -> int:
    if what == ExportWhat.BUNDLE:
        return _published_lines(council).count()
    return _lines_for(council, what=what, kind=kind, period=period).count()


def _lines_for(council, *, what: str, kind: str, period: str):
    if what == ExportWhat.LEDGER:
        return _published_lines(council, record__kind=kind)
    from disclosure.selectors import parse_period

    period_kind, start = parse_period(period)
    found = period_containing(period_kind, start)
    return _published_lines(
        council,
        record__kind=Kind.FINANCE,
        record__period_start__gte=found.start,
        record__period_end__lte=found.end,
    )


def export_filename(council, *, what: str, kind: str, period: str, fmt: str) -> str:
    if what == ExportWhat.BUNDLE:
        return f"yishi-{council.pk}-open-data-{timezone.localdate().isoformat()}.zip"
    if what == ExportWhat.LEDGER:
        return f"yishi-{council.pk}-{kind}.{fmt}"
    return f"yishi-{council.pk}-finance-{period}.{fmt}"


def ask_export(*, council, what: str, fmt: str, kind: str = "", period: str = "") -> ExportJob:
    """The job that prepares this export of what is published now: the existing one (queued,
    running, done or failed), or a new one queued on the task runner. Arguments are checked
    by the caller (the view resolves the village, the ledger kind and the period)."""
    head = ChainHead.objects.filter(council_id=council.pk).values_list("position", flat=True)
    key = {
        "council": council,
        "what": what,
        "kind": kind,
        "period": period,
        "fmt": fmt,
        "chain_position": head.first() or 0,
    }
    job = ExportJob.objects.select_related("run").filter(**key).first()
    if job is not None:
        return job
    try:
        with transaction.atomic():
            run = core_tasks.start(build_export)
            filename = export_filename(council, what=what, kind=kind, period=period, fmt=fmt)
            return ExportJob.objects.create(run=run, filename=filename, **key)
    except IntegrityError:  # asked twice at once: the other request made it
        return ExportJob.objects.select_related("run").get(**key)


@core_tasks.tracked(max_attempts=3, timeout=datetime.timedelta(minutes=30))
def build_export(*, progress) -> dict:
    """Write an ExportJob's file into the private storage (runs on the task runner)."""
    job = ExportJob.objects.select_related("council").get(run_id=progress.run_id)
    council = job.council
    if job.what == ExportWhat.BUNDLE:
        data = build_bundle(council, progress=progress)
        handle = tempfile.SpooledTemporaryFile(max_size=8 * 2**20)
        handle.write(data)
    else:
        total = published_line_count(council, what=job.what, kind=job.kind, period=job.period)
        progress(0, total)
        if job.what == ExportWhat.LEDGER:
            rows = ledger_rows(council, job.kind)
        else:
            from disclosure.selectors import parse_period

            rows = period_rows(council, *parse_period(job.period))
        rows = _reporting(rows, progress, total)
        handle = tempfile.SpooledTemporaryFile(max_size=8 * 2**20)
        if job.fmt == "csv":
            for chunk in excel.write_csv(rows, extra=True):
                handle.write(chunk.encode("utf-8"))
        else:
            title = f"{council.title} {job.kind or job.period}"
            handle.write(excel.write_xlsx(rows, extra=True, title=title))
        progress(total, total)
    size = handle.tell()
    handle.seek(0)
    if job.file:  # a retried attempt replaces what an earlier one left
        job.file.delete(save=False)
    job.file.save(f"export.{job.fmt}", File(handle), save=False)
    handle.close()
    ExportJob.objects.filter(pk=job.pk).update(file=job.file.name)
    return {"bytes": size}


def _reporting(rows, progress, total: int):
    for number, row in enumerate(rows, start=1):
        if number % PROGRESS_EVERY == 0:
            progress(number, total)
        yield row
