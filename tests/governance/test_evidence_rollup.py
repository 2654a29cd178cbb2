"""The evidence page of a township, a district or a city lists the stored figure of each council
right below it, each linking down to that council's own evidence page, in a fixed number of
queries however many councils are below; villages and grids still list the items they count
(docs/governance.md, "The evidence page")."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from councils.models import Level
from governance.evidence import evidence_url
from governance.models import MetricValue, PeriodKind
from tests.councils.factories import make_council

NOV = datetime.date(2026, 11, 1)


def stored(council, key, numerator, denominator, value, histogram=None) -> MetricValue:
    """A figure as the recompute stores it (the page reads stored figures only)."""
    return MetricValue.objects.create(
        council=council,
        council_path=council.path,
        council_level=council.level,
        period_kind=PeriodKind.MONTH,
        period_start=NOV,
        metric=key,
        numerator=numerator,
        denominator=denominator,
        value=None if value is None else Decimal(value),
        histogram=histogram or {},
    )


def get(client, council, key="questions_on_time", period="2026-11", **params):
    return client.get(reverse("governance:evidence", args=[council.pk, key, period]), params)


@pytest.fixture
def figures_of_the_tree(tree):
    """questions_on_time of November: 柳树村 3 of 4, its grid 1 of 1, 石桥村 1 of 2, and the
    township 5 of 7: one more question of 1 counted at the township itself."""
    stored(tree["village"], "questions_on_time", 3, 4, "75.0")
    stored(tree["grid"], "questions_on_time", 1, 1, "100.0")
    stored(tree["other_village"], "questions_on_time", 1, 2, "50.0")
    stored(tree["township"], "questions_on_time", 5, 7, "71.4")
    stored(tree["far_village"], "questions_on_time", 9, 9, "100.0")
    stored(tree["other_township"], "questions_on_time", 9, 9, "100.0")
    stored(tree["district"], "questions_on_time", 14, 16, "87.5")
    return tree


def test_a_township_lists_its_villages_figures_each_linking_down(client, figures_of_the_tree):
    tree = figures_of_the_tree
    response = get(client, tree["township"])
    assert response.status_code == 200
    html = response.content.decode()
    children = response.context["rollup"].children
    assert [(c.title, c.numerator, c.denominator) for c in children] == [
        ("柳树村", 3, 4),
        ("石桥村", 1, 2),
    ]
    for village in (tree["village"], tree["other_village"]):
        assert evidence_url(village, "questions_on_time", "month", NOV) in html
    # Only the councils right below: not the grid under 柳树村, nor another township's village.
    assert evidence_url(tree["grid"], "questions_on_time", "month", NOV) not in html
    assert evidence_url(tree["far_village"], "questions_on_time", "month", NOV) not in html
    # Added up from the villages: 4 of 6; the township counts one question of its own.
    assert response.context["recounted"] == Decimal("66.7")
    assert "4 / 6" in html
    own = response.context["rollup"].own
    assert (own.numerator, own.denominator) == (1, 1)
    assert "1 of 1 more counted at 白沙镇 itself" in html
    assert response.context["evidence"] is None


def test_a_district_lists_its_townships(client, figures_of_the_tree):
    tree = figures_of_the_tree
    response = get(client, tree["district"])
    html = response.content.decode()
    assert [c.title for c in response.context["rollup"].children] == ["白沙镇", "桃源镇"]
    assert evidence_url(tree["township"], "questions_on_time", "month", NOV) in html
    assert evidence_url(tree["village"], "questions_on_time", "month", NOV) not in html
    # 5 of 7 and 9 of 9 make the district's 14 of 16: nothing counted at the district itself.
    assert response.context["recounted"] == Decimal("87.5")
    assert response.context["rollup"].own is None
    assert 'id="own-note"' not in html


def test_villages_and_grids_still_list_their_items(client, figures_of_the_tree):
    for council in ("village", "grid"):
        response = get(client, figures_of_the_tree[council])
        assert response.status_code == 200
        assert response.context["rollup"] is None
        assert response.context["evidence"] is not None


def test_a_median_is_taken_of_the_childrens_summed_histograms(client, tree):
    stored(tree["village"], "topic_answer_hours", 0, 2, "3", {"3": 2})
    stored(tree["other_village"], "topic_answer_hours", 0, 1, "48", {"48": 1})
    stored(tree["township"], "topic_answer_hours", 0, 4, "48", {"3": 2, "48": 1, "72": 1})
    response = get(client, tree["township"], "topic_answer_hours")
    assert response.context["recounted"] == Decimal(3)  # the median of 3, 3, 48
    own = response.context["rollup"].own
    assert (own.denominator, own.histogram) == (1, {72: 1})
    assert "1 more topics timed at 白沙镇 itself" in response.content.decode()


def test_a_council_below_that_is_not_live_is_not_listed(client, figures_of_the_tree):
    figures_of_the_tree["other_village"].unpublish()
    response = get(client, figures_of_the_tree["township"])
    assert [c.title for c in response.context["rollup"].children] == ["柳树村"]


def test_without_stored_figures_the_page_says_so(client, tree):
    response = get(client, tree["township"], "meetings_held")
    assert response.status_code == 200
    assert response.context["stored"] is None and response.context["rollup"].children == []
    assert "No council below has a figure for this period yet." in response.content.decode()


def test_a_case_figure_of_a_township_links_to_the_case_figures(client, tree):
    stored(tree["village"], "case_closure", 2, 4, "50.0")
    html = get(client, tree["township"], "case_closure").content.decode()
    assert reverse("cases:figures", args=[tree["township"].pk]) in html
    assert evidence_url(tree["village"], "case_closure", "month", NOV) in html


def test_the_townships_page_reads_the_same_queries_however_many_villages(client, tree):
    township = tree["township"]
    stored(township, "questions_on_time", 0, 0, None)

    get(client, township)  # the site's root is cached from the first request on

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = get(client, township)
        assert response.status_code == 200
        return len(captured)

    for village in (tree["village"], tree["other_village"]):
        stored(village, "questions_on_time", 1, 2, "50.0")
    two = queries()
    for n in range(8):
        village = make_council(township, level=Level.VILLAGE, title=f"新村{n}")
        stored(village, "questions_on_time", 1, 2, "50.0")
        grid = make_council(village, level=Level.GRID, title=f"新村{n}网格")
        stored(grid, "questions_on_time", 1, 2, "50.0")
    ten = queries()
    assert ten == two <= 6
    assert len(get(client, township).context["rollup"].children) == 10


def test_many_councils_below_are_paged(client, tree):
    township = tree["township"]
    for n in range(55):
        village = make_council(township, level=Level.VILLAGE, title=f"村{n:02d}")
        stored(village, "questions_on_time", 1, 2, "50.0")
    first = get(client, township)
    assert len(first.context["page_obj"].object_list) == 50
    assert first.context["page_obj"].paginator.count == 55
    assert len(get(client, township, page="2").context["page_obj"].object_list) == 5
