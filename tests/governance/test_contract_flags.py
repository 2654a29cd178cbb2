"""The township's and the district's dashboard: "Contracts with late or missing payments", per
village, from the states the registers' sweep stored (assets.payments), in a fixed number of
queries and without reading the ledgers."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assets import payments, services
from councils.models import Level
from tests.assets.factories import people
from tests.assets.test_payments import NOW, OCTOBER, contract, ledger
from tests.councils.factories import make_council
from tests.governance.raw_tables import raw_reads

pytestmark = pytest.mark.django_db
D = datetime.date


def get(client, council):
    response = client.get(reverse("governance:dashboard", args=[council.pk]))
    assert response.status_code == 200
    return response


def flags(response) -> list[tuple]:
    return [
        (
            v.title,
            v.overdue_count,
            v.overdue_amount,
            v.late_count,
            [s.contract.code for s in v.contracts],
        )
        for v in response.context["late_payments"]
    ]


def village_people(tree, village):
    return people({**tree, "village": village})


@pytest.fixture
def world(tree):
    """柳树村: HT-001 missing 6,000 of September's payment and paid June late, HT-002 paid on
    time; 石桥村: HT-001 nothing paid; 桃源镇's 桃源村: HT-001 nothing paid."""
    p = people(tree)
    services.set_thresholds(township=tree["township"], by=p.official, lease_amount="1000000")
    services.set_thresholds(
        township=tree["other_township"], by=p.other_official, lease_amount="1000000"
    )
    village = tree["village"]
    bad = contract(village, p)
    good = contract(village, p, code="HT-002", schedule=[(D(2025, 3, 1), "500")])
    ledger(
        village,
        p,
        3,
        (10, "10000", {"description": "HT-001"}),
        (11, "500", {"description": "HT-002"}),
    )
    ledger(village, p, 6, (30, "10000", {"description": "HT-001"}))
    ledger(village, p, 9, (5, "4000", {"description": "HT-001"}))
    for name in ("other_village", "far_village"):
        contract(tree[name], village_people(tree, tree[name]), schedule=[(D(2025, 5, 1), "800")])
    payments.sweep(today=OCTOBER, now=NOW)
    return {**tree, "p": p, "bad": bad, "good": good}


def test_the_township_sees_its_villages_late_and_missing_payments(client, world):
    client.force_login(world["p"].official)
    response = get(client, world["township"])
    assert flags(response) == [
        ("柳树村", 1, Decimal("6000.00"), 1, ["HT-001"]),
        ("石桥村", 1, Decimal("800.00"), 0, ["HT-001"]),
    ]
    page = response.content.decode()
    assert "Contracts with late or missing payments" in page
    assert f'href="{world["bad"].get_absolute_url()}"' in page
    assert f'href="{world["good"].get_absolute_url()}"' not in page  # paid on time
    assert "6,000.00 yuan missing" in page and "1 paid late" in page


def test_the_district_sees_every_township_and_another_township_does_not(client, world):
    client.force_login(world["p"].official)
    assert [row[0] for row in flags(get(client, world["district"]))] == [
        "柳树村",
        "石桥村",
        "桃源村",
    ]
    assert [row[0] for row in flags(get(client, world["other_township"]))] == ["桃源村"]


def test_the_block_is_the_same_for_everyone_who_may_see_the_dashboard(client, world):
    """The dashboard's permissions are governance's (public); the payments of published
    contracts are public (issue 20, point 4): no one sees more or less."""
    anonymous = flags(get(client, world["township"]))
    for person in (world["p"].official, world["p"].resident, world["p"].other_official):
        client.force_login(person)
        assert flags(get(client, world["township"])) == anonymous


def test_a_township_without_late_payments_says_so(client, world):
    quiet = make_council(world["district"], level=Level.TOWNSHIP, title="新安镇")
    make_council(quiet, level=Level.VILLAGE, title="新安村")
    response = get(client, quiet)
    assert response.context["late_payments"] == []
    assert "No contract of these villages has a late or missing payment." in (
        response.content.decode()
    )


def test_paid_in_full_later_the_flag_for_missing_goes(client, world):
    ledger(
        world["other_village"],
        village_people(world, world["other_village"]),
        10,
        (1, "800", {"description": "HT-001"}),
    )
    payments.sweep(today=D(2025, 10, 2), now=NOW + datetime.timedelta(days=1))
    found = {row[0]: row for row in flags(get(client, world["township"]))}
    assert found["石桥村"][1:4] == (0, Decimal("0.00"), 1)  # now paid, but late


def test_the_block_reads_no_ledger_and_a_fixed_number_of_queries(client, world):
    get(client, world["township"])
    with CaptureQueriesContext(connection) as few:
        get(client, world["township"])
    assert raw_reads(few.captured_queries) == []
    for n in range(3):
        village = make_council(world["township"], level=Level.VILLAGE, title=f"新村{n}")
        contract(village, village_people(world, village), schedule=[(D(2025, 5, 1), "800")])
    payments.sweep(today=OCTOBER, now=NOW + datetime.timedelta(hours=1))
    with CaptureQueriesContext(connection) as more:
        response = get(client, world["township"])
    assert len(flags(response)) == 5
    assert len(more) == len(few)
    assert raw_reads(more.captured_queries) == []
