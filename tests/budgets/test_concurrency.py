"""On PostgreSQL, with real connections: racing submissions leave one participation per voter."""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import close_old_connections, connection

from budgets import services
from budgets.models import Ballot, Participation, SealedBallot
from tests.budgets.factories import add_proposal, close_vote, make_cycle
from tests.councils.factories import member

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_200_concurrent_submissions_by_50_voters(tree):
    assert connection.vendor == "postgresql"
    cycle = make_cycle(tree["village"], phase="vote", total_amount=Decimal("100000"), max_choices=2)
    projects = [add_proposal(cycle, f"项目{i}", "10000") for i in range(4)]
    voters = [member(tree["village"]) for _ in range(50)]
    barrier = threading.Barrier(8)
    outcomes = {"ok": 0, "refused": 0, "other": []}
    lock = threading.Lock()
    jobs = [(voters[i % 50], projects[i % 4]) for i in range(200)]

    def worker(chunk):
        close_old_connections()
        try:
            barrier.wait(timeout=30)
            for voter, project in chunk:
                try:
                    services.cast_ballot(voter=voter, cycle=cycle, choices={project.pk: 1})
                    key = "ok"
                except ValidationError:
                    key = "refused"
                except Exception as error:  # noqa: BLE001 - collected and asserted below
                    with lock:
                        outcomes["other"].append(repr(error))
                    continue
                with lock:
                    outcomes[key] += 1
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(jobs[i::8],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert outcomes["other"] == []
    assert outcomes["ok"] == 50 and outcomes["refused"] == 150
    assert Participation.objects.filter(cycle=cycle).count() == 50
    assert Participation.objects.values("voter").distinct().count() == 50
    assert SealedBallot.objects.filter(cycle=cycle).count() == 50
    close_vote(cycle)
    assert Ballot.objects.filter(cycle=cycle).count() == 50


def test_concurrent_replacements_keep_exactly_one_ballot_and_the_cap(tree):
    cycle = make_cycle(
        tree["village"], phase="vote", total_amount=Decimal("100000"), max_replacements=3
    )
    projects = [add_proposal(cycle, f"项目{i}", "10000") for i in range(4)]
    voter = member(tree["village"])
    first = services.cast_ballot(voter=voter, cycle=cycle, choices={projects[0].pk: 1})
    barrier = threading.Barrier(6)
    results = []

    def replace(project):
        close_old_connections()
        try:
            barrier.wait(timeout=30)
            try:
                results.append(
                    services.cast_ballot(
                        voter=voter,
                        cycle=cycle,
                        choices={project.pk: 1},
                        replace=True,
                    )
                )
            except ValidationError:
                results.append(None)
        finally:
            connection.close()

    threads = [threading.Thread(target=replace, args=(projects[i % 4],)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert first.replacements_left == 3
    assert sum(r is not None for r in results) == 3  # six racing changes, a cap of three
    assert SealedBallot.objects.filter(cycle=cycle).count() == 1
    assert Participation.objects.get(cycle=cycle).replacements == 3
    close_vote(cycle)
    assert Ballot.objects.filter(cycle=cycle).count() == 1
