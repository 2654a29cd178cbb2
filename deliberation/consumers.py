"""`ws/deliberation/topics/<id>/`: the live debate of one topic. Protocol: docs/realtime.md.

The consumer subscribes to the topic (deliberation.fanout: one group membership per worker
process) *before* reading the database for catch-up, so a message committed in between arrives
twice at most, never zero times; duplicates are dropped by `seq`. Live frames wait in a bounded
outbox until catch-up is sent. Broadcast frames arrive already serialised (selectors.event_for),
so a message to a thousand sockets is encoded once and costs no database query per socket.
"""

import asyncio
import json
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from councils.predicates import forget_roles
from deliberation import fanout, selectors, services

MAX_FRAME_BYTES = 8 * 1024
OUTBOX_SIZE = 500  # live frames waiting for a slow socket before we close it (it catches up)
CLOSE_TOO_SLOW = 4008
CATCH_UP_BATCH = 200
FIRST_CONNECT_HISTORY = 50
REORDER_WAIT = 0.5  # seconds an early message waits for the ones before it


class TopicConsumer(AsyncWebsocketConsumer):
    # No channel of its own per socket: broadcasts reach it through deliberation.fanout (one
    # channel per process). A per-socket channel would only add an idle Redis reader whose
    # timeout, under load, kills the socket (seen in bench/bench_fanout.py).
    channel_layer_alias = "deliberation-sockets-have-no-channel"

    async def connect(self):
        self.topic_id = int(self.scope["url_route"]["kwargs"]["topic_id"])
        self.user = self.scope.get("user")
        self.language = self._language()
        self.last_seq = 0
        self.group = selectors.topic_group(self.topic_id)
        self.topic = await database_sync_to_async(self._load_topic)()
        if self.topic is None:
            await self.close(code=4404)
            return
        self.outbox = asyncio.Queue(maxsize=OUTBOX_SIZE)
        self.too_slow = False
        self.writer = None
        # Join first, then read: nothing committed after the read can be missed.
        await fanout.subscribe(self.group, self)
        self.joined = True
        await self.accept()
        await self._catch_up()
        self.writer = asyncio.create_task(self._write_live_frames())

    async def disconnect(self, code):
        await fanout.detach(self)

    # --- client -> server ----------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None):
        if bytes_data is not None or text_data is None:
            await self._error("bad_json", gettext_lazy("Send JSON text frames."))
            return
        if len(text_data.encode("utf-8")) > MAX_FRAME_BYTES:
            await self._error("too_large", gettext_lazy("The frame is larger than 8 KB."))
            return
        try:
            data = json.loads(text_data)
            # A lone surrogate ("\ud800") decodes, then breaks whatever encodes it as UTF-8.
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except (ValueError, RecursionError):  # RecursionError: JSON nested over 1000 deep
            await self._error("bad_json", gettext_lazy("The frame is not valid JSON."))
            return
        kind = data.get("type") if isinstance(data, dict) else None
        if kind == "post":
            await self._post(data)
        elif kind == "stance":
            await self._stance(data)
        else:
            await self._error("unknown_type", gettext_lazy("Unknown frame type."))

    async def _post(self, data):
        result = await database_sync_to_async(self._call)(
            "post_message",
            body=data.get("body"),
            reply_to=data.get("reply_to"),
            client_id=data.get("client_id") or "",
        )
        if isinstance(result, dict):
            await self._send(result, client_id=data.get("client_id"))
            return
        if result.created and not fanout.layer_available(self.group):
            # Stored, but no broadcast will bring it back: read it (and any other) from the DB.
            self.deliver(fanout.RESYNC)
        if result.held:
            with translation.override(self.language):
                notice = _(
                    "Your message contains words that need a check. The committee "
                    "will review it before it is shown."
                )
            await self._send(
                {
                    "type": "error",
                    "code": "held_for_review",
                    "message": notice,
                    "client_id": result.message.client_id or None,
                }
            )
        elif not result.created:
            # A resend: the original went out to the group already, but perhaps not to us.
            await self._send_frame_text(
                json.dumps(
                    await database_sync_to_async(selectors.message_frame)(result.message),
                    ensure_ascii=False,
                ),
                result.message.seq,
            )

    async def _stance(self, data):
        result = await database_sync_to_async(self._call)("set_stance", value=data.get("value"))
        if isinstance(result, dict):
            await self._send(result)

    def _call(self, service: str, **kwargs):
        """Authorise afresh and call one service; an error comes back as an error frame."""
        with translation.override(self.language):
            if not (self.user and self.user.is_authenticated):
                return self._error_frame("not_signed_in", _("Sign in to take part."))
            forget_roles(self.user)  # roles may have changed since the socket opened
            permission = "deliberation." + service
            if not self.user.has_perm(permission, self.topic):
                return self._error_frame(
                    "forbidden",
                    _("Only verified residents of this council can take part in an open topic."),
                )
            try:
                if service == "post_message":
                    return services.post_message(author=self.user, topic=self.topic, **kwargs)
                return services.set_stance(user=self.user, topic=self.topic, **kwargs)
            except PermissionDenied as error:
                return self._error_frame("forbidden", str(error))
            except ValidationError as error:
                return self._error_frame(error.code or "bad_request", " ".join(error.messages))

    # --- server -> client ----------------------------------------------------------------

    def deliver(self, event: dict) -> None:
        """Called by the fan-out hub for each broadcast; never blocks the other sockets."""
        if self.too_slow:
            return
        try:
            self.outbox.put_nowait(event)
        except asyncio.QueueFull:
            # Too slow to keep up: drop the socket; the client reconnects and catches up.
            self.too_slow = True
            asyncio.ensure_future(self.close(code=CLOSE_TOO_SLOW))

    async def _write_live_frames(self):
        # Messages are numbered without gaps and committed in order, but frames broadcast by
        # different workers can reach this one out of order. A message that comes early waits
        # here (at most REORDER_WAIT) for the ones before it; if they do not come, they are read
        # from the database. So a watcher gets every message once, in order, and never has to
        # reconnect because of a gap (seen under load in bench/bench_voteday.py).
        early: dict[int, str] = {}
        while True:
            try:
                event = await asyncio.wait_for(self.outbox.get(), REORDER_WAIT if early else None)
            except TimeoutError:
                await self._fill_gap(up_to=min(early))
                await self._send_early(early)
                continue
            if event is fanout.RESYNC:
                early.clear()
                await self._catch_up(after=self.last_seq)  # the layer is back: what did we miss?
                continue
            seq = event.get("seq") if event.get("kind") == "message" else None
            if seq is None:
                await self.send(text_data=event["text"])
            elif seq > self.last_seq + 1:
                early[seq] = event["text"]
            elif seq == self.last_seq + 1:
                await self._send_frame_text(event["text"], seq)
                await self._send_early(early)
            # else: already sent (during catch-up, or read from the database)

    async def _send_early(self, early: dict[int, str]) -> None:
        """Send the waiting messages that are next in line; forget those already sent."""
        while self.last_seq + 1 in early:
            seq = self.last_seq + 1
            await self._send_frame_text(early.pop(seq), seq)
        for seq in [seq for seq in early if seq <= self.last_seq]:
            del early[seq]

    async def _fill_gap(self, *, up_to: int) -> None:
        """Send the messages numbered between what was sent and `up_to` from the database. Every
        number below `up_to` is committed (numbering takes a row lock), so afterwards the gap is
        closed, whether a number was a visible message or one hidden since."""
        frames = await database_sync_to_async(self._frames_between)(self.last_seq, up_to)
        for frame in frames:
            await self._send_frame_text(json.dumps(frame, ensure_ascii=False), frame["seq"])
        self.last_seq = max(self.last_seq, up_to - 1)

    def _frames_between(self, after: int, before: int) -> list[dict]:
        messages = selectors.messages_after(self.topic_id, after, limit=before - after)
        return [selectors.message_frame(m) for m in messages if m.seq < before]

    async def _send_frame_text(self, text: str, seq: int | None):
        if seq is not None and seq > self.last_seq:
            self.last_seq = seq
        await self.send(text_data=text)

    async def _catch_up(self, *, after: int | None = None):
        if after is None:
            after = self._after()
        frames, last = await database_sync_to_async(self._catch_up_frames)(after)
        for frame in frames:
            if frame["type"] == "message":
                self.last_seq = max(self.last_seq, frame["seq"])
            await self.send(text_data=json.dumps(frame, ensure_ascii=False))
        await self._send({"type": "ready", "last_seq": last})

    def _catch_up_frames(self, after: int | None):
        frames = []
        if after is None:
            recent, _older = selectors.latest_messages(self.topic_id, count=FIRST_CONNECT_HISTORY)
            frames += [selectors.message_frame(m) for m in recent]
        else:
            # Messages hidden at or before `after` may have been hidden while we were away.
            frames += [
                {"type": "moderation", "action": "hide", "seq": m.seq, "reason": m.hidden_reason}
                for m in selectors.hidden_seqs_up_to(self.topic_id, after)
            ]
            cursor = after
            while True:
                batch = selectors.messages_after(self.topic_id, cursor, limit=CATCH_UP_BATCH)
                frames += [selectors.message_frame(m) for m in batch]
                if len(batch) < CATCH_UP_BATCH:
                    break
                cursor = batch[-1].seq
        frames.append(selectors.stances_frame(self.topic_id))
        if after is not None:
            # The answer may have come (or changed) while this client was away; a page that
            # already shows it replaces it with the same text.
            answered = selectors.answered_topic(self.topic_id)
            if answered is not None:
                frames.append(selectors.answered_frame(answered))
        last = max([f["seq"] for f in frames if f["type"] == "message"] + [after or 0])
        return frames, last

    async def _send(self, frame: dict, client_id=None):
        if client_id is not None and frame.get("type") == "error":
            frame = {**frame, "client_id": client_id}
        await self.send(text_data=json.dumps(frame, ensure_ascii=False))

    async def _error(self, code: str, message):
        """Send an error frame; `message` is lazy, so it is translated into the user's language."""
        with translation.override(self.language):
            frame = self._error_frame(code, str(message))
        await self._send(frame)

    @staticmethod
    def _error_frame(code: str, message: str) -> dict:
        return {"type": "error", "code": code, "message": str(message)}

    # --- helpers -----------------------------------------------------------------------------

    def _load_topic(self):
        topic = selectors.topic_for_socket(self.topic_id)
        if topic is None or not self.user.has_perm("deliberation.view_topic", topic):
            return None
        return topic

    def _after(self) -> int | None:
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        try:
            return max(0, int(query["after"][0]))
        except (KeyError, ValueError, IndexError):
            return None

    def _language(self) -> str:
        cookies = self.scope.get("cookies") or {}
        wanted = cookies.get(settings.LANGUAGE_COOKIE_NAME)
        if not wanted:
            headers = dict(self.scope.get("headers") or [])
            accept = headers.get(b"accept-language", b"").decode("latin-1")
            for part in accept.split(","):
                wanted = part.split(";")[0].strip()
                if wanted:
                    break
        try:
            return translation.get_supported_language_variant(wanted or settings.LANGUAGE_CODE)
        except LookupError:
            return settings.LANGUAGE_CODE
