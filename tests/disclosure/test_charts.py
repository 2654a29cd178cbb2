"""Finance charts: server-side SVG whose totals match the published lines, accessible, with a
data table, no script or style attribute, and a bounded number of queries."""

import datetime
import re
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from disclosure import services
from tests.disclosure.factories import draft, line, people, publish

pytestmark = pytest.mark.django_db
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def p(tree):
    return people(tree)


@pytest.fixture
def books(tree, p):
    village = tree["village"]
    march = draft(village, p.committee, title="三月")
    line(march, p.committee, income="1000.00", description="租金")
    line(march, p.committee, expense="300.00", account="管理费用", description="办公")
    line(march, p.committee, expense="200.00", account="公益事业支出", description="路灯")
    march = publish(march, committee=p.committee, supervisor=p.supervisor)
    april = draft(village, p.committee, title="四月", start=datetime.date(2025, 4, 1))
    line(april, p.committee, expense="50.50", account="管理费用", description="电费")
    publish(april, committee=p.committee, supervisor=p.supervisor)
    hidden = draft(village, p.committee, title="草稿", start=datetime.date(2025, 5, 1))
    line(hidden, p.committee, expense="99999.00", account="管理费用", description="草稿")
    # a correction of March: its reversing lines cancel 300.00 of 管理费用, then 30.00 instead
    correction = services.correct_record(original=march, by=p.committee, reason="金额错")
    line(correction, p.committee, expense="30.00", account="管理费用", description="办公（更正）")
    publish(correction, committee=p.committee, supervisor=p.supervisor2)
    return village


def page(client, village, **params):
    response = client.get(f"/disclosure/{village.pk}/finance/charts/", params)
    assert response.status_code == 200
    return response.content.decode()


def figure(html, slug):
    svg = re.search(rf'<svg[^>]*aria-labelledby="{slug}-title[^"]*".*?</svg>', html, re.S).group(0)
    table = re.search(rf'<table[^>]*id="{slug}-table".*?</table>', html, re.S).group(0)
    rows = [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[hd][^>]*>.*?</t[hd]>", tr)
        ]
        for tr in re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>")[1], re.S)
    ]
    return ET.fromstring(svg), rows


def test_income_and_expense_by_month_match_the_published_lines(client, books):
    svg, rows = figure(page(client, books), "chart-months")
    # March: every line reversed by the correction (1000 in, 300 + 200 out), then 30 out
    assert rows == [["2025-03", "0.00", "30.00"], ["2025-04", "0.00", "50.50"]]
    assert svg.get("role") == "img"
    assert svg.find(f"{SVG}title").text == "Income and expense by month"
    assert "Total income 0.00 yuan, total expense 80.50 yuan" in svg.find(f"{SVG}desc").text
    bar_titles = [t.text for t in svg.iter(f"{SVG}title")][1:]
    assert "2025-04 · Expense: 50.50" in bar_titles


def test_spending_by_account_and_balance(client, books):
    html = page(client, books)
    _svg, rows = figure(html, "chart-accounts")
    assert rows == [["管理费用", "80.50"]]  # 公益事业支出 was reversed to 0
    svg, rows = figure(html, "chart-balance")
    assert rows == [["2025-03", "-30.00"], ["2025-04", "-80.50"]]
    assert "ending at -80.50 yuan" in svg.find(f"{SVG}desc").text


def test_a_year_filter_carries_the_opening_balance(client, books, tree, p):
    year = draft(books, p.committee, title="2026年1月", start=datetime.date(2026, 1, 1))
    line(year, p.committee, income="100.00", description="利息")
    publish(year, committee=p.committee, supervisor=p.supervisor)
    _svg, rows = figure(page(client, books, year="2026"), "chart-balance")
    assert rows == [["2026-01", "19.50"]]  # opening -80.50 from 2025


def test_charts_are_light_accessible_and_scriptless(client, books):
    html = page(client, books)
    assert "<script" not in html and "style=" not in html
    for svg in re.findall(r"<svg.*?</svg>", html, re.S):
        root = ET.fromstring(svg)
        assert root.get("viewBox").startswith("0 0 360 ")
        assert root.find(f"{SVG}title") is not None and root.find(f"{SVG}desc") is not None
        assert all(float(t.get("x")) <= 360 for t in root.iter(f"{SVG}text"))


def test_charts_take_a_bounded_number_of_queries(client, books, tree, p):
    page(client, books)  # warm: the site's root paths and other per-process caches, once
    with CaptureQueriesContext(connection) as few:
        page(client, books)
    for month in range(5, 13):
        record = draft(books, p.committee, title=f"{month}月", start=datetime.date(2025, month, 1))
        for i in range(5):
            line(record, p.committee, expense=Decimal("1.00"), account=f"科目{month}-{i}")
        publish(record, committee=p.committee, supervisor=p.supervisor)
    with CaptureQueriesContext(connection) as many:
        html = page(client, books)
    assert len(many) == len(few) <= 12
    assert "Other accounts" in html  # more than ten accounts: the rest summed


def test_no_published_lines_means_empty_charts(client, tree):
    html = page(client, tree["village"])
    assert html.count("Nothing to show yet.") == 4


def test_only_villages_have_charts(client, tree):
    assert client.get(f"/disclosure/{tree['township'].pk}/finance/charts/").status_code == 404
