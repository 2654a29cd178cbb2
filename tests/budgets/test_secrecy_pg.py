"""On PostgreSQL, with real connections: an adversary who reads every table, column, system
column (xmin, ctid) and the physical order of rows cannot link a ballot to its voter better
than chance; and a ballot in flight when the ballots are opened is either opened or refused.

The test knows the truth (it keeps each voter's receipt code, which nobody else has); the
adversary sees only the database. Every linkage it tries is scored against the truth."""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import close_old_connections, connection, connections

from budgets import services
from budgets.ballots import receipt_hash
from budgets.models import Ballot, BallotChoice, Participation, SealedBallot
from councils.models import Role
from tests.budgets.factories import add_proposal, close_vote, make_cycle, set_phase
from tests.councils.factories import member

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

VOTERS = 240
PAPER = 24
# Fixed points of a random permutation are ~Poisson(1): P(>= 9) ~ 1e-6 per linkage tried.
CHANCE_LIMIT = 8


def _rows(sql):
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def _matches(participations_in_order, ballots_in_order, truth) -> int:
    """Pair the i-th participation with the i-th ballot; count the pairs that are right."""
    return sum(
        1
        for p, b in zip(participations_in_order, ballots_in_order, strict=True)
        if truth.get(b) == p
    )


def _rank_correlation(first, second) -> float:
    """Spearman's rho between the positions of the same items in two orders."""
    n = len(first)
    where = {item: i for i, item in enumerate(second)}
    d2 = sum((i - where[item]) ** 2 for i, item in enumerate(first))
    return 1 - 6 * d2 / (n * (n * n - 1))


def test_a_database_reader_cannot_link_ballots_to_voters(tree):
    assert connection.vendor == "postgresql"
    village = tree["village"]
    cycle = make_cycle(village, phase="vote", total_amount=Decimal("100000"), max_choices=3)
    projects = [add_proposal(cycle, f"项目{i}", "10000") for i in range(6)]
    voters = [member(village) for _ in range(VOTERS)]
    clerk = member(village, Role.COMMITTEE)
    truth_codes: dict[int, str] = {}  # voter id -> receipt code: what only the voters know
    lock = threading.Lock()
    errors = []

    def vote(chunk):
        close_old_connections()
        try:
            for index, voter in chunk:
                picks = {projects[(index + k) % 6].pk: 1 for k in range(1 + index % 3)}
                if index < PAPER:
                    result = services.enter_paper_ballot(
                        officer=clerk, cycle=cycle, voter=voter, choices=picks
                    )
                else:
                    result = services.cast_ballot(voter=voter, cycle=cycle, choices=picks)
                    if index % 7 == 0:  # some change their mind
                        picks = {projects[(index + 3) % 6].pk: 1}
                        result = services.cast_ballot(
                            voter=voter, cycle=cycle, choices=picks, replace=True
                        )
                with lock:
                    truth_codes[voter.pk] = result.receipt_code
        except Exception as error:  # noqa: BLE001 - asserted below
            errors.append(repr(error))
        finally:
            connection.close()

    jobs = list(enumerate(voters))
    threads = [threading.Thread(target=vote, args=(jobs[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert errors == []

    # The adversary during the vote: who voted, and a sealed row each, all of one size.
    during = _rows(
        f"SELECT length(sealed) FROM {SealedBallot._meta.db_table} WHERE cycle_id = {cycle.pk}"
    )
    assert len(during) == VOTERS and len({size for (size,) in during}) == 1

    close_vote(cycle)

    # The adversary after the vote: everything, with system columns.
    participations = _rows(
        f"SELECT id, xmin::text::bigint, ctid, created, voter_id, channel "
        f"FROM {Participation._meta.db_table} WHERE cycle_id = {cycle.pk}"
    )
    ballots = _rows(
        f"SELECT id, xmin::text::bigint, ctid, receipt_hash, channel "
        f"FROM {Ballot._meta.db_table} WHERE cycle_id = {cycle.pk}"
    )
    choices = _rows(
        f"SELECT c.id, c.xmin::text::bigint, c.ctid, c.ballot_id FROM "
        f"{BallotChoice._meta.db_table} c JOIN {Ballot._meta.db_table} b ON b.id = c.ballot_id "
        f"WHERE b.cycle_id = {cycle.pk}"
    )
    assert len(participations) == len(ballots) == VOTERS

    # What the adversary cannot know, and the test does: the true pairs.
    by_hash = {receipt_hash(code): voter for voter, code in truth_codes.items()}
    participation_of_voter = {row[4]: row[0] for row in participations}
    truth = {row[0]: participation_of_voter[by_hash[row[3]]] for row in ballots}
    assert len(truth) == VOTERS

    # 1. No shared transaction, and no time: every ballot and choice was written by the one
    #    opening transaction, which wrote no participation.
    ballot_xids = {row[1] for row in ballots} | {row[1] for row in choices}
    assert len(ballot_xids) == 1
    assert not ballot_xids & {row[1] for row in participations}
    for model in (Ballot, BallotChoice):
        kinds = {f.get_internal_type() for f in model._meta.concrete_fields}
        assert not kinds & {"DateTimeField", "DateField", "TimeField"}
        assert not {
            f.related_model.__name__ for f in model._meta.concrete_fields if f.is_relation
        } & {"Participation", "User", "HouseholdMember"}

    # 2. Every ordering the adversary can see on one side, against every one on the other,
    #    within each channel (paper ballots are known to be among the paper participations).
    first_choice = {}
    for choice_id, _xid, ctid, ballot_id in choices:
        key = (choice_id, _ctid_key(ctid))
        first_choice[ballot_id] = min(first_choice.get(ballot_id, key), key)
    for channel, size in (("paper", PAPER), ("online", VOTERS - PAPER)):
        ps = [row for row in participations if row[5] == channel]
        bs = [row for row in ballots if row[4] == channel]
        assert len(ps) == len(bs) == size
        participation_orders = {
            "id": [r[0] for r in sorted(ps, key=lambda r: r[0])],
            "xmin": [r[0] for r in sorted(ps, key=lambda r: (r[1], r[0]))],
            "ctid": [r[0] for r in sorted(ps, key=lambda r: _ctid_key(r[2]))],
            "created": [r[0] for r in sorted(ps, key=lambda r: (r[3], r[0]))],
            "voter": [r[0] for r in sorted(ps, key=lambda r: r[4])],
        }
        ballot_orders = {
            "ctid": [r[0] for r in sorted(bs, key=lambda r: _ctid_key(r[2]))],
            "uuid": [r[0] for r in sorted(bs, key=lambda r: str(r[0]))],
            "receipt": [r[0] for r in sorted(bs, key=lambda r: r[3])],
            "choice id": [r[0] for r in sorted(bs, key=lambda r: first_choice.get(r[0], (0, 0)))],
        }
        true_order = {
            name: [b for p in order for b, q in truth.items() if q == p]
            for name, order in participation_orders.items()
        }
        for p_name, p_order in participation_orders.items():
            for b_name, b_order in ballot_orders.items():
                matched = _matches(p_order, b_order, truth)
                assert matched <= CHANCE_LIMIT, (channel, p_name, b_name, matched)
                # The same order read from both sides correlates no better than noise
                # (|rho| < 0.3 is over 4 standard deviations for the online class).
                rho = _rank_correlation(true_order[p_name], b_order)
                limit = 0.3 if size > 100 else 0.6
                assert abs(rho) < limit, (channel, p_name, b_name, rho)


def _ctid_key(ctid) -> tuple[int, int]:
    page, item = str(ctid).strip("()").split(",")
    return int(page), int(item)


def test_a_ballot_blocked_by_the_opening_is_refused_not_lost(tree):
    """The opening locks the sealed table; a ballot that started before the close but reaches
    the table after the opening committed must not leave a participation without a ballot."""
    village = tree["village"]
    cycle = make_cycle(village, phase="vote", total_amount=Decimal("100000"))
    project = add_proposal(cycle, "修路", "10000")
    early = member(village)
    services.cast_ballot(voter=early, cycle=cycle, choices={project.pk: 1})
    late = member(village)
    opener = connections.create_connection("default")
    outcome = {}
    try:
        with opener.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute(f"LOCK TABLE {SealedBallot._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")
            cursor.execute(
                "UPDATE budgets_budgetcycle SET ballots_opened_at = now() WHERE id = %s",
                [cycle.pk],
            )

            def cast_late():
                close_old_connections()
                try:
                    services.cast_ballot(voter=late, cycle=cycle, choices={project.pk: 1})
                    outcome["result"] = "recorded"
                except ValidationError as error:
                    outcome["result"] = error.code
                finally:
                    connection.close()

            thread = threading.Thread(target=cast_late)
            thread.start()
            thread.join(timeout=2)
            assert thread.is_alive(), "the ballot should wait for the opening's lock"
            cursor.execute("COMMIT")
            thread.join(timeout=30)
    finally:
        opener.close()
    assert outcome["result"] == "phase"
    assert not Participation.objects.filter(voter=late).exists()
    assert services.ballot_count_problems(cycle) == []


def test_replacing_while_the_ballots_open_is_refused_not_lost(tree):
    village = tree["village"]
    cycle = make_cycle(village, phase="vote", total_amount=Decimal("100000"))
    road, lamps = add_proposal(cycle, "修路", "10000"), add_proposal(cycle, "路灯", "10000")
    voter = member(village)
    first = services.cast_ballot(voter=voter, cycle=cycle, choices={road.pk: 1})
    set_phase(cycle, "results")
    done = threading.Event()

    def open_them():
        close_old_connections()
        try:
            services.open_ballots(cycle=cycle)
        finally:
            connection.close()
            done.set()

    threading.Thread(target=open_them).start()
    assert done.wait(30)
    set_phase(cycle, "vote")  # a clock that says the vote is open again changes nothing
    services.forget_ballot_cycle(cycle.pk)
    with pytest.raises(ValidationError):
        services.cast_ballot(voter=voter, cycle=cycle, choices={lamps.pk: 1}, replace=True)
    ballot = services.find_ballot(cycle=cycle, receipt_code=first.receipt_code)
    set_phase(cycle, "results")
    ballot = services.find_ballot(cycle=cycle, receipt_code=first.receipt_code)
    assert [c.proposal_id for c in ballot.choices.all()] == [road.pk]
