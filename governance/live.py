"""The big screen learns that its figures changed.

The screen (governance.views.screen) listens on the same group as the township's case board
(cases.live.board_group): a frame says only that something under that council changed, and the
screen re-reads its fragment. Cases send a frame at every step of a case; the recompute of the
figures (governance.figures) sends one to every township, district and city it rebuilt, after
it commits.
"""

from django.db import transaction

from cases.live import BOARD_LEVELS, board_frame, board_group, next_board_seq
from core.realtime import broadcast_on_commit
from core.realtime.envelope import event
from councils.models import CouncilPage


def figures_changed(council_ids) -> None:
    """After the transaction commits, tell the screens of these councils (those of them at
    township level or above) to read their figures again."""
    ids = list(council_ids)

    def send() -> None:
        boards = CouncilPage.objects.filter(pk__in=ids, level__in=BOARD_LEVELS).values_list(
            "pk", flat=True
        )
        for council_id in boards:
            seq = next_board_seq(council_id)
            broadcast_on_commit(
                board_group(council_id), event(board_frame(council_id, seq), seq=seq)
            )

    transaction.on_commit(send)
