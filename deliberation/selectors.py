"""Read-side queries and the frames sent over websockets, each computed once per change."""

import json

from django.db.models import Count

from core.realtime import group_name
from deliberation.models import Hall, Message, MessageStatus, Stance, StanceValue, Topic

FRAME_EVENT = "deliberation.frame"
QUOTE_EXCERPT = 80
PAGE_MESSAGES = 50


def topic_group(topic_id: int) -> str:
    return group_name("topic", topic_id)


def visible_messages(topic_id: int):
    """Messages clients see: published ones and hidden ones (shown as a notice), by seq."""
    return (
        Message.objects.filter(
            topic_id=topic_id, status__in=[MessageStatus.PUBLISHED, MessageStatus.HIDDEN]
        )
        .select_related("author", "reply_to__author")
        .order_by("seq")
    )


def quote_of(message: Message) -> dict | None:
    original = message.reply_to
    if original is None or original.seq is None:
        return None
    hidden = original.status == MessageStatus.HIDDEN
    return {
        "seq": original.seq,
        "author": original.author.public_name,
        "excerpt": "" if hidden else original.body[:QUOTE_EXCERPT],
        "hidden": hidden,
    }


def message_frame(message: Message) -> dict:
    hidden = message.status == MessageStatus.HIDDEN
    quote = quote_of(message)
    return {
        "type": "message",
        "seq": message.seq,
        "id": message.pk,
        "author": message.author.public_name,
        "body": "" if hidden else message.body,
        "reply_to": quote["seq"] if quote else None,
        "quote": quote,
        "client_id": message.client_id or None,
        "created": message.created.isoformat(),
        "hidden": hidden,
        "hidden_reason": message.hidden_reason if hidden else "",
    }


def stance_counts(topic_id: int) -> dict[str, int]:
    counts = dict.fromkeys(StanceValue.values, 0)
    rows = Stance.objects.filter(topic_id=topic_id).values("value").annotate(n=Count("pk"))
    for row in rows:
        counts[row["value"]] = row["n"]
    return counts


def stances_frame(topic_id: int) -> dict:
    return {"type": "stances", **stance_counts(topic_id)}


def answered_frame(topic: Topic) -> dict:
    """The official answer arrived (or changed): its text and the topic's status now."""
    return {
        "type": "answered",
        "answer": topic.official_answer,
        "answered_at": topic.answered_at.isoformat(),
        "status": topic.status,
    }


def answered_topic(topic_id: int) -> Topic | None:
    """The topic's answer and status, if it has been answered (for a reconnecting socket)."""
    return (
        Topic.objects.filter(pk=topic_id, answered_at__isnull=False)
        .only("pk", "official_answer", "answered_at", "status")
        .first()
    )


def event_for(frame: dict) -> dict:
    """A channel-layer event carrying `frame` serialised once for every socket in the group."""
    return {
        "type": FRAME_EVENT,
        "seq": frame.get("seq"),
        "kind": frame["type"],
        "text": json.dumps(frame, ensure_ascii=False),
    }


def messages_after(topic_id: int, after: int, *, limit: int = 500) -> list[Message]:
    return list(visible_messages(topic_id).filter(seq__gt=after)[:limit])


def latest_messages(topic_id: int, *, before: int | None = None, count: int = PAGE_MESSAGES):
    """The last `count` visible messages (before seq `before`), oldest first, and whether older
    ones exist."""
    queryset = visible_messages(topic_id)
    if before is not None:
        queryset = queryset.filter(seq__lt=before)
    rows = list(queryset.order_by("-seq")[: count + 1])
    has_older = len(rows) > count
    return list(reversed(rows[:count])), has_older


def hidden_seqs_up_to(topic_id: int, seq: int) -> list[Message]:
    return list(
        Message.objects.filter(topic_id=topic_id, status=MessageStatus.HIDDEN, seq__lte=seq)
        .order_by("seq")
        .only("seq", "hidden_reason")
    )


def halls_section(council, user) -> dict:
    """Section provider for the council page: the halls this user may see."""
    from councils.predicates import roles_in

    halls = Hall.objects.filter(council=council).order_by("title")
    if not roles_in(user, council):
        halls = halls.filter(is_public=True)
    return {
        "halls": list(halls.only("id", "title")),
        "can_add_hall": user.has_perm("deliberation.add_hall", council),
    }


# What authorising a live frame and numbering a post read of a topic: the permission rules
# (deliberation.rules, councils.predicates) and services.post_message. Not the texts (the
# description runs to 4,000 characters) nor the council page's thirty Wagtail columns, read and
# turned into objects on every frame for nothing. Reading another field costs a query per frame:
# tests/deliberation/test_services.py counts them.
SOCKET_TOPIC_FIELDS = (
    "hall_id",
    "author_id",
    "status",
    "answered_at",
    "last_seq",
    "hall__council_id",
    "hall__is_public",
    "hall__council__path",
    "hall__council__depth",
    "hall__council__level",
)


def topic_for_socket(topic_id: int, *, lock: bool = False) -> Topic | None:
    """The topic with its hall and council, for authorising a socket's frame. `lock`: inside a
    transaction, also lock the topic's row (only that row, not its hall's or council's) until it
    ends, so that a service called with the result needs no second read (`post_message`)."""
    topics = Topic.objects.select_related("hall__council").only(*SOCKET_TOPIC_FIELDS)
    if lock:
        topics = topics.select_for_update(of=("self",))
    # No ORDER BY (not .first(), and not the model's ordering): on every live frame, compiling
    # it took longer than the query ran on PostgreSQL. The key is unique: one row at most.
    found = list(topics.filter(pk=topic_id).order_by()[:1])
    return found[0] if found else None
