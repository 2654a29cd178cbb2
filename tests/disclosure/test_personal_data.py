"""Issue 13, point 9: personal data in the ledgers.

A welfare list has a name column kept only in its masked form, so no full name reaches the page,
the printed notice, a download, the open-data bundle or the hash chain. ID card and mobile numbers
are refused in every field of every record before anything is saved or hashed.
"""

import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from disclosure import services
from disclosure.models import (
    ChainEntry,
    JournalEntry,
    Kind,
    LineItem,
    PeriodKind,
    Question,
    Record,
    RecordType,
)
from disclosure.privacy import identity_kind, mask_name
from tests.disclosure.factories import MARCH, draft, line, people, publish, published_statement

pytestmark = pytest.mark.django_db

VALID_ID = "11010519491231002X"  # GB 11643 example, valid check digit
OLD_ID = "110105491231002"  # 15-digit form
MOBILE = "13812345678"


@pytest.fixture
def p(tree):
    return people(tree)


def welfare_draft(village, by, **kwargs):
    return draft(
        village,
        by,
        kind=Kind.VILLAGE,
        record_type=RecordType.WELFARE_LIST,
        period_kind=PeriodKind.QUARTER,
        start=MARCH.replace(month=1),
        title="2025年第一季度低保名单",
        **kwargs,
    )


@pytest.fixture
def welfare(tree, p):
    record = welfare_draft(tree["village"], p.committee)
    line(record, p.committee, expense=Decimal("650"), description="低保金", person_name="张三")
    line(record, p.committee, expense=Decimal("650"), description="低保金", person_name="欧阳小明")
    line(record, p.committee, expense=Decimal("650"), description="低保金", counterparty="李秀英")
    return publish(record, committee=p.committee, supervisor=p.supervisor)


FULL_NAMES = ("张三", "欧阳小明", "李秀英")


def test_mask_rule():
    assert [mask_name(n) for n in ("张三", "王小英", "欧阳小明", "李", "", "张*")] == [
        "张*",
        "王*英",
        "欧**明",
        "*",
        "",
        "张*",
    ]


def test_only_the_masked_name_is_stored(welfare):
    assert list(welfare.lines.values_list("person_name", "counterparty")) == [
        ("张*", ""),
        ("欧**明", ""),
        ("李*英", ""),
    ]


def _no_full_names(text: str):
    for name in FULL_NAMES:
        assert name not in text, name


def test_no_full_name_on_the_page_or_the_notice(client, welfare):
    page = client.get(welfare.get_absolute_url()).content.decode()
    assert "张*" in page and "欧**明" in page
    _no_full_names(page)
    notice = client.get(f"/disclosure/records/{welfare.pk}/notice/").content.decode()
    assert "张*" in notice
    _no_full_names(notice)


def test_no_full_name_in_csv_xlsx_chain_or_bundle(client, tree, welfare):
    village = tree["village"]
    for url in (
        f"/disclosure/records/{welfare.pk}/lines.csv",
        f"/disclosure/{village.pk}/village/lines.csv",
        f"/disclosure/{village.pk}/chain.json",
    ):
        response = client.get(url)
        text = b"".join(response.streaming_content) if response.streaming else response.content
        text = text.decode("utf-8-sig")
        assert "张*" in text, url
        _no_full_names(text)
    response = client.get(f"/disclosure/records/{welfare.pk}/lines.xlsx")
    content = b"".join(response.streaming_content) if response.streaming else response.content
    sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True).active
    cells = " ".join(str(c) for row in sheet.iter_rows(values_only=True) for c in row if c)
    assert "张*" in cells
    _no_full_names(cells)
    response = client.get(f"/disclosure/{village.pk}/open-data.zip")
    content = b"".join(response.streaming_content) if response.streaming else response.content
    with zipfile.ZipFile(io.BytesIO(content)) as bundle:
        everything = " ".join(bundle.read(n).decode("utf-8", "replace") for n in bundle.namelist())
    assert "张*" in everything
    _no_full_names(everything)


def test_the_page_claim_about_names_is_limited_to_what_is_true(client, welfare, tree, p):
    page = client.get(welfare.get_absolute_url()).content.decode()
    assert "Names are partly hidden to protect the people on this list." not in page
    statement = published_statement(tree["village"], p)
    assert "partly hidden" not in client.get(statement.get_absolute_url()).content.decode()


def test_a_welfare_line_needs_a_name(tree, p):
    record = welfare_draft(tree["village"], p.committee)
    with pytest.raises(ValidationError) as refused:
        line(record, p.committee, expense=Decimal("650"), description="低保金")
    assert "person_name" in refused.value.message_dict


def test_only_welfare_lists_have_a_name_column(tree, p):
    record = draft(tree["village"], p.committee)
    with pytest.raises(ValidationError):
        line(record, p.committee, income=Decimal("1"), person_name="张三")


@pytest.mark.parametrize(
    "text",
    [
        f"联系人电话{MOBILE}",
        "电话 138-1234-5678",
        "电话 138 1234 5678",
        "电话 +8613812345678",
        "电话 １３８１２３４５６７８",
        f"身份证{VALID_ID}",
        f"身份证{VALID_ID.lower()}",
        "身份证 1101 0519 4912 3100 2X",
        f"老身份证{OLD_ID}",
        "身份证110101199003074518",  # a wrong check digit is still someone's ID
    ],
)
@pytest.mark.parametrize("field", ["title", "body"])
def test_identity_numbers_in_any_record_are_refused_before_anything_is_hashed(tree, p, text, field):
    fields = {"title": "2025年3月财务收支明细", "body": ""} | {field: "说明" + text}
    with pytest.raises(ValidationError) as refused:
        draft(tree["village"], p.committee, **fields)
    message = " ".join(refused.value.message_dict[field])
    assert "ID card number" in message or "phone number" in message
    assert not Record.objects.exists()
    assert not JournalEntry.objects.exists() and not ChainEntry.objects.exists()


@pytest.mark.parametrize("field", ["description", "voucher_number", "account", "counterparty"])
def test_identity_numbers_in_a_line_are_refused(tree, p, field):
    record = draft(tree["village"], p.committee)
    values = {"description": "租金收入", field: f"x{MOBILE}"}
    with pytest.raises(ValidationError) as refused:
        line(record, p.committee, income=Decimal("1"), **values)
    assert field in refused.value.message_dict
    assert not LineItem.objects.exists()


def test_identity_numbers_in_a_welfare_name_are_refused(tree, p):
    record = welfare_draft(tree["village"], p.committee)
    with pytest.raises(ValidationError):
        line(record, p.committee, expense=Decimal("1"), description="低保", person_name=VALID_ID)
    assert not LineItem.objects.exists()


def test_identity_numbers_in_an_attachment_name_are_refused(tree, p, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    record = draft(tree["village"], p.committee)
    with pytest.raises(ValidationError):
        services.attach_file(
            record=record,
            by=p.committee,
            upload=SimpleUploadedFile(f"张三{MOBILE}.pdf", b"%PDF-1.4\n"),
        )
    assert not record.attachments.exists()


def test_identity_numbers_in_questions_answers_and_corrections_are_refused(tree, p):
    record = published_statement(tree["village"], p)
    with pytest.raises(ValidationError):
        services.ask_question(record=record, by=p.resident, text=f"请回电{MOBILE}谢谢")
    question = services.ask_question(record=record, by=p.resident, text="租金为什么少了？")
    with pytest.raises(ValidationError):
        services.answer_question(question=question, by=p.committee, answer=f"问{VALID_ID}")
    with pytest.raises(ValidationError):
        services.correct_record(original=record, by=p.committee, reason=f"承租人{OLD_ID}")
    assert not Question.objects.exclude(answer="").exists()
    assert not Record.objects.filter(corrects=record).exists()


@pytest.mark.parametrize(
    "text",
    [
        "凭证号 202503150001234567",  # 18 digits, no birth date inside
        "合同 000000000000000",
        "95598 供电所",
        "金额 12345678901.00",  # not a mobile: starts 12
        "2025-03-15 记账",
    ],
)
def test_ordinary_numbers_pass(text):
    assert identity_kind(text) is None
