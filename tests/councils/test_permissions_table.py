"""Walk docs/permissions.md: every cell of every table is checked against the rules."""

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser

from councils.models import MembershipStatus, Role
from tests.councils.factories import UserFactory, member
from tests.disclosure.factories import permission_objects

DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"


def permission_rows():
    rows = []
    header = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] == "permission":
            header = cells
            continue
        if header and not set(cells[0]) <= {"-"} and re.match(r"^\w+\.\w+$", cells[0]):
            rows.append((cells[0], cells[1], dict(zip(header[2:], cells[2:], strict=True))))
    return rows


ROWS = permission_rows()


def people(tree):
    village, township = tree["village"], tree["township"]
    grid = tree["grid"]

    def resident_with(role):
        user = member(village)
        if role:
            member(village, role, user=user)
        return user

    return {
        "anonymous": AnonymousUser(),
        "outsider": UserFactory(),
        "applicant": member(village, status=MembershipStatus.PENDING),
        "resident": resident_with(None),
        "representative": resident_with(Role.REPRESENTATIVE),
        "committee": resident_with(Role.COMMITTEE),
        "supervisor": resident_with(Role.SUPERVISOR),
        "grid_worker": member(grid, Role.GRID_WORKER),
        "official": member(township, Role.OFFICIAL),
        "other_official": member(tree["other_township"], Role.OFFICIAL),
        "other_resident": member(tree["other_village"]),
    }


def deliberation_objects(tree, author):
    from django.utils import timezone

    from deliberation.models import Hall, Topic, TopicStatus

    hall = Hall.objects.create(council=tree["village"], title="议事厅")
    return {
        "hall": hall,
        "private_hall": Hall.objects.create(
            council=tree["village"], title="青年议事厅", is_public=False
        ),
        "grid_hall": Hall.objects.create(council=tree["grid"], title="网格议事厅"),
        "topic": Topic.objects.create(hall=hall, author=author, title="t", description="d"),
        "closed_topic": Topic.objects.create(
            hall=hall, author=author, title="t", description="d", status=TopicStatus.CLOSED
        ),
        "answered_topic": Topic.objects.create(
            hall=hall,
            author=author,
            title="t",
            description="d",
            status=TopicStatus.TAKEN_UP,
            official_answer="a",
            answered_at=timezone.now(),
        ),
    }


def budget_objects(tree):
    from decimal import Decimal

    from tests.budgets.factories import make_cycle

    return {
        "cycle": make_cycle(tree["village"], phase="collect"),
        "results_cycle": make_cycle(tree["village"], phase="results"),
        "township_cycle": make_cycle(
            tree["township"],
            phase="vote",
            total_amount=Decimal("200"),
            sub_budgets={tree["village"]: Decimal("100"), tree["other_village"]: Decimal("100")},
        ),
    }


def session_objects(tree):
    """Sessions of the village, opened after the people above exist (rosters are snapshots)."""
    from tests.meetings.objects import permission_objects as sessions_permission_objects

    return sessions_permission_objects(tree)


def case_objects(tree, persons):
    from tests.cases.objects import permission_objects as cases_permission_objects

    return cases_permission_objects(tree, persons)


def register_objects(tree):
    """Versions of register entries in each state, drafted by a committee member who is none of
    the table's people (assets/)."""
    from assets import services as assets_services
    from disclosure import services as disclosure_services

    village = tree["village"]
    drafter = member(village, Role.COMMITTEE)
    reviewer = member(village, Role.SUPERVISOR)

    def fresh(name):
        return assets_services.draft_entry(
            council=village,
            by=drafter,
            register="resource",
            fields={"name": name, "category": "pond", "area": "10"},
        )

    in_review = assets_services.submit_version(version=fresh("村东鱼塘"), by=drafter)
    published = assets_services.submit_version(version=fresh("村西鱼塘"), by=drafter)
    disclosure_services.sign_off_record(record=published.record, by=reviewer)
    disclosure_services.publish_record(record=published.record, by=drafter)
    for version in (in_review, published):
        version.record.refresh_from_db()
    return {
        "entry_draft": fresh("村南林地"),
        "entry_in_review": in_review,
        "entry_published": published,
    }


def test_table_is_not_empty():
    assert len(ROWS) >= 9
    assert any(cell == "✓" for _, _, cells in ROWS for cell in cells.values())


@pytest.mark.django_db
def test_every_cell_of_the_permission_table(tree):
    persons = people(tree)
    objects = {"village": tree["village"], "township": tree["township"], "grid": tree["grid"]}
    objects.update(permission_objects(tree))  # records in each workflow state (disclosure)
    objects.update(deliberation_objects(tree, persons["resident"]))
    objects.update(budget_objects(tree))
    objects.update(session_objects(tree))
    objects.update(case_objects(tree, persons))
    objects.update(register_objects(tree))
    mismatches = []
    for permission, on, cells in ROWS:
        for column, expected in cells.items():
            allowed = persons[column].has_perm(permission, objects[on])
            if allowed != (expected == "✓"):
                mismatches.append(f"{permission} on {on} for {column}: doc says {expected}")
    assert not mismatches, "\n".join(mismatches)
