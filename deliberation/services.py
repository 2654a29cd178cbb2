"""Use cases of the deliberation app: topics, live debate, moderation and consultation days.

Every function checks the permission itself (views and consumers check it first too, to choose
what to show), writes inside one transaction, and broadcasts with `broadcast_on_commit` so that a
client never sees what was rolled back. Errors are `ValidationError`s whose `code` is the error
code of the websocket protocol (docs/realtime.md).
"""

import functools
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.models import User
from core.permissions import require_perm as _require
from core.realtime import broadcast_on_commit
from core.sql import column, table
from core.text import require_visible_text
from core.uploads import clean_photos
from councils.models import SUB_COUNCIL_LEVELS, ActionVerb
from deliberation import moderation
from deliberation.models import (
    MESSAGE_MAX_LENGTH,
    ConsultationDay,
    DayRegistration,
    Hall,
    Message,
    MessageStatus,
    ModerationAction,
    ModerationLog,
    Stance,
    StanceValue,
    Topic,
    TopicCategory,
    TopicEvent,
    TopicEventKind,
    TopicPhoto,
    TopicRating,
    TopicStatus,
)
from deliberation.selectors import (
    answered_frame,
    event_for,
    message_frame,
    stances_frame,
    topic_for_post,
    topic_group,
)
from notifications import services as notifications
from notifications.kinds import Kind

CLIENT_ID_MAX_LENGTH = 64


def _broadcast(topic_id: int, frame: dict) -> None:
    broadcast_on_commit(topic_group(topic_id), event_for(frame))


def _lock_topic(topic_id: int) -> Topic:
    return Topic.objects.select_for_update().select_related("hall__council").get(pk=topic_id)


# --- Topics ------------------------------------------------------------------------------


@transaction.atomic
def raise_topic(
    *,
    author,
    hall: Hall,
    title: str,
    description: str,
    category: str = TopicCategory.OTHER,
    location: str = "",
    photos=(),
) -> Topic:
    """A verified resident raises a topic in `hall`, with up to three photos."""
    _require(
        author,
        "deliberation.raise_topic",
        hall,
        _("Only verified residents of this council can raise a topic."),
    )
    title, description = title.strip(), description.strip()
    if not title or not description:
        raise ValidationError(_("A topic needs a title and a description."), code="empty")
    if category not in TopicCategory.values:
        raise ValidationError(_("Choose a category from the list."), code="bad_request")
    # At most three, decoded under the pixel cap and re-encoded without EXIF/GPS.
    photos = clean_photos(photos)
    topic = Topic.objects.create(
        hall=hall,
        author=author,
        title=title,
        description=description,
        category=category,
        location=location.strip(),
    )
    for photo in photos:
        TopicPhoto.objects.create(topic=topic, image=photo)
    TopicEvent.objects.create(topic=topic, kind=TopicEventKind.RAISED, actor=author)
    return topic


_STATUS_EVENTS = {
    TopicStatus.TAKEN_UP: TopicEventKind.TAKEN_UP,
    TopicStatus.DECIDED: TopicEventKind.DECIDED,
    TopicStatus.CLOSED: TopicEventKind.CLOSED,
    TopicStatus.OPEN: TopicEventKind.REOPENED,
}


# What the asker and the topic's followers are told of (a decision or a reopening is not).
_STATUS_NOTICES = {
    TopicStatus.TAKEN_UP: Kind.TOPIC_TAKEN_UP,
    TopicStatus.CLOSED: Kind.TOPIC_CLOSED,
}


def _tell_followers(*, topic: Topic, kind: str, event: TopicEvent, actor) -> None:
    """Tell the asker and the topic's followers, in the event's transaction, who may still see
    the topic; never the person who did it. Once per person and event (its key)."""
    recipients = [
        person
        for person in [topic.author_id, *notifications.followers(topic)]
        if person != actor.pk
    ]
    params = {"title": topic.title}
    if kind == Kind.TOPIC_CLOSED:
        params["reason"] = topic.status_reason
    notifications.notify(
        kind=kind,
        recipients=recipients,
        event_key=f"topic:{topic.pk}:{kind}:{event.pk}",
        url=topic.get_absolute_url(),
        council=topic.hall.council,
        params=params,
        obj=topic,
        permission="deliberation.view_topic",
    )


def _topic_frame(topic: Topic) -> dict:
    return {
        "type": "topic",
        "status": topic.status,
        "reason": topic.status_reason,
        "merged_into": topic.merged_into_id,
    }


@transaction.atomic
def change_topic_status(*, actor, topic: Topic, status: str, reason: str = "") -> TopicEvent:
    """The committee takes a topic up (接单), marks it decided, closes or reopens it."""
    topic = _lock_topic(topic.pk)
    _require(
        actor,
        "deliberation.change_topic",
        topic,
        _("Only the committee can change a topic's status."),
    )
    if status not in _STATUS_EVENTS:
        raise ValidationError(_("This status cannot be set here."), code="bad_request")
    if topic.status == TopicStatus.MERGED:
        raise ValidationError(_("This topic was merged into another one."), code="topic_closed")
    if topic.status == status:
        raise ValidationError(_("The topic already has this status."), code="bad_request")
    reason = reason.strip()
    if status in (TopicStatus.CLOSED, TopicStatus.OPEN) and not reason:
        raise ValidationError(
            _("Give a reason for closing or reopening the topic."), code="reason_required"
        )
    topic.status, topic.status_reason = status, reason
    topic.save(update_fields=["status", "status_reason"])
    event = TopicEvent.objects.create(
        topic=topic, kind=_STATUS_EVENTS[status], actor=actor, note=reason
    )
    if status in _STATUS_NOTICES:
        _tell_followers(topic=topic, kind=_STATUS_NOTICES[status], event=event, actor=actor)
    _broadcast(topic.pk, _topic_frame(topic))
    return event


@transaction.atomic
def answer_topic(*, actor, topic: Topic, answer: str) -> TopicEvent:
    """The committee gives (or updates) the official answer (官方答复); every answer is logged."""
    topic = _lock_topic(topic.pk)
    _require(actor, "deliberation.change_topic", topic, _("Only the committee can answer a topic."))
    answer = answer.strip()
    if not answer:
        raise ValidationError(_("Write the answer."), code="empty")
    if topic.status == TopicStatus.OPEN:
        # Answering is taking the matter up (接单): the badge stops saying "open" and the
        # history says so before it shows the answer.
        topic.status, topic.status_reason = TopicStatus.TAKEN_UP, ""
        TopicEvent.objects.create(topic=topic, kind=TopicEventKind.TAKEN_UP, actor=actor)
    topic.official_answer, topic.answered_at = answer, timezone.now()
    topic.save(update_fields=["official_answer", "answered_at", "status", "status_reason"])
    event = TopicEvent.objects.create(
        topic=topic, kind=TopicEventKind.ANSWERED, actor=actor, note=answer
    )
    # One notice, "answered", even when answering also took the topic up.
    _tell_followers(topic=topic, kind=Kind.TOPIC_ANSWERED, event=event, actor=actor)
    _broadcast(topic.pk, answered_frame(topic))
    return event


RATING_COMMENT_MAX_LENGTH = 500


@transaction.atomic
def rate_topic(*, user, topic: Topic, score: int, comment: str = "") -> TopicRating:
    """The asker rates the committee's answer (评事): a score of 1-5 and an optional comment,
    once. The rating and a `rated` event are part of the topic's public record."""
    topic = _lock_topic(topic.pk)  # two tabs rating at once: the second sees the first
    _require(
        user,
        "deliberation.rate_topic",
        topic,
        _("Only the person who raised this topic can rate the committee's answer."),
    )
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise ValidationError(_("Give a score from 1 to 5."), code="bad_request")
    if not isinstance(comment, str) or "\x00" in comment:
        raise ValidationError(_("The comment must be text."), code="bad_request")
    comment = comment.strip()
    if len(comment) > RATING_COMMENT_MAX_LENGTH:
        raise ValidationError(
            _("A comment can be at most %(max)d characters.") % {"max": RATING_COMMENT_MAX_LENGTH},
            code="too_long",
        )
    if TopicRating.objects.filter(topic=topic).exists():
        raise ValidationError(_("You have already rated this answer."), code="already_rated")
    rating = TopicRating.objects.create(topic=topic, author=user, score=score, comment=comment)
    TopicEvent.objects.create(
        topic=topic,
        kind=TopicEventKind.RATED,
        actor=user,
        note=f"{score}/5" + (f" · {comment}" if comment else ""),
    )
    return rating


@transaction.atomic
def merge_topics(*, actor, duplicate: Topic, into: Topic, reason: str = "") -> TopicEvent:
    """Merge `duplicate` into `into`: the duplicate closes and points at the other topic."""
    if duplicate.pk == into.pk:
        raise ValidationError(_("A topic cannot be merged into itself."), code="bad_request")
    # Lock both rows in primary-key order so that two opposite merges cannot deadlock.
    locked = {
        t.pk: t
        for t in Topic.objects.select_for_update()
        .select_related("hall__council")
        .filter(pk__in=[duplicate.pk, into.pk])
        .order_by("pk")
    }
    duplicate, into = locked[duplicate.pk], locked[into.pk]
    _require(
        actor, "deliberation.change_topic", duplicate, _("Only the committee can merge topics.")
    )
    if duplicate.hall.council_id != into.hall.council_id:
        raise ValidationError(
            _("Topics can only be merged within one council."), code="bad_request"
        )
    if TopicStatus.MERGED in (duplicate.status, into.status):
        raise ValidationError(_("One of these topics was already merged."), code="topic_closed")
    duplicate.status, duplicate.merged_into, duplicate.status_reason = (
        TopicStatus.MERGED,
        into,
        reason.strip(),
    )
    duplicate.save(update_fields=["status", "merged_into", "status_reason"])
    event = TopicEvent.objects.create(
        topic=duplicate,
        kind=TopicEventKind.MERGED,
        actor=actor,
        note=reason.strip(),
        other_topic=into,
    )
    TopicEvent.objects.create(
        topic=into,
        kind=TopicEventKind.ABSORBED,
        actor=actor,
        note=reason.strip(),
        other_topic=duplicate,
    )
    _broadcast(duplicate.pk, _topic_frame(duplicate))
    return event


# --- Live debate -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Posted:
    message: Message
    created: bool  # False when a resend with the same client_id returned the original

    @property
    def held(self) -> bool:
        return self.message.status == MessageStatus.HELD


def _clean_body(body) -> str:
    if not isinstance(body, str) or "\x00" in body:  # PostgreSQL cannot store NUL in text
        raise ValidationError(_("The message must be text."), code="bad_request")
    body = body.strip()
    if not body:
        raise ValidationError(_("Write something first."), code="empty")
    require_visible_text(body, code="empty")  # zero-width spaces are empty too
    if len(body) > MESSAGE_MAX_LENGTH:
        raise ValidationError(
            _("A message can be at most %(max)d characters; this one has %(n)d.")
            % {"max": MESSAGE_MAX_LENGTH, "n": len(body)},
            code="too_long",
        )
    return body


def _clean_client_id(client_id) -> str:
    if client_id in (None, ""):
        return ""
    if (
        not isinstance(client_id, str)
        or len(client_id) > CLIENT_ID_MAX_LENGTH
        or not client_id.isascii()
        or not client_id.isprintable()
    ):
        raise ValidationError(
            _("The client_id must be up to 64 ASCII characters."), code="bad_request"
        )
    return client_id


def post_message(
    *,
    author,
    topic: Topic,
    body: str,
    reply_to: int | None = None,
    client_id: str = "",
    topic_locked: bool = False,
) -> Posted:
    """Store a message, then broadcast it after commit; hold it if it has a sensitive word.

    Published messages are numbered under a row lock on the topic, so `seq` has no gaps. A resend
    with the same `client_id` returns the original message and changes nothing.

    `topic_locked`: the caller read `topic` with its row locked in the transaction it is in
    (`selectors.topic_for_post`, the live socket), so it is current and is not
    read again; the message then commits, or is refused and rolled back, with that transaction.
    """
    body = _clean_body(body)
    client_id = _clean_client_id(client_id)
    if reply_to is not None and (isinstance(reply_to, bool) or not isinstance(reply_to, int)):
        raise ValidationError(_("reply_to must be a message number."), code="bad_request")
    _require(
        author,
        "deliberation.post_message",
        topic,
        _("Only verified residents of this council can post in an open topic."),
    )
    if topic_locked and not transaction.get_connection().in_atomic_block:
        raise RuntimeError("topic_locked needs the transaction that locked the topic")
    held = bool(moderation.find_sensitive_words(body))
    # A caller that locked the topic refuses in its own transaction: no savepoint for this one.
    with transaction.atomic(savepoint=not topic_locked):
        if topic_locked:
            locked = topic
        else:
            # The topic's row only (not its hall and council, which FOR UPDATE would lock too
            # and posts in other topics would wait for): its number and whether it is open.
            locked = (
                Topic.objects.select_for_update().only("pk", "status", "last_seq").get(pk=topic.pk)
            )
        if client_id:  # a resend, perhaps racing with the first on another worker
            original = _resent(topic.pk, author, client_id)
            if original is not None:
                return Posted(original, created=False)  # costs no post of the quota
        if not moderation.take_post_token(author.pk):
            raise ValidationError(
                _("You are posting too fast. Wait a minute and try again."), code="rate_limited"
            )
        if not locked.is_discussable:
            raise ValidationError(_("This topic is closed for discussion."), code="topic_closed")
        original_message = None
        if reply_to is not None:
            original_message = _quoted(locked.pk, reply_to)
            if original_message is None:
                raise ValidationError(
                    _("The message you reply to does not exist."), code="bad_reply"
                )
        message = Message(
            topic=locked,
            author=author,
            body=body,
            reply_to=original_message,
            client_id=client_id,
            status=MessageStatus.HELD if held else MessageStatus.PUBLISHED,
        )
        if not held:
            locked.last_seq += 1
            message.seq = locked.last_seq
        _insert_message(message, numbers=None if held else locked)
        if not held:
            _broadcast(locked.pk, message_frame(message))
    return Posted(message, created=True)


def warm_up_live_posts() -> None:
    """Make a live post's statements at a worker's start (yishi/asgi.py), so that its first post
    does not pay for a cold connection: in bench/bench_fanout.py that post took 20-40 ms against
    11-14 ms once warm, and set the round's p99. It reads a topic, a person and a message that
    do not exist, in transactions rolled back, and stores nothing. The same statements as a post
    (tests/deliberation/test_services.py compares them), so PostgreSQL prepares them on the
    connection that the pool lends the first post; the same code paths; the cache's connection."""
    moderation.find_sensitive_words("")
    nobody = User(pk=0)
    for _run in range(2):  # prepared from the second run on (DATABASE_PREPARE_THRESHOLD)
        with transaction.atomic():
            topic_for_post(0, nobody.pk)
            _resent(0, nobody, "warm-up")
            _quoted(0, 0)
            _insert_message(Message(topic_id=0, author_id=0, seq=0), numbers=Topic(pk=0))
            transaction.set_rollback(True)


def _quoted(topic_id: int, seq: int) -> Message | None:
    """The message a reply quotes, with its author. (topic, seq) is unique: at most one row, and
    no ORDER BY to compile."""
    quoted = Message.objects.filter(topic_id=topic_id, seq=seq).select_related("author")
    return next(iter(quoted.order_by()[:1]), None)


def _resent(topic_id: int, author, client_id: str) -> Message | None:
    """The message `author` already posted with `client_id`, if any. Nearly every post is not a
    resend: a narrow query says so, and only a resend reads the message with its author and
    quote. The narrow query is written once (`_resent_sql`): the ORM took 0.8 ms to compile it on
    every post, against 0.3 ms to run it. The unique (topic, author, client_id) constraint
    leaves one row at most."""
    connection = connections[Message.objects.db]
    with connection.cursor() as cursor:
        cursor.execute(_resent_sql(connection.vendor), [topic_id, author.pk, client_id])
        found = cursor.fetchone()
    if found is None:
        return None
    return Message.objects.select_related("author", "reply_to__author").get(pk=found[0])


@functools.cache
def _resent_sql(vendor: str) -> str:
    where = " AND ".join(f"{column(Message, f)} = %s" for f in ("topic", "author", "client_id"))
    return f"SELECT {column(Message, 'pk')} FROM {table(Message)} WHERE {where} LIMIT 1"


def _next_seq(locked_topic: Topic) -> int:
    """The next number of the topic, whose row the caller locked: stored at once."""
    locked_topic.last_seq += 1
    _store_seq(locked_topic.pk, locked_topic.last_seq)
    return locked_topic.last_seq


def _store_seq(topic_id: int, seq: int) -> None:
    """`Topic.objects.filter(pk=topic_id).update(last_seq=seq)`, its SQL written once per
    process (`save(update_fields=...)` took 1.0 ms a post, 0.3 ms of it the statement)."""
    connection = connections[Topic.objects.db]
    with connection.cursor() as cursor:
        cursor.execute(_store_seq_sql(connection.vendor), [seq, topic_id])


@functools.cache
def _store_seq_sql(vendor: str) -> str:
    last_seq = column(Topic, "last_seq", qualified=False)
    return f"UPDATE {table(Topic)} SET {last_seq} = %s WHERE {column(Topic, 'pk')} = %s"


def _insert_message(message: Message, *, numbers: Topic | None) -> None:
    """`message.save()` for a new message, and, if `numbers` (its topic, locked by the caller,
    whose `last_seq` is the message's `seq`), the topic's new number stored as `_store_seq` does.

    The SQL is written once per process (`_insert_message_sql`), the values prepared by each
    field as `save()` prepares them (`created` set by its `auto_now_add`). On PostgreSQL the
    number and the message go in one statement (an UPDATE in a WITH before the INSERT): a
    live post's round trip fewer, and no compiling of an INSERT on every post. No `post_save`
    signal is sent: nothing listens for a message's (tests/deliberation/test_services.py
    says so if that changes)."""
    connection = connections[Message.objects.db]
    fields, insert, numbered = _insert_message_sql(connection.vendor)
    values = [f.get_db_prep_save(f.pre_save(message, True), connection) for f in fields]
    with connection.cursor() as cursor:
        if numbers is not None and numbered is not None:
            cursor.execute(numbered, [numbers.last_seq, numbers.pk, *values])
        else:
            if numbers is not None:
                cursor.execute(_store_seq_sql(connection.vendor), [numbers.last_seq, numbers.pk])
            cursor.execute(insert, values)
        message.pk = cursor.fetchone()[0]
    message._state.adding = False
    message._state.db = connection.alias


@functools.cache
def _insert_message_sql(vendor: str) -> tuple[tuple, str, str | None]:
    """The fields a new message stores, its INSERT, and (PostgreSQL) the same INSERT after the
    UPDATE of its topic's number."""
    fields = tuple(f for f in Message._meta.concrete_fields if not f.primary_key)
    names = ", ".join(column(Message, f.name, qualified=False) for f in fields)
    insert = (
        f"INSERT INTO {table(Message)} ({names}) VALUES ({', '.join(['%s'] * len(fields))})"
        f" RETURNING {column(Message, 'pk', qualified=False)}"
    )
    numbered = f"WITH number AS ({_store_seq_sql(vendor)}) {insert}"
    return fields, insert, numbered if vendor == "postgresql" else None


@transaction.atomic
def set_stance(*, user, topic: Topic, value: str) -> Stance:
    """Take or change one's stance on a topic; the new tally is broadcast."""
    if value not in StanceValue.values:
        raise ValidationError(_("A stance is support, oppose or neutral."), code="bad_request")
    _require(
        user,
        "deliberation.set_stance",
        topic,
        _("Only verified residents of this council can take a stance on an open topic."),
    )
    locked = _lock_topic(topic.pk)  # serialises tallies so the last broadcast is the newest
    if not locked.is_discussable:
        raise ValidationError(_("This topic is closed for discussion."), code="topic_closed")
    stance, _created = Stance.objects.update_or_create(
        topic=locked, user=user, defaults={"value": value}
    )
    _broadcast(locked.pk, stances_frame(locked.pk))
    return stance


@transaction.atomic
def moderate_message(*, actor, message: Message, action: str, reason: str = "") -> ModerationLog:
    """Hide a published message, or release or reject a held one; every decision is logged."""
    message = Message.objects.select_for_update().select_related("author").get(pk=message.pk)
    topic = _lock_topic(message.topic_id)
    _require(
        actor,
        "deliberation.moderate_message",
        topic,
        _("Only the committee can moderate messages."),
    )
    reason = reason.strip()
    if action in (ModerationAction.HIDE, ModerationAction.REJECT) and not reason:
        raise ValidationError(
            _("Give a reason; it is shown in place of the message."), code="reason_required"
        )
    allowed_from = {
        ModerationAction.HIDE: MessageStatus.PUBLISHED,
        ModerationAction.RELEASE: MessageStatus.HELD,
        ModerationAction.REJECT: MessageStatus.HELD,
    }
    if action not in allowed_from:
        raise ValidationError(_("Unknown moderation action."), code="bad_request")
    if message.status != allowed_from[action]:
        raise ValidationError(_("This message has already been dealt with."), code="bad_request")
    message.topic = topic
    if action == ModerationAction.HIDE:
        message.status, message.hidden_reason = MessageStatus.HIDDEN, reason
        message.save(update_fields=["status", "hidden_reason"])
        _broadcast(
            topic.pk, {"type": "moderation", "action": "hide", "seq": message.seq, "reason": reason}
        )
    elif action == ModerationAction.RELEASE:
        message.status, message.seq = MessageStatus.PUBLISHED, _next_seq(topic)
        message.save(update_fields=["status", "seq"])
        _broadcast(topic.pk, message_frame(message))
    else:
        message.status, message.hidden_reason = MessageStatus.REJECTED, reason
        message.save(update_fields=["status", "hidden_reason"])
    return ModerationLog.objects.create(message=message, action=action, actor=actor, reason=reason)


# --- Consultation days ---------------------------------------------------------------------


@transaction.atomic
def schedule_consultation_day(
    *, actor, hall: Hall, title: str, starts_at, place: str, officials: str, ends_at=None
) -> ConsultationDay:
    """Schedule a consultation day (民情恳谈日) in `hall`."""
    _require(
        actor,
        "deliberation.schedule_consultationday",
        hall,
        _("Only the committee can schedule a consultation day."),
    )
    if starts_at <= timezone.now():
        raise ValidationError(_("A consultation day must be in the future."), code="bad_request")
    if ends_at is not None and ends_at <= starts_at:
        raise ValidationError(_("The end must be after the start."), code="bad_request")
    if not (title.strip() and place.strip() and officials.strip()):
        raise ValidationError(_("Give a title, a place and the officials attending."), code="empty")
    return ConsultationDay.objects.create(
        hall=hall,
        title=title.strip(),
        starts_at=starts_at,
        ends_at=ends_at,
        place=place.strip(),
        officials=officials.strip(),
        created_by=actor,
    )


@transaction.atomic
def register_for_day(*, user, day: ConsultationDay, note: str = "") -> DayRegistration:
    """A resident registers to attend; once per person."""
    _require(
        user,
        "deliberation.register_consultationday",
        day,
        _("Only verified residents of this council can register."),
    )
    day = ConsultationDay.objects.select_for_update().get(pk=day.pk)
    if day.starts_at <= timezone.now():
        raise ValidationError(_("This consultation day has already begun."), code="bad_request")
    registration, created = DayRegistration.objects.get_or_create(
        day=day, user=user, defaults={"note": note.strip()}
    )
    if not created:
        raise ValidationError(_("You are already registered for this day."), code="duplicate")
    return registration


@transaction.atomic
def publish_day_outcome(*, actor, day: ConsultationDay, outcome: str, topics=()) -> ConsultationDay:
    """After the day, the committee publishes the topics discussed and the outcome."""
    day = ConsultationDay.objects.select_for_update().select_related("hall__council").get(pk=day.pk)
    _require(
        actor,
        "deliberation.schedule_consultationday",
        day,
        _("Only the committee can publish the outcome."),
    )
    if day.starts_at > timezone.now():
        raise ValidationError(
            _("The outcome can be published once the day has begun."), code="bad_request"
        )
    if day.outcome_published_at is not None:
        raise ValidationError(_("The outcome of this day was already published."), code="duplicate")
    outcome = outcome.strip()
    if not outcome:
        raise ValidationError(_("Write the outcome."), code="empty")
    topics = list(topics)
    if any(t.hall.council_id != day.hall.council_id for t in topics):
        raise ValidationError(_("Topics must belong to this council."), code="bad_request")
    day.outcome, day.outcome_published_at = outcome, timezone.now()
    day.save(update_fields=["outcome", "outcome_published_at"])
    day.topics.set(topics)
    return day


# --- Halls opened from the council's page (issue 14, point 5) ------------------------------------


@transaction.atomic
def create_hall(
    *,
    by,
    council,
    title: str,
    description: str = "",
    is_public: bool = True,
    new_council_level: str = "",
    new_council_title: str = "",
) -> Hall:
    """Open a discussion hall in `council`, or first set up a grid, a council of rural worthies or
    a children's council under the village `council` (new_council_level) and open its hall.
    Both are written to the village's log of committee actions."""
    from councils import services as councils

    title = " ".join((title or "").split())
    if len(title) < 2:
        raise ValidationError({"title": _("Write a title of at least 2 characters.")})
    village = council
    if new_council_level:
        council = councils.create_sub_council(
            by=by, village=council, level=new_council_level, title=new_council_title
        )
    elif council.level in SUB_COUNCIL_LEVELS:
        village = council.get_parent().specific
    _require(
        by,
        "deliberation.add_hall",
        council,
        _("Only the committee or a township official can open a hall here."),
    )
    if Hall.objects.filter(council=council, title=title).exists():
        raise ValidationError({"title": _("This council already has a hall of this name.")})
    hall = Hall.objects.create(
        council=council,
        title=title[:100],
        description=(description or "").strip(),
        is_public=is_public,
    )
    councils.log_action(
        council=village,
        actor=by,
        verb=ActionVerb.CREATE_HALL,
        target=f"{council.title} · {hall.title}",
    )
    return hall


# --- Halls and topics that other apps open for their own items ----------------------------------
# A budget cycle's proposals are debated in a hall of their council. The caller keeps the real key
# to what it opened (budgets.BudgetHall, Proposal.debate): nothing is looked up by title.


def open_linked_hall(*, council, title: str, description: str = "") -> Hall:
    """Open a public hall in `council` for another app's items (no committee act: the app that
    asks has already checked who may cause it). The caller stores the hall's key."""
    return Hall.objects.create(
        council=council,
        title=" ".join(title.split())[:100],
        description=(description or "").strip()[:1000],
        is_public=True,
    )


@transaction.atomic
def open_linked_topic(*, hall: Hall, author, title: str, description: str, location: str = ""):
    """The live debate of another app's item (a budget proposal): a topic in `hall` raised by
    the item's author, who has already been allowed to propose it."""
    topic = Topic.objects.create(
        hall=hall,
        author=author,
        title=title[:120],
        description=description[:4000],
        location=location,
    )
    TopicEvent.objects.create(topic=topic, kind=TopicEventKind.RAISED, actor=author)
    return topic
