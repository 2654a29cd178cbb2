"""The governance section on a council's page: the council's figures of last month and of this
quarter, each with its twelve months as a chart and a table, each linked to what it counts;
read from stored figures in one query; hidden while none is stored."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance import dashboards
from governance.evidence import evidence_url
from governance.models import PeriodKind
from tests.governance.raw_tables import raw_reads, tables_read
from tests.governance.rows import metric_value

pytestmark = pytest.mark.django_db


def page(client, council) -> str:
    response = client.get(council.url)
    assert response.status_code == 200
    return response.content.decode()


def section(html: str) -> str:
    return html.split('aria-labelledby="gov-figures-heading"')[1].split("</section>")[0]


@pytest.fixture
def months():
    last = dashboards.last_complete_month()
    return {
        "last": last.start,
        "before": dashboards.months_before(last.start, 1),
        "year_ago": dashboards.months_before(last.start, 11),
        "too_old": dashboards.months_before(last.start, 12),
        "quarter": dashboards.this_quarter().start,
    }


def test_hidden_while_no_figure_is_stored(client, tree):
    for name in ("township", "village", "grid"):
        assert "gov-figures-heading" not in page(client, tree[name])


def test_hidden_when_the_only_figures_are_older_than_a_year(client, tree, months):
    metric_value(tree["village"], "case_closure", months["too_old"], "50.0", 1, 2)
    assert "gov-figures-heading" not in page(client, tree["village"])


def test_hidden_when_only_other_councils_have_figures(client, tree, months):
    metric_value(tree["other_village"], "case_closure", months["last"], "50.0", 1, 2)
    metric_value(tree["township"], "case_closure", months["last"], "50.0", 1, 2)
    assert "gov-figures-heading" not in page(client, tree["village"])


def test_shows_last_month_and_the_quarter_with_links_to_what_they_count(client, tree, months):
    village = tree["village"]
    metric_value(village, "case_closure", months["last"], "87.5", 7, 8)
    metric_value(village, "case_closure", months["before"], "50.0", 1, 2)
    metric_value(village, "case_closure", months["quarter"], "75.0", 9, 12, kind="quarter")
    metric_value(village, "topic_answer_hours", months["last"], "36", 0, 3)
    html = section(page(client, village))
    closure = html.split('id="gov-case_closure"')[1].split("</li>")[0]
    last = dashboards.last_complete_month()
    quarter = dashboards.this_quarter()
    assert f'<a href="{evidence_url(village, "case_closure", "month", last.start)}">87.5%</a>' in (
        closure
    )
    assert (
        f'<a href="{evidence_url(village, "case_closure", "quarter", quarter.start)}">75.0%</a>'
        in closure
    )
    # The trend: a chart with its title and every month in words, and the table.
    assert 'role="img"' in closure and "<title" in closure and "50.0%" in closure
    assert closure.count("<tr>") == 1 + 12  # heading and twelve months
    assert '<td class="num">7 / 8</td>' in closure
    # A median in hours reads as hours; metrics with no figure are left out.
    assert "36 h" in html.split('id="gov-topic_answer_hours"')[1]
    assert 'id="gov-disclosure_on_time"' not in html


def test_a_month_without_a_figure_is_a_dash_not_zero(client, tree, months):
    village = tree["village"]
    metric_value(village, "questions_on_time", months["before"], None, 0, 0)
    metric_value(village, "questions_on_time", months["year_ago"], "100", 2, 2)
    html = section(page(client, village))
    figure = html.split('id="gov-questions_on_time"')[1].split("</li>")[0]
    readings = figure.split("gov-readings")[1].split("</dl>")[0]
    assert "—" in readings and "0.0%" not in readings
    # No link for a figure that is not there.
    assert "<a " not in readings


def test_the_township_links_its_dashboard_and_screen_a_village_does_not(client, tree, months):
    metric_value(tree["township"], "case_closure", months["last"], "80", 4, 5)
    metric_value(tree["village"], "case_closure", months["last"], "80", 4, 5)
    assert "/dashboard/" in section(page(client, tree["township"]))
    assert "/dashboard/" not in section(page(client, tree["village"]))


def test_figures_are_one_query_however_many_months_and_metrics(
    tree, months, django_assert_num_queries
):
    village = tree["village"]
    with django_assert_num_queries(1):
        assert dashboards.council_section(village, None) is None
    for n in range(12):
        start = dashboards.months_before(months["last"], n)
        for key in ("case_closure", "case_on_time", "disclosure_on_time", "quorum_rate"):
            metric_value(village, key, start, "50", 1, 2)
    with CaptureQueriesContext(connection) as queries:
        found = dashboards.council_section(village, None)
    assert len(queries) == 1
    (query,) = queries.captured_queries
    assert tables_read(query["sql"]) == {"governance_metricvalue"}
    assert raw_reads(queries.captured_queries) == []
    assert len(found["governance_figures"]) == 4
    assert all(len(figure.trend) == 12 for figure in found["governance_figures"])


def test_the_quarter_alone_shows_the_figure(tree, months):
    metric_value(
        tree["village"], "meetings_held", months["quarter"], "3", 3, 0, kind=PeriodKind.QUARTER
    )
    (figure,) = dashboards.council_figures(tree["village"])
    assert figure.quarter.text == "3" and figure.month.text == "—"
