"""`topic_for_socket` and `topic_for_post`: the ORM's select_related read, written once and made by
`from_db`; a post's also brings the poster's verified memberships."""

import pytest
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from councils.models import Membership, MembershipStatus, Role
from deliberation.models import Topic, TopicStatus
from deliberation.selectors import SOCKET_TOPIC_FIELDS, topic_for_post, topic_for_socket
from tests.councils.factories import UserFactory, member
from tests.deliberation.factories import HallFactory, TopicFactory

pytestmark = pytest.mark.django_db


def orm_read(topic_id: int) -> Topic:
    """What topic_for_socket stands for, through the ORM."""
    prefixes = ("", "hall__", "hall__council__")
    names = [
        prefix + name
        for (_model, fields), prefix in zip(SOCKET_TOPIC_FIELDS, prefixes, strict=True)
        for name in fields
        if name not in ("id", "page_ptr")
    ]
    return Topic.objects.select_related("hall__council").only(*names).get(pk=topic_id)


def values(topic: Topic) -> dict:
    hall, council = topic.hall, topic.hall.council
    return {
        "topic": (topic.pk, topic.id, topic.hall_id, topic.author_id, topic.status),
        "topic more": (
            repr(topic.answered_at),  # as the ORM converts it (SQLite: aware, not naive)
            topic.last_seq,
            topic._state.db,
            topic._state.adding,
        ),
        "hall": (hall.pk, hall.id, hall.council_id, repr(hall.is_public), hall._state.adding),
        "council": (council.pk, council.id, council.page_ptr_id, council.path, council.depth),
        "council more": (council.level, type(council).__name__, council._state.adding),
    }


@pytest.fixture(params=["open and public", "answered, private hall", "closed, town"])
def case(request, tree, resident):
    hall = HallFactory(
        council=tree["township" if "town" in request.param else "village"],
        is_public="private" not in request.param,
    )
    topic = TopicFactory(hall=hall, author=resident, last_seq=7)
    if "answered" in request.param:
        Topic.objects.filter(pk=topic.pk).update(
            answered_at=timezone.now(), status=TopicStatus.DECIDED
        )
    if "closed" in request.param:
        Topic.objects.filter(pk=topic.pk).update(status=TopicStatus.CLOSED)
    return topic


def test_it_reads_what_the_orm_reads(case):
    assert values(topic_for_socket(case.pk)) == values(orm_read(case.pk))


def test_every_field_the_checks_use_comes_with_the_one_query(case):
    with CaptureQueriesContext(connection) as queries:
        found = values(topic_for_socket(case.pk))
    assert len(queries) == 1
    assert found["council"][3] == case.hall.council.path


def test_the_rest_is_deferred_as_with_the_orm(case):
    topic = topic_for_socket(case.pk)
    with CaptureQueriesContext(connection) as queries:
        assert topic.description == case.description
        assert topic.hall.council.title == case.hall.council.title
    assert len(queries) == 2  # one each, loaded when asked for, as `only` would


@pytest.mark.parametrize("number", [0, -1, 10**9, 2**31, 2**63, 10**22, -(10**22)])
def test_a_missing_topic_is_none(tree, number):
    # Numbers beyond any key's range too (a URL's digits): the ORM answers none, not an error.
    assert topic_for_socket(number) is None
    with transaction.atomic():
        assert topic_for_socket(number, lock=True) is None


@pytest.mark.django_db(transaction=True)  # autocommit: not inside the test's transaction
def test_the_lock_is_refused_outside_a_transaction_where_the_database_has_one(topic):
    if not connection.features.has_select_for_update:
        assert topic_for_socket(topic.pk, lock=True).pk == topic.pk  # SQLite: no row locks
        return
    with pytest.raises(TransactionManagementError):
        topic_for_socket(topic.pk, lock=True)


def test_the_lock_takes_the_topic_row_only(topic):
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        assert topic_for_socket(topic.pk, lock=True).pk == topic.pk
    sql = queries[0]["sql"]
    if connection.vendor == "postgresql":
        assert sql.endswith('FOR UPDATE OF "deliberation_topic"'), sql
    else:
        assert "FOR UPDATE" not in sql
    for unwanted in ('"description"', '"title"', '"slug"', '"url_path"', "ORDER BY"):
        assert unwanted not in sql


# --- topic_for_post: the topic, locked, and the poster's verified memberships -----------------


def _rows(rows) -> list:
    return sorted(rows or [])


@pytest.mark.parametrize(
    "memberships",
    [
        [],
        [("village", Role.RESIDENT, MembershipStatus.VERIFIED)],
        [
            ("village", Role.RESIDENT, MembershipStatus.VERIFIED),
            ("township", Role.OFFICIAL, MembershipStatus.VERIFIED),
            ("village", Role.COMMITTEE, MembershipStatus.PENDING),
        ],
        [("township", Role.GRID_WORKER, MembershipStatus.REJECTED)],
    ],
    ids=["none", "one", "several, one pending", "rejected only"],
)
def test_the_post_read_brings_what_verified_rows_reads(case, tree, memberships):
    person = UserFactory()
    for council, role, status in memberships:
        member(tree[council], role, user=person, status=status)
    member(tree["village"], Role.COMMITTEE, user=UserFactory())  # someone else's: not read
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        topic, rows = topic_for_post(case.pk, person.pk)
    assert len(queries) == 1
    assert values(topic) == values(orm_read(case.pk))
    assert _rows(rows) == _rows(Membership.objects.verified_rows(person.pk))
    assert len(rows) == sum(status == MembershipStatus.VERIFIED for *_, status in memberships)


def test_the_post_read_of_a_missing_topic_brings_no_rows(tree):
    person = member(tree["village"])
    with transaction.atomic():
        assert topic_for_post(10**6, person.pk) == (None, None)
        assert topic_for_post(2**63, person.pk) == (None, None)


def test_the_post_read_locks_the_topic_row_only(topic, resident):
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        assert topic_for_post(topic.pk, resident.pk)[0].pk == topic.pk
    if connection.vendor == "postgresql":
        assert queries[0]["sql"].rstrip().endswith('FOR UPDATE OF "deliberation_topic"')
