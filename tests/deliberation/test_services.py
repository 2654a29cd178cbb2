"""Services: numbering, idempotence, moderation, topic life, consultation days, integrity."""

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models.signals import post_save, pre_save
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from freezegun import freeze_time
from wagtail.models import Page, TranslatableMixin

from councils.models import MembershipStatus, Role
from deliberation import services
from deliberation.models import (
    DayRegistration,
    Message,
    MessageStatus,
    ModerationLog,
    Stance,
    Topic,
    TopicEvent,
    TopicStatus,
)
from deliberation.selectors import message_frame
from tests.councils.factories import UserFactory, member
from tests.deliberation.factories import HallFactory, TopicFactory

pytestmark = pytest.mark.django_db


def post(topic, author, body="好", **kw):
    return services.post_message(author=author, topic=topic, body=body, **kw)


def test_seq_has_no_gaps_even_around_held_and_released_messages(
    settings, topic, resident, committee
):
    settings.YISHI_SENSITIVE_WORDS = ["赌博"]
    settings.YISHI_DELIBERATION_POST_RATE = None
    post(topic, resident, "一")
    held = post(topic, resident, "有人赌博").message
    post(topic, resident, "二")
    assert held.seq is None and held.status == MessageStatus.HELD
    services.moderate_message(actor=committee, message=held, action="release")
    post(topic, committee, "三")
    seqs = list(Message.objects.filter(topic=topic).order_by("seq").values_list("seq", flat=True))
    assert seqs == [1, 2, 3, 4]
    topic.refresh_from_db()
    assert topic.last_seq == 4


def test_seq_is_counted_per_topic(hall, topic, resident):
    other = TopicFactory(hall=hall)
    post(topic, resident)
    assert post(other, resident).message.seq == 1


def test_a_resend_returns_the_original_and_stores_nothing_new(topic, resident):
    first = post(topic, resident, "一次", client_id="abc")
    again = post(topic, resident, "一次", client_id="abc")
    assert first.created and not again.created
    assert again.message.pk == first.message.pk
    assert Message.objects.count() == 1


def test_a_resent_reply_comes_back_whole_and_a_new_post_reads_no_message(
    topic, resident, committee, django_assert_num_queries
):
    """The resend check is a narrow query; only a resend reads the message, with its author
    and the message it quotes (what its frame shows)."""
    quoted = post(topic, committee, "原帖").message
    first = post(topic, resident, "回复", reply_to=quoted.seq, client_id="r-1")
    again = post(topic, resident, "回复", reply_to=quoted.seq, client_id="r-1")
    assert not again.created and again.message.pk == first.message.pk
    with django_assert_num_queries(0):  # author and quote came with it
        frame = message_frame(again.message)
    assert frame["quote"]["seq"] == quoted.seq and frame["author"] == resident.public_name
    with CaptureQueriesContext(connection) as queries:
        post(topic, resident, "新的", client_id="r-2")
    reads = [q["sql"] for q in queries if "deliberation_message" in q["sql"].split("WHERE")[0]]
    selects = [sql for sql in reads if sql.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1 and '"author_id"' not in selects[0].split("FROM")[0], selects


def test_the_same_client_id_from_two_people_is_two_messages(topic, resident, committee):
    post(topic, resident, client_id="same")
    post(topic, committee, client_id="same")
    assert Message.objects.count() == 2


def test_the_same_client_id_in_two_topics_is_two_messages(hall, topic, resident):
    other = TopicFactory(hall=hall, author=resident)
    first = post(topic, resident, "这边", client_id="same")
    second = post(other, resident, "那边", client_id="same")
    assert first.created and second.created
    assert (first.message.topic_id, second.message.topic_id) == (topic.pk, other.pk)
    assert post(other, resident, "那边", client_id="same").message == second.message


def test_the_database_refuses_a_duplicate_client_id(topic, resident):
    post(topic, resident, client_id="dup")
    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.create(topic=topic, author=resident, body="x", client_id="dup", seq=9)


def test_the_database_refuses_a_duplicate_seq(topic, resident):
    post(topic, resident)
    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.create(topic=topic, author=resident, body="x", seq=1)


def test_one_stance_per_person_in_the_database(topic, resident):
    services.set_stance(user=resident, topic=topic, value="support")
    with pytest.raises(IntegrityError), transaction.atomic():
        Stance.objects.create(topic=topic, user=resident, value="oppose")


def test_sensitive_words_from_the_database_and_full_width_letters(topic, resident):
    from deliberation.models import SensitiveWord

    SensitiveWord.objects.create(word="ABC")
    assert post(topic, resident, "这里有 ＡＢＣ").held
    assert not post(topic, resident, "这里没有").held


def test_a_sensitive_word_counts_from_the_next_post_after_it_is_added_or_removed(topic, resident):
    """The table's words are cached between posts; saving or deleting one drops the cache."""
    from deliberation.models import SensitiveWord

    assert not post(topic, resident, "放高利贷").held  # the (empty) list is cached now
    word = SensitiveWord.objects.create(word="高利贷")
    assert post(topic, resident, "放高利贷").held
    word.delete()
    assert not post(topic, resident, "又放高利贷").held


def test_a_list_cached_while_a_word_was_being_saved_is_dropped_when_it_commits(
    django_capture_on_commit_callbacks,
):
    """Another worker may read the table between the save and its commit, and cache the list
    without the new word; the commit drops that list."""
    from django.core.cache import cache

    from deliberation import moderation
    from deliberation.models import SensitiveWord

    with django_capture_on_commit_callbacks(execute=True):
        SensitiveWord.objects.create(word="高利贷")
        cache.set(moderation.SENSITIVE_WORDS_KEY, [])  # what that other worker cached
        assert moderation.sensitive_words() == []
    assert moderation.sensitive_words() == ["高利贷"]


def test_a_resend_costs_nothing_of_the_rate_limit(settings, topic, resident):
    settings.YISHI_DELIBERATION_POST_RATE = (1, 60)
    first = services.post_message(author=resident, topic=topic, body="一", client_id="c-1")
    again = services.post_message(author=resident, topic=topic, body="一", client_id="c-1")
    assert not again.created and again.message == first.message
    with pytest.raises(ValidationError) as error:
        services.post_message(author=resident, topic=topic, body="二", client_id="c-2")
    assert error.value.code == "rate_limited"
    assert Message.objects.count() == 1


def test_the_rate_limit_counts_per_person(settings, topic, resident, committee):
    settings.YISHI_DELIBERATION_POST_RATE = (1, 60)
    post(topic, resident)
    with pytest.raises(ValidationError) as error:
        post(topic, resident)
    assert error.value.code == "rate_limited"
    post(topic, committee)  # someone else is not slowed down
    assert Message.objects.count() == 2


@pytest.mark.parametrize("role", [None, Role.REPRESENTATIVE, Role.SUPERVISOR, Role.GRID_WORKER])
def test_only_the_committee_moderates(tree, topic, resident, role):
    moderator = member(tree["village"], role) if role else resident
    message = post(topic, resident).message
    with pytest.raises(PermissionDenied):
        services.moderate_message(actor=moderator, message=message, action="hide", reason="x")
    assert Message.objects.get().status == MessageStatus.PUBLISHED
    assert not ModerationLog.objects.exists()


@pytest.mark.parametrize("officer", ["committee", "official"])
def test_committee_and_township_official_moderate_and_it_is_logged(
    tree, topic, resident, committee, officer
):
    actor = committee if officer == "committee" else member(tree["township"], Role.OFFICIAL)
    message = post(topic, resident).message
    log = services.moderate_message(actor=actor, message=message, action="hide", reason="广告")
    assert (log.action, log.actor, log.reason) == ("hide", actor, "广告")
    message.refresh_from_db()
    assert message.status == MessageStatus.HIDDEN and message.hidden_reason == "广告"


def test_hiding_needs_a_reason_and_a_hidden_message_cannot_be_hidden_again(
    topic, resident, committee
):
    message = post(topic, resident).message
    with pytest.raises(ValidationError):
        services.moderate_message(actor=committee, message=message, action="hide")
    services.moderate_message(actor=committee, message=message, action="hide", reason="x")
    with pytest.raises(ValidationError):
        services.moderate_message(actor=committee, message=message, action="hide", reason="y")
    assert ModerationLog.objects.count() == 1


def test_logs_are_append_only(topic, resident, committee):
    message = post(topic, resident).message
    log = services.moderate_message(actor=committee, message=message, action="hide", reason="x")
    log.reason = "改写"
    with pytest.raises(ValidationError):
        log.save()
    with pytest.raises(ValidationError):
        log.delete()
    event = TopicEvent.objects.create(topic=topic, kind="raised", actor=resident)
    with pytest.raises(ValidationError):
        event.delete()


@pytest.mark.parametrize("role", [None, Role.REPRESENTATIVE, Role.SUPERVISOR])
def test_residents_cannot_change_answer_or_merge_topics(tree, hall, topic, role):
    user = member(tree["village"])
    if role:
        member(tree["village"], role, user=user)
    other = TopicFactory(hall=hall)
    with pytest.raises(PermissionDenied):
        services.change_topic_status(actor=user, topic=topic, status=TopicStatus.DECIDED)
    with pytest.raises(PermissionDenied):
        services.answer_topic(actor=user, topic=topic, answer="x")
    with pytest.raises(PermissionDenied):
        services.merge_topics(actor=user, duplicate=other, into=topic)
    topic.refresh_from_db()
    assert topic.status == TopicStatus.OPEN and not topic.official_answer


def test_the_committee_takes_up_decides_and_closes_with_every_step_logged(topic, committee):
    services.change_topic_status(actor=committee, topic=topic, status=TopicStatus.TAKEN_UP)
    services.answer_topic(actor=committee, topic=topic, answer="下月修")
    services.change_topic_status(actor=committee, topic=topic, status=TopicStatus.DECIDED)
    with pytest.raises(ValidationError):
        services.change_topic_status(actor=committee, topic=topic, status=TopicStatus.CLOSED)
    services.change_topic_status(
        actor=committee, topic=topic, status=TopicStatus.CLOSED, reason="已修好"
    )
    kinds = list(topic.events.values_list("kind", flat=True))
    assert kinds == ["taken_up", "answered", "decided", "closed"]
    topic.refresh_from_db()
    assert topic.status == TopicStatus.CLOSED and topic.status_reason == "已修好"


def test_merging_rules(tree, hall, topic, committee):
    duplicate = TopicFactory(hall=hall)
    elsewhere = TopicFactory(hall=HallFactory(council=tree["other_village"]))
    with pytest.raises(ValidationError):
        services.merge_topics(actor=committee, duplicate=topic, into=topic)
    with pytest.raises((ValidationError, PermissionDenied)):
        services.merge_topics(actor=committee, duplicate=duplicate, into=elsewhere)
    services.merge_topics(actor=committee, duplicate=duplicate, into=topic, reason="重复")
    duplicate.refresh_from_db()
    assert duplicate.merged_into == topic and duplicate.status == TopicStatus.MERGED
    with pytest.raises(ValidationError):
        services.merge_topics(actor=committee, duplicate=duplicate, into=topic)


def test_merged_topic_refuses_messages(hall, topic, committee):
    duplicate = TopicFactory(hall=hall)
    services.merge_topics(actor=committee, duplicate=duplicate, into=topic)
    duplicate.refresh_from_db()
    with pytest.raises(PermissionDenied):
        post(duplicate, committee)


@pytest.mark.parametrize("who", ["outsider", "applicant", "other_resident"])
def test_non_members_cannot_raise_topics(tree, hall, who):
    user = {
        "outsider": UserFactory,
        "applicant": lambda: member(tree["village"], status=MembershipStatus.PENDING),
        "other_resident": lambda: member(tree["other_village"]),
    }[who]()
    with pytest.raises(PermissionDenied):
        services.raise_topic(author=user, hall=hall, title="t", description="d")


def test_more_than_three_photos_are_refused(hall, resident):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.deliberation.test_pages import png

    photos = [SimpleUploadedFile(f"{i}.png", png(), "image/png") for i in range(4)]
    with pytest.raises(ValidationError):
        services.raise_topic(author=resident, hall=hall, title="t", description="d", photos=photos)


def test_a_consultation_day_from_schedule_to_outcome(hall, topic, resident, committee):
    starts = timezone.now() + timedelta(days=3)
    day = services.schedule_consultation_day(
        actor=committee,
        hall=hall,
        title="十二月民情恳谈日",
        starts_at=starts,
        place="村委会议室",
        officials="李明（镇党委副书记）",
    )
    services.register_for_day(user=resident, day=day, note="说说修路")
    with pytest.raises(ValidationError):
        services.register_for_day(user=resident, day=day)
    assert DayRegistration.objects.count() == 1
    with pytest.raises(ValidationError):  # not before the day
        services.publish_day_outcome(actor=committee, day=day, outcome="x")
    with freeze_time(starts + timedelta(hours=3)):
        with pytest.raises(ValidationError):  # registration closes when the day begins
            services.register_for_day(user=committee, day=day)
        with pytest.raises(PermissionDenied):
            services.publish_day_outcome(actor=resident, day=day, outcome="x")
        services.publish_day_outcome(
            actor=committee, day=day, outcome="修路列入明年计划", topics=[topic]
        )
        with pytest.raises(ValidationError):
            services.publish_day_outcome(actor=committee, day=day, outcome="改")
    day.refresh_from_db()
    assert day.outcome == "修路列入明年计划" and list(day.topics.all()) == [topic]


@pytest.mark.parametrize("who", ["resident", "supervisor"])
def test_only_the_committee_schedules_days(tree, hall, who):
    user = member(tree["village"])
    if who == "supervisor":
        member(tree["village"], Role.SUPERVISOR, user=user)
    with pytest.raises(PermissionDenied):
        services.schedule_consultation_day(
            actor=user,
            hall=hall,
            title="x",
            starts_at=timezone.now() + timedelta(days=1),
            place="p",
            officials="o",
        )


def test_a_day_in_the_past_cannot_be_scheduled(hall, committee):
    with pytest.raises(ValidationError):
        services.schedule_consultation_day(
            actor=committee,
            hall=hall,
            title="x",
            starts_at=timezone.now() - timedelta(hours=1),
            place="p",
            officials="o",
        )


def ten_posts_each_at_once(posters, post) -> tuple[list, list]:
    """`post(poster, i)` for i in 0..9, each poster in a thread of its own with its own database
    connection, all starting together; what the posts returned and what they raised."""
    results, errors = [], []
    barrier = threading.Barrier(len(posters))

    def write(poster):
        try:
            barrier.wait()
            for i in range(10):
                results.append(post(poster, i))
        except Exception as error:  # noqa: BLE001 - reported by the caller
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(p,)) for p in posters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_on_postgres_get_distinct_gapless_numbers(settings, tree):
    """Real connections in threads: the row lock on the topic serialises numbering."""
    settings.YISHI_DELIBERATION_POST_RATE = None
    topic = TopicFactory(hall=HallFactory(council=tree["village"]))
    authors = [member(tree["village"]) for _ in range(4)]
    _results, errors = ten_posts_each_at_once(
        authors,
        lambda author, i: services.post_message(
            author=author, topic=topic, body=f"{i}", client_id=f"{i}"
        ),
    )
    assert not errors
    seqs = sorted(Message.objects.filter(topic=topic).values_list("seq", flat=True))
    assert seqs == list(range(1, 41))


# --- A live post: one read authorises and numbers it -----------------------------------------


def socket_for(topic, user):
    """The topic's consumer as a socket of `user` leaves it after admission (no event loop)."""
    from deliberation.consumers import TopicConsumer

    consumer = TopicConsumer()
    consumer.user, consumer.topic_id, consumer.language = user, topic.pk, "en"
    return consumer


def live_post(consumer, body="好", **kw):
    kw = {"reply_to": None, "client_id": "", **kw}
    return consumer._call("post_message", body=body, **kw)


def outer(sql: str) -> str:
    """`sql` without its parenthesised subqueries: "(SELECT ...)" in the select list."""
    while "(SELECT" in sql:
        start = end = sql.index("(SELECT")
        depth = 0
        while True:
            depth += {"(": 1, ")": -1}.get(sql[end], 0)
            end += 1
            if depth == 0:
                break
        sql = sql[:start] + sql[end:]
    return sql


def topic_reads(queries) -> list[str]:
    return [
        q["sql"]
        for q in queries
        if q["sql"].lstrip().upper().startswith("SELECT")
        and '"deliberation_topic"' in outer(q["sql"]).split("WHERE")[0].split("FROM")[1]
    ]


def test_a_live_post_reads_its_topic_once_with_the_row_locked(topic, resident):
    """The read that authorises a post is the one that locks the topic for numbering; on
    PostgreSQL it locks the topic's row only, not its hall's or council's."""
    consumer = socket_for(topic, resident)
    with CaptureQueriesContext(connection) as queries:
        posted = live_post(consumer, "第一条", client_id="one")
    assert posted.created and posted.message.seq == 1
    reads = topic_reads(queries)
    assert len(reads) == 1, reads
    if connection.vendor == "postgresql":
        assert reads[0].rstrip().endswith('FOR UPDATE OF "deliberation_topic"'), reads[0]
    assert live_post(consumer, "第二条", client_id="two").message.seq == 2


def _tables_read(queries) -> list[str]:
    """The table each SELECT reads first (FROM), in order."""
    return [
        outer(q["sql"]).split("FROM", 1)[1].split()[0].strip('"')
        for q in queries
        if q["sql"].lstrip().upper().startswith("SELECT")
    ]


@pytest.mark.parametrize("hall_is_public", [True, False])
def test_a_live_post_reads_its_topic_hall_and_council_in_one_narrow_query(
    topic, resident, hall_is_public
):
    """Every frame is authorised afresh, so what a post reads is read on every post: the topic
    read brings everything the permission rules and the numbering use (a field left out would
    cost a query of its own), and not the topic's texts or the council page's other columns."""
    topic.hall.is_public = hall_is_public
    topic.hall.save()
    consumer = socket_for(topic, resident)
    live_post(consumer, "第一条", client_id="one")  # the council's ancestors are cached now
    with CaptureQueriesContext(connection) as queries:
        posted = live_post(consumer, "第二条", client_id="two", reply_to=1)
    assert posted.created and posted.message.seq == 2
    tables = _tables_read(queries)
    # The topic (locked, with hall and council, and the person's roles, re-read on every frame
    # by the same statement), the resend check and the quoted message: nothing else.
    assert tables == ["deliberation_topic", "deliberation_message", "deliberation_message"], tables
    assert '"councils_membership"' in topic_reads(queries)[0]
    # Each reads one row by a unique key: an ORDER BY would only cost compiling.
    assert not [q["sql"] for q in queries if "ORDER BY" in q["sql"]]
    topic_sql = outer(topic_reads(queries)[0]).split("FROM")[0]
    for wanted in ('"status"', '"last_seq"', '"is_public"', '"path"', '"level"'):
        assert wanted in topic_sql
    for unwanted in ('"description"', '"official_answer"', '"title"', '"slug"', '"url_path"'):
        assert unwanted not in topic_sql, unwanted


class StatementLog:
    """The SQL each statement that reads or writes rows was sent as, with its parameters left
    out (as a connection prepares it)."""

    def __init__(self):
        self.statements: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        if sql.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")):
            self.statements.append(sql)  # not the savepoints of the test's own transaction
        return execute(sql, params, many, context)


def statements_of(work) -> list[str]:
    log = StatementLog()
    with connection.execute_wrapper(log):
        work()
    return log.statements


def test_the_start_up_warm_up_makes_a_live_posts_statements_and_stores_nothing(topic, resident):
    """A worker makes a live post's statements once before it serves (yishi/asgi.py's lifespan):
    the same SQL, so the connection prepares it and the first post after a start is not the
    slowest (bench/bench_fanout.py). If a post's reads change, this says the warm-up is stale."""
    consumer = socket_for(topic, resident)
    live_post(consumer, "第一条", client_id="one")
    post = statements_of(lambda: live_post(consumer, "第二条", client_id="two", reply_to=1))
    before = (Message.objects.count(), Topic.objects.get(pk=topic.pk).last_seq)
    warm = statements_of(services.warm_up_live_posts)
    missing = [sql for sql in post if sql not in warm]
    assert not missing, missing
    # Twice, so that a connection preparing from a statement's second run prepares them all.
    assert all(warm.count(sql) == 2 for sql in set(post))
    # The message's INSERT too, in a transaction rolled back: nothing stored, nothing numbered.
    assert any("INSERT" in sql.upper() for sql in warm)
    assert (Message.objects.count(), Topic.objects.get(pk=topic.pk).last_seq) == before
    assert not any(sql.lstrip().upper().startswith("DELETE") for sql in warm)


def test_a_refused_live_post_reads_nothing_more_than_an_allowed_one(tree, topic):
    """A non-member's post is refused from the same narrow read, with no field loaded late."""
    stranger = UserFactory()
    consumer = socket_for(topic, stranger)
    with CaptureQueriesContext(connection) as queries:
        frame = live_post(consumer, "好", client_id="x")
    assert (frame["type"], frame["code"]) == ("error", "forbidden")
    assert _tables_read(queries) == ["deliberation_topic"]  # the roles came with it
    assert not Message.objects.exists()


@pytest.mark.parametrize("hall_is_public", [True, False])
def test_admitting_a_socket_reads_the_topic_once(topic, hall_is_public):
    """A socket's admission decides from the same narrow read (whether the hall is public)."""
    from deliberation.selectors import topic_for_socket

    topic.hall.is_public = hall_is_public
    topic.hall.save()
    consumer = socket_for(topic, UserFactory())
    with CaptureQueriesContext(connection) as queries:
        allowed = consumer._may_view(topic_for_socket(topic.pk))
    assert allowed is hall_is_public
    expected = ["deliberation_topic"] + ([] if hall_is_public else ["councils_membership"])
    assert _tables_read(queries) == expected


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [({"reply_to": 99}, "bad_reply"), ({"body": " "}, "empty"), ({"reply_to": "1"}, "bad_request")],
)
def test_a_live_post_refused_after_the_lock_stores_and_numbers_nothing(
    topic, resident, kwargs, code
):
    consumer = socket_for(topic, resident)
    frame = live_post(consumer, **{"body": "好", "client_id": "x", **kwargs})
    assert (frame["type"], frame["code"]) == ("error", code)
    topic.refresh_from_db()
    assert topic.last_seq == 0 and not Message.objects.exists()
    assert live_post(consumer, "好", client_id="y").message.seq == 1  # no gap left behind


def test_a_live_post_on_a_topic_closed_since_the_socket_opened_is_refused(
    topic, resident, committee
):
    consumer = socket_for(topic, resident)
    services.change_topic_status(
        actor=committee, topic=topic, status=TopicStatus.CLOSED, reason="已办结"
    )
    frame = live_post(consumer, "还有话说", client_id="late")
    assert frame["code"] == "topic_closed" and not Message.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_locked_topic_must_come_with_its_transaction(topic, resident):
    with pytest.raises(RuntimeError):
        services.post_message(author=resident, topic=topic, body="好", topic_locked=True)
    assert not Message.objects.exists()


def test_a_live_post_stores_the_row_its_message_says(topic, resident):
    """The message is stored by SQL written once, not by `save()`: the row holds what the
    object returned to the socket says, field by field, and the topic its new number."""
    consumer = socket_for(topic, resident)
    live_post(consumer, "第一条", client_id="one")
    before = timezone.now()
    posted = live_post(consumer, "第二条，回复", client_id="two", reply_to=1)
    message = posted.message
    assert message.pk is not None and not message._state.adding and message._state.db
    stored = Message.objects.get(pk=message.pk)
    for field in Message._meta.concrete_fields:
        assert getattr(stored, field.attname) == getattr(message, field.attname), field.name
    assert (stored.seq, stored.body, stored.client_id) == (2, "第二条，回复", "two")
    assert stored.reply_to.seq == 1 and stored.status == MessageStatus.PUBLISHED
    assert before <= stored.created <= timezone.now()
    assert Topic.objects.get(pk=topic.pk).last_seq == 2
    assert message_frame(stored) == message_frame(message)


def test_a_held_live_post_is_stored_without_a_number(settings, topic, resident):
    settings.YISHI_SENSITIVE_WORDS = ["赌博"]
    consumer = socket_for(topic, resident)
    posted = live_post(consumer, "一起赌博", client_id="held")
    stored = Message.objects.get(pk=posted.message.pk)
    assert (stored.status, stored.seq, stored.body) == (MessageStatus.HELD, None, "一起赌博")
    assert Topic.objects.get(pk=topic.pk).last_seq == 0
    assert live_post(consumer, "好", client_id="next").message.seq == 1


def test_nothing_listens_for_a_saved_message():
    """A live post stores its message without `save()`, so no `post_save` is sent for it. If a
    receiver for messages is added, the post must send the signal (or go back to `save()`)."""

    def names(signal) -> list[str]:
        return [f"{r.__module__}.{r.__name__}" for g in signal._live_receivers(Message) for r in g]

    # Every sender's receivers, which act on other models only: Wagtail's pages, and Wagtail's
    # translatable models (a message is neither).
    assert names(post_save) == ["councils.signals._page_changed"]
    assert names(pre_save) == ["wagtail.models.i18n.set_locale_on_new_instance"]
    assert not isinstance(Message(), (Page, TranslatableMixin))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_resend_racing_on_two_sockets_on_postgres_stores_one_message(settings, tree):
    """The same post (one client_id) sent at once through two sockets of one person, ten times:
    the second waits for the topic's lock, then its resend check, a statement of its own after
    the lock, finds the first. One message each time, no error, no number skipped."""
    settings.YISHI_DELIBERATION_POST_RATE = None
    topic = TopicFactory(hall=HallFactory(council=tree["village"]))
    person = member(tree["village"])
    sockets = [socket_for(topic, person) for _ in range(2)]
    results, errors = ten_posts_each_at_once(
        sockets, lambda consumer, i: live_post(consumer, f"第{i}条", client_id=f"c{i}")
    )
    assert not errors and all(isinstance(r, services.Posted) for r in results), results[:3]
    assert sum(r.created for r in results) == 10
    seqs = sorted(Message.objects.filter(topic=topic).values_list("seq", flat=True))
    assert seqs == list(range(1, 11))
    by_client = {r.message.client_id: r.message.pk for r in results if r.created}
    assert all(by_client[r.message.client_id] == r.message.pk for r in results)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_live_posts_on_postgres_get_distinct_gapless_numbers(settings, tree):
    """Sockets of four people post at once, each through the read that locks the topic: if that
    read did not lock the row, two would number from the same last_seq and the unique seq would
    refuse one."""
    settings.YISHI_DELIBERATION_POST_RATE = None
    topic = TopicFactory(hall=HallFactory(council=tree["village"]))
    sockets = [socket_for(topic, member(tree["village"])) for _ in range(4)]
    results, errors = ten_posts_each_at_once(
        sockets, lambda consumer, i: live_post(consumer, f"{i}", client_id=f"{i}")
    )
    assert not errors and all(isinstance(r, services.Posted) for r in results), results[:3]
    seqs = sorted(Message.objects.filter(topic=topic).values_list("seq", flat=True))
    assert seqs == list(range(1, 41))
