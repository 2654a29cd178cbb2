"""`ws/deliberation/topics/<id>/`: the live debate of one topic. Protocol: docs/realtime.md.

A `HubConsumer` (core.realtime.consumer): joins the topic's group (one membership per worker
process) *before* reading the database for catch-up, so a message committed in between arrives
twice at most, never zero times; duplicates are dropped by `seq`. Broadcast frames arrive
already serialised (selectors.event_for), so a message to a thousand sockets is encoded once and
costs no database query per socket. The catch-up reads are shared by the sockets of a worker
that ask at the same time (core.realtime.hub.shared_read): a reconnect storm reads once or twice
per topic per worker, not once per socket.
"""

import json
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.realtime import hub
from core.realtime.consumer import CLOSE_TOO_SLOW, LATER, HubConsumer
from core.realtime.envelope import RESYNC, Envelope
from councils.predicates import forget_roles, remember_memberships
from deliberation import selectors, services
from deliberation.models import Topic

__all__ = ["CLOSE_TOO_SLOW", "TopicConsumer"]

MAX_FRAME_BYTES = 8 * 1024
OUTBOX_SIZE = 500  # live frames waiting for a slow socket before we close it (it catches up)
CATCH_UP_BATCH = 200
FIRST_CONNECT_HISTORY = 50
REORDER_WAIT = 0.5  # seconds an early message waits for the ones before it


class TopicConsumer(HubConsumer):
    read_only = False
    outbox_size = OUTBOX_SIZE
    max_frame_bytes = MAX_FRAME_BYTES

    async def admit(self) -> bool:
        self.early: dict[int, str] = {}  # messages that came before the ones before them
        self.topic_id = int(self.scope["url_route"]["kwargs"]["topic_id"])
        self.group = selectors.topic_group(self.topic_id)
        # Sockets opening together (a reconnect storm) share one read of the topic, as they share
        # their catch-up, and later ones use it while it is recent and nothing has changed the
        # topic since (every change to a topic is broadcast as a `topic` frame).
        topic, _since = await hub.recent_read(
            self.group, ("topic-admit", self.topic_id), self._read_topic, stale=_changes_topic
        )
        if topic is None:
            return False
        return await database_sync_to_async(self._may_view)(topic)

    def _read_topic(self, _wishes: list) -> Topic | None:
        return selectors.topic_for_socket(self.topic_id)

    def _may_view(self, topic: Topic) -> bool:
        return self.user.has_perm("deliberation.view_topic", topic)

    async def opening(self) -> list[str]:
        return await self._catch_up(self._after())

    def numbered(self, envelope: Envelope) -> int | None:
        return envelope.seq if envelope.kind == "message" else None

    # --- client -> server ----------------------------------------------------------------

    async def receive_frame(self, data) -> None:
        kind = data.get("type") if isinstance(data, dict) else None
        if kind == "post":
            await self._post(data)
        elif kind == "stance":
            await self._stance(data)
        else:
            await self.error("unknown_type", gettext_lazy("Unknown frame type."))

    async def _post(self, data):
        client_id = data.get("client_id")
        result = await database_sync_to_async(self._call)(
            "post_message",
            body=data.get("body"),
            reply_to=data.get("reply_to"),
            client_id=client_id or "",
        )
        if isinstance(result, dict):
            await self.send_frame(result, client_id=client_id)
            return
        if result.created and not hub.layer_available(self.group):
            # Stored, but no broadcast will bring it back: read it (and any other) from the DB.
            self.deliver(RESYNC)
        if result.held:
            notice = self.error_frame(
                "held_for_review",
                gettext_lazy(
                    "Your message contains words that need a check. The committee "
                    "will review it before it is shown."
                ),
            )
            await self.send_frame({**notice, "client_id": result.message.client_id or None})
        elif not result.created:
            # A resend: the original went out to the group already, but perhaps not to us.
            frame = await database_sync_to_async(selectors.message_frame)(result.message)
            await self.send(text_data=json.dumps(frame, ensure_ascii=False))

    async def _stance(self, data):
        result = await database_sync_to_async(self._call)("set_stance", value=data.get("value"))
        if isinstance(result, dict):
            await self.send_frame(result)

    def _call(self, service: str, **kwargs):
        """Authorise afresh against the topic as it is now, and call one service; a refusal
        comes back as an error frame. The topic is read again for every frame: it may have been
        closed, reopened or merged since the socket opened. A post reads it with its row locked,
        in the transaction that stores the message: one read both authorises and numbers it,
        and brings the poster's verified memberships, which the permission rules then use."""
        with translation.override(self.language):
            if not (self.user and self.user.is_authenticated):
                return self.error_frame("not_signed_in", _("Sign in to take part."))
            try:
                if service == "post_message":
                    with transaction.atomic():
                        topic, memberships = selectors.topic_for_post(self.topic_id, self.user.pk)
                        refusal = self._refusal(topic, service, memberships)
                        if refusal is not None:
                            return refusal
                        return services.post_message(
                            author=self.user, topic=topic, topic_locked=True, **kwargs
                        )
                topic = selectors.topic_for_socket(self.topic_id)
                refusal = self._refusal(topic, service)
                if refusal is not None:
                    return refusal
                return services.set_stance(user=self.user, topic=topic, **kwargs)
            except PermissionDenied as error:
                return self.error_frame("forbidden", str(error))
            except ValidationError as error:
                return self.error_frame(error.code or "bad_request", " ".join(error.messages))

    def _refusal(self, topic: Topic | None, service: str, memberships=None) -> dict | None:
        """The error frame refusing `service` on `topic` to this socket's user, or None.
        `memberships`: the user's verified rows, read with the topic (`topic_for_post`)."""
        forget_roles(self.user)  # roles may have changed since the socket opened
        if memberships is not None:
            remember_memberships(self.user, memberships)
        permission = "deliberation." + service
        if topic is None:
            return self.error_frame("topic_closed", _("This topic is closed for discussion."))
        if self.user.has_perm(permission, topic):
            return None
        # Allowed in the hall (a verified member) but not in this topic: it is closed.
        if not topic.is_discussable and self.user.has_perm(permission, topic.hall):
            return self.error_frame("topic_closed", _("This topic is closed for discussion."))
        return self.error_frame(
            "forbidden",
            _("Only verified residents of this council can take part in an open topic."),
        )

    # --- server -> client ----------------------------------------------------------------

    async def write_live(self):
        # Messages are numbered without gaps and committed in order, but frames broadcast by
        # different workers can reach this one out of order. A message that comes early waits
        # in `early` (at most REORDER_WAIT) for the ones before it; if they do not come, they are
        # read from the database. So a watcher gets every message once, in order, and never has
        # to reconnect because of a gap (seen under load in bench/bench_voteday.py). While one
        # waits, every envelope goes through here (`take` says LATER), not straight out.
        while True:
            try:
                envelope = await self.next_envelope(REORDER_WAIT if self.early else None)
            except TimeoutError:
                await self._fill_gap(up_to=min(self.early))
                await self._send_early()
                continue
            if envelope is RESYNC:
                self.early.clear()
                await self.resync()
                continue
            seq = self.numbered(envelope)
            if seq is not None and seq > self.last_seq + 1:
                self.early[seq] = envelope.text
                continue
            text = super().take(envelope)  # next in line, or not numbered, or already sent
            if text is not None:
                await self.send_text(text)
                await self._send_early()

    def take(self, envelope: Envelope):
        """Straight out only when nothing waits for an earlier message and this one is next."""
        if self.early or envelope is RESYNC:
            return LATER
        seq = self.numbered(envelope)
        if seq is not None and seq > self.last_seq + 1:
            return LATER
        return super().take(envelope)

    async def resync(self) -> None:
        """The layer is back: what did we miss? Catch up from the last seq sent."""
        for text in await self._catch_up(self.last_seq):
            await self.send(text_data=text)

    async def _send_early(self) -> None:
        """Send the waiting messages that are next in line; forget those already sent."""
        early = self.early
        while self.last_seq + 1 in early:
            seq = self.last_seq + 1
            await self._send_message(early.pop(seq), seq)
        for seq in [seq for seq in early if seq <= self.last_seq]:
            del early[seq]

    async def _fill_gap(self, *, up_to: int) -> None:
        """Send the messages numbered between what was sent and `up_to` from the database. Every
        number below `up_to` is committed (numbering takes a row lock), so afterwards the gap is
        closed, whether a number was a visible message or one hidden since. Sockets of this
        worker missing the same messages share the read."""
        messages = await hub.shared_read(
            ("topic-gap", self.topic_id), self._read_between, (self.last_seq, up_to)
        )
        for seq, text in messages:
            if self.last_seq < seq < up_to:
                await self._send_message(text, seq)
        self.last_seq = max(self.last_seq, up_to - 1)

    def _read_between(self, wishes: list[tuple[int, int]]) -> list[tuple[int, str]]:
        after = min(low for low, _ in wishes)
        before = max(high for _, high in wishes)
        rows = selectors.messages_after(self.topic_id, after, limit=before - after)
        return [(m.seq, _text(selectors.message_frame(m))) for m in rows if m.seq < before]

    async def _send_message(self, text: str, seq: int) -> None:
        self.last_seq = max(self.last_seq, seq)
        await self.send_text(text)

    async def _catch_up(self, after: int | None) -> list[str]:
        """The catch-up frames for `after` (None: a first connect), ending with `ready`; sets
        `last_seq` to what the client then has. Each seq is sent exactly once: an `after` at
        or above the latest seq sends no message and the next live one goes out as it comes;
        an `after` above the latest is taken as the latest (ready's `last_seq` says so)."""
        shared, missed = await hub.recent_read(
            self.group,
            ("topic-catch-up", self.topic_id),
            self._read,
            after,
            subscriber=self,
            covers=_covers,
            stale=_rewrites_history,
        )
        # What the hub handed out after that read began and before this socket joined: next in
        # line after the catch-up (numbered frames already sent are dropped there).
        self.outbox.put_first(missed)
        texts = []
        if after is None:
            # The latest messages as the read found them; what came since follows live.
            texts += [text for _seq, text in shared["recent"]]
            have = max([shared["latest"], *[seq for seq, _text in shared["recent"]]])
        else:
            # The latest seq is what the read found or, if the read was made earlier, the
            # newest message handed out since: an `after` up to it is where this client stands.
            latest = max([shared["latest"], *[e.seq for e in missed if e.kind == "message"]])
            have = min(after, latest)
            # Messages hidden at or before `after` may have been hidden while we were away.
            texts += [text for seq, text in shared["hidden"] if seq <= have]
            unseen = [(seq, text) for seq, text in shared["messages"] if seq > have]
            texts += [text for _seq, text in unseen]
            have = max([have, *[seq for seq, _text in unseen]])
        texts.append(shared["stances"])
        if after is not None and shared["answered"] is not None:
            # The answer may have come (or changed) while this client was away; a page that
            # already shows it replaces it with the same text.
            texts.append(shared["answered"])
        self.last_seq = max(self.last_seq, have)
        texts.append(_text({"type": "ready", "last_seq": self.last_seq}))
        return texts

    def _read(self, wishes: list[int | None]) -> dict:
        """One read for every socket of this worker asking now, whatever their `after`, and for
        those that ask in the next KEEP_READS seconds with an `after` at or above its `floor`:
        it reads from the lowest `after` or the last CATCH_UP_BATCH numbers, whichever is lower,
        and always the latest messages, every hidden one, the tally and the answer."""
        # The latest seq first: a message committed during the rest of the read is numbered
        # above it, so it is either read below or arrives live above `last_seq`.
        latest = Topic.objects.filter(pk=self.topic_id).values_list("last_seq", flat=True).first()
        latest = latest or 0
        afters = [min(after, latest) for after in wishes if after is not None]
        floor = max(0, min([*afters, latest - CATCH_UP_BATCH]))
        shared = {"latest": latest, "floor": floor, "messages": []}
        cursor = floor
        while True:
            batch = selectors.messages_after(self.topic_id, cursor, limit=CATCH_UP_BATCH)
            shared["messages"] += [(m.seq, _text(selectors.message_frame(m))) for m in batch]
            if len(batch) < CATCH_UP_BATCH:
                break
            cursor = batch[-1].seq
        if floor == 0 or len(shared["messages"]) >= FIRST_CONNECT_HISTORY:
            shared["recent"] = shared["messages"][-FIRST_CONNECT_HISTORY:]
        else:  # fewer than that shown since the floor: many were hidden, look further back
            recent, _older = selectors.latest_messages(self.topic_id, count=FIRST_CONNECT_HISTORY)
            shared["recent"] = [(m.seq, _text(selectors.message_frame(m))) for m in recent]
        shared["hidden"] = [
            (m.seq, _text({"type": "moderation", "action": "hide", "seq": m.seq,
                           "reason": m.hidden_reason}))
            for m in selectors.hidden_seqs_up_to(self.topic_id, latest)
        ]  # fmt: skip
        answered = selectors.answered_topic(self.topic_id)
        shared["answered"] = None if answered is None else _text(selectors.answered_frame(answered))
        shared["stances"] = _text(selectors.stances_frame(self.topic_id))
        return shared

    def _after(self) -> int | None:
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        try:
            return max(0, int(query["after"][0]))
        except (KeyError, ValueError, IndexError):
            return None


def _covers(shared: dict, after: int | None) -> bool:
    """Whether a catch-up read made for other sockets serves one asking with `after`."""
    return after is None or min(after, shared["latest"]) >= shared["floor"]


def _changes_topic(envelope: Envelope) -> bool:
    return envelope.kind == "topic"


def _rewrites_history(envelope: Envelope) -> bool:
    """A catch-up read is not used again once a message was hidden since (a newcomer must get
    the notice, never the text that a replay of the message would carry) or the topic changed."""
    return envelope.kind in ("moderation", "topic")


def _text(frame: dict) -> str:
    return json.dumps(frame, ensure_ascii=False)
