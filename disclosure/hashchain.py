"""The per-council hash chain of published records, and its verifier.

content_hash = sha256(canonical JSON of the record's public content, its lines and the SHA-256 of
its attachments); entry_hash = sha256(previous entry_hash + content_hash), both as lowercase hex
text. The canonical form is documented in docs/ledgers.md so that anyone can recompute it from the
public export with any sha256 tool. Nothing about the people who drafted or reviewed the record is
hashed (accounts must stay deletable); welfare-list names are hashed in their masked public form.
"""

import datetime
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch
from django.utils.translation import gettext as _

from disclosure.models import (
    GENESIS_HASH,
    Attachment,
    ChainEntry,
    ChainHead,
    LineItem,
    Record,
    Status,
)
from disclosure.privacy import mask_name

CANONICAL_VERSION = 1
_CENT = Decimal("0.01")


def _money(value: Decimal) -> str:
    return f"{Decimal(value).quantize(_CENT):f}"


def _instant(value: datetime.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def canonical_content(
    record: Record, lines: Iterable[LineItem], attachments: Iterable[Attachment]
) -> dict:
    """The public content of a record as plain JSON values (see docs/ledgers.md)."""
    welfare = record.is_welfare_list
    return {
        "v": CANONICAL_VERSION,
        "council": record.council_id,
        "record": record.pk,
        "kind": record.kind,
        "type": record.record_type,
        "period": {
            "kind": record.period_kind,
            "start": record.period_start.isoformat(),
            "end": record.period_end.isoformat(),
        },
        "title": record.title,
        "body": record.body,
        "corrects": record.corrects_id,
        "correction_reason": record.correction_reason,
        "published_at": _instant(record.published_at),
        "lines": [_canonical_line(line, welfare) for line in sorted(lines, key=_position)],
        "attachments": [
            {"name": a.original_name, "sha256": a.sha256, "size": a.size}
            for a in sorted(attachments, key=lambda a: a.pk)
        ],
    }


def _position(line: LineItem) -> int:
    return line.position


def _canonical_line(line: LineItem, welfare: bool) -> dict:
    content = {
        "line": line.position,
        "date": line.date.isoformat(),
        "voucher": line.voucher_number,
        "account": line.account,
        "description": line.description,
        "income": _money(line.income),
        "expense": _money(line.expense),
        "counterparty": mask_name(line.counterparty) if welfare else line.counterparty,
        "reverses": [line.reverses.record_id, line.reverses.position] if line.reverses_id else None,
    }
    # Added with finance tools: present only on lines booked against a micro-project, so the
    # content (and hash) of every line without one is exactly as in version 1.
    if line.project_id:
        content["project"] = line.project_id
    # Welfare lists: the name column, stored only masked; absent on every other line (as in v1).
    if line.person_name:
        content["person"] = mask_name(line.person_name)
    return content


def canonical_bytes(content: dict) -> bytes:
    """Sorted keys, no spaces, UTF-8 without escaping: one byte string per content."""
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8"
    )


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def chain_hash(previous_hash: str, content_hash: str) -> str:
    return sha256_hex((previous_hash + content_hash).encode("ascii"))


def records_with_content():
    """Records with everything their canonical content needs, in three queries per batch."""
    return Record.objects.prefetch_related(
        Prefetch("lines", queryset=LineItem.objects.select_related("reverses")),
        Prefetch("attachments", queryset=Attachment.objects.all()),
    )


def content_of(record: Record) -> dict:
    return canonical_content(record, record.lines.all(), record.attachments.all())


def append_to_chain(record: Record) -> ChainEntry:
    """Append a just-published record to its council's chain. Call inside transaction.atomic.

    The council's ChainHead row is locked first (select_for_update), so two publishes in the same
    council take turns and the chain never forks; councils do not wait for each other.
    """
    ChainHead.objects.get_or_create(council_id=record.council_id)
    head = ChainHead.objects.select_for_update().get(council_id=record.council_id)
    fresh = records_with_content().get(pk=record.pk)
    content_hash = sha256_hex(canonical_bytes(content_of(fresh)))
    entry = ChainEntry.objects.create(
        council_id=record.council_id,
        position=head.position + 1,
        record=record,
        previous_hash=head.entry_hash,
        content_hash=content_hash,
        entry_hash=chain_hash(head.entry_hash, content_hash),
    )
    head.position = entry.position
    head.entry_hash = entry.entry_hash
    head.save(update_fields=["position", "entry_hash"])
    return entry


@dataclass
class Problem:
    council_id: int
    position: int | None
    record_id: int | None
    message: str

    def __str__(self):
        where = _("record #%(id)s") % {"id": self.record_id} if self.record_id else ""
        at = _("position %(n)s") % {"n": self.position} if self.position else ""
        return " · ".join(part for part in (where, at, self.message) if part)


@dataclass
class ChainReport:
    council_id: int
    length: int = 0
    head_hash: str = GENESIS_HASH
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_chain(council_id: int, *, batch_size: int = 500) -> ChainReport:
    """Recompute a council's chain from the stored content and report every mismatch.

    Catches: a changed record, line or attachment digest (content hash differs); a deleted record
    or line; entries deleted, inserted or reordered (positions or previous hashes do not link); a
    chain head that does not match the last entry; a record marked published outside the chain.
    Reads only; usable from the command, a view or a test.
    """
    report = ChainReport(council_id=council_id)
    entries = list(
        ChainEntry.objects.filter(council_id=council_id)
        .order_by("position")
        .values("position", "record_id", "previous_hash", "content_hash", "entry_hash")
    )
    titles = {}
    expected_previous = GENESIS_HASH
    for start in range(0, len(entries), batch_size):
        batch = entries[start : start + batch_size]
        records = records_with_content().in_bulk([e["record_id"] for e in batch])
        for offset, entry in enumerate(batch):
            expected_position = start + offset + 1
            position, record_id = entry["position"], entry["record_id"]

            def problem(message, position=position, record_id=record_id):
                report.problems.append(Problem(council_id, position, record_id, message))

            if position != expected_position:
                problem(
                    _("entries are missing or out of order: expected position %(n)s here")
                    % {"n": expected_position}
                )
            if entry["previous_hash"] != expected_previous:
                problem(_("does not link to the entry before it (reordered or removed entries)"))
            if entry["entry_hash"] != chain_hash(entry["previous_hash"], entry["content_hash"]):
                problem(_("the entry's own hash was altered"))
            record = records.get(record_id)
            if record is None:
                problem(_("the published record has been deleted"))
            else:
                titles[record_id] = record.title
                if record.council_id != council_id:
                    problem(_("the record was moved to another council"))
                elif record.status != Status.PUBLISHED:
                    problem(_("the record is no longer marked as published"))
                recomputed = sha256_hex(canonical_bytes(content_of(record)))
                if recomputed != entry["content_hash"]:
                    problem(
                        _("「%(title)s」: the stored content no longer matches what was published")
                        % {"title": record.title}
                    )
            expected_previous = entry["entry_hash"]
    report.length = len(entries)
    report.head_hash = expected_previous
    head = ChainHead.objects.filter(council_id=council_id).first()
    if entries or head is not None:
        if head is None or head.position != len(entries) or head.entry_hash != expected_previous:
            last = entries[-1] if entries else None
            report.problems.append(
                Problem(
                    council_id,
                    last["position"] if last else None,
                    last["record_id"] if last else None,
                    _("the chain head does not match the last entry (entries removed at the end?)"),
                )
            )
    unchained = Record.objects.filter(
        council_id=council_id, status=Status.PUBLISHED, chain_entry__isnull=True
    ).values_list("pk", flat=True)
    for record_id in unchained:
        report.problems.append(
            Problem(
                council_id,
                None,
                record_id,
                _("marked as published but not in the chain (published outside Yishi?)"),
            )
        )
    return report


def councils_with_chains() -> list[int]:
    ids = set(ChainHead.objects.values_list("council_id", flat=True))
    ids |= set(ChainEntry.objects.values_list("council_id", flat=True).distinct())
    ids |= set(
        Record.objects.filter(status=Status.PUBLISHED)
        .values_list("council_id", flat=True)
        .distinct()
    )
    return sorted(ids)


def file_sha256(stored_file, chunk_size: int = 1024 * 1024) -> str:
    digest = hashlib.sha256()
    with stored_file.open("rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_files(council_id: int) -> list[Problem]:
    """Re-read every stored attachment of the council and compare it with its SHA-256.

    The SHA-256 was taken at upload; for a published record it is also part of the hashed
    content, so rewriting the file (or the file and its row) is caught here or in the chain.
    """
    problems = []
    attachments = Attachment.objects.filter(record__council_id=council_id).order_by("pk")
    for attachment in attachments.iterator(chunk_size=200):
        where = _("file “%(name)s” (attachment #%(id)s)") % {
            "name": attachment.original_name,
            "id": attachment.pk,
        }
        try:
            actual = file_sha256(attachment.file)
        except (OSError, ValueError):
            problems.append(
                Problem(council_id, None, attachment.record_id, where + ": " + _("is missing"))
            )
            continue
        if actual != attachment.sha256:
            problems.append(
                Problem(
                    council_id,
                    None,
                    attachment.record_id,
                    where
                    + ": "
                    + _("its content changed since upload (SHA-256 %(actual)s, recorded %(sha)s)")
                    % {"actual": actual, "sha": attachment.sha256},
                )
            )
    return problems
