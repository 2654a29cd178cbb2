"""The one shape in which a worker's hub hands a frame to its sockets.

A broadcast event carries its frame already serialised (`event(frame)`), so a frame sent to a
thousand sockets is encoded once. The hub turns each event it receives into an `Envelope` once
per worker process; sockets write `envelope.text` as it is.
"""

import json
from dataclasses import dataclass

FRAME_EVENT = "realtime.frame"


@dataclass(frozen=True, slots=True, eq=False)
class Envelope:
    """`text`: the frame as JSON, ready to send. `kind`: the frame's `type` ("message",
    "state", "turnout" …; the hub's own: "live", "resync"). `seq`: the frame's place in its
    stream, or None: a topic's message number, a session's frame number, a turnout's ballot
    count. A socket drops a numbered frame at or below what it has already sent."""

    text: str
    kind: str
    seq: int | None = None

    @classmethod
    def of(cls, event: dict) -> "Envelope":
        """The envelope of a channel-layer event: `{"text", "kind", "seq"}` as `event()` makes,
        or `{"frame": {...}}` (serialised here, once per worker)."""
        frame = event.get("frame")
        text = event.get("text")
        if text is None:
            text = json.dumps(frame, ensure_ascii=False)
        kind = event.get("kind") or (frame or {}).get("type") or str(event.get("type", ""))
        seq = event.get("seq")
        return cls(text=text, kind=kind, seq=seq if isinstance(seq, int) else None)

    @classmethod
    def of_frame(cls, frame: dict, *, seq: int | None = None) -> "Envelope":
        return cls(text=json.dumps(frame, ensure_ascii=False), kind=frame["type"], seq=seq)


def event(frame: dict, *, seq: int | None = None) -> dict:
    """A channel-layer event carrying `frame` serialised once for every socket in the group."""
    return {
        "type": FRAME_EVENT,
        "seq": seq,
        "kind": frame["type"],
        "text": json.dumps(frame, ensure_ascii=False),
    }


# What the hub itself hands to sockets. LIVE_DOWN is a frame to forward as it is: the channel
# layer is down. RESYNC: it is back, read from the database what may have been missed.
LIVE_DOWN = Envelope(text=json.dumps({"type": "live", "status": "unavailable"}), kind="live")
RESYNC = Envelope(text="", kind="resync")
