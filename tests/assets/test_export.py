"""Exporting a village's registers to Excel: public, only what is published (the newest published
version of each entry), persons' names masked, irregular entries marked, a fixed number of
queries, and the import's own headers, so that an export imports again into another village."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from openpyxl import load_workbook

from assets import excel, services
from assets.models import Entry, EntryVersion, Register
from councils.models import Role
from tests.assets.factories import (
    OFFICE,
    motion,
    people,
    publish_version,
    published_pond,
    sold_a_month_ago,
)
from tests.councils.factories import member

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def p(tree):
    return people(tree)


def url(council) -> str:
    return f"/assets/councils/{council.pk}/export.xlsx"


def workbook(content: bytes):
    return load_workbook(io.BytesIO(content))


def rows_of(book, title) -> list[list]:
    return [list(row) for row in book[title].iter_rows(values_only=True)]


def as_dicts(book, title) -> list[dict]:
    header, *rows = rows_of(book, title)
    return [dict(zip(header, row, strict=True)) for row in rows]


def building(village, p, **fields):
    version = services.draft_entry(
        council=village,
        by=p.committee,
        register=Register.ASSET,
        fields={"name": "村委办公楼", "category": "building", "book_value": "850000", **fields},
    )
    return publish_version(version, p)


def lease(village, p, pond, *, resolution=None, **fields):
    start = TODAY()
    version = services.draft_entry(
        council=village,
        by=p.committee,
        register=Register.CONTRACT,
        fields={
            "name": "村东鱼塘租赁合同",
            "contract_kind": "lease",
            "counterparty_kind": "person",
            "counterparty": "王小英",
            "starts_on": start.isoformat(),
            "ends_on": (start + datetime.timedelta(days=3 * 365 - 1)).isoformat(),
            "price": "30000",
            "subject": pond.entry,
            "resolution": resolution,
            **fields,
        },
        installments=[
            (start, "10000"),
            (start + datetime.timedelta(days=365), "10000"),
            (start + datetime.timedelta(days=730), "10000"),
        ],
    )
    return publish_version(version, p)


def test_anyone_may_download_the_published_registers(client, tree, p):
    building(tree["village"], p)
    response = client.get(url(tree["village"]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    book = workbook(response.content)
    assert book.sheetnames == ["资产", "资源", "合同", "收款计划", "填写说明"]
    [row] = as_dicts(book, "资产")
    assert row["编号"] == "ZC-001" and row["名称"] == "村委办公楼" and row["类别"] == "房屋建筑物"
    assert row["账面价值"] == 850000 and row["事后补录"] is None


def test_the_headers_are_the_imports_own(client, tree):
    book = workbook(client.get(url(tree["village"])).content)
    for register in Register.values:
        headers = rows_of(book, excel.SHEET_TITLES[register])[0]
        expected = [header for _key, header, _variants in excel.COLUMNS[register]]
        assert headers == [*expected, excel.IRREGULAR_HEADER]
    assert rows_of(book, "收款计划")[0] == ["合同编号", "应付日期", "金额"]


def test_drafts_are_not_exported_to_anyone(client, tree, p):
    services.draft_entry(
        council=tree["village"],
        by=p.committee,
        register=Register.ASSET,
        fields={"name": "草稿仓库", "category": "building", "book_value": "1"},
    )
    for who in (None, p.committee, p.supervisor, p.official):
        if who:
            client.force_login(who)
        book = workbook(client.get(url(tree["village"])).content)
        assert rows_of(book, "资产")[1:] == []


def test_the_newest_published_version_is_exported_not_a_draft_after_it(client, tree, p):
    office = building(tree["village"], p)
    second = services.draft_version(
        entry=office.entry,
        by=p.committee,
        fields={
            "name": "村委办公楼",
            "category": "building",
            "book_value": "800000",
            "change_reason": "重新评估",
        },
    )
    publish_version(second, p)
    services.draft_version(
        entry=office.entry,
        by=p.committee,
        fields={
            "name": "村委办公楼（草稿）",
            "category": "building",
            "book_value": "1",
            "change_reason": "草稿",
        },
    )
    [row] = as_dicts(workbook(client.get(url(tree["village"])).content), "资产")
    assert row["账面价值"] == 800000 and row["名称"] == "村委办公楼"


def test_persons_are_masked_and_contracts_carry_their_schedule(client, tree, p):
    pond = published_pond(tree["village"], p)
    carried = motion(tree["village"], p.committee)
    lease(tree["village"], p, pond, resolution=carried)
    response = client.get(url(tree["village"]))
    assert "王小英".encode() not in response.content
    book = workbook(response.content)
    [row] = as_dicts(book, "合同")
    assert row["相对方"] == "王*英" and row["相对方类型"] == "个人"
    assert row["合同类型"] == "租赁" and row["标的编号"] == pond.entry.code
    assert row["决议编号"] == carried.pk and row["合同总价"] == 30000
    assert row["起始日期"].date() == TODAY()
    schedule = as_dicts(book, "收款计划")
    assert [(s["合同编号"], s["金额"]) for s in schedule] == [("HT-001", 10000)] * 3
    [resource] = as_dicts(book, "资源")
    assert resource["面积"] == 12.5 and resource["四至"].startswith("东至水渠")


def test_an_irregular_entry_is_marked(client, tree, p):
    office = building(tree["village"], p, book_value="80000")
    sold = services.draft_version(
        entry=office.entry,
        by=p.committee,
        fields=sold_a_month_ago({**OFFICE, "name": "村委办公楼"}),
        after_the_fact=True,
    )
    publish_version(sold, p)
    [row] = as_dicts(workbook(client.get(url(tree["village"])).content), "资产")
    assert row["事后补录"] == "是" and row["处分方式"] == "出售" and row["处分金额"] == 120000
    assert row[excel.IRREGULAR_HEADER] == sold.irregular_reason and "120000" in row["不规范说明"]


def test_text_that_looks_like_a_formula_is_written_as_text(client, tree, p):
    building(tree["village"], p, name='=HYPERLINK("http://x","点击")')
    book = load_workbook(io.BytesIO(client.get(url(tree["village"])).content))
    cell = book["资产"]["B2"]
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")


def test_the_export_takes_the_same_queries_for_one_entry_or_many(client, tree, p):
    pond = published_pond(tree["village"], p)
    services.set_thresholds(township=tree["township"], by=p.official, lease_amount="1000000")
    lease(tree["village"], p, pond)
    with CaptureQueriesContext(connection) as few:
        client.get(url(tree["village"]))
    for n in range(3):
        building(tree["village"], p, name=f"仓库{n}")
        extra = services.draft_entry(
            council=tree["village"],
            by=p.committee,
            register=Register.RESOURCE,
            fields={"name": f"林地{n}", "category": "forest", "area": "3"},
        )
        publish_version(extra, p)
        lease(tree["village"], p, pond, name=f"租赁合同{n}")
    with CaptureQueriesContext(connection) as many:
        response = client.get(url(tree["village"]))
    assert len(as_dicts(workbook(response.content), "合同")) == 4
    assert len(many) == len(few)


@pytest.mark.parametrize("level", ["township", "grid"])
def test_only_villages_have_an_export(client, tree, level):
    assert client.get(url(tree[level])).status_code == 404


def test_an_unknown_council_has_no_export(client):
    assert client.get("/assets/councils/999999/export.xlsx").status_code == 404


def test_an_export_imports_again_into_another_village(client, tree, p):
    services.set_thresholds(
        township=tree["township"], by=p.official, lease_amount="1000000", sale_amount="1000000"
    )
    pond = published_pond(tree["village"], p)
    building(tree["village"], p)
    lease(tree["village"], p, pond)
    exported = client.get(url(tree["village"])).content
    other = tree["other_village"]
    clerk = member(other)
    member(other, Role.COMMITTEE, user=clerk)
    for register in (Register.ASSET, Register.RESOURCE, Register.CONTRACT):
        outcome = excel.preview_import(
            council=other,
            by=clerk,
            register=register,
            upload=SimpleUploadedFile("柳树村.xlsx", exported),
        )
        assert outcome.ok, outcome.problems
        assert excel.IRREGULAR_HEADER in outcome.ignored
        excel.save_import(batch=outcome.batch, by=clerk)
    theirs = {v.entry.code: v for v in EntryVersion.objects.filter(entry__council=other)}
    assert set(theirs) == {"ZC-001", "ZY-001", "HT-001"}
    contract = theirs["HT-001"]
    assert contract.subject.council_id == other.pk and contract.subject.code == "ZY-001"
    assert contract.counterparty == "王*英" and contract.installments.count() == 3
    assert theirs["ZY-001"].boundaries == pond.boundaries
    assert Entry.objects.filter(council=tree["village"]).count() == 3  # the source is untouched


def test_a_resolution_of_the_source_village_does_not_carry_over(client, tree, p):
    pond = published_pond(tree["village"], p)
    lease(tree["village"], p, pond, resolution=motion(tree["village"], p.committee))
    exported = client.get(url(tree["village"])).content
    other = tree["other_village"]
    clerk = member(other)
    member(other, Role.COMMITTEE, user=clerk)
    for register in (Register.RESOURCE, Register.CONTRACT):
        outcome = excel.preview_import(
            council=other,
            by=clerk,
            register=register,
            upload=SimpleUploadedFile("柳树村.xlsx", exported),
        )
        if outcome.batch:
            excel.save_import(batch=outcome.batch, by=clerk)
    [problem] = outcome.problems
    assert (
        problem.column.startswith("决议编号") and "this village's own meetings" in problem.message
    )
    assert not Entry.objects.filter(council=other, register=Register.CONTRACT).exists()
