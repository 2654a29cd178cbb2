"""Read-side queries and the frames sent over websockets, each computed once per change."""

import functools
import json
import weakref

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Count
from django.db.transaction import TransactionManagementError

from core.realtime import group_name
from core.sql import column, table
from councils.models import CouncilPage, Membership, MembershipStatus
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
# tests/deliberation/test_services.py counts them. Per model, in the order the rows nest.
SOCKET_TOPIC_FIELDS = (
    (Topic, ("id", "hall", "author", "status", "answered_at", "last_seq")),
    (Hall, ("id", "council", "is_public")),
    (CouncilPage, ("path", "depth", "page_ptr", "level")),
)


def topic_for_socket(topic_id: int, *, lock: bool = False) -> Topic | None:
    """The topic with its hall and council, for authorising a socket's frame. `lock`: inside a
    transaction, also lock the topic's row (only that row, not its hall's or council's) until it
    ends, so that a service called with the result needs no second read (`post_message`).

    What `Topic.objects.select_related("hall__council").only(...)` gives, but its SQL is
    written once per process (`_socket_topic_sql`) and its objects made by each model's
    `from_db`: on every live frame the ORM's compiling took 1.6 ms and the query 0.6 ms on
    PostgreSQL (tests/deliberation/test_selectors.py checks the two give the same)."""
    return _socket_topic(topic_id, lock, None)[0]


def topic_for_post(
    topic_id: int, user_id: int
) -> tuple[Topic | None, list[tuple[int, str]] | None]:
    """`topic_for_socket(topic_id, lock=True)` and, read by the same statement, the verified
    (council id, role) rows of `user_id` (`Membership.objects.verified_rows`), which the
    permission rules then take from `councils.predicates.remember_memberships`: a live post
    authorises against roles read afresh without a round trip of its own. The rows are None
    when the topic is not found, or on a database with no string aggregate we know."""
    return _socket_topic(topic_id, True, user_id)


def _socket_topic(topic_id: int, lock: bool, user_id: int | None):
    connection = connections[Topic.objects.db]
    for_update = lock and connection.features.has_select_for_update
    if for_update and connection.get_autocommit():
        raise TransactionManagementError(
            "select_for_update cannot be used outside of a transaction."
        )
    memberships = user_id is not None and connection.vendor in _STRING_AGG
    sql, attnames, columns, (low, high) = _socket_topic_sql(
        connection.vendor, for_update, memberships
    )
    if (low is not None and topic_id < low) or (high is not None and topic_id > high):
        return None, None  # a number no key can have (as the ORM's lookup answers): no query
    with connection.cursor() as cursor:
        if memberships:
            cursor.execute(sql, [user_id, MembershipStatus.VERIFIED, topic_id])
        else:
            cursor.execute(sql, [topic_id])
        row = cursor.fetchone()
    if row is None:
        return None, None
    converters = _converters(connection, columns)
    if converters:  # SQLite's datetimes and booleans; none on PostgreSQL
        row = list(row)
        for i, functions, expression in converters:
            for convert in functions:
                row[i] = convert(row[i], expression, connection)
    found = []
    start = 0
    for (model, _names), names in zip(SOCKET_TOPIC_FIELDS, attnames, strict=True):
        found.append(model.from_db(connection.alias, names, row[start : start + len(names)]))
        start += len(names)
    topic, hall, council = found
    Hall._meta.get_field("council").set_cached_value(hall, council)
    Topic._meta.get_field("hall").set_cached_value(topic, hall)
    return topic, (_membership_rows(row[-1]) if memberships else None)


# The string aggregate of each database: a person's verified memberships as one column of the
# topic's read ("council id:role,..."; a role is a slug of councils.models.Role).
_STRING_AGG = {"postgresql": "string_agg", "sqlite": "group_concat"}


def _membership_rows(text: str | None) -> list[tuple[int, str]]:
    if not text:
        return []
    return [(int(council), role) for council, role in (p.split(":", 1) for p in text.split(","))]


@functools.cache
def _socket_topic_sql(
    vendor: str, for_update: bool, memberships: bool = False
) -> tuple[str, tuple, tuple, tuple]:
    """The SQL of `topic_for_socket` (with `memberships`, of `topic_for_post`), the attnames of
    each model's columns in the order of the model's concrete fields (as `from_db` takes them),
    the columns as expressions, and the range of the topic's key."""
    columns: list[str] = []
    attnames: list[tuple[str, ...]] = []
    expressions = []
    for model, names in SOCKET_TOPIC_FIELDS:
        fields = [f for f in model._meta.concrete_fields if f.name in names]
        attnames.append(tuple(f.attname for f in fields))
        columns += [column(f.model, f.name) for f in fields]
        expressions += [f.get_col(f.model._meta.db_table) for f in fields]
    page = CouncilPage._meta.get_field("page_ptr").related_model
    council = column(CouncilPage, "page_ptr")
    select = list(columns)
    if memberships:
        # A subquery in the select list: it reads the rows committed when the statement starts
        # (not after a wait for the topic's lock), as if the post had come a moment sooner.
        council_id, role = column(Membership, "council"), column(Membership, "role")
        pair = f"CAST({council_id} AS TEXT) || ':' || {role}"
        select.append(
            f"(SELECT {_STRING_AGG[vendor]}({pair}, ',') FROM {table(Membership)}"
            f" WHERE {column(Membership, 'user')} = %s AND {column(Membership, 'status')} = %s)"
        )
    sql = (
        f"SELECT {', '.join(select)} FROM {table(Topic)}"
        f" INNER JOIN {table(Hall)} ON ({column(Topic, 'hall')} = {column(Hall, 'id')})"
        f" INNER JOIN {table(CouncilPage)} ON ({column(Hall, 'council')} = {council})"
        f" INNER JOIN {table(page)} ON ({council} = {column(page, 'id')})"
        f" WHERE {column(Topic, 'id')} = %s"
    )
    connection = connections[Topic.objects.db]
    if for_update:
        of = connection.features.has_select_for_update_of
        sql += f" FOR UPDATE OF {table(Topic)}" if of else " FOR UPDATE"
    key_range = connection.ops.integer_field_range(Topic._meta.pk.get_internal_type())
    return sql, tuple(attnames), tuple(expressions), key_range


_converters_of: "weakref.WeakKeyDictionary[BaseDatabaseWrapper, list]" = weakref.WeakKeyDictionary()


def _converters(connection: BaseDatabaseWrapper, columns: tuple) -> list:
    """(index, converters, column) for each column whose raw value the ORM would convert, as its
    compiler does (backend's, then field's); worked out once per connection."""
    found = _converters_of.get(connection)
    if found is None:
        found = []
        for i, column in enumerate(columns):
            functions = connection.ops.get_db_converters(column) + column.get_db_converters(
                connection
            )
            if functions:
                found.append((i, functions, column))
        _converters_of[connection] = found
    return found
