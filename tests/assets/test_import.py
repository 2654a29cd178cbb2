"""Importing a register from Excel: headers as villages write them, every bad row explained with
its row and column, nothing saved until a clean preview is saved, all rows in one transaction,
every rule of the registers applied, and only the village's committee may import."""

import datetime
import io
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation
from openpyxl import Workbook

from assets import excel, services
from assets.models import Entry, EntryVersion, Installment, Register, RegisterImport
from councils.models import Role
from disclosure.models import Record, Status
from tests.assets.factories import motion, people, published_pond
from tests.councils.factories import member

pytestmark = pytest.mark.django_db

ASSET_HEADERS = ["编号", "名称", "类别", "坐落位置", "账面价值（元）", "说明"]
ASSETS = [
    ["ZC-101", "村委办公楼", "房屋", "村中心", 850000, "两层砖混"],
    ["ZC-102", "拖拉机", "车辆", "农机站", "42,000.50", ""],
    ["", "抽水泵", "设备", "", 3600, ""],
]
RESOURCE_HEADERS = ["编号", "名称", "资源类型", "位置", "面积（亩）", "四至"]
RESOURCES = [
    ["ZY-201", "村东鱼塘", "鱼塘", "村东头", 12.5, "东至水渠，南至村道，西至林地，北至农田"],
    ["ZY-202", "后山林地", "林地", "后山", "80", "东至山脊"],
]
CONTRACT_HEADERS = [
    "合同编号",
    "合同名称",
    "合同类型",
    "标的编号",
    "承租方",
    "个人或单位",
    "起始日期",
    "终止日期",
    "金额",
    "决议编号",
    "事后补录",
]
SCHEDULE_HEADERS = ["合同编号", "应付日期", "金额"]


def xlsx(sheets: dict) -> bytes:
    """{sheet title: rows} -> .xlsx bytes; the first sheet is the first item."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def assets_file(rows=ASSETS, headers=ASSET_HEADERS) -> bytes:
    return xlsx({"资产": [headers, *rows]})


def upload(data: bytes, name="登记.xlsx"):
    return SimpleUploadedFile(
        name, data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )


def lease_rows(pond_code, *, start=None, years=3, price=30000, **extra):
    start = start or timezone.localdate()
    end = (
        start + datetime.timedelta(days=365 * years - 1) if isinstance(start, datetime.date) else ""
    )
    row = {
        "code": "HT-301",
        "name": "村东鱼塘租赁合同",
        "kind": "租赁",
        "subject": pond_code,
        "party": "王小英",
        "party_kind": "个人",
        "start": start,
        "end": end,
        "price": price,
        "resolution": "",
        "after": "",
        **extra,
    }
    return [list(row.values())], start


def contracts_file(rows, schedule=None) -> bytes:
    sheets = {"合同": [CONTRACT_HEADERS, *rows]}
    if schedule is not None:
        sheets["收款计划"] = [SCHEDULE_HEADERS, *schedule]
    return xlsx(sheets)


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def p(tree):
    return people(tree)


@pytest.fixture
def high_thresholds(tree, p):
    """Leases up to 1,000,000 yuan and 30 years need no resolution in this township."""
    services.set_thresholds(
        township=tree["township"], by=p.official, lease_amount="1000000", lease_years=30
    )


def url(tree):
    return f"/assets/councils/{tree['village'].pk}/import/"


def post(client, tree, data: bytes, register="asset", name="登记.xlsx"):
    return client.post(url(tree), {"register": register, "file": upload(data, name)})


def preview(tree, p, data: bytes, register="asset", by=None):
    return excel.preview_import(
        council=tree["village"], by=by or p.committee, register=register, upload=upload(data)
    )


def messages(outcome) -> list[tuple[int, str, str]]:
    return [(pr.row, pr.column, pr.message) for pr in outcome.problems]


def assert_nothing_saved():
    assert Entry.objects.count() == 0
    assert EntryVersion.objects.count() == 0
    assert Record.objects.count() == 0
    assert RegisterImport.objects.count() == 0


# --- a good file ---------------------------------------------------------------------------------


def test_a_good_file_is_previewed_then_saved_as_drafts_in_one_go(client, tree, p):
    client.force_login(p.committee)
    response = post(client, tree, assets_file())
    batch = RegisterImport.objects.get()
    assert response.status_code == 302 and response.url == f"/assets/imports/{batch.pk}/"
    assert Entry.objects.count() == 0 and Record.objects.count() == 0  # the trial was undone
    page = client.get(response.url).content.decode()
    assert "村委办公楼" in page and "ZC-101" in page and "42000.50" in page
    assert "ZC-103" in page  # a row without a code gets the next after the highest, in the preview
    response = client.post(f"/assets/imports/{batch.pk}/save/")
    assert response.status_code == 302
    assert response.url == f"/assets/councils/{tree['village'].pk}/"
    versions = {v.entry.code: v for v in EntryVersion.objects.select_related("entry", "record")}
    assert set(versions) == {"ZC-101", "ZC-102", "ZC-103"}
    office = versions["ZC-101"]
    assert office.category == "building" and office.location == "村中心"
    assert str(office.book_value) == "850000.00" and office.description == "两层砖混"
    assert str(versions["ZC-102"].book_value) == "42000.50"
    assert versions["ZC-103"].category == "equipment"
    assert all(v.record.status == Status.DRAFT for v in versions.values())
    assert all(v.record.managed_by == "assets" for v in versions.values())
    assert all(v.created_by == p.committee for v in versions.values())
    batch.refresh_from_db()
    assert batch.saved is not None and batch.rows == {}


def test_saving_twice_makes_the_entries_once(client, tree, p):
    client.force_login(p.committee)
    post(client, tree, assets_file())
    batch = RegisterImport.objects.get()
    client.post(f"/assets/imports/{batch.pk}/save/")
    response = client.post(f"/assets/imports/{batch.pk}/save/", follow=True)
    assert "saved already" in response.content.decode()
    assert Entry.objects.count() == 3
    with pytest.raises(ValidationError, match="saved already"):
        excel.save_import(batch=batch, by=p.committee)


def test_resources_with_chinese_headers_a_title_row_and_units_in_brackets(tree, p):
    data = xlsx({"资源登记": [["柳树村集体资源登记表"], RESOURCE_HEADERS, *RESOURCES]})
    outcome = preview(tree, p, data, register=Register.RESOURCE)
    assert outcome.ok, messages(outcome)
    excel.save_import(batch=outcome.batch, by=p.committee)
    pond = EntryVersion.objects.get(entry__code="ZY-201")
    assert pond.category == "pond" and str(pond.area) == "12.50"
    assert pond.boundaries.startswith("东至水渠")
    assert EntryVersion.objects.get(entry__code="ZY-202").category == "forest"


@pytest.mark.parametrize(
    "headers",
    [
        ["资产编号", "资产名称", "资产类别", "位置", "原值"],
        ["编号", "名称", "分类", "座落", "账面原值（元）"],
        ["Code", "Name", "Category", "Location", "Book value"],
    ],
)
def test_header_variants_villages_use_are_recognised(tree, p, headers):
    outcome = preview(tree, p, assets_file([["ZC-9", "仓库", "房屋建筑物", "村西", 1000]], headers))
    assert outcome.ok, messages(outcome)
    assert outcome.batch.rows["rows"][0]["fields"]["book_value"] == "1000.00"


def test_the_sheet_named_after_the_register_is_read_from_a_workbook_of_several(tree, p):
    data = xlsx(
        {
            "资产": [ASSET_HEADERS, *ASSETS],
            "资源": [RESOURCE_HEADERS, *RESOURCES],
        }
    )
    outcome = preview(tree, p, data, register=Register.RESOURCE)
    assert outcome.ok and outcome.sheet == "资源"
    assert [row["code"] for row in outcome.rows] == ["ZY-201", "ZY-202"]


def test_a_contract_with_its_schedule_subject_and_resolution(tree, p):
    pond = published_pond(tree["village"], p)
    carried = motion(tree["village"], p.committee)
    rows, start = lease_rows(pond.entry.code, resolution=carried.pk)
    schedule = [
        ["HT-301", start, 10000],
        ["HT-301", (start + datetime.timedelta(days=365)).isoformat(), "10000"],
        ["HT-301", start + datetime.timedelta(days=730), 10000.0],
    ]
    outcome = preview(tree, p, contracts_file(rows, schedule), register=Register.CONTRACT)
    assert outcome.ok, messages(outcome)
    shown = outcome.rows[0]
    assert shown["counterparty"] == "王*英" and shown["installments"] == 3
    assert "王小英" not in str(outcome.batch.rows)  # the kept rows hold the masked name only
    excel.save_import(batch=outcome.batch, by=p.committee)
    lease = EntryVersion.objects.get(entry__code="HT-301")
    assert lease.subject == pond.entry and lease.resolution == carried
    assert lease.contract_kind == "lease" and lease.counterparty_kind == "person"
    assert lease.counterparty == "王*英" and "王小英" not in lease.record.body
    assert lease.irregular is False and str(lease.price) == "30000.00"
    assert Installment.objects.filter(version=lease).count() == 3


def test_an_organisation_counterparty_keeps_its_whole_name(tree, p, high_thresholds):
    pond = published_pond(tree["village"], p)
    rows, _start = lease_rows(pond.entry.code, party="白沙水产合作社", party_kind="合作社")
    outcome = preview(tree, p, contracts_file(rows), register=Register.CONTRACT)
    assert outcome.ok, messages(outcome)
    excel.save_import(batch=outcome.batch, by=p.committee)
    assert EntryVersion.objects.get(entry__code="HT-301").counterparty == "白沙水产合作社"


# --- the rules of the registers ------------------------------------------------------------------


def test_a_contract_needing_a_resolution_without_one_is_refused_with_the_services_words(tree, p):
    pond = published_pond(tree["village"], p)
    rows, _start = lease_rows(pond.entry.code)
    outcome = preview(tree, p, contracts_file(rows), register=Register.CONTRACT)
    assert not outcome.ok and outcome.batch is None
    [(row, column, message)] = messages(outcome)
    assert (row, column) == (2, "决议编号 (J)")
    assert "need a resolution" in message and "after the fact" in message
    assert not Entry.objects.filter(register=Register.CONTRACT).exists()
    assert RegisterImport.objects.count() == 0


def test_a_past_lease_recorded_after_the_fact_is_previewed_and_saved_as_irregular(tree, p):
    pond = published_pond(tree["village"], p)
    start = timezone.localdate() - datetime.timedelta(days=400)
    rows, _start = lease_rows(pond.entry.code, start=start, after="是")
    outcome = preview(tree, p, contracts_file(rows), register=Register.CONTRACT)
    assert outcome.ok, messages(outcome)
    assert "30000.00" in outcome.rows[0]["irregular"]  # why: in the published (Chinese) words
    [lease] = excel.save_import(batch=outcome.batch, by=p.committee)
    assert lease.irregular and lease.irregular_reason


def test_a_resolution_of_another_village_is_refused(tree, p):
    pond = published_pond(tree["village"], p)
    chair = member(tree["other_village"])
    member(tree["other_village"], Role.COMMITTEE, user=chair)
    elsewhere = motion(tree["other_village"], chair)
    rows, _start = lease_rows(pond.entry.code, resolution=f"议案{elsewhere.pk}")
    outcome = preview(tree, p, contracts_file(rows), register=Register.CONTRACT)
    assert any("this village's own meetings" in m for _r, _c, m in messages(outcome))
    assert not Entry.objects.filter(register=Register.CONTRACT).exists()


@pytest.mark.parametrize(
    "cell, expected",
    [
        ("99999999", "There is no motion number 99999999."),
        ("去年的会", "Write the number of the motion"),
    ],
)
def test_an_unknown_or_unreadable_motion_number_is_explained(tree, p, cell, expected):
    pond = published_pond(tree["village"], p)
    rows, _start = lease_rows(pond.entry.code, resolution=cell)
    outcome = preview(tree, p, contracts_file(rows), register=Register.CONTRACT)
    [(row, column, message)] = messages(outcome)
    assert row == 2 and column.startswith("决议编号") and expected in message


def test_a_subject_code_the_village_does_not_have_is_explained(tree, p, high_thresholds):
    rows, _start = lease_rows("ZY-999")
    outcome = preview(tree, p, contracts_file(rows), register=Register.CONTRACT)
    [(row, column, message)] = messages(outcome)
    assert column.startswith("标的编号") and "ZY-999" in message
    assert_nothing_saved()


def test_a_schedule_that_does_not_add_up_is_explained(tree, p, high_thresholds):
    pond = published_pond(tree["village"], p)
    rows, start = lease_rows(pond.entry.code)
    schedule = [["HT-301", start, 10000], ["HT-301", start + datetime.timedelta(days=9), 5000]]
    outcome = preview(tree, p, contracts_file(rows, schedule), register=Register.CONTRACT)
    [(row, column, message)] = messages(outcome)
    assert (row, column) == (2, "收款计划") and "15000.00" in message and "30000.00" in message
    assert not Entry.objects.filter(register=Register.CONTRACT).exists()


def test_bad_schedule_rows_are_explained_on_their_own_sheet(tree, p, high_thresholds):
    pond = published_pond(tree["village"], p)
    rows, start = lease_rows(pond.entry.code)
    schedule = [
        ["HT-301", start, 10000],
        ["HT-999", start, 5000],
        ["HT-301", "明年", 100],
        ["HT-301", start, -3],
        ["", start, 3],
    ]
    outcome = preview(tree, p, contracts_file(rows, schedule), register=Register.CONTRACT)
    found = [(pr.sheet, pr.row, pr.column) for pr in outcome.problems]
    assert found == [
        ("收款计划", 3, "合同编号 (A)"),
        ("收款计划", 4, "应付日期 (B)"),
        ("收款计划", 5, "金额 (C)"),
        ("收款计划", 6, "合同编号 (A)"),
    ]
    texts = [pr.message for pr in outcome.problems]
    assert "HT-999" in texts[0] and "date like" in texts[1] and "negative" in texts[2]
    assert "Give the code of the contract" in texts[3]
    assert not Entry.objects.filter(register=Register.CONTRACT).exists()


def test_a_sale_that_already_happened_without_a_resolution_is_saved_as_irregular(tree, p):
    headers = [*ASSET_HEADERS, "处分方式", "处分金额", "处分日期", "事后补录"]
    sold = datetime.date.today() - datetime.timedelta(days=30)
    row = ["ZC-101", "旧仓库", "房屋", "村西", 80000, "", "出售", 120000, sold, "是"]
    outcome = preview(tree, p, assets_file([row], headers))
    assert outcome.ok, messages(outcome)
    assert "120000.00" in outcome.rows[0]["irregular"]
    [version] = excel.save_import(batch=outcome.batch, by=p.committee)
    assert version.disposal == "sale" and version.disposed_on == sold and version.irregular


def test_a_sale_without_a_resolution_is_refused_when_not_recorded_after_the_fact(tree, p):
    headers = [*ASSET_HEADERS, "处置方式", "成交价", "生效日期"]
    row = ["ZC-101", "旧仓库", "房屋", "村西", 80000, "", "变卖", 120000, "2026/1/5"]
    outcome = preview(tree, p, assets_file([row], headers))
    [(number, column, message)] = messages(outcome)
    assert (number, column) == (2, "决议编号") and "Sales above 0 yuan need a resolution" in message
    assert_nothing_saved()


def test_a_township_keeps_no_registers(tree):
    clerk = member(tree["township"], Role.COMMITTEE)
    outcome = excel.preview_import(
        council=tree["township"], by=clerk, register=Register.ASSET, upload=upload(assets_file())
    )
    assert outcome.file_problem == "Only villages and communities keep registers."
    assert_nothing_saved()


# --- bad input: every row's problems, nothing saved ----------------------------------------------


@pytest.mark.parametrize(
    "cells, column, expected",
    [
        ({2: "宫殿"}, "类别 (C)", "“宫殿” is not one of: 房屋建筑物、设备设施、车辆、其他资产."),
        ({2: "鱼塘"}, "类别 (C)", "is not one of"),  # a resource category on the asset register
        ({4: -100}, "账面价值（元） (E)", "cannot be negative"),
        ({4: "1.234"}, "账面价值（元） (E)", "at most 2 decimals"),
        ({4: 1.234}, "账面价值（元） (E)", "at most 2 decimals"),
        ({4: "八十万"}, "账面价值（元） (E)", "Write an amount in yuan"),
        ({4: None}, "账面价值（元） (E)", "Enter the book value."),
        ({1: ""}, "名称 (B)", "at least 2 characters"),
        ({1: "村委会" * 40}, "名称 (B)", "at most 100 characters"),
        ({0: "ZC 1!"}, "编号 (A)", "letters, digits and hyphens"),
        ({5: "户主110105199003070015"}, "说明 (F)", "ID card number"),
        ({3: "联系13812345678"}, "坐落位置 (D)", "phone number"),
        ({1: "张三 138 1234 5678"}, "名称 (B)", "phone number"),
    ],
)
def test_each_kind_of_bad_cell_is_explained_by_row_and_column(tree, p, cells, column, expected):
    row = ["ZC-101", "村委办公楼", "房屋", "村中心", 850000, ""]
    for index, value in cells.items():
        row[index] = value
    outcome = preview(tree, p, assets_file([ASSETS[1], row]))
    [(number, where, message)] = messages(outcome)
    assert (number, where) == (3, column) and expected in message
    assert outcome.rows[0]["ok"] and not outcome.rows[1]["ok"]
    assert_nothing_saved()


def test_bad_dates_are_explained(tree, p, high_thresholds):
    pond = published_pond(tree["village"], p)
    rows, _start = lease_rows(pond.entry.code, start="2026-02-30", end="下个月")
    outcome = preview(tree, p, contracts_file(rows), register=Register.CONTRACT)
    found = messages(outcome)
    assert [(r, c) for r, c, _m in found] == [(2, "起始日期 (G)"), (2, "终止日期 (H)")]
    assert all("date like 2026-03-15" in m for _r, _c, m in found)
    assert not Entry.objects.filter(register=Register.CONTRACT).exists()


def test_a_term_that_ends_before_it_starts_is_explained(tree, p, high_thresholds):
    pond = published_pond(tree["village"], p)
    rows, _start = lease_rows(pond.entry.code, start="2026-05-01", end="2026-04-01")
    outcome = preview(tree, p, contracts_file(rows), register=Register.CONTRACT)
    assert messages(outcome) == [(2, "终止日期 (H)", "The term ends before it starts.")]


@pytest.mark.parametrize(
    "column, value, expected",
    [
        (2, "出售", "is not one of: 租赁、承包"),
        (5, "亲戚", "is not one of: 个人、单位"),
        (10, "也许", "Write 是 (yes) or 否 (no)"),
    ],
)
def test_unknown_choices_on_a_contract_are_explained(
    tree, p, high_thresholds, column, value, expected
):
    pond = published_pond(tree["village"], p)
    rows, _start = lease_rows(pond.entry.code)
    rows[0][column] = value
    outcome = preview(tree, p, contracts_file(rows), register=Register.CONTRACT)
    [(_row, where, message)] = messages(outcome)
    assert where.startswith(CONTRACT_HEADERS[column]) and expected in message


def test_every_problem_of_every_row_is_listed_at_once(client, tree, p):
    client.force_login(p.committee)
    rows = [
        ["ZC-1", "办公楼", "宫殿", "", -5, ""],
        ["ZC-2", "仓库", "房屋", "", "12.345", ""],
        ["ZC-1", "又一个办公楼", "房屋", "", 100, ""],
        ["ZC-4", "水泵", "设备", "", 10, ""],
    ]
    response = post(client, tree, assets_file(rows))
    assert response.status_code == 200
    page = response.content.decode()
    assert "4 problems found" in page and "3 of 4 rows need correcting" in page
    assert "also used in row 2" in page and "cannot be negative" in page
    assert "/save/" not in page and "Upload a corrected file" in page
    assert_nothing_saved()


def test_a_code_used_twice_in_the_file_is_refused(tree, p):
    rows = [ASSETS[0], ["zc-101", "另一栋楼", "房屋", "", 100, ""]]
    outcome = preview(tree, p, assets_file(rows))
    [(row, column, message)] = messages(outcome)
    assert (row, column) == (3, "编号 (A)") and "ZC-101 is also used in row 2" in message
    assert_nothing_saved()


def test_a_code_already_on_the_register_is_refused(tree, p):
    published_pond(tree["village"], p)  # ZY-001
    outcome = preview(tree, p, assets_file([["ZY-001", "仓库", "房屋", "", 100, ""]]))
    [(row, column, message)] = messages(outcome)
    assert (row, column) == (2, "编号 (A)") and "already has an entry ZY-001" in message
    assert "new version" in message
    assert Entry.objects.count() == 1 and RegisterImport.objects.count() == 0


def test_an_id_number_is_neither_shown_back_nor_kept(client, tree, p):
    client.force_login(p.committee)
    rows = [["ZC-1", "办公楼", "房屋", "110105199003070015", 100, ""]]
    response = post(client, tree, assets_file(rows))
    page = response.content.decode()
    assert "ID card number" in page and "110105199003070015" not in page
    assert_nothing_saved()


def test_a_person_counterparty_is_masked_in_the_preview_of_a_bad_file_too(client, tree, p):
    client.force_login(p.committee)
    rows, _start = lease_rows("ZY-404")
    response = post(client, tree, contracts_file(rows), register=Register.CONTRACT)
    page = response.content.decode()
    assert "王*英" in page and "王小英" not in page


def test_a_person_counterparty_named_in_full_is_stored_masked(tree, p, high_thresholds):
    pond = published_pond(tree["village"], p)
    rows, _start = lease_rows(pond.entry.code, party="欧阳小明", party_kind="个人")
    outcome = preview(tree, p, contracts_file(rows), register=Register.CONTRACT)
    excel.save_import(batch=outcome.batch, by=p.committee)
    lease = EntryVersion.objects.get(entry__code="HT-301")
    assert lease.counterparty == "欧**明" and "欧阳小明" not in lease.record.body


def test_an_id_number_as_a_persons_counterparty_is_refused_before_masking(tree, p, high_thresholds):
    pond = published_pond(tree["village"], p)
    rows, _start = lease_rows(pond.entry.code, party="110105199003070015")
    outcome = preview(tree, p, contracts_file(rows), register=Register.CONTRACT)
    [(row, column, message)] = messages(outcome)
    assert column.startswith("承租方") and "ID card number" in message
    assert not Entry.objects.filter(register=Register.CONTRACT).exists()


def test_too_many_rows_are_refused(tree, p, settings):
    settings.YISHI_ASSETS_IMPORT_MAX_ROWS = 2
    outcome = preview(tree, p, assets_file())
    assert outcome.file_problem == "The sheet has more than 2 entries. Split it into smaller files."
    assert_nothing_saved()


def test_a_file_that_is_not_xlsx_gets_a_clear_message(client, tree, p):
    client.force_login(p.committee)
    response = post(client, tree, "编号,名称\nZC-1,办公楼\n".encode(), name="登记.xlsx")
    assert response.status_code == 400
    assert "This is not an Excel .xlsx file" in response.content.decode()
    assert_nothing_saved()


@pytest.mark.parametrize(
    "data, name, expected",
    [
        (b"%PDF-1.7 a scanned register", "登记.xlsx", "not an Excel .xlsx"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 old excel", "登记.xlsx", "old .xls file"),
        (None, "登记.csv", "not an Excel .xlsx"),  # a real workbook under another name
        (b"PK\x03\x04 not really a zip", "登记.xlsx", "not an Excel .xlsx"),
    ],
)
def test_a_renamed_or_damaged_file_is_refused(client, tree, p, data, name, expected):
    client.force_login(p.committee)
    response = post(client, tree, data or assets_file(), name=name)
    assert response.status_code == 400 and expected in response.content.decode()
    assert_nothing_saved()


def test_an_empty_file_is_refused(client, tree, p):
    client.force_login(p.committee)
    response = post(client, tree, b"")
    assert response.status_code == 400 and "The file is empty." in response.content.decode()
    assert_nothing_saved()


@pytest.mark.parametrize(
    "sheets, expected",
    [
        ({"资产": []}, "The sheet 资产 is empty."),
        ({"资产": [["", None]]}, "The sheet 资产 is empty."),
        ({"资产": [ASSET_HEADERS]}, "There are no entries below the header row of the sheet 资产."),
        ({"资产": [["甲", "乙"], ["1", "2"]]}, "No header row was found in the first 10 rows"),
        ({"资产": [["编号", "名称", "坐落位置"], ["ZC-1", "楼", "村东"]]}, "类别、账面价值"),
        ({"资产": [["名称", "资产名称", "类别", "原值"]]}, "Two columns mean the same thing"),
    ],
)
def test_empty_sheets_and_missing_headers_are_explained(tree, p, sheets, expected):
    outcome = preview(tree, p, xlsx(sheets))
    assert expected in outcome.file_problem and not outcome.rows
    assert_nothing_saved()


def test_a_schedule_sheet_missing_a_column_is_named(tree, p, high_thresholds):
    pond = published_pond(tree["village"], p)
    rows, _start = lease_rows(pond.entry.code)
    data = xlsx({"合同": [CONTRACT_HEADERS, *rows], "收款计划": [["合同编号", "应付日期"]]})
    outcome = preview(tree, p, data, register=Register.CONTRACT)
    assert "收款计划 金额" in outcome.file_problem


def test_a_file_too_large_is_refused_before_it_is_read(tree, p, settings):
    settings.YISHI_ASSETS_IMPORT_MAX_MB = 0
    outcome = preview(tree, p, assets_file())
    assert outcome.file_problem == "The file is larger than 0 MB."


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tree, p, settings):
    settings.YISHI_IMPORT_MAX_UNPACKED_MB = 0
    outcome = preview(tree, p, assets_file())
    assert "would unpack to more than 0 MB" in outcome.file_problem
    assert_nothing_saved()


def test_save_checks_every_row_again_and_saves_nothing_when_one_fails(client, tree, p):
    client.force_login(p.committee)
    post(client, tree, assets_file())
    batch = RegisterImport.objects.get()
    # Between the preview and the save, someone drafts an entry with the second row's code.
    services.draft_entry(
        council=tree["village"],
        by=p.committee2,
        register=Register.ASSET,
        code="ZC-102",
        fields={"name": "别的东西", "category": "other_asset", "book_value": "1"},
    )
    response = client.post(f"/assets/imports/{batch.pk}/save/", follow=True)
    page = response.content.decode()
    assert "Row 3, 编号 (A)" in page and "already has an entry ZC-102" in page
    assert list(Entry.objects.values_list("code", flat=True)) == ["ZC-102"]
    batch.refresh_from_db()
    assert batch.saved is None


def test_dropping_an_upload_removes_it(client, tree, p):
    client.force_login(p.committee)
    post(client, tree, assets_file())
    batch = RegisterImport.objects.get()
    response = client.post(f"/assets/imports/{batch.pk}/discard/")
    assert response.status_code == 302 and response.url == url(tree)
    assert_nothing_saved()


def test_anyone_can_download_the_template_and_it_reads_as_empty(client, tree, p):
    response = client.get("/assets/import-template.xlsx")
    assert response.status_code == 200 and response["Content-Type"].startswith(
        "application/vnd.openxmlformats"
    )
    for register in Register.values:
        outcome = preview(tree, p, response.content, register=register)
        assert "There are no entries below the header row" in outcome.file_problem


# --- who may import ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "who", ["supervisor", "resident", "outsider", "official", "other_resident", "other_official"]
)
def test_only_the_committee_may_import(client, tree, p, who):
    client.force_login(getattr(p, who))
    assert client.get(url(tree)).status_code == 403
    assert post(client, tree, assets_file()).status_code == 403
    assert_nothing_saved()


def test_the_committee_sees_the_import_page(client, tree, p):
    client.force_login(p.committee)
    response = client.get(url(tree))
    assert response.status_code == 200 and b'name="register"' in response.content


def test_anonymous_visitors_are_sent_to_sign_in(client, tree):
    response = client.get(url(tree))
    assert response.status_code == 302 and "login" in response.url
    assert post(client, tree, assets_file()).status_code == 302
    assert_nothing_saved()


def test_the_committee_of_another_village_cannot_import_here(client, tree):
    client.force_login(member(tree["other_village"], Role.COMMITTEE))
    assert client.get(url(tree)).status_code == 403
    assert post(client, tree, assets_file()).status_code == 403
    assert_nothing_saved()


def test_non_villages_have_no_import_page(client, tree):
    client.force_login(member(tree["township"], Role.COMMITTEE))
    assert client.get(f"/assets/councils/{tree['township'].pk}/import/").status_code == 404


@pytest.mark.parametrize(
    "who", ["supervisor", "resident", "official", "outsider", "other_resident", "other_official"]
)
def test_others_cannot_see_save_or_drop_an_upload(client, tree, p, who):
    client.force_login(p.committee)
    post(client, tree, assets_file())
    batch = RegisterImport.objects.get()
    client.force_login(getattr(p, who))
    assert client.get(f"/assets/imports/{batch.pk}/").status_code == 404
    assert client.post(f"/assets/imports/{batch.pk}/save/").status_code == 404
    assert client.post(f"/assets/imports/{batch.pk}/discard/").status_code == 404
    assert Entry.objects.count() == 0 and RegisterImport.objects.count() == 1


def test_the_committee_of_another_village_cannot_save_an_upload(client, tree, p):
    client.force_login(p.committee)
    post(client, tree, assets_file())
    batch = RegisterImport.objects.get()
    client.force_login(member(tree["other_village"], Role.COMMITTEE))
    assert client.post(f"/assets/imports/{batch.pk}/save/").status_code == 404
    assert Entry.objects.count() == 0


@pytest.mark.parametrize("who", ["resident", "supervisor", "official"])
def test_the_functions_refuse_anyone_but_the_committee(tree, p, who):
    with pytest.raises(PermissionDenied):
        preview(tree, p, assets_file(), by=getattr(p, who))
    batch = preview(tree, p, assets_file()).batch
    with pytest.raises(PermissionDenied):
        excel.save_import(batch=batch, by=getattr(p, who))
    with pytest.raises(PermissionDenied):
        excel.discard_import(batch=batch, by=getattr(p, who))
    assert Entry.objects.count() == 0 and RegisterImport.objects.count() == 1


def test_another_committee_member_may_save_the_upload(client, tree, p):
    client.force_login(p.committee)
    post(client, tree, assets_file())
    client.force_login(p.committee2)
    client.post(f"/assets/imports/{RegisterImport.objects.get().pk}/save/")
    assert {v.created_by for v in EntryVersion.objects.all()} == {p.committee2}


def test_the_register_can_be_chosen_from_a_registers_page(client, tree, p):
    client.force_login(p.committee)
    page = client.get(url(tree) + "?register=contract").content.decode()
    inputs = dict(re.findall(r'<input type="radio" name="register" value="(\w+)"([^>]*)>', page))
    assert set(inputs) == set(Register.values)
    assert [value for value, rest in inputs.items() if "checked" in rest] == ["contract"]
