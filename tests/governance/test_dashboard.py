"""The township and district dashboard: villages ranked on a stored figure, filtered by a GET
form, exported as .xlsx; a fixed number of queries whatever the number of villages."""

import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape
from openpyxl import load_workbook

from councils.models import Level, Role
from governance import dashboards
from governance.evidence import evidence_url
from governance.metrics import METRICS
from governance.models import IndexScore, MetricValue, PeriodKind
from governance.views import dashboard as dashboard_views
from tests.councils.factories import make_council, member
from tests.governance.raw_tables import raw_reads, tables_read
from tests.governance.rows import index_score, index_version, metric_value

pytestmark = pytest.mark.django_db


@pytest.fixture
def last():
    return dashboards.last_complete_month().start


@pytest.fixture
def world(tree, last):
    """白沙镇's villages 柳树村 87.5%, 石桥村 50%, 东山村 87.5% (a tie), 西岭村 without a
    figure; 桃源镇's 桃源村 20%. Townships and the district have their own rows (not ranked)."""
    township, district = tree["township"], tree["district"]
    east = make_council(township, level=Level.VILLAGE, title="东山村")
    west = make_council(township, level=Level.VILLAGE, title="西岭村")
    metric_value(tree["village"], "case_closure", last, "87.5", 7, 8)
    metric_value(tree["other_village"], "case_closure", last, "50", 1, 2)
    metric_value(east, "case_closure", last, "87.5", 14, 16)
    metric_value(west, "case_closure", last, None, 0, 0)
    metric_value(tree["far_village"], "case_closure", last, "20", 1, 5)
    metric_value(township, "case_closure", last, "76", 22, 26)
    metric_value(district, "case_closure", last, "70", 23, 31)
    return {**tree, "east": east, "west": west}


def url(council, **params):
    return reverse("governance:dashboard", args=[council.pk]), params


def get(client, council, **params):
    return client.get(reverse("governance:dashboard", args=[council.pk]), params)


def rows(response) -> list[tuple]:
    """(rank, village, value) of the table's rows."""
    return [
        (place.rank, place.title, place.text) for place in response.context["page_obj"].object_list
    ]


def test_villages_best_first_ties_share_a_rank_then_those_without_a_figure(client, world):
    response = get(client, world["township"])
    assert response.status_code == 200
    assert rows(response) == [
        (1, "柳树村", "87.5%"),
        (1, "东山村", "87.5%"),
        (3, "石桥村", "50.0%"),
        (None, "西岭村", "—"),
    ]
    html = response.content.decode()
    assert "no figure" in html
    # The township itself and the other township's village are not ranked.
    assert "桃源村" not in html and "白沙镇</th>" not in html


def test_worst_first_keeps_the_ranks(client, world):
    assert rows(get(client, world["township"], order="worst")) == [
        (3, "石桥村", "50.0%"),
        (1, "东山村", "87.5%"),
        (1, "柳树村", "87.5%"),
        (None, "西岭村", "—"),
    ]


def test_lower_is_better_ranks_the_shortest_time_first(client, world, last):
    metric_value(world["village"], "topic_answer_hours", last, "48", 0, 3)
    metric_value(world["other_village"], "topic_answer_hours", last, "3", 0, 1)
    found = rows(get(client, world["township"], figure="topic_answer_hours"))
    assert found[:2] == [(1, "石桥村", "3 h"), (2, "柳树村", "48 h")]


def test_each_row_links_to_what_its_figure_counts(client, world, last):
    html = get(client, world["township"]).content.decode()
    assert evidence_url(world["village"], "case_closure", "month", last) in html
    # A village without a figure has no link.
    assert evidence_url(world["west"], "case_closure", "month", last) not in html
    assert '<td class="num">7 / 8</td>' in html


def test_filters_minimum_maximum_and_without_data(client, world):
    township = world["township"]
    assert [r[1] for r in rows(get(client, township, minimum="60"))] == ["柳树村", "东山村"]
    assert [r[1] for r in rows(get(client, township, maximum="60"))] == ["石桥村"]
    assert [r[1] for r in rows(get(client, township, minimum="40", maximum="60"))] == ["石桥村"]
    assert rows(get(client, township, without_data="on")) == [(None, "西岭村", "—")]
    assert rows(get(client, township, minimum="99")) == []
    assert "No village matches." in get(client, township, minimum="99").content.decode()


def test_a_district_filters_by_township_and_shows_it(client, world):
    district = world["district"]
    response = get(client, district)
    assert [r[1] for r in rows(response)] == ["柳树村", "东山村", "石桥村", "桃源村", "西岭村"]
    assert "桃源镇" in response.content.decode()  # the township column
    only = get(client, district, township=str(world["other_township"].pk))
    assert only.status_code == 200
    assert rows(only) == [(4, "桃源村", "20.0%")]  # its rank in the whole district


def test_a_township_has_no_township_filter(client, world):
    response = get(client, world["township"], township=str(world["other_township"].pk))
    assert "township" not in response.context["form"].fields
    assert len(rows(response)) == 4  # ignored


def test_quarter_and_month_read_their_own_rows(client, world):
    quarter = dashboards.this_quarter()
    metric_value(world["village"], "case_closure", quarter.start, "10", 1, 10, kind="quarter")
    response = get(client, world["township"], period=quarter.slug)
    assert response.status_code == 200
    assert rows(response)[0] == (1, "柳树村", "10.0%")
    assert [r[2] for r in rows(response)[1:]] == ["—", "—", "—"]
    assert quarter.label in response.content.decode()


@pytest.mark.parametrize(
    "params, message",
    [
        ({"figure": "no_such_metric"}, "Select a valid choice"),
        ({"figure": "index-999999"}, "Select a valid choice"),
        ({"period": "2026-13"}, "Select a valid choice"),
        ({"period": "1999-01"}, "Select a valid choice"),
        ({"period": "2026-Q5"}, "Select a valid choice"),
        ({"minimum": "abc"}, "Enter a number"),
        ({"minimum": "NaN"}, "Enter a number"),
        ({"minimum": "80", "maximum": "20"}, "The maximum is below the minimum."),
        ({"township": "abc"}, "Select a valid choice"),
        ({"order": "sideways"}, "Select a valid choice"),
    ],
)
def test_bad_input_is_told_and_the_defaults_are_shown(client, world, params, message):
    response = get(client, world["district"], **params)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert len(rows(response)) == 5  # the default table, not a crash


def test_another_townships_village_is_not_a_township_filter(client, world):
    response = get(client, world["district"], township=str(world["village"].pk))
    assert response.status_code == 400


@pytest.mark.parametrize("name", ["village", "grid"])
def test_a_village_or_a_grid_has_no_dashboard(client, world, name):
    assert get(client, world[name]).status_code == 404
    export = reverse("governance:dashboard_export", args=[world[name].pk])
    assert client.get(export).status_code == 404


@pytest.mark.parametrize("pk", [999_999, 2**63, 2**70])
def test_an_unknown_council_is_a_404(client, pk):
    assert client.get(f"/governance/councils/{pk}/dashboard/").status_code == 404


def test_an_unpublished_council_has_no_dashboard(client, world):
    world["township"].unpublish()
    assert get(client, world["township"]).status_code == 404


def test_the_dashboard_is_public(client, world):
    assert get(client, world["district"]).status_code == 200  # anonymous


def test_pages_of_a_hundred(client, world, monkeypatch):
    monkeypatch.setattr(dashboard_views, "PER_PAGE", 2)
    first = get(client, world["township"])
    assert [r[1] for r in rows(first)] == ["柳树村", "东山村"]
    assert "page=2" in first.content.decode()
    second = get(client, world["township"], page="2")
    assert [r[1] for r in rows(second)] == ["石桥村", "西岭村"]
    assert get(client, world["township"], page="junk").status_code == 200


# -- indexes ---------------------------------------------------------------------------------------


def test_index_scores_and_stars_are_offered_for_indexes_in_use_at_or_above(client, world, last):
    in_use = index_version(world["district"], name="强基善治指数")
    index_version(world["district"], name="草稿指数", status="draft")
    index_version(world["other_township"], name="桃源指数")
    choices = dict(
        (key, label)
        for _group, options in get(client, world["township"])
        .context["form"]
        .fields["figure"]
        .choices
        for key, label in options
    )
    assert f"index-{in_use.index_id}" in choices and f"stars-{in_use.index_id}" in choices
    assert not any(
        "草稿指数" in str(label) or "桃源指数" in str(label) for label in choices.values()
    )


def test_ranking_by_index_score_reads_the_newest_version_of_the_period(client, world, last):
    old = index_version(world["district"], number=1, status="retired")
    new = index_version(world["district"], number=2)
    index_score(old, world["village"], last, "90", 4)
    index_score(new, world["village"], last, "70", 2)
    index_score(old, world["other_village"], last, "80", 3)  # scored with the old one only
    response = get(client, world["township"], figure=f"index-{new.index_id}")
    assert rows(response)[:2] == [(1, "石桥村", "80.0"), (2, "柳树村", "70.0")]
    stars = get(client, world["township"], figure=f"stars-{new.index_id}")
    assert rows(stars)[:2] == [(1, "石桥村", "3 stars"), (2, "柳树村", "2 stars")]


# -- queries ---------------------------------------------------------------------------------------


def _queries(client, council, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = get(client, council, **params)
    assert response.status_code == 200
    return len(queries)


def test_the_query_count_does_not_grow_with_the_villages(client, tree, last):
    township = tree["township"]
    for village in (tree["village"], tree["other_village"]):
        metric_value(village, "case_closure", last, "50", 1, 2)
    index_version(tree["district"])
    get(client, township)  # what a process reads once (the site's root) is not counted
    few = _queries(client, township)
    few_export = _export_queries(client, township)
    for n in range(6):
        village = make_council(township, level=Level.VILLAGE, title=f"新村{n}")
        metric_value(village, "case_closure", last, str(10 * n), n, 10)
    assert (
        len(
            dashboards.ranking(
                township, dashboards.measures(township)[0], dashboards.last_complete_month()
            )
        )
        == 8
    )
    assert _queries(client, township) == few
    assert _queries(client, tree["district"]) == few
    assert _export_queries(client, township) == few_export


def test_ranking_reads_four_queries(world, django_assert_num_queries):
    township = world["township"]
    with django_assert_num_queries(1):
        measures = dashboards.measures(township)
    with django_assert_num_queries(2):
        dashboards.ranking(township, measures[0], dashboards.last_complete_month())


# -- the export ------------------------------------------------------------------------------------


def _export(client, council, **params):
    return client.get(reverse("governance:dashboard_export", args=[council.pk]), params)


def _export_queries(client, council) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert _export(client, council).status_code == 200
    return len(queries)


def _sheet(response) -> list[tuple]:
    body = b"".join(response.streaming_content)
    sheet = load_workbook(io.BytesIO(body)).active
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def test_the_export_holds_the_table_as_filtered(client, world, last):
    response = _export(client, world["district"], minimum="30")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert (
        f"case_closure-{dashboards.last_complete_month().slug}" in response["Content-Disposition"]
    )
    header, *lines = _sheet(response)
    assert header[:4] == ("Rank", "Village", "Township", "Cases closed (per cent)")
    page = rows(get(client, world["district"], minimum="30"))
    assert [(line[0], line[1], line[3]) for line in lines] == [
        (rank, title, float(Decimal(text.rstrip("%")))) for rank, title, text in page
    ]
    first = lines[0]
    assert first[2] == "白沙镇" and first[4:6] == (7, 8)
    assert first[6] == "http://testserver" + evidence_url(
        world["village"], "case_closure", "month", last
    )


def test_the_export_of_villages_without_data_and_worst_first(client, world):
    _header, *lines = _sheet(_export(client, world["township"], without_data="on"))
    assert [(line[0], line[1], line[3]) for line in lines] == [(None, "西岭村", None)]
    _header, *lines = _sheet(_export(client, world["township"], order="worst"))
    assert [line[1] for line in lines] == ["石桥村", "东山村", "柳树村", "西岭村"]


def test_the_export_refuses_bad_input_with_the_reason(client, world):
    response = _export(client, world["township"], figure="nope")
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


def test_a_formula_in_a_village_name_stays_text(client, world, last):
    evil = make_council(world["township"], level=Level.VILLAGE, title='=HYPERLINK("x")')
    metric_value(evil, "case_closure", last, "1", 1, 100)
    response = _export(client, world["township"])
    body = b"".join(response.streaming_content)
    sheet = load_workbook(io.BytesIO(body)).active
    cells = [row[1] for row in sheet.iter_rows(min_row=2)]
    evil_cell = next(cell for cell in cells if str(cell.value).startswith("="))
    assert evil_cell.data_type == "s"


def test_the_form_shows_what_the_table_shows(client, world):
    html = get(client, world["district"], minimum="10").content.decode()
    assert '<option value="case_closure" selected>' in html
    assert f'<option value="{dashboards.last_complete_month().slug}" selected>' in html
    assert '<option value="best" selected>' in html
    # The filters travel to the export and the next page, not into the site's search box.
    assert 'name="q" placeholder' in html and 'value="minimum=10"' not in html
    assert "export.xlsx?minimum=10" in html


# -- every figure, ranked and exported as stored ---------------------------------------------------


def _month_row(village, key, last):
    return MetricValue.objects.filter(
        council=village, metric=key, period_kind=PeriodKind.MONTH, period_start=last
    ).first()


@pytest.mark.parametrize("key", list(METRICS))
def test_every_metric_ranks_filters_and_exports_the_stored_figures(client, world, last, key):
    """Each metric of the catalogue: the villages in its own order (a median time ranks the
    shortest first), a range filter, worst first, and the .xlsx whose every value is the
    stored row's."""
    township = world["township"]
    villages = {
        "柳树村": world["village"],
        "石桥村": world["other_village"],
        "东山村": world["east"],
    }
    for village, (value, num, den) in zip(
        villages.values(), [("30", 3, 10), ("70", 7, 10), ("50", 5, 10)], strict=True
    ):
        if key != "case_closure":  # the world stores case closure already
            metric_value(village, key, last, value, num, den)
    metric = METRICS[key]
    response = get(client, township, figure=key)
    assert response.status_code == 200
    ranked = [r[1] for r in rows(response) if r[0] is not None]
    stored = {title: _month_row(v, key, last).value for title, v in villages.items()}
    expected = sorted(stored, key=lambda t: -stored[t] if metric.higher_is_better else stored[t])
    if key == "case_closure":  # a tie of 87.5: tree order
        expected = ["柳树村", "东山村", "石桥村"]
    assert ranked == expected
    assert str(escape(metric.label)) in response.content.decode()
    # A range in the figure's own unit.
    middle = sorted(stored.values())[1]
    narrowed = [r[1] for r in rows(get(client, township, figure=key, minimum=str(middle)))]
    assert sorted(narrowed) == sorted(t for t, v in stored.items() if v >= middle)
    worst = [r[1] for r in rows(get(client, township, figure=key, order="worst"))]
    assert worst[:3] == list(reversed(expected))
    # The export: every line is the stored row (value, counts, its evidence page).
    header, *lines = _sheet(_export(client, township, figure=key))
    assert header[3] == f"{metric.label} ({dashboards.unit_words(metric.unit)})"
    assert [line[1] for line in lines] == [r[1] for r in rows(response)]
    for line in lines:
        village = villages.get(line[1]) or world["west"]
        row = _month_row(village, key, last)
        if row is None:  # 西岭村 has no row of this metric: no figure, no counts, no link
            assert line[0] is None and line[3:] == (None, None, None, None), line
            continue
        assert line[3] == (None if row.value is None else float(row.value)), line
        assert line[4:6] == (row.numerator, row.denominator), line
        expected_link = (
            "http://testserver" + evidence_url(village, key, "month", last)
            if row.value is not None
            else None
        )
        assert line[6] == expected_link, line


@pytest.mark.parametrize("what", ["index", "stars"])
def test_an_index_score_or_its_stars_are_exported_as_stored(client, world, last, what):
    version = index_version(world["district"], name="强基善治指数")
    index_score(version, world["village"], last, "88.5", 3)
    index_score(version, world["other_village"], last, "91.25", 4)
    index_score(version, world["east"], last, None, 0)
    figure = f"{what}-{version.index_id}"
    page = rows(get(client, world["township"], figure=figure))
    assert [r[1] for r in page][:2] == ["石桥村", "柳树村"]
    header, *lines = _sheet(_export(client, world["township"], figure=figure))
    assert len(header) == 4  # no counts and no evidence page for a score
    stored = {
        s.council.title: s
        for s in IndexScore.objects.filter(version=version).select_related("council")
    }
    for line in lines:
        score = stored.get(line[1])
        if score is None or score.score is None:
            assert line[0] is None and line[3] is None, line
            continue
        assert line[3] == (float(score.score) if what == "index" else score.stars), line


def test_a_drafts_scores_are_never_ranked(client, world, last):
    in_use = index_version(world["district"], number=1)
    draft = index_version(world["district"], number=2, status="draft")
    index_score(in_use, world["village"], last, "60", 1)
    index_score(draft, world["village"], last, "99", 5)
    response = get(client, world["township"], figure=f"index-{in_use.index_id}")
    assert rows(response)[0] == (1, "柳树村", "60.0")
    assert "99.0" not in response.content.decode()


def test_the_export_of_one_township_of_a_district(client, world, last):
    township = world["other_township"]
    _header, *lines = _sheet(_export(client, world["district"], township=str(township.pk)))
    found = [(line[0], line[1], line[2], line[3]) for line in lines]
    assert found == [(4, "桃源村", "桃源镇", 20.0)]


# -- only precomputed rows -------------------------------------------------------------------------


def test_the_dashboard_and_its_export_read_no_record(client, world, last):
    """Every query of the page and of the export, for a metric and for an index, reads the
    stored figures and the page tree, never a case, a record, a session, a ballot or a topic."""
    version = index_version(world["district"])
    index_score(version, world["village"], last, "70", 2)
    for council in (world["township"], world["district"]):
        for params in ({}, {"figure": f"index-{version.index_id}"}, {"minimum": "10"}):
            with CaptureQueriesContext(connection) as page:
                assert get(client, council, **params).status_code == 200
            with CaptureQueriesContext(connection) as export:
                assert _export(client, council, **params).status_code == 200
            assert raw_reads(page.captured_queries) == [], params
            assert raw_reads(export.captured_queries) == [], params
            read = {t for q in page.captured_queries for t in tables_read(q["sql"])}
            assert "governance_metricvalue" in read or "governance_indexscore" in read


def test_the_raw_table_check_sees_a_case_query(world):
    """The check above would see a query on the cases (it is not vacuous)."""
    from cases.models import Case

    with CaptureQueriesContext(connection) as queries:
        Case.objects.filter(council=world["village"]).count()
    assert [hit for hit, _sql in raw_reads(queries.captured_queries)] == [{"cases_case"}]


# -- who sees it -----------------------------------------------------------------------------------


def test_everyone_sees_the_same_dashboard(client, world):
    """Public: no one sees more or less (docs/permissions.md); an official of the township is
    shown the same villages and figures as someone not signed in."""
    anonymous = rows(get(client, world["district"]))
    client.force_login(member(world["township"], Role.OFFICIAL))
    assert rows(get(client, world["district"])) == anonymous


@pytest.mark.parametrize("name", ["village", "grid"])
def test_below_a_township_nothing_is_shown_whoever_asks(client, world, name):
    client.force_login(member(world["village"], Role.COMMITTEE))
    assert get(client, world[name]).status_code == 404
    export = reverse("governance:dashboard_export", args=[world[name].pk])
    assert client.get(export).status_code == 404


def test_an_unpublished_councils_export_is_a_404(client, world):
    world["district"].unpublish()
    assert _export(client, world["district"]).status_code == 404
