"""Two concurrent votes by the same member leave exactly one row (PostgreSQL, real connections).

SQLite serialises writes and ignores select_for_update, so this proves something only on
PostgreSQL (docs/sessions.md; LESSONS.md).
"""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from meetings import services as sessions
from meetings.models import Vote
from tests.meetings.conftest import mark_present, opened, representatives

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 5
THREADS = 4


def race(target, *, threads: int):
    barrier = threading.Barrier(threads)
    outcomes = []

    def run():
        try:
            barrier.wait()
            outcomes.append(target())
        except ValidationError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    return outcomes


def test_concurrent_votes_by_one_member_leave_one_row(chair, village):
    reps = representatives(village, 2)
    session = opened(chair, village)
    mark_present(chair, session, [chair, *reps])
    for round_number in range(ROUNDS):
        motion = sessions.add_motion(actor=chair, session=session, title=f"议案{round_number}")
        motion = sessions.open_vote(actor=chair, motion=motion)
        choices = iter(["yes", "no", "abstain", "yes"])
        outcomes = race(
            lambda m=motion, c=choices: sessions.cast_vote(voter=reps[0], motion=m, choice=next(c)),
            threads=THREADS,
        )
        assert Vote.objects.filter(motion=motion).count() == 1
        assert sorted(o for o in outcomes if isinstance(o, str)) == ["already_voted"] * (
            THREADS - 1
        )
        sessions.close_vote(actor=chair, motion=motion)


def test_a_vote_racing_the_close_is_either_counted_or_refused(chair, village):
    reps = representatives(village, 1)
    session = opened(chair, village)
    mark_present(chair, session, [chair, *reps])
    motion = sessions.open_vote(
        actor=chair, motion=sessions.add_motion(actor=chair, session=session, title="议案")
    )
    calls = iter(
        [
            lambda: sessions.cast_vote(voter=reps[0], motion=motion, choice="yes"),
            lambda: sessions.close_vote(actor=chair, motion=motion),
        ]
    )
    race(lambda: next(calls)(), threads=2)
    motion.refresh_from_db()
    votes = Vote.objects.filter(motion=motion).count()
    # The result recorded at close always agrees with the votes stored.
    assert sessions.result_of(motion) == motion.result
    assert votes in (0, 1)
    assert not Vote.objects.filter(motion=motion, created__gt=motion.closed_at).exists()
