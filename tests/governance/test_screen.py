"""The big screen of a township (a district, a city): public, this month's figures, open
cases as counts only, the villages at the top and the bottom; a fragment the script swaps in;
a fixed number of queries."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from councils.models import Level
from governance import dashboards
from tests.councils.factories import make_council
from tests.governance.cases_made import case_people, close, report
from tests.governance.raw_tables import raw_reads
from tests.governance.rows import index_score, index_version, metric_value

pytestmark = pytest.mark.django_db


def screen(client, council):
    return client.get(reverse("governance:screen", args=[council.pk]))


def fragment(client, council):
    return client.get(reverse("governance:screen_figures", args=[council.pk]))


@pytest.mark.parametrize("name", ["township", "district", "city"])
def test_a_township_district_or_city_has_a_public_screen(client, tree, name):
    response = screen(client, tree[name])
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-ws="/ws/governance/screens/{tree[name].pk}/"' in html
    assert 'http-equiv="refresh" content="60"' in html.split("<noscript>")[1]
    assert "js/governance-screen.js" in html and "css/governance-screen.css" in html


@pytest.mark.parametrize("name", ["village", "grid"])
def test_a_village_or_a_grid_has_no_screen(client, tree, name):
    assert screen(client, tree[name]).status_code == 404
    assert fragment(client, tree[name]).status_code == 404


@pytest.mark.parametrize("pk", [999_999, 2**63, 2**70])
def test_an_unknown_council_has_no_screen(client, pk):
    assert client.get(f"/governance/councils/{pk}/screen/").status_code == 404
    assert client.get(f"/governance/councils/{pk}/screen/figures/").status_code == 404


def test_an_unpublished_township_has_no_screen(client, tree):
    tree["township"].unpublish()
    assert screen(client, tree["township"]).status_code == 404
    assert fragment(client, tree["township"]).status_code == 404


def test_headline_figures_of_this_month_and_a_dash_for_the_missing(client, tree):
    month = dashboards.this_month().start
    township = tree["township"]
    metric_value(township, "case_closure", month, "66.7", 2, 3)
    metric_value(township, "quorum_rate", month, "100", 1, 1)
    # Last month's figure is not this month's.
    metric_value(township, "case_on_time", dashboards.months_before(month, 1), "12", 1, 8)
    html = fragment(client, township).content.decode()
    tile = html.split('data-metric="case_closure"')[1].split("</li>")[0]
    assert "66.7%" in tile and "2 / 3" in tile
    on_time = html.split('data-metric="case_on_time"')[1].split("</li>")[0]
    assert "—" in on_time and "12" not in on_time
    assert html.count('class="gov-tile"') == len(dashboards.SCREEN_METRICS)


def test_open_cases_are_counted_and_never_named(client, tree):
    people = case_people(tree)
    report(tree, people, title="王家宅基地纠纷", public=False)
    report(tree, people, title="路灯不亮", public=True)
    closed = close(report(tree, people, title="水沟堵了"), people)
    assert closed.status == "closed"
    html = screen(client, tree["township"]).content.decode()
    assert '<span id="screen-open-cases" class="gov-open-number">2</span>' in html
    for title in ("王家宅基地纠纷", "路灯不亮", "水沟堵了"):
        assert title not in html
    # The district's screen counts the township's cases too; the other township's does not.
    district = fragment(client, tree["district"]).content.decode()
    assert 'id="screen-open-cases" class="gov-open-number">2<' in district
    other = fragment(client, tree["other_township"]).content.decode()
    assert 'id="screen-open-cases" class="gov-open-number">0<' in other


def test_villages_at_the_top_and_bottom_by_case_closure_of_last_month(client, tree):
    last = dashboards.last_complete_month()
    metric_value(tree["village"], "case_closure", last.start, "90", 9, 10)
    metric_value(tree["other_village"], "case_closure", last.start, "40", 2, 5)
    metric_value(tree["far_village"], "case_closure", last.start, "100", 1, 1)  # elsewhere
    html = fragment(client, tree["township"]).content.decode()
    leaders = html.split('class="gov-leaders"')[1].split("</section>")[0]
    best, worst = leaders.split('class="gov-leader-list"')[1:3]
    # Two villages: the better at the top, the other at the bottom, neither in both lists.
    assert "柳树村" in best and "90.0%" in best and "石桥村" not in best
    assert "石桥村" in worst and "40.0%" in worst and "柳树村" not in worst
    assert "桃源村" not in leaders
    assert last.label in leaders


def _leader_names(html: str) -> tuple[list[str], list[str]]:
    leaders = html.split('class="gov-leaders"')[1].split("</section>")[0]
    lists = [part.split("</ol>")[0] for part in leaders.split('class="gov-leader-list"')[1:]]
    names = [re.findall(r'class="gov-leader-name">([^<]+)<', part) for part in lists]
    return names[0], names[1] if len(names) > 1 else []


@pytest.mark.parametrize(
    "count, top, bottom",
    [
        (1, ["村0"], []),
        (7, ["村6", "村5", "村4", "村3"], ["村0", "村1", "村2"]),
        (12, ["村11", "村10", "村9", "村8", "村7"], ["村0", "村1", "村2", "村3", "村4"]),
    ],
)
def test_the_top_and_the_bottom_never_name_a_village_twice(client, tree, count, top, bottom):
    last = dashboards.last_complete_month().start
    for n in range(count):
        village = make_council(tree["township"], level=Level.VILLAGE, title=f"村{n}")
        metric_value(village, "case_closure", last, str(10 + 5 * n), n, 20)
    assert _leader_names(fragment(client, tree["township"]).content.decode()) == (top, bottom)


def test_villages_by_index_score_when_an_index_in_use_scored_last_month(client, tree):
    last = dashboards.last_complete_month().start
    version = index_version(tree["district"], name="强基善治指数")
    index_score(version, tree["village"], last, "72.5", 2)
    index_score(version, tree["other_village"], last, "91", 4)
    metric_value(tree["village"], "case_closure", last, "90", 9, 10)
    leaders = fragment(client, tree["township"]).content.decode().split('class="gov-leaders"')[1]
    assert "强基善治指数" in leaders
    best, worst = leaders.split('class="gov-leader-list"')[1:3]
    assert "石桥村" in best and "91.0" in best and "★★★★" in best and "柳树村" not in best
    assert "柳树村" in worst and "72.5" in worst and "★★" in worst


def test_no_village_figure_says_so(client, tree):
    html = fragment(client, tree["township"]).content.decode()
    assert "No village has this figure yet." in html


def test_the_fragment_is_the_part_the_script_swaps(client, tree):
    html = fragment(client, tree["township"]).content.decode()
    assert html.lstrip().startswith('<div id="screen-figures"')
    assert "<script" not in html and "<html" not in html


def _queries(client, council) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert fragment(client, council).status_code == 200
    return len(queries)


def test_the_query_count_does_not_grow_with_the_villages_or_cases(client, tree):
    township = tree["township"]
    last = dashboards.last_complete_month().start
    month = dashboards.this_month().start
    version = index_version(tree["district"])
    for village in (tree["village"], tree["other_village"]):
        metric_value(village, "case_closure", last, "50", 1, 2)
        index_score(version, village, last, "50", 1)
    metric_value(township, "case_closure", month, "50", 1, 2)
    fragment(client, township)  # what a process reads once is not counted
    few = _queries(client, township)
    few_page = len(_page_queries(client, township))
    people = case_people(tree)
    for n in range(6):
        village = make_council(township, level=Level.VILLAGE, title=f"新村{n}")
        metric_value(village, "case_closure", last, str(10 * n), n, 10)
        index_score(version, village, last, str(10 * n), 0)
        report(tree, people, title=f"第{n}件")
    assert _queries(client, township) == few
    assert len(_page_queries(client, township)) == few_page
    assert _queries(client, tree["district"]) == few


def _page_queries(client, council):
    with CaptureQueriesContext(connection) as queries:
        assert screen(client, council).status_code == 200
    return queries


def test_the_screen_reads_stored_figures_and_one_count_of_open_cases(client, tree):
    """The figures, the trend and the ranked villages come from the stored rows; the only
    query on the records is the case board's one aggregate of the open cases (counts by
    whistle level, at this moment: docs/dashboards.md says why it is not a stored figure)."""
    township = tree["township"]
    last = dashboards.last_complete_month().start
    version = index_version(tree["district"])
    index_score(version, tree["village"], last, "50", 1)
    metric_value(township, "case_closure", dashboards.this_month().start, "50", 1, 2)
    people = case_people(tree)
    report(tree, people, title="路灯不亮")
    for council in (township, tree["district"]):
        for read in (screen, fragment):
            with CaptureQueriesContext(connection) as queries:
                assert read(client, council).status_code == 200
            hits = raw_reads(queries.captured_queries)
            assert [tables for tables, _sql in hits] == [{"cases_case"}], hits
            sql = hits[0][1].upper()
            assert "COUNT(" in sql and "GROUP BY" in sql
