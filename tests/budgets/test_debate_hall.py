"""A proposal's live debate goes into its council's hall for the cycle, found by a real key
(budgets.BudgetHall), never by the hall's title (issue 15, point 4)."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import translation

from budgets import services
from budgets.models import BudgetHall
from deliberation.models import Hall
from deliberation.services import create_hall
from tests.budgets.factories import make_cycle
from tests.councils.factories import member

pytestmark = pytest.mark.django_db


def _propose(cycle, council, title):
    return services.submit_proposal(
        author=member(council),
        cycle=cycle,
        title=title,
        description=f"{title}：说明",
        estimated_cost=Decimal("5000"),
    )


def test_proposals_of_a_cycle_share_one_hall_held_by_key(tree):
    cycle = make_cycle(tree["village"], phase="collect")
    first = _propose(cycle, tree["village"], "修路")
    second = _propose(cycle, tree["village"], "装路灯")
    link = BudgetHall.objects.get(cycle=cycle)
    assert first.debate.hall == second.debate.hall == link.hall
    assert link.council == tree["village"] and link.hall.council == tree["village"]
    assert list(link.hall.topics.order_by("pk")) == [first.debate, second.debate]


def test_renaming_the_cycle_or_the_hall_opens_no_second_hall(tree):
    cycle = make_cycle(tree["village"], phase="collect")
    first = _propose(cycle, tree["village"], "修路")
    cycle.title = "2026年微实事（修订）"
    cycle.save(update_fields=["title"])
    Hall.objects.filter(pk=first.debate.hall_id).update(title="村里的预算讨论")
    second = _propose(cycle, tree["village"], "装路灯")
    assert second.debate.hall_id == first.debate.hall_id
    assert Hall.objects.filter(council=tree["village"]).count() == 1


def test_the_language_of_the_request_opens_no_second_hall(tree):
    """The hall's title is translated: a lookup by title opened one hall per language."""
    cycle = make_cycle(tree["village"], phase="collect")
    with translation.override("zh-hans"):
        first = _propose(cycle, tree["village"], "修路")
    with translation.override("en"):
        second = _propose(cycle, tree["village"], "装路灯")
    assert first.debate.hall_id == second.debate.hall_id
    assert first.debate.hall.title == "参与式预算：2026年微实事"


def test_a_committee_hall_with_the_same_title_is_never_taken_over(tree):
    cycle = make_cycle(tree["village"], phase="collect")
    committee = member(tree["village"], "committee")
    with translation.override("zh-hans"):
        theirs = create_hall(
            by=committee, council=tree["village"], title="参与式预算：2026年微实事"
        )
        proposal = _propose(cycle, tree["village"], "修路")
    assert proposal.debate.hall_id != theirs.pk
    assert not theirs.topics.exists()


def test_a_township_cycle_debates_each_village_share_in_its_own_village(tree):
    cycle = make_cycle(
        tree["township"],
        phase="collect",
        title="白沙镇2026年微实事",
        sub_budgets={tree["village"]: Decimal("50000"), tree["other_village"]: Decimal("50000")},
    )
    here = _propose(cycle, tree["village"], "修路")
    there = _propose(cycle, tree["other_village"], "修桥")
    assert here.debate.hall.council == tree["village"]
    assert there.debate.hall.council == tree["other_village"]
    assert set(BudgetHall.objects.filter(cycle=cycle).values_list("council", flat=True)) == {
        tree["village"].pk,
        tree["other_village"].pk,
    }


def test_one_hall_per_cycle_and_council_is_enforced_by_the_database(tree):
    cycle = make_cycle(tree["village"], phase="collect")
    _propose(cycle, tree["village"], "修路")
    spare = Hall.objects.create(council=tree["village"], title="另一个")
    with pytest.raises(IntegrityError), transaction.atomic():
        BudgetHall.objects.create(cycle=cycle, council=tree["village"], hall=spare)


@pytest.mark.django_db(transaction=True)
def test_migrating_links_the_halls_that_were_found_by_title(tree):
    """A database made before the key: the migration links each (cycle, council) to the hall
    its proposals are already debated in, so no debate moves and no hall is opened twice."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    def migrate(targets):
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(targets)
        return executor.loader.project_state(targets).apps

    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    cycle = make_cycle(tree["village"], phase="collect")
    author = member(tree["village"])
    try:
        old = migrate([("budgets", "0009_result_snapshot")])
        OldHall = old.get_model("deliberation", "Hall")
        OldTopic = old.get_model("deliberation", "Topic")
        OldProposal = old.get_model("budgets", "Proposal")
        hall = OldHall.objects.create(council_id=tree["village"].pk, title="参与式预算：旧标题")
        for title in ("修路", "装灯"):
            topic = OldTopic.objects.create(
                hall=hall, author_id=author.pk, title=title, description="说明"
            )
            OldProposal.objects.create(
                cycle_id=cycle.pk,
                author_id=author.pk,
                title=title,
                description="说明",
                estimated_cost=Decimal("100"),
                debate=topic,
            )
        migrate(leaves)
        link = BudgetHall.objects.get(cycle=cycle)
        assert link.hall_id == hall.pk and link.council_id == tree["village"].pk
        later = _propose(cycle, tree["village"], "修桥")
        assert later.debate.hall_id == hall.pk
    finally:
        migrate(leaves)
