"""Budgets meet finance: lines tagged with a funded micro-project roll up to its page as
budgeted against spent, with a warning when spending runs over."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from budgets import services as budget_services
from councils.models import Role
from disclosure import services
from disclosure.selectors import funded_projects, project_spending
from tests.budgets.factories import add_proposal, make_cycle, set_phase
from tests.councils.factories import member
from tests.disclosure.factories import draft, line, people, publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def p(tree):
    return people(tree)


@pytest.fixture
def projects(tree, p):
    """修路 funded (10,000 budgeted), 路灯 not funded, in the village; a funded one elsewhere."""
    cycle = make_cycle(tree["village"], phase="vote", total_amount=Decimal("10000"))
    road = add_proposal(cycle, "修路", "10000")
    lamps = add_proposal(cycle, "路灯", "10000")
    for _ in range(3):
        budget_services.cast_ballot(
            voter=member(tree["village"]), cycle=cycle, choices={road.pk: 1}
        )
    budget_services.cast_ballot(voter=member(tree["village"]), cycle=cycle, choices={lamps.pk: 1})
    set_phase(cycle, "results")
    budget_services.publish_results(by=p.committee, cycle=cycle)
    other = make_cycle(tree["other_village"], phase="vote", total_amount=Decimal("500"))
    elsewhere = add_proposal(other, "别村项目", "500")
    budget_services.cast_ballot(
        voter=member(tree["other_village"]), cycle=other, choices={elsewhere.pk: 1}
    )
    set_phase(other, "results")
    budget_services.publish_results(by=member(tree["other_village"], Role.COMMITTEE), cycle=other)
    return road, lamps, elsewhere


def booked(tree, p, road, amounts, *, start=datetime.date(2025, 3, 1), publish_it=True):
    record = draft(tree["village"], p.committee, title=f"账目{start}", start=start)
    for amount in amounts:
        line(record, p.committee, expense=amount, description="工程款", project=road.pk)
    line(record, p.committee, expense="77.00", description="不相关")
    if publish_it:
        publish(record, committee=p.committee, supervisor=p.supervisor)
    return record


def test_only_funded_projects_of_the_same_council_can_be_tagged(tree, p, projects):
    road, lamps, elsewhere = projects
    assert set(funded_projects(tree["village"])) == {road.pk}
    record = draft(tree["village"], p.committee)
    for project in (lamps.pk, elsewhere.pk, 999999):
        with pytest.raises(ValidationError, match="No funded micro-project"):
            line(record, p.committee, expense="10.00", project=project)
    assert line(record, p.committee, expense="10.00", project=road.pk).project == road


def test_spending_rolls_up_from_published_lines_minus_reversals(client, tree, p, projects):
    road = projects[0]
    first = booked(tree, p, road, ["4000.00", "2500.50"])
    booked(tree, p, road, ["999.00"], start=datetime.date(2025, 4, 1), publish_it=False)
    spending = project_spending(road)
    assert spending.spent == Decimal("6500.50") and spending.budgeted == Decimal("10000")
    assert not spending.over_budget and spending.remaining == Decimal("3499.50")
    # a correction reverses the first record's lines (tags included) and books 4,100 instead
    correction = services.correct_record(original=first, by=p.committee, reason="金额错")
    line(correction, p.committee, expense="4100.00", description="工程款", project=road.pk)
    publish(correction, committee=p.committee, supervisor=p.supervisor2)
    assert project_spending(road).spent == Decimal("4100.00")
    html = client.get(road.get_absolute_url()).content.decode()
    assert "Budgeted and spent" in html and "4,100.00" in html and "5,900.00" in html
    assert "41% of the budget spent" in html and "over budget" not in html.lower()


@pytest.mark.parametrize(
    ("amount", "over", "far"),
    [
        ("10000.00", False, False),
        ("10500.00", True, False),
        ("11000.00", True, False),
        ("11000.01", True, True),
    ],
)
def test_variance_warning(client, tree, p, projects, amount, over, far):
    road = projects[0]
    booked(tree, p, road, [amount])
    spending = project_spending(road)
    assert (spending.over_budget, spending.far_over_budget) == (over, far)
    html = client.get(road.get_absolute_url()).content.decode()
    assert ("More than 10% over budget" in html) == far
    assert ("Over budget by" in html) == over


def test_no_block_before_anything_is_booked(client, tree, p, projects):
    road = projects[0]
    booked(tree, p, road, ["10.00"], publish_it=False)  # a draft does not count
    assert project_spending(road) is None
    assert "Budgeted and spent" not in client.get(road.get_absolute_url()).content.decode()


def test_the_tag_is_part_of_the_hashed_content(tree, p, projects):
    from disclosure.hashchain import content_of, records_with_content
    from disclosure.models import LineItem

    record = booked(tree, p, projects[0], ["10.00"])
    content = content_of(records_with_content().get(pk=record.pk))
    assert content["lines"][0]["project"] == projects[0].pk
    assert "project" not in content["lines"][1]  # untagged lines hash exactly as before
    LineItem.objects.filter(record=record, position=1).update(project=None)
    assert not services.verify_chain(council_id=record.council_id).ok


def test_imported_lines_can_carry_the_project_number(client, tree, p, projects, settings, tmp_path):
    from tests.disclosure.test_excel_import import form_data, xlsx

    settings.YISHI_IMPORT_IN_BACKGROUND, settings.MEDIA_ROOT = False, tmp_path
    road, lamps, _elsewhere = projects
    headers = ["日期", "摘要", "收入", "支出", "项目编号"]
    rows = [
        [datetime.date(2025, 3, 2), "工程款", None, 500, f"{road.pk} 修路"],
        [datetime.date(2025, 3, 2), "路灯", None, 5, lamps.pk],
    ]
    client.force_login(p.committee)
    client.post(f"/disclosure/{tree['village'].pk}/import/", form_data(xlsx(rows, headers)))
    from disclosure.models import ImportBatch

    batch = ImportBatch.objects.get()
    assert [(x["row"], x["code"]) for x in batch.result["problems"]] == [(3, "project_unknown")]
