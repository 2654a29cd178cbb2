"""Races on PostgreSQL with real connections: two handlers accepting at once, two reporters
confirming at once, two sweeps escalating at once (SQLite serialises writes and ignores
select_for_update, so this proves something only on PostgreSQL)."""

import datetime
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from cases import services
from cases.models import CaseEvent, EventKind, Status
from councils.models import Role
from tests.cases.conftest import grid_report
from tests.councils.factories import member

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 4
T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def race(target, *, threads: int = THREADS):
    barrier = threading.Barrier(threads)
    outcomes = []

    def run(index):
        try:
            barrier.wait()
            outcomes.append(target(index))
        except (ValidationError, PermissionDenied):
            outcomes.append("refused")
        finally:
            connection.close()

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    return outcomes


def test_handlers_accepting_at_once_accept_once(tree, people):
    handlers = [people["grid_worker"], *(member(tree["grid"], Role.GRID_WORKER) for _ in range(3))]
    case = grid_report(tree, people)
    outcomes = race(lambda i: services.accept_case(user=handlers[i], case=case) and "accepted")
    assert sorted(outcomes) == ["accepted"] + ["refused"] * (THREADS - 1)
    assert CaseEvent.objects.filter(case=case, kind=EventKind.ACCEPTED).count() == 1


def test_sweeps_at_once_escalate_each_case_once(tree, people):
    cases = [grid_report(tree, people, now=T0) for _ in range(5)]
    late = T0 + datetime.timedelta(hours=25)
    outcomes = race(lambda i: services.escalate_overdue(now=late))
    assert sum(outcomes) == 5
    for case in cases:
        case.refresh_from_db()
        assert case.escalations == 1 and case.handler_council == tree["village"]
        assert CaseEvent.objects.filter(case=case, kind=EventKind.ESCALATED).count() == 1


def test_a_double_tap_on_confirm_closes_once(tree, people):
    case = grid_report(tree, people)
    services.accept_case(user=people["grid_worker"], case=case)
    services.resolve_case(user=people["grid_worker"], case=case, outcome="修好了")
    outcomes = race(
        lambda i: (
            services.confirm_case(user=people["grid_worker"], case=case, satisfaction=5)
            and "closed"
        )
    )
    assert sorted(outcomes) == ["closed"] + ["refused"] * (THREADS - 1)
    case.refresh_from_db()
    assert case.status == Status.CLOSED
    assert CaseEvent.objects.filter(case=case, kind=EventKind.CLOSED).count() == 1
