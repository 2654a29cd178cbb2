"""Broadcast after commit: a client never sees what was rolled back."""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def broadcast_on_commit(group: str, event: dict) -> None:
    """Send `event` to `group` once the surrounding transaction commits (at once if none).

    A layer that is down (Redis stopped) loses the broadcast but never fails the request that
    committed: subscribers resync from the database when the layer returns (hub.RESYNC).
    """

    def send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            async_to_sync(layer.group_send)(group, event)
        except Exception as error:  # noqa: BLE001 - what was committed stays; clients catch up
            logger.warning("broadcast to %s lost, the channel layer failed: %r", group, error)

    transaction.on_commit(send)
