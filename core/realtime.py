"""Real-time plumbing shared by every app: group names and broadcast after commit.

The channel layer is lossy (channels_redis drops in-flight messages when Redis reconnects), so
every broadcast is of something already committed to the database, and clients resync by
sequence number (docs/realtime.md).
"""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction


def group_name(kind: str, pk: int) -> str:
    """`kind.pk`: ASCII only and far below Channels' 100-character limit."""
    if not kind.replace("_", "").isalnum() or not kind.isascii():
        raise ValueError(f"group kind must be ASCII letters, digits or _: {kind!r}")
    return f"{kind}.{int(pk)}"


def broadcast_on_commit(group: str, event: dict) -> None:
    """Send `event` to `group` once the surrounding transaction commits (at once if none)."""

    def send() -> None:
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(group, event)

    transaction.on_commit(send)
