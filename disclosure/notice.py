"""The printed notice for the noticeboard (公开栏): what it says and its QR code.

The QR code holds the record's web address with `?check=<entry hash>` appended. A phone that
scans it opens the record page, which compares the hash from the paper with the chain and says
whether they match, so anyone standing at the board can tell that paper and web agree. The code
is drawn server-side as a small inline SVG (one <path>, no script, no style attribute).
"""

from dataclasses import dataclass

import segno
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from disclosure.anchors import LEDGER_CHAIN, current_heads
from disclosure.models import Action, Record, RecordEvent

QR_QUIET_ZONE = 4  # modules of white around the code, as the standard asks
PAPER_SIZES = ("A4", "A3")
NOTICE_MAX_LINES = 300  # longer records print totals by account and point to the web


def qr_payload(record_url: str, entry_hash: str) -> str:
    """What the QR code encodes: the absolute record URL and the hash to check."""
    return f"{record_url}?check={entry_hash}"


def qr_matrix(payload: str) -> list[list[bool]]:
    """The QR modules (True = dark), without the quiet zone. Error correction M: survives a
    fold or a drawing pin through the paper."""
    code = segno.make(payload, error="m", micro=False, boost_error=False)
    return [[bool(module) for module in row] for row in code.matrix]


def qr_svg(payload: str, *, label: str) -> SafeString:
    """The QR code as inline SVG: one path of dark modules, run-length per row."""
    matrix = qr_matrix(payload)
    size = len(matrix) + 2 * QR_QUIET_ZONE
    parts = []
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if row[x]:
                start = x
                while x < len(row) and row[x]:
                    x += 1
                parts.append(
                    f"M{start + QR_QUIET_ZONE} {y + QR_QUIET_ZONE}h{x - start}v1h-{x - start}z"
                )
            else:
                x += 1
    return mark_safe(  # noqa: S308 - built from numbers and an escaped label only
        f'<svg xmlns="http://www.w3.org/2000/svg" class="qr" viewBox="0 0 {size} {size}" '
        f'role="img" aria-label="{escape(label)}" shape-rendering="crispEdges">'
        f"<title>{escape(label)}</title>"
        f'<rect width="{size}" height="{size}" fill="#ffffff"/>'
        f'<path fill="#000000" d="{"".join(parts)}"/></svg>'
    )


def group_hash(value: str, size: int = 4) -> str:
    """'a1b2c3d4…' -> 'a1b2 c3d4 …': easier to read aloud and compare on paper."""
    return " ".join(value[i : i + size] for i in range(0, len(value), size))


@dataclass(frozen=True)
class SignOff:
    role: str
    date: object
    name: str


def sign_offs(record: Record) -> list[SignOff]:
    """Who signed off and published, as the roles and dates the paper prints."""
    events = RecordEvent.objects.filter(
        record=record, action__in=[Action.SIGNED_OFF, Action.PUBLISHED]
    ).select_related("actor")
    return [
        SignOff(
            role=event.actor_role,
            date=event.created,
            name=event.actor.public_name if event.actor else _("Former member"),
        )
        for event in events.order_by("created", "pk")
    ]


@dataclass(frozen=True)
class AnchorLine:
    chain: str
    position: int
    hash_grouped: str
    line: str  # `council chain position hash`, as verify_ledgers --anchor reads it

    @property
    def is_ledger(self) -> bool:
        return self.chain == LEDGER_CHAIN


def anchor_lines(council_id: int) -> list[AnchorLine]:
    """The council's ledger and journal heads at the moment of printing, to copy or keep."""
    return [
        AnchorLine(
            chain=anchor.chain,
            position=anchor.position,
            hash_grouped=group_hash(anchor.hash),
            line=f"{anchor.council} {anchor.chain} {anchor.position} {anchor.hash}",
        )
        for anchor in current_heads([council_id])
    ]
