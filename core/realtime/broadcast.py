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


def broadcast_many_on_commit(events: list[tuple[str, dict]]) -> None:
    """`broadcast_on_commit` for many groups at once (a notification to each of thousands of
    people): one hook and one trip to the event loop for all of them, not one each (2.4 ms a
    broadcast alone against 0.16 ms in a batch: bench/bench_notify.py)."""
    if not events:
        return
    pending = list(events)

    async def send_all(layer) -> None:
        for group, event in pending:
            await layer.group_send(group, event)

    def send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            async_to_sync(send_all)(layer)
        except Exception as error:  # noqa: BLE001 - what was committed stays; clients catch up
            logger.warning("%d broadcasts lost, the channel layer failed: %r", len(pending), error)

    transaction.on_commit(send)
