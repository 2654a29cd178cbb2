"""Real-time plumbing shared by every app: group names and broadcast after commit.

The channel layer is lossy (channels_redis drops in-flight messages when Redis reconnects), so
every broadcast is of something already committed to the database, and clients resync by
sequence number (docs/realtime.md).
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def group_name(kind: str, pk: int) -> str:
    """`kind.pk`: ASCII only and far below Channels' 100-character limit."""
    if not kind.replace("_", "").isalnum() or not kind.isascii():
        raise ValueError(f"group kind must be ASCII letters, digits or _: {kind!r}")
    return f"{kind}.{int(pk)}"


def broadcast_on_commit(group: str, event: dict) -> None:
    """Send `event` to `group` once the surrounding transaction commits (at once if none).

    A layer that is down (Redis stopped) loses the broadcast but never fails the request that
    committed: subscribers resync from the database when the layer returns (fanout.RESYNC).
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
