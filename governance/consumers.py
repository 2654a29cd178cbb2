"""`ws/governance/screens/<council id>/`: the big screen learns that something under its
council changed (a case moved, the figures were recomputed) and re-reads its figures over HTTP.

The case board's socket (cases.consumers.BoardConsumer) with a public door: it listens on the
same group (cases.live.board_group), so every case step under the council
(cases.live.board_frame_soon) and every recompute (governance.live.figures_changed) wakes the
screen. Its frames carry no case and no figure, only the board's sequence number, so anyone may
watch a live township, district or city; any other council, or none, is refused.
"""

from cases.consumers import BoardConsumer
from councils.models import CouncilPage
from governance.dashboards import DASHBOARD_LEVELS


class ScreenConsumer(BoardConsumer):
    def _may_view(self) -> bool:
        # `id`, not `pk`: see BoardConsumer._may_view (an id too large is refused, not raised).
        return (
            CouncilPage.objects.live()
            .filter(id=self.council_id, level__in=DASHBOARD_LEVELS)
            .exists()
        )
