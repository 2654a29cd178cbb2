"""The live board of open cases: every screen watching a township's (or a district's, a city's)
board learns within a moment that a case there moved, and fetches the fresh counts.

A case's step commits, then one small frame goes to the board group of each council above the
case at township level or higher: `{"type": "board", "council": 12, "seq": 41}`. The frame
carries no case and no count, so it says nothing to a socket that should not know more, costs
nothing to build, and cannot arrive out of date: the screen reads the counts over HTTP
(cases.views.desk `board_counts`, one aggregate query) when a frame arrives, at most once every
`REFRESH_SECONDS` (static/js/cases-board.js). `seq` grows with every change of that board
(a shared cache counter), so a client that sees a gap or reconnects simply reads again.

Boards are few (a screen in each township's service centre, a few officials' phones) and case
steps are slow (Rui'an's 370,000 events a year is one a minute), so a read per frame per screen
is far cheaper than computing every board's counts at every step.
"""

from django.core.cache import cache
from django.db import transaction

from core import state
from core.realtime import broadcast_on_commit, group_name
from core.realtime.envelope import event
from councils.models import CouncilPage, Level

BOARD_LEVELS = (Level.TOWNSHIP, Level.DISTRICT, Level.CITY)
SEQ_TTL = 30 * 24 * 3600

_boards_above: dict[int, list[int]] = {}
state.register("cases.live._boards_above", _boards_above.clear)


def board_group(council_id: int) -> str:
    return group_name("cases_board", council_id)


def _seq_key(council_id: int) -> str:
    return f"cases:board-seq:{council_id}"


def board_seq(council_id: int) -> int:
    return int(cache.get(_seq_key(council_id)) or 0)


def next_board_seq(council_id: int) -> int:
    key = _seq_key(council_id)
    cache.add(key, 0, SEQ_TTL)
    try:
        return int(cache.incr(key))
    except ValueError:  # evicted between add and incr
        cache.add(key, 1, SEQ_TTL)
        return 1


def board_frame(council_id: int, seq: int) -> dict:
    return {"type": "board", "council": council_id, "seq": seq}


def boards_above(township_id: int) -> list[int]:
    """The township and every district and city above it (kept per process: a township does
    not move between districts in the life of a worker, and if it did, the frame would only
    reach the old district's screens, which re-read their counts anyway)."""
    boards = _boards_above.get(township_id)
    if boards is None:
        township = CouncilPage.objects.only("path", "depth").get(pk=township_id)
        above = CouncilPage.objects.filter(
            path__in=township.ancestor_paths(), level__in=BOARD_LEVELS
        ).values_list("pk", flat=True)
        boards = _boards_above[township_id] = [township_id, *above]
    return boards


def board_frame_soon(township_id: int) -> None:
    """After the transaction commits, tell every board above the case's township."""

    def send() -> None:
        for council_id in boards_above(township_id):
            seq = next_board_seq(council_id)
            broadcast_on_commit(
                board_group(council_id), event(board_frame(council_id, seq), seq=seq)
            )

    transaction.on_commit(send)
