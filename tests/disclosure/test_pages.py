"""Public pages: no sign-in, light, labelled, masked; query counts do not grow with lines."""

import datetime
import gzip
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from disclosure.models import Kind, LineItem, RecordType
from tests.disclosure.factories import draft, line, people, publish, published_statement

pytestmark = pytest.mark.django_db


@pytest.fixture
def p(tree):
    return people(tree)


def test_council_page_lists_the_three_ledgers(client, tree):
    html = client.get(tree["village"].url).content.decode()
    for kind in Kind.values:
        assert f"/disclosure/{tree['village'].pk}/{kind}/" in html


def test_ledger_shows_published_records_only_to_the_public(client, tree, p):
    published = published_statement(tree["village"], p, title="三月账目")
    hidden = draft(tree["village"], p.committee, title="草稿账目")
    html = client.get(f"/disclosure/{tree['village'].pk}/finance/").content.decode()
    assert published.title in html and hidden.title not in html
    assert client.get(hidden.get_absolute_url()).status_code == 404
    client.force_login(p.resident)
    assert client.get(hidden.get_absolute_url()).status_code == 404
    client.force_login(p.supervisor)
    assert client.get(hidden.get_absolute_url()).status_code == 200
    client.force_login(p.official)
    assert "草稿账目" in client.get(f"/disclosure/{tree['village'].pk}/finance/").content.decode()


def test_ledger_filters_by_year_and_type(client, tree, p):
    published_statement(tree["village"], p, title="二〇二五年三月")
    published_statement(tree["village"], p, title="二〇二四年三月", start=datetime.date(2024, 3, 1))
    url = f"/disclosure/{tree['village'].pk}/finance/"
    html = client.get(url, {"year": "2024"}).content.decode()
    assert "二〇二四年三月" in html and "二〇二五年三月" not in html
    html = client.get(url, {"record_type": "debts"}).content.decode()
    assert "二〇二四年三月" not in html and "二〇二五年三月" not in html
    assert client.get(url, {"year": "1999"}).status_code == 200  # invalid filter: ignored


def test_unknown_kind_and_non_village_ledgers_are_404(client, tree):
    assert client.get(f"/disclosure/{tree['village'].pk}/gossip/").status_code == 404
    assert client.get(f"/disclosure/{tree['township'].pk}/finance/").status_code == 404
    assert client.get(f"/disclosure/{tree['village'].pk}/finance/2025-13/").status_code == 404


def test_record_page_shows_hashes_and_the_chain_head(client, tree, p):
    record = published_statement(tree["village"], p)
    html = client.get(record.get_absolute_url()).content.decode()
    entry = record.chain_entry
    assert entry.content_hash in html and entry.entry_hash in html
    assert "chain.json" in html and "Proof that nothing changed" in html


def test_welfare_lists_are_masked_in_public_and_refuse_id_numbers(client, tree, p):
    record = draft(
        tree["village"],
        p.committee,
        kind=Kind.VILLAGE,
        record_type=RecordType.WELFARE_LIST,
        title="2025年3月低保名单",
    )
    line(record, p.committee, expense="650.00", description="低保A类", counterparty="王小英")
    line(record, p.committee, expense="480.00", description="低保B类", counterparty="欧阳小明")
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="ID card"):
        line(record, p.committee, expense="1", counterparty="李四 11010519491231002X")
    with pytest.raises(ValidationError, match="ID card"):
        line(record, p.committee, expense="1", description="身份证110105194912310021")
    publish(record, committee=p.committee, supervisor=p.supervisor)
    html = client.get(record.get_absolute_url()).content.decode()
    assert "王*英" in html and "欧**明" in html
    assert "王小英" not in html and "欧阳小明" not in html
    assert record.lines.count() == 2


def test_id_numbers_in_a_welfare_list_body_are_refused(tree, p):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="ID card"):
        draft(
            tree["village"],
            p.committee,
            kind=Kind.VILLAGE,
            record_type=RecordType.WELFARE_LIST,
            title="低保名单",
            body="张三 身份证号 110105194912310021",
        )


def _statement_with_lines(tree, p, count):
    record = draft(tree["village"], p.committee)
    LineItem.objects.bulk_create(
        LineItem(
            record=record,
            position=n,
            date=record.period_start,
            description=f"第{n}笔",
            income=Decimal("1.01"),
        )
        for n in range(1, count + 1)
    )
    return publish(record, committee=p.committee, supervisor=p.supervisor)


def _queries(client, url):
    client.get(url)  # warm: the site's root paths and other per-process caches, once
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured), response.content.decode()


def test_ten_thousand_lines_render_in_constant_queries_and_paginate(client, tree, p):
    small = _statement_with_lines(tree, p, 3)
    big_people = people({**tree, "village": tree["other_village"]})
    big = _statement_with_lines({**tree, "village": tree["other_village"]}, big_people, 10_000)

    small_record, _ = _queries(client, small.get_absolute_url())
    big_record, html = _queries(client, big.get_absolute_url())
    assert big_record == small_record
    assert "Page 1 of 100" in html and "第100笔" in html and "第101笔" not in html
    assert "10,100.00" in html  # total of 10,000 × 1.01, exact
    _, last = _queries(client, big.get_absolute_url() + "?page=100")
    assert "第10000笔" in last

    small_period, _ = _queries(client, f"/disclosure/{tree['village'].pk}/finance/2025-03/")
    big_period, html = _queries(client, f"/disclosure/{tree['other_village'].pk}/finance/2025-03/")
    assert big_period == small_period
    assert "Page 1 of 100" in html and "10,100.00" in html

    small_ledger, _ = _queries(client, f"/disclosure/{tree['village'].pk}/finance/")
    big_ledger, html = _queries(client, f"/disclosure/{tree['other_village'].pk}/finance/")
    assert big_ledger == small_ledger
    assert "10,100.00" in html


def test_ledger_of_many_records_paginates_in_constant_queries(client, tree, p):
    published_statement(tree["village"], p)
    few, _ = _queries(client, f"/disclosure/{tree['village'].pk}/finance/")
    for month in range(1, 13):
        published_statement(tree["village"], p, start=datetime.date(2023, month, 1))
        published_statement(tree["village"], p, start=datetime.date(2024, month, 1))
    many, html = _queries(client, f"/disclosure/{tree['village'].pk}/finance/")
    assert many == few and "Page 1 of 2" in html


@pytest.mark.parametrize("who", ["anonymous", "committee", "supervisor", "resident"])
def test_pages_are_light_script_free_and_labelled(client, tree, p, who):
    record = published_statement(tree["village"], p)
    a_draft = draft(tree["village"], p.committee, title="草稿")
    services_submit = __import__("disclosure.services", fromlist=["x"]).submit_for_review
    services_submit(record=a_draft, by=p.committee)
    if who != "anonymous":
        client.force_login(getattr(p, who))
    urls = [
        f"/disclosure/{tree['village'].pk}/finance/",
        record.get_absolute_url(),
        f"/disclosure/{tree['village'].pk}/finance/2025-03/",
    ]
    if who in ("committee", "supervisor"):
        urls += [
            a_draft.get_absolute_url(),
            f"/disclosure/{tree['village'].pk}/dashboard/",
            f"/disclosure/{tree['township'].pk}/dashboard/",
        ]
    if who == "committee":
        urls += [f"/disclosure/{tree['village'].pk}/new/finance/"]
    for url in urls:
        response = client.get(url)
        assert response.status_code in (200, 403), url
        if response.status_code == 403:
            continue
        html = response.content.decode()
        # The one script a signed-in person's page carries is the bell's (live notifications,
        # deferred); nothing else.
        bell = '<script src="/static/js/notifications.js" defer></script>'
        assert html.count(bell) == (0 if who == "anonymous" else 1), url
        assert "<script" not in html.replace(bell, ""), url
        assert len(gzip.compress(response.content)) < 60 * 1024, url
        for input_id in re.findall(r'<(?:input|textarea|select)[^>]*\sid="([^"]+)"', html):
            assert f'for="{input_id}"' in html, f"{url}: #{input_id} has no label"


def test_record_page_in_chinese(client, tree, p, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    record = published_statement(tree["village"], p)
    response = client.get(record.get_absolute_url())
    assert response.status_code == 200 and 'lang="zh-hans"' in response.content.decode()
