"""Ballots against an insider: nobody but the voter replaces a ballot, counts always match,
sealed ballots say nothing, receipts stay out of URLs and logs, and the paper register.

Runs on SQLite and (in CI's second phase) on PostgreSQL; the linkage attack with system columns
and real connections is tests/budgets/test_secrecy_pg.py."""

import logging
import re
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from budgets import sealing, services
from budgets.models import Ballot, BallotType, Channel, Eligibility, Participation, SealedBallot
from councils.models import HouseholdMember, Role
from councils.services import add_register_member
from tests.budgets.factories import add_proposal, close_vote, make_cycle, set_phase
from tests.councils.factories import UserFactory, make_tree, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def cycle(tree):
    return make_cycle(tree["village"], phase="vote", total_amount=Decimal("100000"), max_choices=2)


@pytest.fixture
def projects(cycle):
    return [add_proposal(cycle, name, "20000") for name in ("修路", "路灯", "儿童角")]


def cast(cycle, voter, picks, **kwargs):
    return services.cast_ballot(voter=voter, cycle=cycle, choices=picks, **kwargs)


def choices_of(cycle, code):
    ballot = services.find_ballot(cycle=cycle, receipt_code=code)
    return None if ballot is None else {c.proposal_id: c.value for c in ballot.choices.all()}


# -- 1. only the voter who cast a ballot can replace it -------------------------------------------


def test_holding_someone_elses_receipt_replaces_only_your_own_ballot(tree, cycle, projects):
    """The attack of the old design: B learns A's receipt and "replaces" with it."""
    alice, bob = member(tree["village"]), member(tree["village"])
    a = cast(cycle, alice, {projects[0].pk: 1})
    b = cast(cycle, bob, {projects[1].pk: 1})
    # Whatever Bob submits, the service reaches only Bob's participation; a receipt field in
    # the form is ignored (there is none to give).
    cast(cycle, bob, {projects[2].pk: 1}, replace=True)
    close_vote(cycle)
    assert choices_of(cycle, a.receipt_code) == {projects[0].pk: 1}  # Alice's ballot untouched
    assert choices_of(cycle, b.receipt_code) is None  # Bob's old one replaced
    assert Participation.objects.get(voter=alice).replacements == 0
    assert Participation.objects.get(voter=bob).replacements == 1


def test_the_clerk_who_typed_a_paper_ballot_cannot_replace_it(tree, cycle, projects):
    clerk = member(tree["village"], Role.COMMITTEE)
    member(tree["village"], user=clerk)  # the clerk is a resident and voter too
    villager = member(tree["village"])
    paper = services.enter_paper_ballot(
        officer=clerk, cycle=cycle, voter=villager, choices={projects[0].pk: 1}
    )
    cast(cycle, clerk, {projects[1].pk: 1})
    # The clerk's own replacement touches the clerk's ballot, never the paper one.
    cast(cycle, clerk, {projects[2].pk: 1}, replace=True)
    with pytest.raises(ValidationError, match="paper ballot cannot be replaced"):
        cast(cycle, villager, {projects[2].pk: 1}, replace=True)
    close_vote(cycle)
    assert choices_of(cycle, paper.receipt_code) == {projects[0].pk: 1}
    assert Ballot.objects.filter(channel=Channel.PAPER).count() == 1


def test_a_form_field_naming_a_receipt_is_ignored(client, tree, cycle, projects):
    alice, bob = member(tree["village"]), member(tree["village"])
    a = cast(cycle, alice, {projects[0].pk: 1})
    cast(cycle, bob, {projects[1].pk: 1})
    client.force_login(bob)
    response = client.post(
        f"/budgets/cycles/{cycle.pk}/vote/",
        {f"p{projects[2].pk}": "1", "replace": "1", "replace_receipt": a.receipt_code},
    )
    assert response.status_code == 302
    close_vote(cycle)
    assert choices_of(cycle, a.receipt_code) == {projects[0].pk: 1}


def test_replacements_are_capped_and_shown_to_supervisors(client, tree, projects):
    cycle = make_cycle(tree["village"], phase="vote", max_choices=2, max_replacements=2)
    picks = [add_proposal(cycle, f"项目{i}", "1000") for i in range(3)]
    voter = member(tree["village"])
    cast(cycle, voter, {picks[0].pk: 1})
    assert cast(cycle, voter, {picks[1].pk: 1}, replace=True).replacements_left == 1
    assert cast(cycle, voter, {picks[2].pk: 1}, replace=True).replacements_left == 0
    with pytest.raises(ValidationError, match="2 times, the most this vote allows") as refused:
        cast(cycle, voter, {picks[0].pk: 1}, replace=True)
    assert refused.value.code == "too_many_replacements"
    client.force_login(member(tree["village"], Role.SUPERVISOR))
    roll = client.get(f"/budgets/cycles/{cycle.pk}/roll/").content.decode()
    assert "1 changed their ballot, 2 changes in all" in roll
    assert "at most 2 times" in roll
    assert voter.public_name in roll


@pytest.mark.parametrize("who", ["anonymous", "resident", "representative", "other_committee"])
def test_the_roll_is_not_for_everyone(client, tree, cycle, who):
    if who != "anonymous":
        council = tree["other_village"] if who == "other_committee" else tree["village"]
        role = {
            "resident": Role.RESIDENT,
            "representative": Role.REPRESENTATIVE,
            "other_committee": Role.COMMITTEE,
        }[who]
        client.force_login(member(council, role))
    response = client.get(f"/budgets/cycles/{cycle.pk}/roll/")
    assert response.status_code in (302, 403)
    if response.status_code == 302:
        assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("role", [Role.COMMITTEE, Role.SUPERVISOR])
def test_the_roll_is_for_committee_and_supervisors(client, tree, cycle, role):
    client.force_login(member(tree["village"], role))
    assert client.get(f"/budgets/cycles/{cycle.pk}/roll/").status_code == 200


def test_the_roll_is_for_the_township(client, tree, cycle):
    client.force_login(member(tree["township"], Role.OFFICIAL))
    assert client.get(f"/budgets/cycles/{cycle.pk}/roll/").status_code == 200


# -- 1. the invariant: one ballot per participation, paper = paper ---------------------------


def test_publishing_is_refused_when_a_ballot_is_missing(client, tree, cycle, projects):
    committee = member(tree["village"], Role.COMMITTEE)
    for _ in range(3):
        cast(cycle, member(tree["village"]), {projects[0].pk: 1})
    SealedBallot.objects.filter(pk=SealedBallot.objects.first().pk).delete()  # an insider's DELETE
    set_phase(cycle, "results")
    with pytest.raises(services.BallotCountError, match="2 ballots"):
        services.publish_results(by=committee, cycle=cycle)
    cycle.refresh_from_db()
    assert cycle.results_published_at is None
    page = client.get(f"/budgets/cycles/{cycle.pk}/results/")
    assert page.status_code == 409 and "3 people voted but there are 2" in page.content.decode()
    assert client.get(f"/budgets/cycles/{cycle.pk}/ballots.pb").status_code == 409


def test_an_extra_paper_ballot_is_caught(tree, cycle, projects):
    committee = member(tree["village"], Role.COMMITTEE)
    cast(cycle, member(tree["village"]), {projects[0].pk: 1})
    close_vote(cycle)
    ballot = Ballot.objects.get()
    Ballot.objects.create(cycle=cycle, receipt_hash="0" * 64, channel=Channel.PAPER)  # stuffed
    assert ballot.channel == Channel.ONLINE
    with pytest.raises(services.BallotCountError, match="Paper: 0 people voted but there are 1"):
        services.publish_results(by=committee, cycle=cycle)


def test_a_sealed_ballot_moved_to_another_participation_does_not_open(tree, cycle, projects):
    a = Participation.objects.get(
        pk=cast(cycle, member(tree["village"]), {projects[0].pk: 1}).participation_id
    )
    b = Participation.objects.get(
        pk=cast(cycle, member(tree["village"]), {projects[1].pk: 1}).participation_id
    )
    # An insider with write access swaps the two sealed ballots.
    blob_a, blob_b = bytes(a.sealed.sealed), bytes(b.sealed.sealed)
    SealedBallot.objects.filter(pk=a.pk).update(sealed=blob_b)
    SealedBallot.objects.filter(pk=b.pk).update(sealed=blob_a)
    set_phase(cycle, "results")
    with pytest.raises(services.BallotCountError, match="fails its check"):
        services.open_ballots(cycle=cycle)
    assert SealedBallot.objects.count() == 2 and not Ballot.objects.exists()  # nothing opened


class BallotMachine(RuleBasedStateMachine):
    """Any sequence of casts, paper entries, replacements and refused attempts keeps one
    sealed ballot per participation; after the close, public ballots match per channel."""

    @initialize()
    def setup(self):
        from tests.councils.factories import home_page

        home_page()
        self.tree = make_tree()
        self.cycle = make_cycle(self.tree["village"], phase="vote", max_choices=2)
        self.cycle.max_replacements = 2
        self.cycle.save()
        self.projects = [add_proposal(self.cycle, f"项目{i}", "1000") for i in range(3)]
        self.voters = [member(self.tree["village"]) for _ in range(4)]
        self.clerk = member(self.tree["village"], Role.COMMITTEE)
        self.members = [
            add_register_member(
                by=self.clerk, council=self.tree["village"], number=f"{i}号", name="王" + "一二"[i]
            )
            for i in range(2)
        ]

    def _try(self, fn):
        try:
            fn()
        except (ValidationError, PermissionDenied):
            pass

    @rule(v=st.integers(0, 3), p=st.integers(0, 2))
    def vote_online(self, v, p):
        self._try(lambda: cast(self.cycle, self.voters[v], {self.projects[p].pk: 1}))

    @rule(v=st.integers(0, 3), p=st.integers(0, 2))
    def replace(self, v, p):
        self._try(lambda: cast(self.cycle, self.voters[v], {self.projects[p].pk: 1}, replace=True))

    @rule(v=st.integers(0, 3), p=st.integers(0, 2))
    def paper_for_account(self, v, p):
        self._try(
            lambda: services.enter_paper_ballot(
                officer=self.clerk,
                cycle=self.cycle,
                voter=self.voters[v],
                choices={self.projects[p].pk: 1},
            )
        )

    @rule(m=st.integers(0, 1), p=st.integers(0, 2))
    def paper_for_register(self, m, p):
        self._try(
            lambda: services.enter_paper_ballot(
                officer=self.clerk,
                cycle=self.cycle,
                member=self.members[m],
                choices={self.projects[p].pk: 1},
            )
        )

    @invariant()
    def one_sealed_ballot_per_participation(self):
        if not hasattr(self, "cycle"):
            return
        participations = Participation.objects.filter(cycle=self.cycle)
        assert participations.count() == SealedBallot.objects.filter(cycle=self.cycle).count()
        assert not participations.filter(sealed__isnull=True).exists()
        assert participations.filter(voter__isnull=False).values("voter").distinct().count() == (
            participations.filter(voter__isnull=False).count()
        )
        assert services.ballot_count_problems(self.cycle) == []

    def teardown(self):
        if not hasattr(self, "cycle"):
            return
        paper = Participation.objects.filter(cycle=self.cycle, channel=Channel.PAPER).count()
        online = Participation.objects.filter(cycle=self.cycle, channel=Channel.ONLINE).count()
        close_vote(self.cycle)
        assert Ballot.objects.filter(cycle=self.cycle, channel=Channel.PAPER).count() == paper
        assert Ballot.objects.filter(cycle=self.cycle, channel=Channel.ONLINE).count() == online
        assert services.ballot_count_problems(self.cycle) == []
        assert not SealedBallot.objects.filter(cycle=self.cycle).exists()


BallotMachine.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.mark.django_db(transaction=True)
def test_any_sequence_of_actions_keeps_the_counts():
    BallotMachine.TestCase().runTest()


# -- 2. what a sealed ballot shows --------------------------------------------------------------


def test_sealed_ballots_of_one_paper_are_all_the_same_size(tree, cycle, projects):
    """A ballot with one choice and one with two give sealed rows of equal length, and no sealed
    row contains its receipt hash or its choices in clear."""
    use_cumulative = make_cycle(tree["village"], phase="vote", ballot_type=BallotType.CUMULATIVE)
    more = [add_proposal(use_cumulative, f"项目{i}", "1000") for i in range(3)]
    receipts = [
        cast(cycle, member(tree["village"]), {projects[0].pk: 1}),
        cast(cycle, member(tree["village"]), {projects[0].pk: 1, projects[2].pk: 1}),
        cast(use_cumulative, member(tree["village"]), {more[0].pk: 10}),
        cast(
            use_cumulative, member(tree["village"]), {more[0].pk: 3, more[1].pk: 3, more[2].pk: 4}
        ),
    ]
    sizes = {len(bytes(row.sealed)) for row in SealedBallot.objects.filter(cycle=cycle)}
    assert len(sizes) == 1
    sizes = {len(bytes(row.sealed)) for row in SealedBallot.objects.filter(cycle=use_cumulative)}
    assert len(sizes) == 1
    from budgets.ballots import receipt_hash

    blobs = b"".join(bytes(row.sealed) for row in SealedBallot.objects.all())
    for result in receipts:
        digest = receipt_hash(result.receipt_code)
        assert bytes.fromhex(digest)[:8] not in blobs and digest.encode()[:16] not in blobs


def test_a_sealed_ballot_needs_the_key(tree, cycle, projects, settings):
    result = cast(cycle, member(tree["village"]), {projects[0].pk: 1})
    row = SealedBallot.objects.select_related("participation").get()
    settings.YISHI_BALLOT_KEYS = [b"k" * 32]  # a database reader's guess, not the server's key
    with pytest.raises(sealing.SealError):
        sealing.unseal(row.sealed, context=row.participation.seal_context)
    assert result.receipt_code


def test_ballots_are_opened_in_a_fresh_random_order(tree, cycle, projects):
    """Cast order is not kept: over 60 ballots the public order is a new permutation."""
    results = [cast(cycle, member(tree["village"]), {projects[i % 3].pk: 1}) for i in range(60)]
    close_vote(cycle)
    from budgets.ballots import receipt_hash

    position = {receipt_hash(r.receipt_code): i for i, r in enumerate(results)}
    # SQLite's rowid / PostgreSQL's ctid order: insertion order of the opening transaction.
    public = [position[h] for h in _physical_order(Ballot)]
    assert sorted(public) == list(range(60))
    same_place = sum(1 for i, p in enumerate(public) if i == p)
    assert same_place <= 6 and public != sorted(public)


def _physical_order(model):
    from django.db import connection

    table = model._meta.db_table
    order = "rowid" if connection.vendor == "sqlite" else "ctid"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT receipt_hash FROM {table} ORDER BY {order}")
        return [row[0] for row in cursor.fetchall()]


# -- 3. receipts never in a URL or a log -----------------------------------------------------------


def test_a_receipt_never_reaches_a_url_or_a_log(client, tree, cycle, projects, caplog):
    caplog.set_level(logging.DEBUG)
    client.force_login(member(tree["village"]))
    cast_response = client.post(f"/budgets/cycles/{cycle.pk}/vote/", {f"p{projects[0].pk}": "1"})
    assert cast_response.status_code == 302
    receipt_page = client.get(cast_response["Location"]).content.decode()
    code = re.search(r'class="receipt-code"[^>]*>([A-Z0-9-]{19})<', receipt_page).group(1)
    set_phase(cycle, "results")
    check = client.post(f"/budgets/cycles/{cycle.pk}/check/", {"code": code})
    assert "This ballot is in the count" in check.content.decode()
    assert "no-store" in check["Cache-Control"]
    # A GET with the code in its query string looks nothing up (and so teaches no one to).
    by_get = client.get(f"/budgets/cycles/{cycle.pk}/check/", {"code": code}).content.decode()
    assert "in the count" not in by_get
    bare = code.replace("-", "")
    pages = [receipt_page, check.content.decode()]
    for html in pages:
        for url in re.findall(r'(?:href|action|src)="([^"]*)"', html):
            assert code not in url and bare not in url
    assert code not in cast_response["Location"]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert code not in logged and bare not in logged
    form_tags = re.findall(r"<form[^>]*>", check.content.decode())
    assert any('method="post"' in tag for tag in form_tags)


# -- 4. the paper roll ---------------------------------------------------------------------------


@pytest.fixture
def clerk(tree):
    return member(tree["village"], Role.COMMITTEE)


def test_a_villager_without_a_phone_votes_once_on_the_register(
    client, tree, cycle, projects, clerk
):
    grandma = add_register_member(
        by=clerk, council=tree["village"], number="3组12号", name="李秀英", birth_year=1941
    )
    client.force_login(clerk)
    found = client.post(f"/budgets/cycles/{cycle.pk}/paper/", {"household": "3组12号"})
    assert "李秀英" in found.content.decode() and "1941" in found.content.decode()
    page = client.post(f"/budgets/cycles/{cycle.pk}/paper/", {"member": grandma.pk})
    assert "Paper ballot of 李秀英" in page.content.decode()
    cast_it = client.post(
        f"/budgets/cycles/{cycle.pk}/paper/",
        {"member": grandma.pk, f"p{projects[1].pk}": "1", "ballot": "1"},
    )
    assert cast_it.status_code == 302
    receipt = client.get(cast_it["Location"]).content.decode()
    assert "write it on the voter&#x27;s paper slip" in receipt or "paper slip" in receipt
    assert (
        "Only you have it" not in receipt
    )  # a paper receipt does not promise secrecy from the clerk
    assert "cannot be changed" in receipt
    again = client.post(
        f"/budgets/cycles/{cycle.pk}/paper/",
        {"member": grandma.pk, f"p{projects[0].pk}": "1", "ballot": "1"},
    )
    assert again.status_code == 400 and "already voted" in again.content.decode()
    participation = Participation.objects.get()
    assert participation.member == grandma and participation.voter is None
    assert participation.channel == Channel.PAPER and participation.entered_by == clerk


def test_a_register_entry_linked_to_an_account_still_votes_once(tree, cycle, projects, clerk):
    son = member(tree["village"])
    entry = add_register_member(by=clerk, council=tree["village"], number="1号", name="赵强")
    HouseholdMember.objects.filter(pk=entry.pk).update(user=son)
    entry.refresh_from_db()
    cast(cycle, son, {projects[0].pk: 1})
    with pytest.raises(ValidationError, match="already voted"):
        services.enter_paper_ballot(
            officer=clerk, cycle=cycle, member=entry, choices={projects[1].pk: 1}
        )
    assert Participation.objects.count() == 1


def test_the_database_refuses_a_second_register_ballot(tree, cycle, clerk):
    from django.db import IntegrityError, transaction

    entry = add_register_member(by=clerk, council=tree["village"], number="1号", name="赵强")
    Participation.objects.create(cycle=cycle, member=entry, channel=Channel.PAPER)
    with pytest.raises(IntegrityError), transaction.atomic():
        Participation.objects.create(cycle=cycle, member=entry, channel=Channel.PAPER)
    with pytest.raises(IntegrityError), transaction.atomic():
        Participation.objects.create(cycle=cycle, channel=Channel.PAPER)  # nobody
    with pytest.raises(IntegrityError), transaction.atomic():
        Participation.objects.create(
            cycle=cycle, voter=UserFactory(), channel=Channel.PAPER, replacements=1
        )


def test_register_entries_of_another_village_are_refused(tree, cycle, projects):
    other_clerk = member(tree["other_village"], Role.COMMITTEE)
    stranger = add_register_member(
        by=other_clerk, council=tree["other_village"], number="1号", name="外村人"
    )
    with pytest.raises(PermissionDenied, match="not on the register"):
        services.enter_paper_ballot(
            officer=member(tree["village"], Role.COMMITTEE),
            cycle=cycle,
            member=stranger,
            choices={projects[0].pk: 1},
        )


def test_household_mode_on_the_register_only_the_head(tree, projects, clerk):
    cycle = make_cycle(tree["village"], phase="vote", eligibility=Eligibility.HOUSEHOLD)
    road = add_proposal(cycle, "修路", "1000")
    wife = add_register_member(by=clerk, council=tree["village"], number="5号", name="陈芳")
    head = add_register_member(
        by=clerk, council=tree["village"], number="5号", name="陈伟", is_head=True
    )
    with pytest.raises(PermissionDenied, match="household head"):
        services.enter_paper_ballot(officer=clerk, cycle=cycle, member=wife, choices={road.pk: 1})
    services.enter_paper_ballot(officer=clerk, cycle=cycle, member=head, choices={road.pk: 1})
    assert Participation.objects.get().household == head.household


@pytest.mark.parametrize("role", [None, Role.RESIDENT, Role.SUPERVISOR, Role.REPRESENTATIVE])
def test_only_the_committee_keeps_the_register(client, tree, role):
    client.force_login(member(tree["village"], role) if role else UserFactory())
    assert client.get(f"/councils/{tree['village'].pk}/register/").status_code == 403
    response = client.post(
        f"/councils/{tree['village'].pk}/register/", {"number": "1号", "name": "假名"}
    )
    assert response.status_code == 403 and not HouseholdMember.objects.exists()


def test_the_committee_keeps_the_register_without_numbers_in_names(client, tree, clerk):
    client.force_login(clerk)
    url = f"/councils/{tree['village'].pk}/register/"
    bad = client.post(url, {"number": "1号", "name": "王五 110101199003074578"})
    assert bad.status_code == 400 and "ID or phone numbers" in bad.content.decode()
    assert (
        client.post(url, {"number": "1号", "name": "王五", "birth_year": "1950"}).status_code == 302
    )
    assert HouseholdMember.objects.get().name == "王五"
    assert "王五" in client.get(url).content.decode()


def test_the_open_ballots_command_opens_closed_votes_only(tree, cycle, projects):
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    still_open = make_cycle(tree["village"], phase="vote", title="还在投票")
    lamp = add_proposal(still_open, "路灯", "1000")
    cast(cycle, member(tree["village"]), {projects[0].pk: 1})
    cast(still_open, member(tree["village"]), {lamp.pk: 1})
    set_phase(cycle, "results")
    out = StringIO()
    call_command("open_ballots", stdout=out)
    assert f"cycle {cycle.pk}: 1 ballots opened" in out.getvalue()
    assert Ballot.objects.filter(cycle=cycle).count() == 1
    assert SealedBallot.objects.filter(cycle=still_open).count() == 1  # not before its close
    # A sealed ballot tampered with is reported, and the command fails.
    other = make_cycle(tree["village"], phase="vote", title="被篡改")
    road = add_proposal(other, "修路", "1000")
    cast(other, member(tree["village"]), {road.pk: 1})
    SealedBallot.objects.filter(cycle=other).update(sealed=b"\0" * 80)
    set_phase(other, "results")
    with pytest.raises(CommandError, match="1 cycle"):
        call_command("open_ballots", stdout=StringIO(), stderr=StringIO())
