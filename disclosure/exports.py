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
"""

import datetime
import hashlib
import io
import json
import zipfile

from django.utils import timezone

from disclosure import excel
from disclosure.hashchain import canonical_bytes
from disclosure.models import Kind, LineItem, Record, Status
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


def build_bundle(council) -> bytes:
    """The council's published records as a zip (see the module docstring)."""
    chain = chain_export(council)
    files: dict[str, bytes] = {}
    for entry in chain["entries"]:
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
