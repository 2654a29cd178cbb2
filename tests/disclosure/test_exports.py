"""Exports: CSV and .xlsx in the template's columns, round-trip into the import, the public
sees published records only, and the open-data bundle checks offline (and fails if tampered)."""

import csv
import datetime
import io
import json
import zipfile
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from disclosure import excel, offline_verify
from disclosure.models import Kind, RecordType
from tests.disclosure.factories import draft, line, people, publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def p(tree):
    return people(tree)


@pytest.fixture
def march(tree, p):
    record = draft(tree["village"], p.committee, title="三月账目")
    line(
        record,
        p.committee,
        income="12000.00",
        description="鱼塘承包费",
        account="村集体收入",
        voucher_number="记-001",
        counterparty="张三",
        day=datetime.date(2025, 3, 3),
    )
    line(
        record,
        p.committee,
        expense="286.50",
        description="=SUM(A1:A9) 办公用品",
        account="管理费用",
        voucher_number="记-002",
        day=datetime.date(2025, 3, 5),
    )
    line(record, p.committee, expense="0.10", description="手续费", day=datetime.date(2025, 3, 31))
    return publish(record, committee=p.committee, supervisor=p.supervisor)


def test_record_exports_round_trip_through_the_import(client, march):
    original = [
        (
            li.date,
            li.voucher_number,
            li.account,
            li.description,
            li.income,
            li.expense,
            li.counterparty,
        )
        for li in march.lines.order_by("position")
    ]
    for fmt in ("xlsx",):
        response = client.get(f"/disclosure/records/{march.pk}/lines.{fmt}")
        assert response.status_code == 200
        result = excel.read_lines(
            io.BytesIO(response.content),
            period_start=march.period_start,
            period_end=march.period_end,
        )
        assert result.ok, result.problems
        again = [
            (
                datetime.date.fromisoformat(r[1]),
                r[2],
                r[3],
                r[4],
                Decimal(r[5] or 0),
                Decimal(r[6] or 0),
                r[7],
            )
            for r in result.lines
        ]
        assert again == original


def test_csv_has_the_template_columns_exact_amounts_and_no_formulas(client, march):
    response = client.get(f"/disclosure/records/{march.pk}/lines.csv")
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == ["日期", "凭证号", "科目", "摘要", "收入", "支出", "往来单位", "项目编号"]
    assert rows[1][:7] == [
        "2025-03-03",
        "记-001",
        "村集体收入",
        "鱼塘承包费",
        "12000.00",
        "",
        "张三",
    ]
    assert rows[2][3] == "'=SUM(A1:A9) 办公用品"  # would run as a formula in Excel otherwise
    assert rows[3][5] == "0.10"


def test_xlsx_text_that_looks_like_a_formula_stays_text(client, march):
    from openpyxl import load_workbook

    response = client.get(f"/disclosure/records/{march.pk}/lines.xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert sheet["D3"].value == "=SUM(A1:A9) 办公用品" and sheet["D3"].data_type == "s"
    assert sheet["E2"].value == 12000 and sheet["E2"].number_format == "#,##0.00"


def test_ledger_and_period_exports_hold_published_lines_only(client, tree, p, march):
    hidden = draft(tree["village"], p.committee, title="草稿")
    line(hidden, p.committee, income="999.00", description="草稿收入")
    for url in (
        f"/disclosure/{tree['village'].pk}/finance/lines.csv",
        f"/disclosure/{tree['village'].pk}/finance/2025-03/lines.csv",
    ):
        text = b"".join(client.get(url).streaming_content).decode()
        assert "鱼塘承包费" in text and "草稿收入" not in text
        assert text.splitlines()[0].endswith("记录编号,行号,冲销行")
    client.force_login(p.committee)  # even the committee: a ledger export is the public ledger
    text = b"".join(
        client.get(f"/disclosure/{tree['village'].pk}/finance/lines.csv").streaming_content
    ).decode()
    assert "草稿收入" not in text


@pytest.mark.parametrize("who", [None, "resident", "outsider", "other_official"])
def test_a_drafts_export_is_hidden_from_the_public(client, tree, p, who):
    hidden = draft(tree["village"], p.committee, title="草稿")
    line(hidden, p.committee, income="999.00", description="草稿收入")
    if who:
        client.force_login(getattr(p, who))
    for fmt in ("csv", "xlsx"):
        assert client.get(f"/disclosure/records/{hidden.pk}/lines.{fmt}").status_code == 404


def test_the_committee_can_export_its_own_draft(client, tree, p):
    hidden = draft(tree["village"], p.committee, title="草稿")
    line(hidden, p.committee, income="999.00", description="草稿收入")
    client.force_login(p.supervisor)
    response = client.get(f"/disclosure/records/{hidden.pk}/lines.csv")
    assert "草稿收入" in b"".join(response.streaming_content).decode()


def test_unknown_formats_and_places_are_404(client, tree, march):
    assert client.get(f"/disclosure/records/{march.pk}/lines.pdf").status_code == 404
    assert client.get(f"/disclosure/{tree['township'].pk}/finance/lines.csv").status_code == 404
    assert client.get(f"/disclosure/{tree['village'].pk}/gossip/lines.csv").status_code == 404
    assert (
        client.get(f"/disclosure/{tree['village'].pk}/finance/2025-13/lines.csv").status_code == 404
    )


def test_welfare_names_are_masked_in_exports(client, tree, p):
    record = draft(
        tree["village"],
        p.committee,
        kind=Kind.VILLAGE,
        record_type=RecordType.WELFARE_LIST,
        title="低保名单",
    )
    line(record, p.committee, expense="650.00", description="低保A类", counterparty="王小英")
    publish(record, committee=p.committee, supervisor=p.supervisor)
    text = b"".join(
        client.get(f"/disclosure/records/{record.pk}/lines.csv").streaming_content
    ).decode()
    assert "王*英" in text and "王小英" not in text


# --- the open-data bundle -------------------------------------------------------------------------


def bundle_of(client, tree) -> bytes:
    response = client.get(f"/disclosure/{tree['village'].pk}/open-data.zip")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    return response.content


def rewrite(data: bytes, name: str, change) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.namelist():
            content = source.read(item)
            target.writestr(item, change(content) if item == name else content)
    return out.getvalue()


@pytest.fixture
def two_records(tree, p, march):
    april = draft(tree["village"], p.committee, title="四月账目", start=datetime.date(2025, 4, 1))
    line(april, p.committee, expense="50.00", description="四月电费")
    publish(april, committee=p.committee, supervisor=p.supervisor)
    hidden = draft(tree["village"], p.committee, title="草稿不公开")
    line(hidden, p.committee, income="1.00", description="草稿收入")
    return march, april


def test_a_fresh_bundle_checks_offline(client, tree, two_records, tmp_path):
    path = tmp_path / "bundle.zip"
    path.write_bytes(bundle_of(client, tree))
    problems, summary = offline_verify.verify_bundle(path)
    assert problems == [] and summary["entries"] == 2
    archive = zipfile.ZipFile(path)
    assert "草稿不公开" not in archive.read("chain.json").decode()
    manifest = json.loads(archive.read("manifest.json"))
    assert (
        summary["head"] == manifest["head"]["entry_hash"] == two_records[1].chain_entry.entry_hash
    )
    assert offline_verify.main([str(path), "--head", summary["head"]]) == 0
    call_command("verify_bundle", str(path))


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        ("amount", "does not hash to its content_hash"),
        ("amount_and_manifest", "does not hash to its content_hash"),
        ("drop_entry", "does not link"),
        ("chain_hash", "entry_hash is not sha256"),
        ("extra_file", "not listed in the manifest"),
        ("lines_csv", "its SHA-256 differs from the manifest"),
    ],
)
def test_a_tampered_bundle_fails(client, tree, two_records, tmp_path, tamper, expected):
    data = bundle_of(client, tree)
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    first = next(n for n in names if n.startswith("records/00001-"))
    if tamper.startswith("amount"):
        data = rewrite(data, first, lambda c: c.replace(b'"12000.00"', b'"1200.00"'))
        if tamper == "amount_and_manifest":  # a careful forger also fixes the file list
            archive = zipfile.ZipFile(io.BytesIO(data))
            manifest = json.loads(archive.read("manifest.json"))
            manifest["files"][first] = offline_verify.sha256_hex(archive.read(first))
            data = rewrite(data, "manifest.json", lambda c: json.dumps(manifest).encode())
    elif tamper == "drop_entry":

        def drop(content):
            chain = json.loads(content)
            chain["entries"] = chain["entries"][1:]
            return json.dumps(chain).encode()

        data = rewrite(data, "chain.json", drop)
    elif tamper == "chain_hash":

        def alter(content):
            chain = json.loads(content)
            chain["entries"][0]["entry_hash"] = "f" * 64
            return json.dumps(chain).encode()

        data = rewrite(data, "chain.json", alter)
    elif tamper == "extra_file":
        out = io.BytesIO(data)
        with zipfile.ZipFile(out, "a") as archive:
            archive.writestr("records/99999-1.json", b"{}")
        data = out.getvalue()
    elif tamper == "lines_csv":
        name = next(n for n in names if n.startswith("lines/"))
        data = rewrite(data, name, lambda c: c.replace(b"12000.00", b"1200.00"))
    path = tmp_path / "bundle.zip"
    path.write_bytes(data)
    problems, _summary = offline_verify.verify_bundle(path)
    assert any(expected in problem for problem in problems), problems
    assert offline_verify.main([str(path)]) == 1
    with pytest.raises(CommandError):
        call_command("verify_bundle", str(path))


def test_a_consistent_forgery_is_caught_by_the_head_from_the_web(
    client, tree, two_records, tmp_path
):
    path = tmp_path / "bundle.zip"
    path.write_bytes(bundle_of(client, tree))
    problems, _ = offline_verify.verify_bundle(path, expected_head="0" * 64)
    assert any("differs from the one you gave" in problem for problem in problems)


def test_not_a_zip_is_reported(tmp_path):
    path = tmp_path / "bundle.zip"
    path.write_bytes(b"hello")
    problems, _ = offline_verify.verify_bundle(path)
    assert problems and "not a readable zip" in problems[0]


def test_the_offline_checker_imports_nothing_from_django():
    import ast
    import inspect

    modules = set()
    for node in ast.walk(ast.parse(inspect.getsource(offline_verify))):
        if isinstance(node, ast.Import):
            modules |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            modules.add(node.module.split(".")[0])
    assert modules <= {"argparse", "hashlib", "json", "re", "sys", "zipfile"}
