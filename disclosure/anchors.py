"""Anchors: chain heads kept outside the database, and the check that the chains still hold them.

Someone who can write the database could rewrite a record and recompute every later hash and the
head (a "rewind"). They cannot reach the copies of the head kept elsewhere: the printed notice on
the noticeboard, a resident's download, the township's file of heads pulled on a schedule. An
anchor is one such copy: (council, chain, position, entry hash). A chain still holds an anchor
when it has an entry at that position with that hash; a shorter chain or another hash there
means history was cut or rewritten.

Anchor files (docs/ledgers.md, "Anchors") are UTF-8 text, one anchor or one heads document per
line, blank lines and lines starting with # ignored. A line is either
  - a JSON object {"council": 42, "chain": "ledger", "position": 17, "hash": "<64 hex>", ...},
  - a heads document {"anchors": [<anchor>, ...], ...} as /disclosure/<id>/head.json returns and
    `pull_chain_heads` appends, or
  - four words: `42 ledger 17 <hash>` (what a person copies from a printed notice).
A whole file that is a single JSON document (an anchor, a list of anchors or a heads document,
pretty-printed or not) is read too.
"""

import datetime
import json
import re
from dataclasses import dataclass

from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from councils.models import CouncilPage, Level
from disclosure.models import GENESIS_HASH, ChainEntry, ChainHead, JournalEntry, JournalHead

ANCHOR_FORMAT = "yishi-anchors"
ANCHOR_VERSION = 1
# The two chains an anchor may name: the published records (ledger) and the journal of steps,
# questions and answers. Names written in anchor files, not Django choices.
LEDGER_CHAIN, JOURNAL_CHAIN = "ledger", "journal"
CHAINS = {LEDGER_CHAIN: (ChainEntry, ChainHead), JOURNAL_CHAIN: (JournalEntry, JournalHead)}
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class AnchorFileError(ValueError):
    pass


@dataclass(frozen=True)
class Anchor:
    council: int
    chain: str
    position: int
    hash: str
    taken_at: str = ""

    def as_json(self) -> dict:
        return {
            "council": self.council,
            "chain": self.chain,
            "position": self.position,
            "hash": self.hash,
            "taken_at": self.taken_at,
        }


def _anchor(value, where: str) -> Anchor:
    try:
        council, position = int(value["council"]), int(value["position"])
        chain = str(value.get("chain") or LEDGER_CHAIN)
        digest = str(value["hash"]).strip().lower()
    except (KeyError, TypeError, ValueError, AttributeError):
        raise AnchorFileError(
            _("%(where)s: not an anchor (council, chain, position, hash)") % {"where": where}
        ) from None
    if chain not in CHAINS or position < 0 or not _HEX64.match(digest):
        raise AnchorFileError(
            _("%(where)s: chain must be ledger or journal, position a number, hash 64 hex")
            % {"where": where}
        )
    return Anchor(council, chain, position, digest, str(value.get("taken_at") or ""))


def _from_json(value, where: str) -> list[Anchor]:
    if isinstance(value, list):
        return [_anchor(item, where) for item in value]
    if isinstance(value, dict) and "anchors" in value:
        return [_anchor(item, where) for item in value["anchors"]]
    return [_anchor(value, where)]


def parse_anchors(text: str, *, source: str = "") -> list[Anchor]:
    """Every anchor in an anchor file's text (see the module docstring for the format)."""
    stripped = text.strip()
    if stripped.startswith(("{", "[")):
        try:
            return _from_json(json.loads(stripped), source or "file")
        except json.JSONDecodeError:
            pass  # JSON Lines: read line by line below
    anchors = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        where = f"{source}:{number}" if source else str(number)
        if not line or line.startswith("#"):
            continue
        if line.startswith(("{", "[")):
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                raise AnchorFileError(_("%(where)s: not valid JSON") % {"where": where}) from None
            anchors.extend(_from_json(value, where))
            continue
        words = line.split()
        if len(words) != 4:
            raise AnchorFileError(
                _("%(where)s: write `council chain position hash`") % {"where": where}
            )
        anchors.append(
            _anchor(
                {"council": words[0], "chain": words[1], "position": words[2], "hash": words[3]},
                where,
            )
        )
    return anchors


def read_anchor_file(path) -> list[Anchor]:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as error:
        raise AnchorFileError(str(error)) from None
    return parse_anchors(text, source=str(path))


def check_anchor(anchor: Anchor) -> str | None:
    """Why the council's chain no longer holds this anchor, or None when it does."""
    entries, _head = CHAINS[anchor.chain]
    length = entries.objects.filter(council_id=anchor.council).aggregate(n=Max("position"))["n"]
    length = length or 0
    seen = {
        "chain": anchor.chain,
        "position": anchor.position,
        "taken": anchor.taken_at or "?",
        "length": length,
    }
    if anchor.position == 0:
        if anchor.hash != GENESIS_HASH:
            return _("%(chain)s anchor at position 0 must be the genesis hash") % seen
        return None
    if anchor.position > length:
        return (
            _(
                "the %(chain)s chain has %(length)s entries, but an anchor taken at %(taken)s saw "
                "%(position)s: entries were removed (truncated or rewound)"
            )
            % seen
        )
    stored = (
        entries.objects.filter(council_id=anchor.council, position=anchor.position)
        .values_list("entry_hash", flat=True)
        .first()
    )
    if stored != anchor.hash:
        return (
            _(
                "entry %(position)s of the %(chain)s chain is not the one anchored at %(taken)s: "
                "history was rewritten from there on"
            )
            % seen
        )
    return None


def current_heads(council_ids) -> list[Anchor]:
    """The ledger and journal heads of these councils now, as anchors (2 queries)."""
    council_ids = list(council_ids)
    taken = timezone.now().astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    anchors = []
    for chain, (_entries, head_model) in CHAINS.items():
        heads = {
            council: (position, digest)
            for council, position, digest in head_model.objects.filter(
                council_id__in=council_ids
            ).values_list("council_id", "position", "entry_hash")
        }
        for council in council_ids:
            position, digest = heads.get(council, (0, GENESIS_HASH))
            anchors.append(Anchor(council, chain, position, digest, taken))
    anchors.sort(key=lambda a: (a.council, a.chain))
    return anchors


def villages_under(council: CouncilPage) -> list[int]:
    """The council itself if it is a village, else every village below it."""
    if council.level == Level.VILLAGE:
        return [council.pk]
    return list(
        CouncilPage.objects.descendant_of(council)
        .filter(level=Level.VILLAGE)
        .order_by("path")
        .values_list("pk", flat=True)
    )


def heads_document(council: CouncilPage) -> dict:
    """What /disclosure/<id>/head.json returns and pull_chain_heads appends to its file."""
    anchors = current_heads(villages_under(council))
    return {
        "format": ANCHOR_FORMAT,
        "version": ANCHOR_VERSION,
        "council": council.pk,
        "title": council.title,
        "anchors": [anchor.as_json() for anchor in anchors],
    }
