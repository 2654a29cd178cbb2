"""Moving sessions from deliberation/ to meetings/ (issue 15) keeps every row of a database made
before the move.

Each test rolls the schema back to the last migration before the move, writes a finished session
through deliberation's historical models (a roll call with a proxy, a motion with roll-call votes,
published minutes and their correction), migrates forward again and reads everything back through
meetings' historical models and through the models and services of today. The tables keep their
names, so no row is copied: the test also checks the content types kept their ids, the
constraints still hold and new rows still get ids after the old ones.
"""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from councils.models import Role
from tests.councils.factories import member

BEFORE_THE_MOVE = [("deliberation", "0004_topic_rating")]
MOVED = ["Session", "AgendaItem", "RosterEntry", "Motion", "Vote", "Minutes"]
RULE = {
    "quorum": {"numerator": 2, "denominator": 3, "strict": False},
    "decision": {"numerator": 1, "denominator": 2, "strict": True},
    "decision_base": "present",
    "proxies_count": True,
    "max_proxies_per_holder": 1,
    "source": "村民委员会组织法 第二十六条",
    "version": 1,
}


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _leaves():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


def _write_old_session(old, village, chair, people):
    """A closed representatives' meeting, written as the code before the move wrote it."""
    Session = old.get_model("deliberation", "Session")
    AgendaItem = old.get_model("deliberation", "AgendaItem")
    RosterEntry = old.get_model("deliberation", "RosterEntry")
    Motion = old.get_model("deliberation", "Motion")
    Vote = old.get_model("deliberation", "Vote")
    Minutes = old.get_model("deliberation", "Minutes")
    now = timezone.now()
    session = Session.objects.create(
        council_id=village.pk,
        kind="representatives",
        roster_mode="representatives",
        title="第三季度村民代表会议",
        starts_at=now - datetime.timedelta(hours=3),
        place="村委会二楼会议室",
        convened_by_id=chair.pk,
        status="closed",
        rule=RULE,
        entitled_count=len(people) + 1,
        opened_at=now - datetime.timedelta(hours=3),
        closed_at=now - datetime.timedelta(hours=1),
        last_seq=17,
    )
    item = AgendaItem.objects.create(session=session, position=1, title="审议微实事项目")
    seats = [
        RosterEntry.objects.create(
            session=session,
            person_id=chair.pk,
            name="主任",
            capacity="村委会成员",
            attendance="present",
        )
    ]
    for number, person in enumerate(people):
        seats.append(
            RosterEntry.objects.create(
                session=session,
                person_id=person.pk,
                name=f"代表{number}",
                capacity="村民代表",
                attendance="present",
                check_in_method="code",
                checked_in_at=now - datetime.timedelta(hours=2),
            )
        )
    giver = seats[-1]
    giver.attendance, giver.proxy_holder = "proxy", seats[0]
    giver.save()
    motion = Motion.objects.create(
        session=session,
        agenda_item=item,
        title="同意实施微实事项目",
        status="closed",
        rule=RULE,
        voters=[[seat.pk, (seats[0] if seat is giver else seat).pk] for seat in seats],
        entitled_count=len(seats),
        present_count=len(seats),
        result="passed",
        opened_at=now - datetime.timedelta(hours=2),
        closed_at=now - datetime.timedelta(hours=2),
    )
    for seat in seats:
        Vote.objects.create(
            motion=motion,
            entry=seat,
            cast_by_id=(chair if seat is giver else seat.person).pk,
            choice="abstain" if seat is seats[1] else "yes",
            by_proxy=seat is giver,
        )
    original = Minutes.objects.create(
        session=session,
        narrative="会议由村委会主任主持。",
        record={"motions": [{"motion": motion.pk, "result": "passed"}]},
        status="published",
        created_by_id=chair.pk,
        published_at=now,
    )
    Minutes.objects.create(
        session=session,
        narrative="更正：到会人数。",
        corrects=original,
        correction_reason="笔误",
        created_by_id=chair.pk,
    )
    return {
        name: sorted(old.get_model("deliberation", name).objects.values_list("pk", flat=True))
        for name in MOVED
    }


def _rows(apps, app_label):
    """Every stored value of the moved models, comparable across the move."""
    return {
        name: list(apps.get_model(app_label, name).objects.order_by("pk").values())
        for name in MOVED
    }


def _check_the_move(tree):
    from meetings import services
    from meetings.models import Minutes, Motion, Session, Vote

    village = tree["village"]
    chair = member(village)
    member(village, Role.COMMITTEE, user=chair)
    people = [member(village) for _ in range(4)]
    leaves = _leaves()
    try:
        old = _migrate(BEFORE_THE_MOVE)
        ids = _write_old_session(old, village, chair, people)
        before = _rows(old, "deliberation")
        old_ct = ContentType.objects.filter(app_label="deliberation", model="session").first()

        new = _migrate(leaves)

        # Every row, every value, read through meetings' historical models.
        assert _rows(new, "meetings") == before
        assert {name: len(pks) for name, pks in ids.items()} == {
            "Session": 1,
            "AgendaItem": 1,
            "RosterEntry": 5,
            "Motion": 1,
            "Vote": 5,
            "Minutes": 2,
        }
        # ... and through today's models and services.
        session = Session.objects.get(pk=ids["Session"][0])
        assert session.counting_rule.source == "村民委员会组织法 第二十六条"
        assert session.roster.filter(attendance="proxy", proxy_holder__isnull=False).count() == 1
        motion = Motion.objects.get(pk=ids["Motion"][0])
        assert services.tally_from_votes(motion) == {"yes": 4, "no": 0, "abstain": 1}
        assert services.result_of(motion).value == motion.result == "passed"
        assert Vote.objects.filter(motion=motion, by_proxy=True).count() == 1
        original = Minutes.objects.get(corrects__isnull=True)
        assert original.is_published and original.corrected_by.correction_reason == "笔误"
        assert original.get_absolute_url() == f"/meetings/minutes/{original.pk}/"

        # The content type kept its row, so permissions and generic relations still point at it.
        moved_ct = ContentType.objects.get_for_model(Session)
        assert moved_ct.app_label == "meetings"
        if old_ct is not None:
            assert moved_ct.pk == old_ct.pk
        assert not ContentType.objects.filter(app_label="deliberation", model="session").exists()

        # Same tables, same constraints, ids continue after the old rows.
        assert Session._meta.db_table == "deliberation_session"
        with pytest.raises(IntegrityError), transaction.atomic():
            Vote.objects.create(
                motion=motion,
                entry=session.roster.first(),
                cast_by=chair,
                choice="no",
            )
        later = services.schedule_session(
            actor=chair,
            council=village,
            kind="representatives",
            title="第四季度村民代表会议",
            starts_at=timezone.now() + datetime.timedelta(days=7),
            place="村委会",
        )
        assert later.pk > session.pk
    finally:
        _migrate(leaves)


@pytest.mark.django_db(transaction=True)
def test_moving_sessions_to_meetings_keeps_every_row(tree):
    _check_the_move(tree)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_moving_sessions_to_meetings_keeps_every_row_on_postgresql(tree):
    """Same on PostgreSQL: its sequences, deferred foreign keys and constraints by name."""
    _check_the_move(tree)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'deliberation_vote'::regclass"
        )
        names = {row[0] for row in cursor.fetchall()}
    assert "one_vote_per_member" in names
