"""The websocket protocol production's uvicorn speaks: uvicorn's sans-I/O protocol, plus a
synchronous write of a text frame for the live fan-out.

The Dockerfile runs uvicorn with ``--ws core.realtime.server:WebSocketProtocol`` (uvicorn takes
an import path there as well as a name). Everything of the protocol is uvicorn's: the handshake,
the frame limits, pings, closing, flow control. What it adds is :meth:`send_text_now`, which
:class:`core.realtime.consumer.HubConsumer` uses for live frames when the server offers it:

- it writes a text frame in the call, exactly when uvicorn's ``send`` would have written it
  without waiting, and otherwise says False so that the caller awaits ``send`` as before (which
  waits for a full buffer to drain, or raises for a socket that is going);
- it encodes a text once per process, not once per socket: one broadcast hands the same ``str``
  to every socket of the worker, and a server's frame (unmasked, uncompressed) is the same bytes
  on every socket. With ``--ws-per-message-deflate`` on, each socket compresses its own frames,
  so nothing is shared.

At 10,000 watchers a post is 10,000 frames: per frame this saves uvicorn's coroutine, its
checks, the UTF-8 encoding and the frame's serialisation (docs/performance.md, fan-out).
This module imports no Django: uvicorn loads it before the application. It reads the state
uvicorn's protocol keeps (``writable``, ``close_sent``, ``initial_response``, ``conn``), which is
not a public API: requirements/base.txt pins uvicorn, and an upgrade must pass
tests/core/test_server_protocol.py, which builds the protocol and drives it through each state.
"""

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State


class WebSocketProtocol(WebSocketsSansIOProtocol):
    # The last text this process framed, with its frame. A strong reference: while it is held,
    # no other string can have its identity.
    _last_text: str | None = None
    _last_frame: bytes = b""

    def send_text_now(self, text: str) -> bool:
        """Write `text` as one text frame now; False (nothing written) when uvicorn's ``send``
        would wait (the socket's buffer is full), raise (the socket is closing or gone) or
        refuse (no handshake yet, or an HTTP answer instead of one)."""
        if (
            self.disconnected
            or self.close_sent
            or not self.handshake_complete
            or self.initial_response is not None
            or not self.writable.is_set()
            or self.conn.state is not State.OPEN
        ):
            return False
        shared = not self.conn.extensions
        if shared and text is WebSocketProtocol._last_text:
            frame = WebSocketProtocol._last_frame
        else:
            self.conn.send_text(text.encode())
            frame = b"".join(self.conn.data_to_send())
            if shared:
                WebSocketProtocol._last_text = text
                WebSocketProtocol._last_frame = frame
        self.transport.write(frame)
        return True
